/* api_rules.c — GET /v1/rules, the rules in force and what each did;
 * POST /v1/rules/reload, a reload of the rule files as SIGHUP does it (the
 * configuration aside), answered once the reload job has run.
 *
 * The list is taken on the loop while no job runs (at the start and in the
 * reload job's done()), so it never reads the rules while the worker runs
 * them; the counters it shows are the rules' vg_rule_stats, atomics the
 * worker updates, read at each request. They count since the daemon
 * started and survive reloads for a rule that keeps its name. Called
 * through api.c's route table and from source_rules.c. */
#include "api.h"
#include "date.h"
#include "metrics.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One rule as listed. */
typedef struct {
  char *name, *file, *kind;
  char hash[33];
  vg_rule_stats *stats; /* lives until vg_metrics_shutdown */
} listed_rule;

static struct {
  listed_rule *v;
  size_t n;
  char loaded_at[32];    /* when the rules in force were loaded, ISO 8601 UTC */
  vg_http_req **waiting; /* reload requests not yet taken by a job */
  size_t nwaiting;
  vg_http_req **running; /* those the running reload job answers */
  size_t nrunning;
} st;

static void free_list(void) {
  for (size_t i = 0; i < st.n; i++) {
    free(st.v[i].name);
    free(st.v[i].file);
    free(st.v[i].kind);
  }
  free(st.v);
  st.v = NULL;
  st.n = 0;
}

void vg_api_rules_loaded(server *srv, const vg_rules *rules) {
  (void)srv;
  free_list();
  size_t n = vg_rules_count(rules);
  st.v = calloc(n ? n : 1, sizeof *st.v);
  for (size_t i = 0; st.v && i < n; i++) {
    vg_rule_info info;
    if (vg_rules_info(rules, i, &info)) break;
    listed_rule *l = &st.v[st.n++];
    l->name = strdup(info.name);
    l->file = strdup(info.file);
    l->kind = strdup(info.kind);
    memcpy(l->hash, info.hash, sizeof l->hash);
    l->stats = info.stats;
  }
  vg_utc_iso((time_t)-1, st.loaded_at);
}

int vg_api_rules_count(size_t *n) {
  *n = st.n;
  return st.v != NULL;
}

void vg_api_rules_free(void) {
  free_list();
  free(st.waiting);
  free(st.running);
  memset(&st, 0, sizeof st);
}

static double load_u64(atomic_uint_fast64_t *a) {
  return (double)atomic_load_explicit(a, memory_order_relaxed);
}

void vg_api_rules_list(server *srv, vg_http_req *r, char *const *args) {
  (void)srv, (void)args;
  static const char *const none[] = {NULL};
  if (vg_api_unknown_params(r, none)) return;
  cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "rules");
  for (size_t i = 0; list && i < st.n; i++) {
    const listed_rule *l = &st.v[i];
    vg_rule_stats *s = l->stats;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", l->name ? l->name : "");
    cJSON_AddStringToObject(j, "file", l->file ? l->file : "");
    cJSON_AddStringToObject(j, "kind", l->kind ? l->kind : "");
    cJSON_AddStringToObject(j, "hash", l->hash);
    double calls = load_u64(&s->calls);
    double alerts = 0;
    for (int k = 0; k < 3; k++)
      alerts += vg_series_value(s->alerts[k]);
    cJSON_AddNumberToObject(j, "calls", calls);
    cJSON_AddNumberToObject(j, "matches", load_u64(&s->matches));
    cJSON_AddNumberToObject(j, "tags_set", load_u64(&s->tags_set));
    cJSON_AddNumberToObject(j, "alerts", alerts);
    cJSON_AddNumberToObject(j, "failures", load_u64(&s->failures));
    cJSON_AddBoolToObject(j, "disabled", atomic_load(&s->disabled) != 0);
    cJSON_AddNumberToObject(j, "seconds_per_call",
                            calls > 0 ? load_u64(&s->nanos) / 1e9 / calls : 0);
    cJSON_AddItemToArray(list, j);
  }
  cJSON_AddStringToObject(o, "loaded_at", st.loaded_at);
  vg_api_json(r, 200, o);
}

static int push(vg_http_req ***v, size_t *n, vg_http_req *r) {
  vg_http_req **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (!nv) return -1;
  *v = nv;
  nv[(*n)++] = r;
  return 0;
}

void vg_api_rules_reload(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  static const char *const none[] = {NULL};
  if (vg_api_unknown_params(r, none)) return;
  if (srv->stopping) {
    vg_api_error(r, 503, "the daemon is stopping");
    return;
  }
  if (push(&st.waiting, &st.nwaiting, r)) {
    vg_api_error(r, 500, "out of memory");
    return;
  }
  vg_info("rules: reload asked over HTTP by %s", r->peer);
  srv->rules_dirty = 1;
  vg_daemon_kick(srv);
}

void vg_api_rules_reload_taken(server *srv) {
  (void)srv;
  for (size_t i = 0; i < st.nwaiting; i++)
    if (push(&st.running, &st.nrunning, st.waiting[i]))
      vg_api_error(st.waiting[i], 500, "out of memory");
  st.nwaiting = 0;
}

void vg_api_rules_reload_done(server *srv, size_t loaded, cJSON *errors, int failed) {
  (void)srv;
  int nerr = cJSON_GetArraySize(errors);
  for (size_t i = 0; i < st.nrunning; i++) {
    vg_http_req *r = st.running[i];
    cJSON *o = cJSON_CreateObject();
    int status = failed ? 500 : nerr ? 422 : 200;
    if (failed) {
      cJSON_AddStringToObject(o, "error",
                              "the rules cannot be reloaded (the rule engine cannot"
                              " be set up); the rules in force stay");
    } else if (nerr) {
      const cJSON *first = cJSON_GetObjectItem(cJSON_GetArrayItem(errors, 0), "message");
      char msg[1024];
      snprintf(msg, sizeof msg,
               "%d error%s in the rules; the files in error keep their previous"
               " version, if any: %s",
               nerr, nerr == 1 ? "" : "s", cJSON_IsString(first) ? first->valuestring : "");
      cJSON_AddStringToObject(o, "error", msg);
    }
    cJSON_AddNumberToObject(o, "status", status);
    cJSON_AddNumberToObject(o, "rules", (double)loaded);
    cJSON_AddItemToObject(o, "errors", errors ? cJSON_Duplicate(errors, 1) : cJSON_CreateArray());
    cJSON_AddStringToObject(o, "loaded_at", st.loaded_at);
    vg_api_json(r, status, o);
  }
  st.nrunning = 0;
  cJSON_Delete(errors);
}

void vg_api_rules_stop(server *srv) {
  (void)srv;
  for (size_t i = 0; i < st.nwaiting; i++)
    vg_api_error(st.waiting[i], 503, "the daemon is stopping");
  st.nwaiting = 0;
}
