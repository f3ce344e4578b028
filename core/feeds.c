/* feeds.c — the HTTP poller: libcurl multi on libuv; see feeds.h.
 *
 * Redirects are not left to curl (CURLOPT_FOLLOWLOCATION is off): a 3xx
 * ends the transfer, curl resolves its Location against the URL it asked
 * (CURLINFO_REDIRECT_URL), and the poller parses that with curl's own URL
 * parser, checks it against the feed's follow_redirects and only then
 * starts the next request on the same handle. No request ever goes to a
 * host the policy refuses, and there is no Location header to parse here. */
#include "feeds.h"

#include "vigil.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uv.h>

#define BACKOFF_MAX 21600 /* seconds: a failing feed is still tried every 6 hours */
#define CONNECT_TIMEOUT 10L
#define TOTAL_TIMEOUT 60L
#define MAX_REDIRECTS 5L

typedef struct poll_state poll_state;

/* One feed: its schedule and validators, and the transfer in flight. */
typedef struct {
  vg_feeds *fs;
  const vg_feed_conf *conf;
  uv_timer_t timer;   /* the next poll */
  CURL *easy;         /* the transfer, or NULL */
  struct curl_slist *headers;
  vg_fetch *fetch;    /* what it is bringing */
  size_t cap;         /* bytes allocated for the body */
  int too_big;
  int hops;              /* redirects followed so far by the fetch in flight */
  uint64_t started;      /* when it started (uv_hrtime), for the total timeout */
  char *etag, *modified; /* the validators of the last good fetch */
  int failures;
} feed;

struct vg_feeds {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timeout;  /* curl's own timer */
  feed *v;
  size_t n;
  size_t max_body;
  int once;
  vg_fetch_fn fn;
  void *ud;
  size_t running;
  size_t open_handles;
  int stopping;
};

/* A socket curl wants watched. */
struct poll_state {
  uv_poll_t poll;
  curl_socket_t fd;
  vg_feeds *fs;
};

void vg_fetch_free(vg_fetch *f) {
  if (!f) return;
  free(f->body);
  free(f->content_type);
  free(f->etag);
  free(f->last_modified);
  free(f);
}

static void maybe_free(vg_feeds *fs) {
  if (!fs->stopping || fs->open_handles) return;
  for (size_t i = 0; i < fs->n; i++) {
    free(fs->v[i].etag);
    free(fs->v[i].modified);
  }
  curl_multi_cleanup(fs->multi);
  free(fs->v);
  free(fs);
}

static void on_handle_closed(uv_handle_t *h) {
  vg_feeds *fs = h->data;
  fs->open_handles--;
  maybe_free(fs);
}

static void on_poll_closed(uv_handle_t *h) {
  poll_state *p = h->data;
  vg_feeds *fs = p->fs;
  free(p);
  fs->open_handles--;
  maybe_free(fs);
}

/* ---- a transfer ---- */

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
  feed *f = ud;
  vg_fetch *x = f->fetch;
  size_t bytes = size * n;
  if (x->len + bytes > f->fs->max_body) {
    f->too_big = 1;
    return 0; /* curl stops the transfer with a write error */
  }
  if (x->len + bytes + 1 > f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 65536;
    while (cap < x->len + bytes + 1) cap *= 2;
    char *b = realloc(x->body, cap);
    if (!b) return 0;
    x->body = b;
    f->cap = cap;
  }
  memcpy(x->body + x->len, data, bytes);
  x->len += bytes;
  x->body[x->len] = '\0';
  return bytes;
}

/* Keeps ETag and Last-Modified; a redirect starts the headers afresh. */
static size_t on_header(char *data, size_t size, size_t n, void *ud) {
  feed *f = ud;
  size_t bytes = size * n;
  char **slot = NULL;
  size_t skip = 0;
  if (bytes > 5 && strncasecmp(data, "HTTP/", 5) == 0) {
    free(f->fetch->etag);
    free(f->fetch->last_modified);
    f->fetch->etag = f->fetch->last_modified = NULL;
  } else if (bytes > 5 && strncasecmp(data, "ETag:", 5) == 0) {
    slot = &f->fetch->etag;
    skip = 5;
  } else if (bytes > 14 && strncasecmp(data, "Last-Modified:", 14) == 0) {
    slot = &f->fetch->last_modified;
    skip = 14;
  }
  if (slot) {
    const char *v = data + skip, *end = data + bytes;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    free(*slot);
    *slot = strndup(v, (size_t)(end - v));
  }
  return bytes;
}

/* What every request of a feed's poll says and is held to, on easy handle
 * e fetching url for f. */
static void set_options(feed *f, CURL *e, const char *url) {
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, f);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* the caller follows what the feed allows */
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
  curl_easy_setopt(e, CURLOPT_TIMEOUT, TOTAL_TIMEOUT);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding curl knows: gzip, deflate */
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->fs->max_body);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
}

static void start_fetch(feed *f) {
  vg_feeds *fs = f->fs;
  if (f->easy || fs->stopping) return;
  f->fetch = calloc(1, sizeof *f->fetch);
  f->easy = curl_easy_init();
  if (!f->fetch || !f->easy) {
    vg_error("feed %s: out of memory", f->conf->url);
    vg_fetch_free(f->fetch);
    f->fetch = NULL;
    if (f->easy) curl_easy_cleanup(f->easy);
    f->easy = NULL;
    return;
  }
  f->fetch->feed = f->conf;
  f->fetch->failures = f->failures;
  f->fetch->max_body = fs->max_body;
  f->cap = 0;
  f->too_big = 0;
  f->hops = 0;
  f->started = uv_hrtime();
  CURL *e = f->easy;
  set_options(f, e, f->conf->url);
  f->headers = NULL;
  char h[600];
  if (f->etag) {
    snprintf(h, sizeof h, "If-None-Match: %s", f->etag);
    f->headers = curl_slist_append(f->headers, h);
  }
  if (f->modified) {
    snprintf(h, sizeof h, "If-Modified-Since: %s", f->modified);
    f->headers = curl_slist_append(f->headers, h);
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
  fs->running++;
  curl_multi_add_handle(fs->multi, e);
  vg_debug("feed %s: polling", f->conf->url);
}

/* The scheme, host and port (the scheme's own when the URL names none) of
 * url, by curl's URL parser; 0, or -1 when it is not a URL. */
static int url_parts(const char *url, char **scheme, char **host, char **port) {
  *scheme = *host = *port = NULL;
  CURLU *u = curl_url();
  int rc = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
                   curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
                   curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
                   curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK
               ? 0
               : -1;
  curl_url_cleanup(u);
  return rc;
}

int vg_feed_url_check(const char *url, char *err, size_t cap) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL;
  CURLUcode rc = u ? curl_url_set(u, CURLUPART_URL, url, 0) : CURLUE_OUT_OF_MEMORY;
  if (rc == CURLUE_OK) rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  if (rc == CURLUE_OK) rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
  int bad = VG_EINVAL;
  if (rc == CURLUE_BAD_SCHEME || (rc != CURLUE_OK && !strstr(url, "://")))
    snprintf(err, cap, "'%.200s' is no feed URL: it must start with http:// or https://", url);
  else if (rc != CURLUE_OK)
    snprintf(err, cap, "'%.200s' is no feed URL: %s", url, curl_url_strerror(rc));
  else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
    snprintf(err, cap, "'%.200s': only http and https feeds are polled, not %s", url, scheme);
  else
    bad = 0;
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return bad;
}

/* Whether the poll of a feed may go on from `from` to `to`, where a
 * redirect sends it; if not, why in x->error. Same host means the same
 * name (or address) as the URL it came from, on the same port or on the
 * standard port of http or https (http://h:8080/ may move to https://h/). */
static int may_follow(const feed *f, const char *from, const char *to, vg_fetch *x) {
  vg_redirects policy = f->conf->redirects;
  char *fs = NULL, *fh = NULL, *fp = NULL, *ts = NULL, *th = NULL, *tp = NULL;
  int ok = 0;
  if (url_parts(from, &fs, &fh, &fp) || url_parts(to, &ts, &th, &tp)) {
    snprintf(x->error, sizeof x->error, "redirected to %.200s, which is not a URL", to);
  } else if (policy == VG_REDIRECT_NONE) {
    snprintf(x->error, sizeof x->error,
             "redirected to %.200s; not followed (follow_redirects is \"none\")", to);
  } else if (strcasecmp(ts, "http") != 0 && strcasecmp(ts, "https") != 0) {
    snprintf(x->error, sizeof x->error, "redirected to %.200s; only http and https are followed",
             to);
  } else if (f->hops >= MAX_REDIRECTS) {
    snprintf(x->error, sizeof x->error, "more than %ld redirects (the last to %.200s)",
             MAX_REDIRECTS, to);
  } else if (policy == VG_REDIRECT_SAME_HOST && strcasecmp(fh, th) != 0) {
    snprintf(x->error, sizeof x->error,
             "redirected to %.150s; not followed: another host than %.60s (follow_redirects is "
             "\"same-host\")",
             to, fh);
  } else if (policy == VG_REDIRECT_SAME_HOST && strcmp(fp, tp) != 0 && strcmp(tp, "80") != 0 &&
             strcmp(tp, "443") != 0) {
    snprintf(x->error, sizeof x->error,
             "redirected to %.150s; not followed: another port than %.8s, not that of http or "
             "https (follow_redirects is \"same-host\")",
             to, fp);
  } else {
    ok = 1;
  }
  curl_free(fs);
  curl_free(fh);
  curl_free(fp);
  curl_free(ts);
  curl_free(th);
  curl_free(tp);
  return ok;
}

/* Sends the transfer of f on to `to`, the body so far dropped, within what
 * is left of the total timeout. Returns 0, or -1 (x->error says why). */
static int follow(feed *f, CURL *e, const char *to) {
  vg_fetch *x = f->fetch;
  vg_feeds *fs = f->fs;
  uint64_t spent_ms = (uv_hrtime() - f->started) / 1000000;
  if (spent_ms >= TOTAL_TIMEOUT * 1000) {
    snprintf(x->error, sizeof x->error, "%s", curl_easy_strerror(CURLE_OPERATION_TIMEDOUT));
    return -1;
  }
  free(x->body);
  x->body = NULL;
  x->len = 0;
  f->cap = 0;
  f->too_big = 0;
  f->hops++;
  curl_multi_remove_handle(fs->multi, e);
  curl_easy_setopt(e, CURLOPT_URL, to);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(TOTAL_TIMEOUT * 1000 - (long)spent_ms));
  if (curl_multi_add_handle(fs->multi, e) != CURLM_OK) {
    snprintf(x->error, sizeof x->error, "cannot follow the redirect to %.200s", to);
    return -1;
  }
  vg_debug("feed %s: redirected to %s", f->conf->url, to);
  return 0;
}

/* Says in f's fetch why its transfer, ended with rc, failed, unless the
 * fetch says so already (a redirect not followed) or it went through. */
static void say_failure(feed *f, CURLcode rc) {
  vg_fetch *x = f->fetch;
  if (x->error[0]) { /* a redirect not followed: why is said */
  } else if (f->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
    snprintf(x->error, sizeof x->error, "the body is over the %zu-byte cap", f->fs->max_body);
  } else if (rc != CURLE_OK) {
    snprintf(x->error, sizeof x->error, "%s", curl_easy_strerror(rc));
  } else if (x->status != 200 && x->status != 304) {
    snprintf(x->error, sizeof x->error, "HTTP status %ld", x->status);
  }
}

/* Hands the finished transfers on, following the redirects the feed allows. */
static void check_done(vg_feeds *fs) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(fs->multi, &left))) {
    if (m->msg != CURLMSG_DONE) continue;
    CURL *e = m->easy_handle;
    feed *f;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&f);
    vg_fetch *x = f->fetch;
    CURLcode rc = m->data.result;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &x->status);
    char *type = NULL;
    curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &type);
    free(x->content_type); /* that of a redirect followed before */
    x->content_type = type ? strdup(type) : NULL;
    char *to = NULL, *from = NULL;
    if (rc == CURLE_OK && x->status >= 300 && x->status < 400 && x->status != 304 &&
        curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &to) == CURLE_OK && to &&
        curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &from) == CURLE_OK && from) {
      char *next = strdup(to); /* curl's own, until the URL changes */
      if (!next) {
        snprintf(x->error, sizeof x->error, "out of memory");
      } else if (may_follow(f, from, next, x) && follow(f, e, next) == 0) {
        free(next);
        continue; /* the same transfer, on its next URL */
      }
      free(next);
    }
    say_failure(f, rc);
    if (!x->body) x->body = strdup("");
    curl_multi_remove_handle(fs->multi, e);
    curl_easy_cleanup(e);
    curl_slist_free_all(f->headers);
    f->headers = NULL;
    f->easy = NULL;
    f->fetch = NULL;
    fs->running--;
    fs->fn(fs->ud, x);
  }
}

/* ---- curl on libuv ---- */

static void on_poll(uv_poll_t *h, int status, int events) {
  poll_state *p = h->data;
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  int running;
  curl_multi_socket_action(p->fs->multi, p->fd, flags, &running);
  check_done(p->fs);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  (void)e;
  vg_feeds *fs = userp;
  poll_state *p = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (p) {
      uv_poll_stop(&p->poll);
      uv_close((uv_handle_t *)&p->poll, on_poll_closed);
      curl_multi_assign(fs->multi, s, NULL);
    }
    return 0;
  }
  if (!p) {
    p = calloc(1, sizeof *p);
    if (!p) return -1;
    p->fd = s;
    p->fs = fs;
    if (uv_poll_init_socket(fs->loop, &p->poll, s)) {
      free(p);
      return -1;
    }
    p->poll.data = p;
    fs->open_handles++;
    curl_multi_assign(fs->multi, s, p);
  }
  int events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
  uv_poll_start(&p->poll, events, on_poll);
  return 0;
}

static void on_curl_timeout(uv_timer_t *t) {
  vg_feeds *fs = t->data;
  int running;
  curl_multi_socket_action(fs->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(fs);
}

static int on_timer(CURLM *m, long ms, void *userp) {
  (void)m;
  vg_feeds *fs = userp;
  if (ms < 0) uv_timer_stop(&fs->timeout);
  else uv_timer_start(&fs->timeout, on_curl_timeout, (uint64_t)ms, 0);
  return 0;
}

/* ---- schedule ---- */

static void on_due(uv_timer_t *t) { start_fetch(t->data); }

static feed *find(vg_feeds *fs, const vg_feed_conf *conf) {
  for (size_t i = 0; i < fs->n; i++)
    if (fs->v[i].conf == conf) return &fs->v[i];
  return NULL;
}

void vg_feeds_restore(vg_feeds *fs, const vg_feed_conf *conf, const char *etag,
                      const char *modified, int failures) {
  feed *f = find(fs, conf);
  if (!f) return;
  free(f->etag);
  free(f->modified);
  f->etag = etag ? strdup(etag) : NULL;
  f->modified = modified ? strdup(modified) : NULL;
  f->failures = failures;
}

unsigned vg_feed_backoff(unsigned interval, int failures) {
  if (failures <= 0) return interval;
  int shift = failures < 12 ? failures : 12;
  uint64_t delay = (uint64_t)interval << shift;
  if (delay > BACKOFF_MAX) delay = BACKOFF_MAX;
  /* spread so that feeds failing together do not retry together */
  delay = delay * (80 + (uint64_t)(rand() % 41)) / 100;
  return delay ? (unsigned)delay : 1;
}

void vg_feeds_schedule(vg_feeds *fs, const vg_feed_conf *conf, unsigned delay, const char *etag,
                       const char *modified, int failures) {
  feed *f = find(fs, conf);
  if (!f) return;
  f->failures = failures;
  if (etag) {
    free(f->etag);
    f->etag = strdup(etag);
  }
  if (modified) {
    free(f->modified);
    f->modified = strdup(modified);
  }
  if (!fs->once && !fs->stopping) uv_timer_start(&f->timer, on_due, (uint64_t)delay * 1000, 0);
}

vg_feeds *vg_feeds_start(uv_loop_t *loop, const vg_feed_conf *feeds, size_t n, size_t max_body,
                         int once, vg_fetch_fn fn, void *ud) {
  static int curl_ready;
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) return NULL;
    curl_ready = 1;
  }
  vg_feeds *fs = calloc(1, sizeof *fs);
  if (!fs || !(fs->v = calloc(n ? n : 1, sizeof *fs->v)) || !(fs->multi = curl_multi_init())) {
    if (fs) free(fs->v);
    free(fs);
    return NULL;
  }
  fs->loop = loop;
  fs->n = n;
  fs->max_body = max_body;
  fs->once = once;
  fs->fn = fn;
  fs->ud = ud;
  curl_multi_setopt(fs->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(fs->multi, CURLMOPT_SOCKETDATA, fs);
  curl_multi_setopt(fs->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(fs->multi, CURLMOPT_TIMERDATA, fs);
  uv_timer_init(loop, &fs->timeout);
  fs->timeout.data = fs;
  fs->open_handles = 1;
  for (size_t i = 0; i < n; i++) {
    feed *f = &fs->v[i];
    f->fs = fs;
    f->conf = &feeds[i];
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    fs->open_handles++;
    uv_timer_start(&f->timer, on_due, 0, 0); /* the first poll at once */
  }
  return fs;
}

void vg_feeds_stop(vg_feeds *fs) {
  if (!fs || fs->stopping) return;
  fs->stopping = 1;
  for (size_t i = 0; i < fs->n; i++) {
    feed *f = &fs->v[i];
    if (f->easy) {
      curl_multi_remove_handle(fs->multi, f->easy);
      curl_easy_cleanup(f->easy);
      curl_slist_free_all(f->headers);
      vg_fetch_free(f->fetch);
      f->easy = NULL;
      fs->running--;
    }
    f->timer.data = fs;
    uv_close((uv_handle_t *)&f->timer, on_handle_closed);
  }
  fs->timeout.data = fs;
  uv_close((uv_handle_t *)&fs->timeout, on_handle_closed);
}

/* ---- a fetch on the caller's thread ---- */

/* Whether `to` is on the host of `from`, as follow_redirects = "same-host"
 * has it: the same name, on the same port or on that of http or https. */
static int same_host(const char *from, const char *to) {
  char *fs = NULL, *fh = NULL, *fp = NULL, *ts = NULL, *th = NULL, *tp = NULL;
  int same = url_parts(from, &fs, &fh, &fp) == 0 && url_parts(to, &ts, &th, &tp) == 0 &&
             strcasecmp(fh, th) == 0 &&
             (strcmp(fp, tp) == 0 || strcmp(tp, "80") == 0 || strcmp(tp, "443") == 0);
  curl_free(fs);
  curl_free(fh);
  curl_free(fp);
  curl_free(ts);
  curl_free(th);
  curl_free(tp);
  return same;
}

/* Ends a transfer of vg_feed_get once its stop flag is set. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  const atomic_int *stop = ud;
  return stop && atomic_load(stop);
}

vg_fetch *vg_feed_get(const vg_feed_conf *conf, const char *url, size_t max_body,
                      const atomic_int *stop) {
  vg_fetch *x = calloc(1, sizeof *x);
  if (!x) return NULL;
  x->feed = conf;
  x->max_body = max_body;
  char why[300];
  if (vg_feed_url_check(url, why, sizeof why)) {
    snprintf(x->error, sizeof x->error, "%s", why);
    return x;
  }
  if (conf->redirects != VG_REDIRECT_ANY && !same_host(conf->url, url)) {
    snprintf(x->error, sizeof x->error,
             "%.200s is on another host than the feed; not fetched (follow_redirects is not "
             "\"any\")",
             url);
    return x;
  }
  vg_feeds fs = {.max_body = max_body};
  feed f = {.fs = &fs, .conf = conf, .fetch = x};
  CURL *e = curl_easy_init();
  char *at = strdup(url);
  if (!e || !at) {
    snprintf(x->error, sizeof x->error, "out of memory");
    if (e) curl_easy_cleanup(e);
    free(at);
    return x;
  }
  set_options(&f, e, at);
  if (stop) {
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)stop);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  }
  uint64_t started = uv_hrtime();
  for (;;) {
    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &x->status);
    char *to = NULL;
    if (rc == CURLE_OK && x->status >= 300 && x->status < 400 &&
        curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &to) == CURLE_OK && to) {
      char *next = strdup(to); /* curl's own, until the URL changes */
      uint64_t spent_ms = (uv_hrtime() - started) / 1000000;
      if (!next) {
        snprintf(x->error, sizeof x->error, "out of memory");
      } else if (may_follow(&f, at, next, x) && spent_ms >= TOTAL_TIMEOUT * 1000) {
        snprintf(x->error, sizeof x->error, "%s", curl_easy_strerror(CURLE_OPERATION_TIMEDOUT));
      } else if (!x->error[0]) {
        free(at);
        at = next;
        free(x->body);
        x->body = NULL;
        x->len = 0;
        f.cap = 0;
        f.too_big = 0;
        f.hops++;
        curl_easy_setopt(e, CURLOPT_URL, at);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(TOTAL_TIMEOUT * 1000 - (long)spent_ms));
        vg_debug("feed %s: %s redirected to %s", conf->url, url, at);
        continue;
      }
      free(next);
    }
    say_failure(&f, rc);
    if (!x->error[0] && x->status != 200) /* a 304 was not asked for */
      snprintf(x->error, sizeof x->error, "HTTP status %ld", x->status);
    break;
  }
  if (!x->body) x->body = strdup("");
  curl_easy_cleanup(e);
  free(at);
  if (!x->body && !x->error[0]) snprintf(x->error, sizeof x->error, "out of memory");
  return x;
}
