/* server.c — `vigil run`: the daemon's loop and its wiring. One libuv loop
 * does all I/O: the listeners and clients (listen.c), the spool and rules
 * directory watches, the feed poller, signals and timers. Work that touches
 * the store runs off the loop, one job at a time, so that job alone touches
 * the store and the rules: kick() asks each source of the table below, in
 * its order, for a job while none runs (daemon.h says what a source is).
 *
 * A line from a client is answered only after the transaction holding it
 * commits (source_lines.c). The rules run inside that transaction; the
 * alerts they raise go to the sinks from the loop once it has committed.
 * Rule files are reloaded by a job of their own, between batches, when the
 * rules directory changes or on SIGHUP. A spool or rules directory that
 * goes away is looked for every DIR_CHECK_MS and watched again when it is
 * back; the rules in force stay meanwhile. SIGTERM and SIGINT stop the
 * daemon after the entry in hand: lines not stored are answered so. A
 * service manager is told of each step (notify.h). */
#include "api.h"
#include "cli.h"
#include "daemon.h"
#include "metrics.h"
#include "notify.h"
#include "paths.h"
#include "tabular.h"
#include "vigil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Who is asked for the next job, first first: a rules reload goes before
 * anything, then the outbox (recording the sinks' results and taking the
 * rows due: a short job, and never waits), then lines from clients
 * (nothing else starts while they wait for their batch to fill), entries
 * posted over HTTP (the same; the two take turns by arrival), messages from
 * JetStream, fetched feeds, the clock, spool files. */
static const vg_source *const sources[] = {
    &vg_source_reload, &vg_source_outbox, &vg_source_lines, &vg_source_http,
    &vg_source_nats,   &vg_source_feed,   &vg_source_tick,  &vg_source_spool};

/* What a job's work goes through: the store, the rules in force, the
 * committed alerts' list and the stop flag. Called on the worker. */
vg_ingest vg_daemon_ingest(server *srv) {
  return (vg_ingest){srv->store, srv->rules, &srv->committed, &srv->stop_now, srv->outbox};
}

/* ---- the job runner ---- */

static void on_work(uv_work_t *req) {
  server *srv = req->data;
  srv->job->work(srv);
}

/* Hands the counts of what the daemon did to the notifier; on the loop,
 * while no job runs. */
static void count(server *srv) {
  vg_notify_counts c = {vg_store_stored(srv->store), srv->alerts_raised,
                        vg_rules_count(srv->rules)};
  vg_notify_counts_set(srv->notify, &c);
}

static void on_work_done(uv_work_t *req, int status) {
  server *srv = req->data;
  (void)status;
  const vg_source *was = srv->job;
  srv->job = NULL;
  srv->alerts_raised += srv->committed.n;
  for (size_t i = 0; i < srv->committed.n; i++) { /* an amendment is no new alert */
    const vg_alert *a = &srv->committed.v[i];
    if (a->version != 1) continue;
    vg_metrics_alert(a->rule, a->severity);
    if (a->silence_id) vg_metrics_alert_silenced(a->rule);
  }
  count(srv);
  was->done(srv);
  if (srv->committed.n) vg_api_stream_poke(srv); /* new and amended alerts: to the live stream */
  if (vg_outbox_routed(srv->outbox, &srv->committed)) /* their deliveries were written with them */
    srv->outbox_wanted = 1;
  vg_sinks_send_all(srv->sinks, &srv->committed);
  if (vg_rules_exhausted(srv->rules) && !srv->rules_dirty) {
    vg_warn("rules: reloading them to get a fresh rule state");
    srv->rules_dirty = 1;
  }
  if (srv->throttled && srv->pending.n < srv->cfg.max_pending / 2 &&
      srv->pending_bytes < PENDING_BYTES_MAX / 2)
    vg_listen_throttle(srv, 0);
  /* The next job runs while this one's replies are written; but once
   * stopping, the lines still waiting are answered at once by kick(), and
   * a connection's replies keep the order of its lines. */
  int late = was->reply && !srv->stopping;
  if (was->reply && !late) was->reply(srv);
  vg_daemon_kick(srv);
  if (late) {
    was->reply(srv);
    vg_daemon_maybe_finish(srv); /* the clients answered may be all a stop waited for */
  }
}

static void free_paths(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

static void set_job_settings(server *srv) {
  srv->js.format = srv->cfg.format;
  srv->js.max_line = srv->cfg.max_line;
  srv->js.feed_max_archive = srv->cfg.feed_max_archive;
  srv->js.batch = srv->cfg.batch_max > 1000 ? srv->cfg.batch_max : 1000;
  snprintf(srv->js.spool, sizeof srv->js.spool, "%s", srv->cfg.spool);
  size_t n = vg_config_nrules(&srv->cfg);
  char **rules = calloc(n + 1, sizeof *rules);
  for (size_t i = 0; rules && i < n; i++)
    if (!(rules[i] = strdup(srv->cfg.rules[i]))) abort();
  if (!rules) abort(); /* a few bytes: nothing sensible is left to do */
  free_paths(srv->js.rules);
  srv->js.rules = rules;
  srv->js.limits = vg_cli_rule_limits(&srv->cfg);
}

/* Starts the next job if none runs: the first source of the table that
 * has one, or that has work waiting, decides. */
void vg_daemon_kick(server *srv) {
  if (srv->job) return;
  /* The outbox never runs twice in a row while another source has work:
   * the sinks' results come one by one, and each would otherwise ask for
   * a job before any entry is stored. */
  int skip_outbox = srv->last_job == &vg_source_outbox;
  for (size_t i = 0, n = sizeof sources / sizeof *sources; i <= n; i++) {
    const vg_source *src = i < n ? sources[i] : &vg_source_outbox;
    if (src == &vg_source_outbox && (i < n) == skip_outbox) continue;
    int got = src->take(srv);
    if (got == SOURCE_WAIT) return;
    if (got == SOURCE_TAKEN) {
      srv->job = srv->last_job = src;
      set_job_settings(srv);
      srv->work.data = srv;
      int rc = uv_queue_work(srv->loop, &srv->work, on_work, on_work_done);
      if (rc) {
        vg_error("cannot queue work: %s", uv_strerror(rc));
        abort(); /* libuv only fails this for a bad argument */
      }
      return;
    }
  }
  vg_daemon_maybe_finish(srv);
}

/* ---- watched directories ---- */

/* Why path is no directory (nor, with file_ok, a file) now, or NULL when it
 * is one (then in *sb). */
static const char *dir_gone(const char *path, int file_ok, struct stat *sb) {
  if (stat(path, sb) != 0) return strerror(errno);
  if (file_ok && S_ISREG(sb->st_mode)) return NULL;
  return S_ISDIR(sb->st_mode) ? NULL : "not a directory";
}

/* Whether sb is the directory seen last. */
static int same_dir(const dir_seen *d, const struct stat *sb) {
  return d->dev == sb->st_dev && d->ino == sb->st_ino;
}

/* Watches the directory at path with h as it is now, afresh (a watch on a
 * removed directory hears nothing more), and notes in d which directory that
 * is. Returns 0 or a libuv error. */
int vg_daemon_watch_dir(uv_fs_event_t *h, uv_fs_event_cb cb, const char *path, dir_seen *d) {
  struct stat sb;
  if (stat(path, &sb) != 0) return -errno; /* libuv's errors are -errno */
  uv_fs_event_stop(h);
  d->dev = sb.st_dev;
  d->ino = sb.st_ino;
  return uv_fs_event_start(h, cb, path, 0);
}

/* Looks again at the directory `what` watches (the spool, the rules) at
 * path (a file too, with file_ok): when it is gone, says so once, with what
 * goes on `meanwhile`; when it is back, or another took its place, watches
 * that one with rewatch(srv, ud), says so and what it does `then`, and
 * returns 1 (the caller then does it); 0 otherwise. */
int vg_daemon_dir_back(server *srv, const char *what, const char *path, dir_seen *d, int file_ok,
                       int (*rewatch)(server *, void *), void *ud, const char *meanwhile,
                       const char *then) {
  struct stat sb;
  const char *gone = dir_gone(path, file_ok, &sb);
  if (gone) {
    if (!d->lost)
      vg_warn("%s: %s is gone (%s); %s (looked for every %d s)", what, path, gone, meanwhile,
              DIR_CHECK_MS / 1000);
    d->lost = 1;
    return 0;
  }
  if (!d->lost && same_dir(d, &sb)) return 0;
  int rc = rewatch(srv, ud);
  if (rc) {
    if (!d->lost) vg_warn("%s: cannot watch %s: %s", what, path, uv_strerror(rc));
    d->lost = 1;
    return 0;
  }
  vg_info("%s: %s is there; watching it again%s", what, path, then);
  d->lost = 0;
  return 1;
}


static void on_dirs_timer(uv_timer_t *t) {
  vg_source_spool_check(t->data);
  vg_source_rules_check(t->data);
}


/* ---- signals, reload, stop ---- */

static void apply_overrides(vg_config *c, const overrides *o) {
  if (o->db) vg_config_set(&c->db, o->db);
  if (o->socket) vg_config_set(&c->socket, o->socket);
  if (o->listen) vg_config_set(&c->listen, o->listen);
  if (o->http_listen) vg_config_set(&c->http_listen, o->http_listen);
  if (o->spool) vg_config_set(&c->spool, o->spool);
  char err[256];
  for (size_t i = 0; i < o->nrules; i++) /* not empty: checked when the command line was read */
    if (vg_config_set_flag(c, "rules", o->rules[i], err, sizeof err)) vg_error("%s", err);
  if (o->log_level) vg_config_set(&c->log_level, o->log_level);
  if (o->format) vg_format_parse(o->format, &c->format);
  if (o->nats_url) vg_config_set(&c->nats_url, o->nats_url);
}

/* Reads the configuration again; the rules follow in a job of their own,
 * whose end tells the manager the reload is done (source_rules.c). */
static void reload(server *srv) {
  vg_notify_reloading(srv->notify);
  vg_config next;
  vg_config_defaults(&next);
  char err[4096];
  size_t formats = vg_tabular_mark(); /* the formats the file declares join the registry */
  if (srv->config_path && vg_config_load(&next, srv->config_path, err, sizeof err)) {
    vg_tabular_withdraw(formats);
    char *save = NULL;
    for (char *line = strtok_r(err, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
      vg_error("reload: %s", line);
    vg_error("reload: keeping the settings in force");
    vg_config_free(&next);
    vg_notify_reloaded(srv->notify);
    return;
  }
  apply_overrides(&next, &srv->flags);
  vg_config_resolve(&next);
  if (vg_config_check(&next, err, sizeof err)) {
    vg_tabular_withdraw(formats);
    vg_error("reload: %s; keeping the settings in force", err);
    vg_config_free(&next);
    vg_notify_reloaded(srv->notify);
    return;
  }
  vg_tabular_retain(next.formats); /* a format the file no longer declares goes */
  /* Digests keep their schedule until a restart: their jobs read them. */
  vg_digest_conf *keep = srv->cfg.digests;
  size_t nkeep = srv->cfg.ndigests;
  srv->cfg.digests = next.digests;
  srv->cfg.ndigests = next.ndigests;
  next.digests = keep;
  next.ndigests = nkeep;
  vg_feed_conf *kept_feeds = srv->cfg.feeds; /* the poller holds them: restart to change */
  size_t nkept = srv->cfg.nfeeds;
  srv->cfg.feeds = next.feeds;
  srv->cfg.nfeeds = next.nfeeds;
  next.feeds = kept_feeds;
  next.nfeeds = nkept;
  /* The JetStream source copied its settings when it started. */
  static const char *const fixed[] = {"db",          "socket",           "socket_group",
                                      "listen",      "http_listen",      "spool",
                                      "nats_url",    "nats_stream",      "nats_durable",
                                      "nats_filter", "nats_dead_letter", "nats_partition",
                                      "nats_partition_by"};
  const char *was[] = {srv->cfg.db,          srv->cfg.socket,           srv->cfg.socket_group,
                       srv->cfg.listen,      srv->cfg.http_listen,      srv->cfg.spool,
                       srv->cfg.nats_url,    srv->cfg.nats_stream,      srv->cfg.nats_durable,
                       srv->cfg.nats_filter, srv->cfg.nats_dead_letter, srv->cfg.nats_partition,
                       srv->cfg.nats_partition_by};
  char **now[] = {&next.db,          &next.socket,           &next.socket_group,
                  &next.listen,      &next.http_listen,      &next.spool,
                  &next.nats_url,    &next.nats_stream,      &next.nats_durable,
                  &next.nats_filter, &next.nats_dead_letter, &next.nats_partition,
                  &next.nats_partition_by};
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
    if (strcmp(was[i], *now[i]) != 0) {
      vg_warn("reload: '%s' changes only on restart; still %s", fixed[i],
              was[i][0] ? was[i] : "''");
      vg_config_set(now[i], was[i]);
    }
  size_t *nums_now[] = {&next.nats_batch, &next.nats_partitions};
  const size_t nums_was[] = {srv->cfg.nats_batch, srv->cfg.nats_partitions};
  static const char *const nums[] = {"nats_batch", "nats_partitions"};
  for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
    if (*nums_now[i] != nums_was[i]) {
      vg_warn("reload: '%s' changes only on restart; still %zu", nums[i], nums_was[i]);
      *nums_now[i] = nums_was[i];
    }
  vg_config_free(&srv->cfg);
  srv->cfg = next;
  vg_cli_log_setup(&srv->cfg);
  vg_info("reloaded configuration%s%s", srv->config_path ? " from " : "",
          srv->config_path ? srv->config_path : "");
  if (srv->have_tcp) vg_listen_token_load(srv, "reload: "); /* a new token for new connections */
  vg_api_reload(srv);
  vg_sinks_reopen(srv->sinks);
  vg_source_rules_rewatch(srv);
  srv->rules_dirty = 1;
  srv->reload_asked = 1; /* its job's end tells the manager the reload is done */
  vg_source_spool_scan(srv);
  vg_daemon_kick(srv);
}

static void close_if(uv_handle_t *h) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* Once stopping and idle: answer-less clients closed, listeners gone, the
 * loop's remaining handles closed so uv_run returns. */
void vg_daemon_maybe_finish(server *srv) {
  if (!srv->stopping || srv->job || srv->pending.n || srv->done) return;
  for (client *c = srv->clients, *next; c; c = next) {
    next = c->next;
    if (c->refused) vg_listen_client_close(c); /* answered already; no longer read */
    else if (!c->inflight) vg_listen_client_finish(c);
  }
  if (srv->clients) return; /* called again as each one closes */
  srv->done = 1;
  if (srv->unstored)
    vg_info("stopping: %llu lines received were not stored; their clients were told to send"
            " them again", (unsigned long long)srv->unstored);
  vg_sinks_close(srv->sinks); /* commands still running end before the loop does */
  srv->sinks = NULL;
  vg_source_outbox_stop(srv);
  close_if((uv_handle_t *)&srv->stop_timer);
  close_if((uv_handle_t *)&srv->rules_timer);
  close_if((uv_handle_t *)&srv->tick_timer);
  close_if((uv_handle_t *)&srv->batch_timer);
  close_if((uv_handle_t *)&srv->http_timer);
  close_if((uv_handle_t *)&srv->spool_timer);
  close_if((uv_handle_t *)&srv->dirs_timer);
  close_if((uv_handle_t *)&srv->sig_int);
  close_if((uv_handle_t *)&srv->sig_term);
  close_if((uv_handle_t *)&srv->sig_hup);
  vg_notify_close(srv->notify);
  srv->notify = NULL;
}

/* The grace period is over: clients that have not taken their replies are
 * cut off. Everything they sent is stored already. */
static void on_stop_timer(uv_timer_t *t) {
  server *srv = t->data;
  for (client *c = srv->clients; c; c = c->next)
    if (!c->closing && !c->inflight) {
      vg_warn("%s: still not reading its replies; closing it", c->name);
      vg_listen_client_close(c);
    }
}

static void begin_stop(server *srv, const char *why) {
  if (srv->stopping) {
    vg_info("%s: already stopping", why);
    return;
  }
  srv->stopping = 1;
  atomic_store(&srv->stop_now, 1);
  vg_notify_stopping(srv->notify);
  vg_info("%s: stopping after the entry in hand; %zu lines waiting are not stored", why,
          srv->pending.n);
  if (srv->have_unix) close_if((uv_handle_t *)&srv->unix_srv);
  if (srv->have_tcp) close_if((uv_handle_t *)&srv->tcp_srv);
  vg_api_stop(srv);
  if (srv->have_spool) close_if((uv_handle_t *)&srv->spool_watch);
  for (int i = 0; i < srv->nspool_subs; i++) close_if((uv_handle_t *)&srv->spool_subs[i]);
  vg_source_rules_stop(srv);
  vg_scheduler_stop(srv->scheduler);
  srv->scheduler = NULL;
  vg_feeds_stop(srv->feeds); /* a fetch in flight is cut; its feed is polled next time */
  srv->feeds = NULL;
  vg_source_nats_stop(srv); /* what it fetched and did not store comes again next time */
  uv_timer_stop(&srv->spool_timer);
  uv_timer_stop(&srv->rules_timer);
  uv_timer_stop(&srv->tick_timer);
  uv_timer_stop(&srv->dirs_timer);
  if (srv->socket_path) unlink(srv->socket_path);
  for (client *c = srv->clients; c; c = c->next) vg_listen_update_read(c);
  uv_timer_start(&srv->stop_timer, on_stop_timer, STOP_GRACE_MS, STOP_GRACE_MS);
  vg_daemon_kick(srv);
}

static void on_signal(uv_signal_t *h, int signum) {
  server *srv = h->data;
  if (signum == SIGHUP) reload(srv);
  else begin_stop(srv, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* ---- the command ---- */

static const char help[] =
    "usage: vigil run [--socket PATH] [--listen HOST:PORT] [--http-listen HOST:PORT]\n"
    "                 [--spool DIR] [--rules PATH]... [--feed URL]... [--nats URL]\n"
    "                 [--format auto|chrono|json|TABLE] [--log-level L]\n"
    "                 [--db PATH] [--config FILE]\n"
    "Runs the daemon in the foreground until SIGINT or SIGTERM: it stores what comes in,\n"
    "runs the rules, sends alerts to the sinks, polls feeds and writes scheduled digests.\n"
    "  --socket PATH       Unix socket for newline-delimited entries (default vigil.sock\n"
    "                      in state_dir, or beside the database: var/vigil.sock; '' for\n"
    "                      none). Each line is answered once stored: 'ok ID',\n"
    "                      'duplicate ID' or 'error line N: reason'.\n"
    "  --listen HOST:PORT  the same protocol over TCP (default: none). Off loopback it\n"
    "                      needs tcp_token (or tcp_token_file) in the configuration, and\n"
    "                      with a token a client sends 'auth TOKEN' first\n"
    "  --http-listen HOST:PORT  the HTTP API, live alerts, metrics and the dashboard\n"
    "                      (default 127.0.0.1:7434; '' for none). Off loopback it needs\n"
    "                      http_token_file, whose token writes bear\n"
    "  --spool DIR         files moved into DIR are ingested, then moved to DIR/done/, or to\n"
    "                      DIR/failed/ with a .err file saying why (default spool/ in\n"
    "                      state_dir, or beside the database: var/spool)\n"
    "  --rules PATH        a directory of rule files (*.lua) or one rule file;\n"
    "                      repeatable: all are loaded as one set, replacing the\n"
    "                      configured `rules` (default: the shipped rules). A path that\n"
    "                      does not exist stops the daemon before it starts\n"
    "  --log-level L       debug, info, notice, warn or error (default info)\n"
    "  --feed URL          poll this feed (RSS, Atom, JSON Lines or chronology over HTTP)\n"
    "                      every feed_interval seconds (default 300); repeatable\n"
    "  --nats URL          ingest the JetStream stream nats_stream (default VIGIL_ENTRIES)\n"
    "                      of the NATS server at URL (nats://HOST:PORT; several\n"
    "                      comma-separated) through the durable consumer nats_durable;\n"
    "                      each message is one line, acknowledged once stored. A server\n"
    "                      not up yet is waited for (default: nats_url, or none)\n"
    "SIGHUP reloads the configuration file and the rules, reopens the alert files and\n"
    "rescans the spool. Rule files are also reloaded when they change.\n"
    "-v logs the informational lines even when log_level is warn; -q errors only.\n"
    "The global options (vigil --help) apply too.\n";

static int init_signal(server *srv, uv_signal_t *s, int signum) {
  uv_signal_init(srv->loop, s);
  s->data = srv;
  return uv_signal_start(s, on_signal, signum);
}

int vg_cmd_run(int argc, char **argv) {
  static server srv_storage;
  server *srv = &srv_storage;
  srv->lock_fd = -1;
  if (vg_cli_setup(&srv->cfg, argc, argv)) return VG_EXIT_USAGE;
  srv->config_path = vg_cli_config_path(argc, argv);
  static const struct option opts[] = {
      {"socket", required_argument, NULL, 'S'}, {"listen", required_argument, NULL, 'L'},
      {"http-listen", required_argument, NULL, 'H'},
      {"spool", required_argument, NULL, 'P'}, {"rules", required_argument, NULL, 'R'},
      {"format", required_argument, NULL, 'f'},
      {"feed", required_argument, NULL, 'F'},
      {"nats", required_argument, NULL, 'N'},
      VG_CLI_GLOBAL_OPTIONS, {0}};
  int opt, status = VG_EXIT_OK;
  optind = 1;
  overrides *o = &srv->flags;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    switch (opt) {
    case 'D': o->db = optarg; break;
    case 'C': break;
    case 'q': case 'v': case 'j': case VG_OPT_LOG_LEVEL: vg_cli_global(&srv->cfg, opt, optarg); break;
    case 'S': o->socket = optarg; break;
    case 'L': o->listen = optarg; break;
    case 'H': o->http_listen = optarg; break;
    case 'P': o->spool = optarg; break;
    case 'R': {
      char **v = realloc(o->rules, (o->nrules + 1) * sizeof *v);
      if (!v) abort();
      o->rules = v;
      o->rules[o->nrules++] = optarg;
      if (!optarg[0]) {
        fprintf(stderr, "vigil run: --rules needs a path\n");
        status = VG_EXIT_USAGE;
        goto done;
      }
      break;
    }
    case 'f':
      if (vg_format_parse(optarg, &(vg_format){0})) {
        fprintf(stderr, "vigil run: --format must be auto, chrono, json or a table format\n");
        status = VG_EXIT_USAGE;
        goto done;
      }
      o->format = optarg;
      break;
    case 'F': {
      char **v = realloc(o->feeds, (o->nfeeds + 1) * sizeof *v);
      if (!v) abort();
      o->feeds = v;
      o->feeds[o->nfeeds++] = optarg;
      break;
    }
    case 'N': o->nats_url = optarg; break;
    case 'h': fputs(help, stdout); goto done;
    default: fputs(help, stderr); status = VG_EXIT_USAGE; goto done;
    }
  }
  if (optind < argc) {
    vg_cli_eprintf("vigil run: unexpected argument '%s'\n", argv[optind]);
    status = VG_EXIT_USAGE;
    goto done;
  }
  o->log_level = vg_cli.log_level ? vg_cli.log_level : vg_cli.quiet ? "error" : NULL;
  apply_overrides(&srv->cfg, o);
  for (size_t i = 0; i < o->nfeeds; i++) vg_config_add_feed(&srv->cfg, o->feeds[i], NULL, NULL, 0);
  vg_config_resolve(&srv->cfg); /* every layer is in: derive the paths */
  char err[512];
  if (vg_config_check(&srv->cfg, err, sizeof err)) {
    fprintf(stderr, "vigil run: %s\n", err);
    status = VG_EXIT_USAGE;
    goto done;
  }
  for (size_t i = 0; i < srv->cfg.nfeeds; i++)
    if (vg_feed_url_check(srv->cfg.feeds[i].url, err, sizeof err)) {
      fprintf(stderr, "vigil run: feeds: %s\n", err);
      status = VG_EXIT_USAGE;
      goto done;
    }
  vg_cli_log_setup(&srv->cfg);
  if (vg_cli_rules_paths("vigil run", &srv->cfg)) { /* not `ready` with rules missing */
    vg_error("not starting: a rules path is wrong (above)");
    status = VG_EXIT_USAGE;
    goto done;
  }
  signal(SIGPIPE, SIG_IGN);
  setenv("UV_THREADPOOL_SIZE", VG_API_THREADS, 0); /* before libuv's first queued work */
  if (srv->cfg.timezone[0]) { /* digests' schedules and periods are in this zone */
    setenv("TZ", srv->cfg.timezone, 1);
    tzset();
  }

  vg_make_dirs(srv->cfg.db, 0);
  if ((srv->lock_fd = vg_lock_db(srv->cfg.db, err, sizeof err)) < 0) {
    vg_error("%s", err);
    status = VG_EXIT_FAIL;
    goto done;
  }
  int sflags = strcmp(srv->cfg.durability, "normal") == 0 ? VG_STORE_SYNC_NORMAL : 0;
  if (!(srv->store = vg_store_open(srv->cfg.db, sflags, err, sizeof err))) {
    vg_error("%s", err);
    status = VG_EXIT_FAIL;
    goto done;
  }
  vg_store_busy_timeout(srv->store, srv->cfg.busy_timeout_ms);
  if (!(srv->indexer = vg_indexer_start(srv->cfg.db, err, sizeof err)))
    vg_warn("text index: %s; text searches index what they need", err);
  vg_store_on_commit(srv->store, srv->indexer ? vg_indexer_poke_fn : NULL, srv->indexer);
  vg_info("vigil %s: database %s (schema version %d)", VIGIL_VERSION, srv->cfg.db,
          vg_store_schema_version(srv->store));
  srv->loop = uv_default_loop();
  if (vg_metrics_init()) {
    vg_error("metrics: out of memory");
    vg_indexer_stop(srv->indexer);
    vg_store_close(srv->store);
    status = VG_EXIT_FAIL;
    goto done;
  }
  int rule_errors;
  srv->rules = vg_cli_load_rules(&srv->cfg, NULL, &rule_errors);
  if (!srv->rules || !(srv->sinks = vg_sinks_new(srv->loop, &srv->cfg, err, sizeof err))) {
    if (srv->rules) vg_error("%s", err);
    else vg_error("rules: cannot set up the rule engine");
    vg_rules_free(srv->rules);
    vg_indexer_stop(srv->indexer);
    vg_store_close(srv->store);
    status = VG_EXIT_FAIL;
    goto done;
  }
  vg_ingest ig = vg_daemon_ingest(srv);
  vg_batch_init(&srv->txn, &ig);
  srv->max_clients = vg_listen_client_cap();
  uv_timer_init(srv->loop, &srv->batch_timer);
  uv_timer_init(srv->loop, &srv->http_timer);
  uv_timer_init(srv->loop, &srv->spool_timer);
  uv_timer_init(srv->loop, &srv->stop_timer);
  uv_timer_init(srv->loop, &srv->rules_timer);
  uv_timer_init(srv->loop, &srv->tick_timer);
  uv_timer_init(srv->loop, &srv->dirs_timer);
  srv->batch_timer.data = srv->spool_timer.data = srv->stop_timer.data = srv;
  srv->http_timer.data = srv;
  srv->rules_timer.data = srv->tick_timer.data = srv->dirs_timer.data = srv;
  if (init_signal(srv, &srv->sig_int, SIGINT) || init_signal(srv, &srv->sig_term, SIGTERM) ||
      init_signal(srv, &srv->sig_hup, SIGHUP) || vg_listen_unix(srv) || vg_listen_tcp(srv) ||
      vg_api_start(srv) || vg_source_outbox_start(srv) || vg_source_feed_start(srv) ||
      vg_source_spool_start(srv) || vg_source_nats_start(srv)) {
    status = VG_EXIT_FAIL;
    srv->stopping = 1; /* close what was opened, then leave */
    vg_source_nats_stop(srv);
    if (srv->have_unix) close_if((uv_handle_t *)&srv->unix_srv);
    if (srv->have_tcp) close_if((uv_handle_t *)&srv->tcp_srv);
    vg_api_stop(srv);
    if (srv->have_spool) close_if((uv_handle_t *)&srv->spool_watch);
    for (int i = 0; i < srv->nspool_subs; i++) close_if((uv_handle_t *)&srv->spool_subs[i]);
    if (srv->socket_path) unlink(srv->socket_path);
    vg_daemon_maybe_finish(srv);
  } else {
    vg_api_rules_loaded(srv, srv->rules); /* no job runs yet */
    vg_source_rules_start(srv);
    uv_timer_start(&srv->dirs_timer, on_dirs_timer, DIR_CHECK_MS, DIR_CHECK_MS);
    srv->scheduler = vg_scheduler_start(srv->loop, &srv->cfg);
    srv->notify = vg_notify_start(srv->loop);
    count(srv);
    vg_notify_ready(srv->notify);
    vg_info("ready");
  }
  uv_run(srv->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(srv->loop) != 0) vg_warn("event loop closed with handles still open");
  vg_api_free(srv);
  vg_source_http_free();
  vg_source_outbox_finish(srv); /* no job runs: the results of the last deliveries */
  vg_source_nats_free(); /* its thread has ended: the loop waited for it */
  vg_indexer_stop(srv->indexer);
  vg_batch_free(&srv->txn); /* before its store */
  vg_store_close(srv->store);
  vg_rules_free(srv->rules);
  vg_alert_list_clear(&srv->committed);
  free(srv->committed.v);
  if (status == VG_EXIT_OK) vg_info("stopped cleanly");
  free(srv->spool.name); /* a file part-way through at the stop */
  for (size_t i = 0; i < srv->spool_n; i++) free(srv->spool_queue[i]);
  free(srv->spool_queue);
  free(srv->pending.v);
  free(srv->batch.v);
  free(srv->answering.v);
  free(srv->touched);
  free(srv->socket_path);
  for (size_t i = 0; i < srv->nfetched; i++) vg_fetch_free(srv->fetched[i]);
  free(srv->fetched);
done:
  vg_api_rules_free();
  vg_metrics_shutdown();
  memset(srv->tcp_token, 0, sizeof srv->tcp_token);
  if (srv->lock_fd >= 0) close(srv->lock_fd);
  free(o->feeds);
  free(o->rules);
  free_paths(srv->js.rules);
  vg_config_free(&srv->cfg);
  return status;
}

