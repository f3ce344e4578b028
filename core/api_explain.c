/* api_explain.c — explanations over HTTP (api.h's route table calls it):
 *   GET /v1/alerts/{id}/explain          why an alert fired
 *   GET /v1/entries/{id}/explain?rule=R  why an entry did or did not
 * Each answers the object `vigil explain --json` prints (explain.h).
 *
 * The rules the daemon runs belong to its writing job's thread, so a read
 * job loads a set of its own from the rules paths in force (copied on the
 * loop) on its worker, explains with it and frees it: the rules as their
 * files say now, as `vigil explain` loads them. */
#include "api.h"
#include "cli.h"
#include "explain.h"
#include "vigil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULE_MAX 1024

typedef struct {
  int64_t id;
  int entry;              /* explain an entry, not an alert */
  char rule[RULE_MAX];    /* with ?rule=, or "" */
  char **paths;           /* the rules paths, NULL-ended (owned) */
  vg_rules_limits lim;
} job;

static void job_free(void *ud) {
  job *j = ud;
  for (size_t i = 0; j->paths && j->paths[i]; i++) free(j->paths[i]);
  free(j->paths);
  free(j);
}

static void ignore_report(void *ud, const char *file, const char *msg) {
  (void)ud, (void)file, (void)msg; /* the daemon's own loads report them */
}

static void work(vg_store *st, void *ud, vg_api_out *out) {
  job *j = ud;
  int errors = 0;
  vg_rules *r = vg_rules_load_paths(j->paths, NULL, &j->lim, ignore_report, NULL, &errors);
  const char *what = j->entry ? "entry" : "alert";
  cJSON *o = NULL;
  int rc;
  if (!r) {
    vg_api_out_error(out, 500, "cannot set up the rule engine");
    return;
  }
  if (j->rule[0] && !vg_rules_file_of(r, j->rule)) {
    vg_api_out_error(out, 404, "no rule '%s' among the rules loaded", j->rule);
    vg_rules_free(r);
    return;
  }
  rc = j->entry ? vg_explain_entry(r, st, j->id, j->rule[0] ? j->rule : NULL, &o)
                : vg_explain_alert(r, st, j->id, &o);
  vg_rules_free(r);
  if (rc == VG_EINVAL) {
    vg_api_out_error(out, 404, "no %s %" PRId64, what, j->id);
  } else if (rc) {
    vg_api_out_error(out, rc == VG_EDB ? 503 : 500, "explaining %s %" PRId64 ": %s", what, j->id,
                     rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
    if (rc == VG_EDB) snprintf(out->headers, sizeof out->headers, "Retry-After: 1\r\n");
  } else {
    vg_api_out_json(out, 200, o);
  }
}

static void start(server *srv, vg_http_req *r, char *const *args, int entry) {
  static const char *const none[] = {NULL}, *const rule_only[] = {"rule", NULL};
  if (vg_api_unknown_params(r, entry ? rule_only : none)) return;
  int64_t id;
  if (vg_api_path_id(r, args[0], entry ? "entry" : "alert", &id)) return;
  job *j = calloc(1, sizeof *j);
  size_t n = 0;
  while (srv->cfg.rules && srv->cfg.rules[n]) n++;
  if (j) j->paths = calloc(n + 1, sizeof *j->paths);
  int ok = j && j->paths;
  for (size_t i = 0; ok && i < n; i++) ok = (j->paths[i] = strdup(srv->cfg.rules[i])) != NULL;
  if (!ok) {
    if (j) job_free(j);
    vg_api_error(r, 500, "out of memory");
    return;
  }
  j->id = id;
  j->entry = entry;
  j->lim = vg_cli_rule_limits(&srv->cfg);
  j->lim.detached = 1; /* the daemon's rule metrics stay the daemon's */
  if (entry && vg_api_param(r, "rule", j->rule, sizeof j->rule) < 0) {
    job_free(j);
    return;
  }
  vg_api_read(srv, r, work, j, job_free);
}

void vg_api_alert_explain(server *srv, vg_http_req *r, char *const *args) {
  start(srv, r, args, 0);
}

void vg_api_entry_explain(server *srv, vg_http_req *r, char *const *args) {
  start(srv, r, args, 1);
}
