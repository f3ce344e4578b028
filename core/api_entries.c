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

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000
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
    snprintf(cur, sizeof cur, "%" PRId32 ".%" PRId64, j->last_day, j->last_id);
    cJSON_AddStringToObject(o, "next", cur);
  } else {
    cJSON_AddNullToObject(o, "next");
  }
  vg_api_out_json(out, 200, o);
}

/* Reads parameter name into out (cap bytes): 1 found, 0 absent; -1 when
 * refused (answered 400). */
static int param(vg_http_req *r, const char *name, char *out, size_t cap) {
  int rc = vg_http_query(r->query, name, out, cap);
  if (rc < 0) vg_api_error(r, 400, "parameter '%s': too long or badly encoded", name);
  return rc;
}

/* A day from a date parameter (its first day, or its last with last). */
static int param_day(vg_http_req *r, const char *name, int last, int *has, int32_t *day) {
  char v[128], err[128];
  int rc = param(r, name, v, sizeof v);
  if (rc <= 0) return rc;
  vg_date d;
  if (vg_date_parse(v, strlen(v), &d, err, sizeof err)) {
    vg_api_error(r, 400, "parameter '%s': '%s': %s", name, v, err);
    return -1;
  }
  *has = 1;
  *day = last ? d.last : d.first;
  return 1;
}

/* Reads a cursor ("DAY.ID", as a page's next gave it). */
static int parse_cursor(const char *s, int32_t *day, int64_t *id) {
  char *end;
  errno = 0;
  long long d = strtoll(s, &end, 10);
  if (end == s || *end != '.' || errno || d < INT32_MIN || d > INT32_MAX) return -1;
  const char *p = end + 1;
  if (*p < '0' || *p > '9') return -1;
  long long i = strtoll(p, &end, 10);
  if (*end || errno || i < 0) return -1;
  *day = (int32_t)d;
  *id = i;
  return 0;
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
  j->limit = PAGE_DEFAULT;
  char v[PARAM_MAX];
  int rc;
  if (param_day(r, "since", 0, &j->q.has_since, &j->q.since) < 0 ||
      param_day(r, "until", 1, &j->q.has_until, &j->q.until) < 0)
    goto refused;
  if ((rc = param(r, "source", j->source, sizeof j->source)) < 0) goto refused;
  if (rc) j->q.source = j->source;
  if ((rc = param(r, "tag", j->tag, sizeof j->tag)) < 0) goto refused;
  if (rc) j->q.tag = j->tag;
  if ((rc = param(r, "text", j->text, sizeof j->text)) < 0) goto refused;
  if (rc) j->q.text = j->text;
  if ((rc = param(r, "limit", v, sizeof v)) < 0) goto refused;
  if (rc) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end || errno || n < 1 || n > PAGE_MAX) {
      vg_api_error(r, 400, "parameter 'limit': '%.64s' is not a number from 1 to %d", v, PAGE_MAX);
      goto refused;
    }
    j->limit = n;
  }
  if ((rc = param(r, "cursor", v, sizeof v)) < 0) goto refused;
  if (rc) {
    if (parse_cursor(v, &j->q.after_day, &j->q.after_id)) {
      vg_api_error(r, 400,
                   "parameter 'cursor': '%.64s' is not a cursor (give the 'next' of the"
                   " page before)",
                   v);
      goto refused;
    }
    j->q.has_after = 1;
  }
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
  const char *s = args[0];
  char *end;
  errno = 0;
  long long id = s[0] >= '0' && s[0] <= '9' ? strtoll(s, &end, 10) : 0;
  if (id <= 0 || errno || *end) {
    vg_api_error(r, 400, "'%.64s' is not an entry id (a positive integer)", s);
    return;
  }
  one_job *j = malloc(sizeof *j);
  if (!j) {
    vg_api_error(r, 500, "out of memory");
    return;
  }
  *j = (one_job){srv, id};
  vg_api_read(srv, r, one_read, j, free);
}
