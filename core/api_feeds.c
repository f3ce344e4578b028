/* api_feeds.c — GET /v1/feeds (api.h's route table calls it): the health
 * of the feeds, what `vigil feeds --json` prints (vg_cli_feeds, shared with
 * it), as {"feeds": [...]}; with all=true, every feed the database knows.
 * The configured feeds are copied on the loop (a reload replaces the
 * configuration), the store read in a read job. */
#include "api.h"
#include "cli.h"
#include "vigil.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  vg_feed_conf *feeds; /* url and source of each configured feed (copies) */
  size_t n;
  int all;
  cJSON *list;
} feeds_job;

static void feeds_free(void *ud) {
  feeds_job *j = ud;
  for (size_t i = 0; i < j->n; i++) {
    free(j->feeds[i].url);
    free(j->feeds[i].source);
  }
  free(j->feeds);
  free(j);
}

static int feed_row(void *ud, const vg_feed_row *f, int scheduled) {
  feeds_job *j = ud;
  cJSON *o = vg_cli_feed_json(f, scheduled);
  if (!o) return VG_ENOMEM;
  cJSON_AddItemToArray(j->list, o);
  return 0;
}

static void feeds_work(vg_store *st, void *ud, vg_api_out *out) {
  feeds_job *j = ud;
  cJSON *o = cJSON_CreateObject();
  j->list = cJSON_AddArrayToObject(o, "feeds");
  int rc = j->list ? vg_cli_feeds(st, j->feeds, j->n, j->all, feed_row, j) : VG_ENOMEM;
  if (rc) {
    cJSON_Delete(o);
    vg_api_out_error(out, rc == VG_EDB ? 503 : 500, "reading the feeds: %s",
                     rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
    if (rc == VG_EDB) snprintf(out->headers, sizeof out->headers, "Retry-After: 1\r\n");
    return;
  }
  vg_api_out_json(out, 200, o);
}

void vg_api_feeds(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  static const char *const names[] = {"all", NULL};
  if (vg_api_unknown_params(r, names)) return;
  int all = 0;
  if (vg_api_param_bool(r, "all", &all) < 0) return;
  feeds_job *j = calloc(1, sizeof *j);
  int oom = !j || !(j->feeds = calloc(srv->cfg.nfeeds + 1, sizeof *j->feeds));
  for (size_t i = 0; !oom && i < srv->cfg.nfeeds; i++) {
    j->feeds[i].url = strdup(srv->cfg.feeds[i].url);
    j->feeds[i].source = strdup(srv->cfg.feeds[i].source);
    j->n++;
    oom = !j->feeds[i].url || !j->feeds[i].source;
  }
  if (oom) {
    if (j) feeds_free(j);
    vg_api_error(r, 500, "out of memory");
    return;
  }
  j->all = all;
  vg_api_read(srv, r, feeds_work, j, feeds_free);
}
