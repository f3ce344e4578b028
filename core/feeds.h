/* feeds.h — polls feeds over HTTP with libcurl's multi interface, driven by
 * a libuv loop (curl_multi_socket_action with uv_poll and uv_timer): never
 * blocking the loop, many feeds in flight at once. Conditional requests
 * (ETag, Last-Modified), gzip and deflate, redirects to a limit (only to
 * the hosts the feed's follow_redirects allows; a redirect refused is a
 * failed fetch), connect and total timeouts (the total across redirects),
 * a cap on the body. What a fetch brought is handed to
 * the caller; the caller says how it went, and the poller sets the feed's
 * next poll: its interval after a success, an exponential backoff with
 * jitter (capped) after a failure (vg_feed_backoff). Used from the loop
 * thread only, but for vg_feed_get. */
#ifndef VIGIL_FEEDS_H
#define VIGIL_FEEDS_H

#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <uv.h>

typedef struct vg_feeds vg_feeds;

/* What one fetch brought. The caller owns it and frees it with
 * vg_fetch_free. */
typedef struct {
  const vg_feed_conf *feed;
  long status;        /* the HTTP status, or 0 when there was no answer */
  char *body;         /* the body (decoded), NUL-terminated */
  size_t len;
  char *content_type; /* or NULL */
  char *etag, *last_modified; /* new validators, or NULL */
  char error[300];    /* why it failed ("" when the transfer went through) */
  int failures;       /* consecutive failures of the feed before this fetch */
  size_t max_body;    /* the cap the body was held to */
} vg_fetch;

void vg_fetch_free(vg_fetch *f);

/* Whether url can be polled: an http or https URL with a host, as curl's
 * URL parser reads it. Returns 0, or VG_EINVAL with why in err. */
int vg_feed_url_check(const char *url, char *err, size_t cap);

typedef void (*vg_fetch_fn)(void *ud, vg_fetch *f);

/* Starts polling feeds[0..n) (which must outlive the poller) at once, each
 * then on its own schedule; with `once`, each is fetched a single time.
 * Returns NULL when curl cannot be set up. */
vg_feeds *vg_feeds_start(uv_loop_t *loop, const vg_feed_conf *feeds, size_t n, size_t max_body,
                         int once, vg_fetch_fn fn, void *ud);
/* Gives a feed the validators and failure count it had (from the store). */
void vg_feeds_restore(vg_feeds *fs, const vg_feed_conf *feed, const char *etag,
                      const char *modified, int failures);
/* Sets a feed's next poll in `delay` seconds, with the validators of its
 * last good fetch (NULL: keep) and its failures so far. */
void vg_feeds_schedule(vg_feeds *fs, const vg_feed_conf *feed, unsigned delay, const char *etag,
                       const char *modified, int failures);
/* Seconds to the next poll of a feed with this interval after `failures`
 * consecutive failures: the interval, or interval x 2^failures capped at six
 * hours and spread by a fifth either way. */
unsigned vg_feed_backoff(unsigned interval, int failures);
/* Fetches url, a document feed `conf` names (an archive its body lists),
 * at once on the calling thread, which it blocks: any thread may call it,
 * but the loop's must not. It holds to what a poll of the feed holds to:
 * the same timeouts, the body capped at max_body, redirects followed as
 * the feed's follow_redirects allows; and url itself must be on the feed's
 * host unless follow_redirects is "any". No conditional request is made.
 * The transfer is cut as soon as *stop is set (NULL: never). Returns what
 * it brought (the caller frees it with vg_fetch_free): its error is "" when
 * a 200 brought the body, else says why not. NULL when out of memory. */
vg_fetch *vg_feed_get(const vg_feed_conf *conf, const char *url, size_t max_body,
                      const atomic_int *stop);
/* Stops: transfers are cut, timers closed; frees itself once its handles
 * are closed (run the loop). NULL is fine. */
void vg_feeds_stop(vg_feeds *fs);

#endif
