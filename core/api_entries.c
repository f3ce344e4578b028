/* api_entries.c — reading stored entries over HTTP (routed by api.c; the
 * writing half, POST /v1/entries, is source_http.c):
 *   GET /v1/entries       what `vigil query --json` lists, a page at a time:
 *                         since, until, tag, text, source, limit, cursor
 *   GET /v1/entries/{id}  what `vigil show --json ID` prints, and its url
 * Both read through a read job (vg_api_read). A page's cursor names the
 * last entry it holds, in the query's order (its first day, then id), and
 * the next page starts after it: entries stored meanwhile never make a page
 * repeat or skip one that was there. */
#include "api.h"
#include "cli.h"
#include "date.h"
#include "vigil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARAM_MAX 1024 /* bytes of a parameter's value */

/* ---- GET /v1/entries ---- */

typedef struct {
  vg_query q;
  char source[PARAM_MAX], tag[PARAM_MAX], text[PARAM_MAX];
  long limit;
  cJSON *list;      /* the page's entries */
  long n;           /* how many */
  int more;         /* an entry follows the page */
  int32_t last_day; /* the page's last entry */
  int64_t last_id;
} list_job;

static int got_row(void *ud, const vg_row *r) {
  list_job *j = ud;
  if (j->n == j->limit) {
    j->more = 1;
    return 1; /* the page is full: stop */
  }
  cJSON *o = vg_cli_entry_json(r);
  if (!o) return VG_ENOMEM;
  cJSON_AddItemToArray(j->list, o);
  j->n++;
  j->last_day = r->day_first;
  j->last_id = r->id;
  return 0;
}

static void list_read(vg_store *st, void *ud, vg_api_out *out) {
  list_job *j = ud;
  cJSON *o = cJSON_CreateObject();
  j->list = cJSON_AddArrayToObject(o, "entries");
  if (!j->list) {
    cJSON_Delete(o);
    vg_api_out_error(out, 500, "out of memory");
    return;
  }
  j->q.limit = j->limit + 1; /* one more tells whether a next page exists */
  int rc = vg_store_query(st, &j->q, got_row, j);
  if (rc < 0) {
    cJSON_Delete(o);
    if (rc == VG_EDB)
      vg_api_out_error(out, 500, "database error: %s", vg_store_errmsg(st));
    else
      vg_api_out_error(out, 500, "%s", vg_strerror(rc));
    return;
  }
  if (j->more) {
    char cur[64];
    vg_api_cursor(cur, sizeof cur, j->last_day, j->last_id);
    cJSON_AddStringToObject(o, "next", cur);
  } else {
    cJSON_AddNullToObject(o, "next");
  }
  vg_api_out_json(out, 200, o);
}

void vg_api_entries_list(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  static const char *const names[] = {"since",  "until", "tag",    "text",
                                      "source", "limit", "cursor", NULL};
  if (vg_api_unknown_params(r, names)) return;
  list_job *j = calloc(1, sizeof *j);
  if (!j) {
    vg_api_error(r, 500, "out of memory");
    return;
  }
  int rc;
  if ((rc = vg_api_param_day(r, "since", 0, &j->q.since)) < 0) goto refused;
  j->q.has_since = rc;
  if ((rc = vg_api_param_day(r, "until", 1, &j->q.until)) < 0) goto refused;
  j->q.has_until = rc;
  if ((rc = vg_api_param(r, "source", j->source, sizeof j->source)) < 0) goto refused;
  if (rc) j->q.source = j->source;
  if ((rc = vg_api_param(r, "tag", j->tag, sizeof j->tag)) < 0) goto refused;
  if (rc) j->q.tag = j->tag;
  if ((rc = vg_api_param(r, "text", j->text, sizeof j->text)) < 0) goto refused;
  if (rc) j->q.text = j->text;
  if (vg_api_param_limit(r, &j->limit) < 0) goto refused;
  if ((rc = vg_api_param_cursor(r, &j->q.after_day, &j->q.after_id)) < 0) goto refused;
  j->q.has_after = rc;
  vg_api_read(srv, r, list_read, j, free);
  return;
refused:
  free(j);
}

/* ---- GET /v1/entries/{id} ---- */

typedef struct {
  server *srv;
  int64_t id;
} one_job;

static void one_read(vg_store *st, void *ud, vg_api_out *out) {
  one_job *j = ud;
  cJSON *o = NULL;
  int rc = vg_cli_entry_full(st, j->id, &o);
  if (rc == VG_EINVAL) {
    vg_api_out_error(out, 404, "no entry %" PRId64, j->id);
    return;
  }
  if (rc) {
    if (rc == VG_EDB)
      vg_api_out_error(out, 500, "database error: %s", vg_store_errmsg(st));
    else
      vg_api_out_error(out, 500, "%s", vg_strerror(rc));
    return;
  }
  char path[64], url[1024];
  snprintf(path, sizeof path, "/v1/entries/%" PRId64, j->id);
  vg_api_url(j->srv, path, url, sizeof url);
  cJSON_AddStringToObject(o, "url", url);
  vg_api_out_json(out, 200, o);
}

void vg_api_entry_get(server *srv, vg_http_req *r, char *const *args) {
  static const char *const names[] = {NULL};
  if (vg_api_unknown_params(r, names)) return;
  int64_t id;
  if (vg_api_path_id(r, args[0], "entry", &id)) return;
  one_job *j = malloc(sizeof *j);
  if (!j) {
    vg_api_error(r, 500, "out of memory");
    return;
  }
  *j = (one_job){srv, id};
  vg_api_read(srv, r, one_read, j, free);
}
