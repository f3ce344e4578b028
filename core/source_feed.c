/* source_feed.c — what the feed poller (feeds.c) fetched: each fetch waits
 * in srv->fetched, oldest first, and is stored by a job of its own with the
 * feed's health (feed_store.h); the feed's next poll is scheduled once it
 * is. See daemon.h. */
#include "daemon.h"
#include "feed_store.h"
#include "metrics.h"
#include "vigil.h"

#include <stdlib.h>
#include <string.h>

static void on_fetch(void *ud, vg_fetch *x) {
  server *srv = ud;
  if (srv->nfetched == srv->fetched_cap) {
    size_t cap = srv->fetched_cap ? srv->fetched_cap * 2 : 8;
    vg_fetch **v = realloc(srv->fetched, cap * sizeof *v);
    if (!v) {
      vg_error("feed %s: out of memory; the fetch is dropped and retried", x->feed->url);
      vg_feeds_schedule(srv->feeds, x->feed, x->feed->interval, NULL, NULL, x->failures);
      vg_fetch_free(x);
      return;
    }
    srv->fetched = v;
    srv->fetched_cap = cap;
  }
  srv->fetched[srv->nfetched++] = x;
  vg_daemon_kick(srv);
}

/* Starts polling. It reads the feeds' state from the store on the loop
 * thread, so it runs before anything can queue a job (the spool does). */
int vg_source_feed_start(server *srv) {
  if (!srv->cfg.nfeeds) return 0;
  for (size_t i = 0; i < srv->cfg.nfeeds; i++) {
    vg_metrics_feed_declare(srv->cfg.feeds[i].url);
    if (strcmp(srv->cfg.feeds[i].format, "gdelt") == 0)
      vg_metrics_feed_archives(srv->cfg.feeds[i].url, 0);
  }
  srv->feeds = vg_feeds_start(srv->loop, srv->cfg.feeds, srv->cfg.nfeeds, srv->cfg.feed_max_body,
                              0, on_fetch, srv);
  if (!srv->feeds) {
    vg_error("feeds: cannot set up HTTP; no feed is polled");
    return 0;
  }
  /* No job runs yet: the loop thread may read the store this once. */
  for (size_t i = 0; i < srv->cfg.nfeeds; i++) {
    char *etag, *modified;
    int failures;
    if (vg_store_feed_get(srv->store, srv->cfg.feeds[i].url, &etag, &modified, &failures) == 1)
      vg_feeds_restore(srv->feeds, &srv->cfg.feeds[i], etag, modified, failures);
    free(etag);
    free(modified);
  }
  vg_info("feeds: polling %zu", srv->cfg.nfeeds);
  return 0;
}

/* Stores what a feed fetch brought, with the feed's health. */
static void work(server *srv) {
  vg_ingest ig = vg_daemon_ingest(srv);
  vg_feed_store(&ig, srv->feed_job, srv->js.max_line, srv->js.feed_max_archive, 1,
                &srv->feed_result);
}

static void done(server *srv) {
  vg_fetch *x = srv->feed_job;
  vg_feed_result *r = &srv->feed_result;
  vg_metrics_feed(x->feed->url, !r->ok || r->error[0] ? "failed"
                                : x->status == 304 ? "not_modified" : "ok");
  if (r->archive_new) vg_metrics_feed_archives(x->feed->url, 1);
  if (!r->ok || r->error[0])
    vg_warn("feed %s: %s; next try in %u s", x->feed->url, r->error, r->delay);
  else if (x->status == 304)
    vg_debug("feed %s: not modified", x->feed->url);
  else if (r->archive[0] && !r->archive_new)
    vg_debug("feed %s: archive %s ingested before; nothing new", x->feed->url, r->archive);
  else if (r->archive[0])
    vg_info("feed %s: archive %s: %llu stored, %llu duplicates, %llu rejected", x->feed->url,
            r->archive, (unsigned long long)r->counts.stored,
            (unsigned long long)r->counts.duplicates, (unsigned long long)r->counts.rejected);
  else
    vg_info("feed %s: %llu stored, %llu duplicates, %llu rejected, %llu updated", x->feed->url,
            (unsigned long long)r->counts.stored, (unsigned long long)r->counts.duplicates,
            (unsigned long long)r->counts.rejected, (unsigned long long)r->items.updated);
  if (srv->feeds) /* gone once stopping */
    vg_feeds_schedule(srv->feeds, x->feed, r->delay, r->ok ? x->etag : NULL,
                      r->ok ? x->last_modified : NULL, r->failures);
  vg_fetch_free(x);
  srv->feed_job = NULL;
}

static int take(server *srv) {
  if (!srv->nfetched || srv->stopping) return SOURCE_NONE;
  srv->feed_job = srv->fetched[0];
  memmove(srv->fetched, srv->fetched + 1, --srv->nfetched * sizeof *srv->fetched);
  return SOURCE_TAKEN;
}

const vg_source vg_source_feed = {.name = "feed", .take = take, .work = work, .done = done};
