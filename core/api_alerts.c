/* api_alerts.c — reading alerts over HTTP (api.h's route table calls it):
 *   GET /v1/alerts        the stored alerts, the latest first, filtered and
 *                         paged by a cursor
 *   GET /v1/alerts/{id}   one alert and the entries it names, in full
 * Parameters are checked on the loop, so that a bad one is answered at
 * once; the store is read in a read job (vg_api_read). */
#include "api.h"
#include "cli.h"
#include "date.h"
#include "entry.h"
#include "vigil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULE_MAX 1024 /* bytes of a rule's name in a query */

/* ---- GET /v1/alerts ---- */

/* What a listing asks, and what it found (on the worker). */
typedef struct {
  vg_alert_query q;
  char rule[RULE_MAX];
  char severity[32]; /* the severities asked, each once, joined by ',' */
  cJSON *alerts;     /* the page's alerts */
  long n;            /* in it */
  int more;          /* an alert follows the page */
  int32_t last_day;  /* the page's last alert */
  int64_t last_id;
} list_job;

static int list_row(void *ud, const vg_alert_row *a) {
  list_job *j = ud;
  if (j->n == j->q.limit - 1) { /* one more than the page was read: there is a next page */
    j->more = 1;
    return 1;
  }
  cJSON *o = vg_api_alert_json(a);
  if (!o) return VG_ENOMEM;
  cJSON_AddItemToArray(j->alerts, o);
  j->n++;
  j->last_day = a->day;
  j->last_id = a->id;
  return 0;
}

static void list_work(vg_store *st, void *ud, vg_api_out *out) {
  list_job *j = ud;
  cJSON *o = cJSON_CreateObject();
  j->alerts = cJSON_AddArrayToObject(o, "alerts");
  if (!j->alerts) {
    cJSON_Delete(o);
    vg_api_out_error(out, 500, "out of memory");
    return;
  }
  int rc = vg_store_alerts(st, &j->q, list_row, j);
  if (rc < 0) {
    cJSON_Delete(o);
    vg_api_out_error(out, rc == VG_EDB ? 503 : 500, "reading the alerts: %s",
                     rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
    if (rc == VG_EDB) snprintf(out->headers, sizeof out->headers, "Retry-After: 1\r\n");
    return;
  }
  if (j->more) {
    char next[48];
    vg_api_cursor(next, sizeof next, j->last_day, j->last_id);
    cJSON_AddStringToObject(o, "next", next);
  } else {
    cJSON_AddNullToObject(o, "next");
  }
  vg_api_out_json(out, 200, o);
}

/* severity: a comma list of info, warn and crit, each meaning exactly that
 * severity. Writes them, each once, into j->severity. 0, or -1 answered. */
static int param_severity(vg_http_req *r, list_job *j) {
  char v[64];
  int got = vg_api_param(r, "severity", v, sizeof v);
  if (got <= 0) return got;
  static const char *const known[] = {"info", "warn", "crit"};
  int want[3] = {0};
  char *save = NULL;
  for (char *s = strtok_r(v, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
    size_t i = 0;
    while (i < 3 && strcmp(s, known[i]) != 0)
      i++;
    if (i == 3) {
      vg_api_error(r, 400, "parameter 'severity': '%s' is not info, warn or crit", s);
      return -1;
    }
    want[i] = 1;
  }
  for (size_t i = 0; i < 3; i++)
    if (want[i])
      snprintf(j->severity + strlen(j->severity), sizeof j->severity - strlen(j->severity), "%s%s",
               j->severity[0] ? "," : "", known[i]);
  if (!j->severity[0]) {
    vg_api_error(r, 400, "parameter 'severity' names no severity (info, warn, crit)");
    return -1;
  }
  j->q.severity = j->severity;
  return 0;
}

void vg_api_alerts(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  static const char *const names[] = {"since", "until", "rule",   "severity",
                                      "state", "limit", "cursor", NULL};
  if (vg_api_unknown_params(r, names)) return;
  list_job *j = calloc(1, sizeof *j);
  if (!j) {
    vg_api_error(r, 500, "out of memory");
    return;
  }
  j->q.newest_first = 1;
  char v[64];
  int got;
  long limit;
  if ((got = vg_api_param_day(r, "since", 0, &j->q.since)) < 0) goto answered;
  j->q.has_since = got;
  if ((got = vg_api_param_day(r, "until", 1, &j->q.until)) < 0) goto answered;
  j->q.has_until = got;
  if ((got = vg_api_param(r, "rule", j->rule, sizeof j->rule)) < 0) goto answered;
  if (got) j->q.rule = j->rule;
  if (param_severity(r, j) < 0) goto answered;
  if ((got = vg_api_param(r, "state", v, sizeof v)) < 0) goto answered;
  if (got && vg_alert_state_parse(v, &j->q)) {
    vg_api_error(r, 400,
                 "parameter 'state' must be active, silenced, retracted or all, not '%s'", v);
    goto answered;
  }
  if (vg_api_param_limit(r, &limit) < 0) goto answered;
  j->q.limit = limit + 1; /* one more, to know whether a next page exists */
  if ((got = vg_api_param_cursor(r, &j->q.after_day, &j->q.after_id)) < 0) goto answered;
  j->q.has_after = got;
  vg_api_read(srv, r, list_work, j, free);
  return;
answered:
  free(j);
}

/* ---- GET /v1/alerts/{id} ---- */

typedef struct {
  int64_t id;
  cJSON *alert;  /* found, or NULL */
  char *entries; /* the ids it names, joined by ',' (copied) */
} one_job;

static int one_row(void *ud, const vg_alert_row *a) {
  one_job *j = ud;
  j->alert = vg_api_alert_json(a);
  j->entries = strdup(a->entries ? a->entries : "");
  return j->alert && j->entries ? 1 : VG_ENOMEM;
}

static int entry_row(void *ud, const vg_row *row) {
  cJSON *o = vg_cli_entry_json(row);
  if (!o) return VG_ENOMEM;
  cJSON_AddItemToArray(ud, o);
  return 0;
}

static void one_free(void *ud) {
  one_job *j = ud;
  cJSON_Delete(j->alert);
  free(j->entries);
  free(j);
}

static void one_work(vg_store *st, void *ud, vg_api_out *out) {
  one_job *j = ud;
  vg_alert_query q = {.id = j->id};
  int rc = vg_store_alerts(st, &q, one_row, j);
  if (rc < 0 && rc != VG_ENOMEM) goto failed;
  if (!j->alert) {
    if (rc == VG_ENOMEM) goto failed;
    vg_api_out_error(out, 404, "no alert %" PRId64, j->id);
    return;
  }
  cJSON *list = cJSON_AddArrayToObject(j->alert, "entries_detail");
  if (!list) {
    rc = VG_ENOMEM;
    goto failed;
  }
  /* Each entry it names, in full; one gone since (none is ever deleted
   * today) is left out. */
  for (const char *p = j->entries; *p;) {
    char *end;
    long long id = strtoll(p, &end, 10);
    if (end == p) break;
    rc = vg_store_entry(st, id, entry_row, list);
    if (rc && rc != VG_EINVAL) goto failed;
    p = *end == ',' ? end + 1 : end;
  }
  vg_api_out_json(out, 200, j->alert);
  j->alert = NULL;
  return;
failed:
  vg_api_out_error(out, rc == VG_EDB ? 503 : 500, "reading alert %" PRId64 ": %s", j->id,
                   rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
  if (rc == VG_EDB) snprintf(out->headers, sizeof out->headers, "Retry-After: 1\r\n");
}

void vg_api_alert(server *srv, vg_http_req *r, char *const *args) {
  static const char *const names[] = {NULL};
  if (vg_api_unknown_params(r, names)) return;
  int64_t id;
  if (vg_api_path_id(r, args[0], "alert", &id)) return;
  one_job *j = calloc(1, sizeof *j);
  if (!j) {
    vg_api_error(r, 500, "out of memory");
    return;
  }
  j->id = id;
  vg_api_read(srv, r, one_work, j, one_free);
}
