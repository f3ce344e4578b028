/* source_rules.c — the rules as a source of work: a reload when their files
 * change (the directory is watched, and looked for again when it goes
 * away), on SIGHUP, or when the rule state ran out of memory; and a tick of
 * the clock every minute, so that absences on the wall clock fire when no
 * entry comes. A reload runs between batches, before anything else waits.
 * See daemon.h. */
#include "cli.h"
#include "daemon.h"
#include "vigil.h"

#include <time.h>

static void on_tick(uv_timer_t *t) {
  server *srv = t->data;
  srv->tick_due = 1;
  vg_daemon_kick(srv);
}

static void on_rules_timer(uv_timer_t *t) {
  server *srv = t->data;
  vg_source_rules_check(srv); /* a directory that went away is not reloaded: its rules stay */
  if (srv->rules_dir.lost) return;
  srv->rules_dirty = 1;
  vg_daemon_kick(srv);
}

static void on_rules_event(uv_fs_event_t *h, const char *name, int events, int status) {
  server *srv = h->data;
  (void)events;
  if (status < 0) {
    vg_warn("rules: watch failed: %s", uv_strerror(status));
    return;
  }
  if (name && name[0] == '.') return; /* editors' swap files */
  uv_timer_start(&srv->rules_timer, on_rules_timer, 100, 0);
}

/* Watches the rules directory as it is now and notes which directory that
 * is. Returns 0 or a libuv error; the handle stays open either way. */
static int watch_rules(server *srv) {
  return vg_daemon_watch_dir(&srv->rules_watch, on_rules_event, srv->cfg.rules, &srv->rules_dir);
}

/* Also when a reload named another directory: its rules are loaded. */
void vg_source_rules_check(server *srv) {
  if (!srv->have_rules_watch || srv->stopping) return;
  if (!vg_daemon_dir_back(srv, "rules", srv->cfg.rules, &srv->rules_dir, watch_rules,
                "the rules in force stay until it is back", " and loading its rules"))
    return;
  srv->rules_dirty = 1;
  vg_daemon_kick(srv);
}

/* Watches the rules directory and starts the clock. */
void vg_source_rules_start(server *srv) {
  uv_fs_event_init(srv->loop, &srv->rules_watch);
  srv->rules_watch.data = srv;
  srv->have_rules_watch = 1;
  int rc = watch_rules(srv);
  if (rc) {
    vg_warn("rules: cannot watch %s (%s); it is looked for every %d s, and SIGHUP reloads"
            " the rules", srv->cfg.rules, uv_strerror(rc), DIR_CHECK_MS / 1000);
    srv->rules_dir.lost = 1;
  }
  uv_timer_start(&srv->tick_timer, on_tick, 60000, 60000);
}

/* Loads the rule files again; a broken file keeps its previous version. */
static void work_reload(server *srv) {
  vg_config c = {.rules = srv->js.rules, .rule_memory = srv->js.limits.mem_max,
                 .rule_budget = srv->js.limits.budget, .rule_failures = srv->js.limits.max_failures};
  int errors;
  vg_rules *next = vg_cli_load_rules(&c, srv->rules, &errors);
  if (!next) {
    vg_error("rules: cannot reload; the rules in force stay");
    return;
  }
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
  return SOURCE_TAKEN;
}

static void no_news(server *srv) { (void)srv; }

/* The rules of a reload are in force (or the ones before stay): when a
 * SIGHUP asked for it, the reload the manager was told of is done (a job
 * taken before the SIGHUP, for an edited file, does not count). */
static void reloaded(server *srv) {
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
