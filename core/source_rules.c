/* source_rules.c — the rules as a source of work: a reload when their files
 * change (each rules path, a directory or a file, is watched, and looked
 * for again when it goes away), on SIGHUP, or when the rule state ran out of memory; and a tick of
 * the clock every minute, so that absences on the wall clock fire when no
 * entry comes. A reload runs between batches, before anything else waits.
 * See daemon.h. */
#include "api.h"
#include "cli.h"
#include "daemon.h"
#include "vigil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void on_tick(uv_timer_t *t) {
  server *srv = t->data;
  srv->tick_due = 1;
  vg_daemon_kick(srv);
}

static void on_rules_timer(uv_timer_t *t) {
  server *srv = t->data;
  vg_source_rules_check(srv);
  /* A path that went away keeps its rules (the load keeps what it had);
   * with every path gone there is nothing to load. */
  size_t lost = 0;
  for (size_t i = 0; i < srv->nrules_watches; i++)
    lost += srv->rules_watches[i]->seen.lost;
  if (srv->nrules_watches && lost == srv->nrules_watches) return;
  srv->rules_dirty = 1;
  vg_daemon_kick(srv);
}

static void on_rules_event(uv_fs_event_t *h, const char *name, int events, int status) {
  rules_watch *w = h->data;
  server *srv = w->srv;
  (void)events;
  if (status < 0) {
    vg_warn("rules: watch on %s failed: %s", w->path, uv_strerror(status));
    return;
  }
  if (name && name[0] == '.') return; /* editors' swap files */
  uv_timer_start(&srv->rules_timer, on_rules_timer, 100, 0);
}

/* Watches the rules path of ud (a rules_watch) as it is now and notes which
 * directory or file that is. Returns 0 or a libuv error; the handle stays
 * open either way. */
static int watch_rules(server *srv, void *ud) {
  rules_watch *w = ud;
  (void)srv;
  return vg_daemon_watch_dir(&w->h, on_rules_event, w->path, &w->seen);
}

/* Also when a reload named another directory: its rules are loaded. */
void vg_source_rules_check(server *srv) {
  if (!srv->have_rules_watch || srv->stopping) return;
  int back = 0;
  for (size_t i = 0; i < srv->nrules_watches; i++) {
    rules_watch *w = srv->rules_watches[i];
    back |=
        vg_daemon_dir_back(srv, "rules", w->path, &w->seen, 1, watch_rules, w,
                           "the rules in force stay until it is back", " and loading its rules");
  }
  if (!back) return;
  srv->rules_dirty = 1;
  vg_daemon_kick(srv);
}

static void free_watch(uv_handle_t *h) {
  rules_watch *w = h->data;
  free(w->path);
  free(w);
}

void vg_source_rules_stop(server *srv) {
  for (size_t i = 0; i < srv->nrules_watches; i++) {
    rules_watch *w = srv->rules_watches[i];
    uv_close((uv_handle_t *)&w->h, free_watch);
  }
  free(srv->rules_watches);
  srv->rules_watches = NULL;
  srv->nrules_watches = 0;
  srv->have_rules_watch = 0;
}

/* Watches each rules path of srv->cfg; one that cannot be watched is
 * looked for every DIR_CHECK_MS. */
static void watch_all(server *srv) {
  size_t n = vg_config_nrules(&srv->cfg);
  srv->rules_watches = calloc(n ? n : 1, sizeof *srv->rules_watches);
  if (!srv->rules_watches) abort(); /* a few pointers: nothing sensible is left to do */
  srv->have_rules_watch = 1;
  for (size_t i = 0; i < n; i++) {
    rules_watch *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(srv->cfg.rules[i]))) abort();
    w->srv = srv;
    uv_fs_event_init(srv->loop, &w->h);
    w->h.data = w;
    srv->rules_watches[srv->nrules_watches++] = w;
    int rc = watch_rules(srv, w);
    if (rc) {
      vg_warn("rules: cannot watch %s (%s); it is looked for every %d s, and SIGHUP reloads"
              " the rules",
              w->path, uv_strerror(rc), DIR_CHECK_MS / 1000);
      w->seen.lost = 1;
    }
  }
}

void vg_source_rules_rewatch(server *srv) {
  if (!srv->have_rules_watch || srv->stopping) return;
  size_t n = vg_config_nrules(&srv->cfg);
  int same = n == srv->nrules_watches;
  for (size_t i = 0; same && i < n; i++)
    same = strcmp(srv->rules_watches[i]->path, srv->cfg.rules[i]) == 0;
  if (same) return;
  vg_source_rules_stop(srv);
  watch_all(srv);
}

/* Watches the rules paths and starts the clock. */
void vg_source_rules_start(server *srv) {
  watch_all(srv);
  uv_timer_start(&srv->tick_timer, on_tick, 60000, 60000);
}

/* How the last reload job went, for its done() on the loop (the job's
 * end orders the worker's writes before the loop's reads). */
static struct {
  size_t loaded;  /* rules in force after it */
  cJSON *errors;  /* [{"file", "message"}] */
  int failed;     /* no rule state could be made: the rules before stay */
} outcome;

/* Logs a problem of the load, as the daemon always did, and keeps it for
 * the reload's HTTP reply. */
static void report(void *ud, const char *file, const char *msg) {
  (void)ud;
  vg_error("%s", msg);
  cJSON *e = cJSON_CreateObject();
  if (file) cJSON_AddStringToObject(e, "file", file);
  else cJSON_AddNullToObject(e, "file");
  cJSON_AddStringToObject(e, "message", msg);
  cJSON_AddItemToArray(outcome.errors, e);
}

/* Loads the rule files again; a broken file keeps its previous version. */
static void work_reload(server *srv) {
  vg_config c = {.rules = srv->js.rules,
                 .rule_memory = srv->js.limits.mem_max,
                 .rule_budget = srv->js.limits.budget,
                 .rule_failures = srv->js.limits.max_failures,
                 .event_similarity = srv->js.limits.event_similarity};
  int errors;
  cJSON_Delete(outcome.errors);
  outcome.errors = cJSON_CreateArray();
  outcome.failed = 0;
  vg_rules *next = vg_cli_load_rules_to(&c, srv->rules, &errors, report, NULL);
  if (!next) {
    vg_error("rules: cannot reload; the rules in force stay");
    outcome.failed = 1;
    outcome.loaded = vg_rules_count(srv->rules);
    return;
  }
  outcome.loaded = vg_rules_count(next);
  vg_rules_free(srv->rules);
  srv->rules = next;
}

/* Lets absence rules on the wall clock fire when no entry comes. */
static void work_tick(server *srv) {
  int32_t today = (int32_t)(time(NULL) / 86400);
  vg_batch *t = &srv->txn;
  t->ig.rules = srv->rules;
  int rc = vg_batch_begin(t);
  if (rc == 0) rc = vg_rules_tick(srv->rules, srv->store, today, t->ig.alerts);
  if ((rc = vg_batch_end(t, rc, NULL, NULL))) vg_error("rules: the clock tick failed: %s", t->err);
}

static int take_reload(server *srv) {
  if (!srv->rules_dirty || srv->stopping) return SOURCE_NONE;
  srv->rules_dirty = 0;
  srv->reload_job_asked = srv->reload_asked;
  srv->reload_asked = 0;
  vg_api_rules_reload_taken(srv);
  return SOURCE_TAKEN;
}

static void no_news(server *srv) { (void)srv; }

/* The rules of a reload are in force (or the ones before stay): when a
 * SIGHUP asked for it, the reload the manager was told of is done (a job
 * taken before the SIGHUP, for an edited file, does not count). */
static void reloaded(server *srv) {
  if (!outcome.failed) {
    vg_api_rules_loaded(srv, srv->rules);
    vg_source_nats_check_rules(srv);
  }
  vg_api_rules_reload_done(srv, outcome.loaded, outcome.errors, outcome.failed);
  outcome.errors = NULL;
  if (srv->reload_job_asked) vg_notify_reloaded(srv->notify);
  srv->reload_job_asked = 0;
}

const vg_source vg_source_reload = {
    .name = "reload", .take = take_reload, .work = work_reload, .done = reloaded};

static int take_tick(server *srv) {
  if (!srv->tick_due || srv->stopping) return SOURCE_NONE;
  srv->tick_due = 0;
  return SOURCE_TAKEN;
}

const vg_source vg_source_tick = {
    .name = "tick", .take = take_tick, .work = work_tick, .done = no_news};
