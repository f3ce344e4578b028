/* cmd_feeds.c — `vigil poll URL...`: fetch feeds once and ingest their new
 * items, scheduling nothing; `vigil feeds`: the health of the configured
 * feeds (and with --all of every feed the database knows). */
#include "cli.h"
#include "feed_store.h"
#include "sinks.h"
#include "tabular.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char poll_help[] =
    "usage: vigil poll [--format auto|rss|atom|json|chrono|TABLE] [--source NAME]\n"
    "                  [--rules PATH... | --no-rules] [--skip-broken]\n"
    "                  [--follow-redirects same-host|any|none] [--json] [--db PATH]\n"
    "                  [--config FILE] URL...\n"
    "Fetches each feed once (RSS, Atom, JSON Lines or chronology lines over HTTP), stores\n"
    "its new items (each item once, across polls), runs the rules on them, and prints what\n"
    "became of each. Conditional requests use what the last poll saw. Redirects are\n"
    "followed to the feed's own host only, unless --follow-redirects (or follow_redirects\n"
    "in the configuration) says otherwise. A table format (acled, gdelt, or one the\n"
    "'formats' table declares) reads the body as CSV or TSV rows. With --format gdelt, a\n"
    "body that is GDELT's update listing (lastupdate.txt) is followed to the export\n"
    "archive it names, fetched, checked against the listed size and MD5 and ingested\n"
    "once (an archive ingested before is not fetched again); a zip body is unpacked.\n"
    "A rule file that does not load stops it before any fetch, unless --skip-broken runs\n"
    "the rules that loaded. --rules (repeatable, a directory or a file each) replaces the\n"
    "configured rules. A poll here schedules nothing: a URL the configuration does not\n"
    "list is not shown by `vigil feeds` (but by `vigil feeds --all`). Exit status 0 when\n"
    "every feed could be read, 1 when one could not, 2 when a URL is no http or https URL\n"
    "(nothing is polled then), 3 when the rules or the database failed.\n"
    "  --json   one JSON object a line: each feed {\"type\":\"feed\", url, status (stored,\n"
    "           not_modified or failed), error (when failed), stored, duplicates,\n"
    "           rejected, updated, unchanged, and for a listing archive (its name) and\n"
    "           archive_new (false: ingested before)}, then {\"type\":\"summary\", feeds,\n"
    "           failed, stored, duplicates, rejected}. Items refused are named in the log.\n";

/* The state of one `vigil poll` run. Each fetch is stored on a thread of
 * libuv's pool (storing may fetch again: a gdelt feed's archive), one at a
 * time, so that the loop goes on driving the other transfers. */
typedef struct {
  vg_store *st;
  vg_ingest ig;
  size_t max_archive; /* feed_max_archive */
  vg_sinks *sinks;
  vg_outbox *outbox; /* the deliveries this command wrote */
  vg_feeds *feeds;
  uv_loop_t *loop;
  vg_fetch **fetched; /* fetches waiting to be stored, oldest first */
  size_t nfetched;
  uv_work_t work;     /* the store of `storing`, when busy */
  vg_fetch *storing;
  vg_feed_result result;
  int stored_ok;      /* vg_feed_store returned 0 */
  int busy;
  size_t pending;  /* fetches not stored yet */
  int failed;
  size_t max_line;
  vg_counts total;  /* over every feed */
  size_t nfailed;   /* feeds that could not be read */
} poll_run;

/* One feed's outcome as a JSON object: status "stored", "not_modified" or
 * "failed" (with error), and its counts. */
static void poll_json(const char *url, const char *status, const char *error,
                      const vg_feed_result *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "feed");
  cJSON_AddStringToObject(o, "url", url);
  cJSON_AddStringToObject(o, "status", status);
  if (error) cJSON_AddStringToObject(o, "error", error);
  cJSON_AddNumberToObject(o, "stored", (double)r->counts.stored);
  cJSON_AddNumberToObject(o, "duplicates", (double)r->counts.duplicates);
  cJSON_AddNumberToObject(o, "rejected", (double)r->counts.rejected);
  cJSON_AddNumberToObject(o, "updated", (double)r->items.updated);
  cJSON_AddNumberToObject(o, "unchanged", (double)r->items.unchanged);
  if (r->archive[0]) {
    cJSON_AddStringToObject(o, "archive", r->archive);
    cJSON_AddBoolToObject(o, "archive_new", r->archive_new);
  }
  vg_cli_json_line(o);
}

/* Says what became of fetch x (result r, stored or not) and sends the
 * alerts it raised. On the loop thread. */
static void report(poll_run *p, const vg_fetch *x, vg_feed_result *r, int stored) {
  if (!stored) memset(&r->counts, 0, sizeof r->counts); /* rolled back: none of them counts */
  if (!stored || !r->ok) {
    p->failed = 1;
    p->nfailed++;
  } else {
    p->total.stored += r->counts.stored;
    p->total.duplicates += r->counts.duplicates;
    p->total.rejected += r->counts.rejected;
  }
  if (vg_cli.json) {
    const char *status = !stored || !r->ok ? "failed" : x->status == 304 ? "not_modified" : "stored";
    poll_json(x->feed->url, status, stored && r->ok ? NULL : r->error, r);
  } else if (!stored) {
    vg_cli_printf("%s: %s\n", x->feed->url, r->error);
  } else if (!r->ok) {
    vg_cli_printf("%s: failed: %s\n", x->feed->url, r->error);
  } else if (x->status == 304) {
    vg_cli_printf("%s: not modified\n", x->feed->url);
  } else if (r->archive[0] && !r->archive_new) {
    vg_cli_printf("%s: archive %s ingested before; nothing fetched\n", x->feed->url, r->archive);
  } else if (r->archive[0]) {
    vg_cli_printf("%s: archive %s: %llu stored, %llu duplicates, %llu rejected\n", x->feed->url,
                  r->archive, (unsigned long long)r->counts.stored,
                  (unsigned long long)r->counts.duplicates, (unsigned long long)r->counts.rejected);
  } else {
    vg_cli_printf("%s: %llu stored, %llu duplicates, %llu rejected, %llu updated, %llu unchanged\n",
                  x->feed->url, (unsigned long long)r->counts.stored,
                  (unsigned long long)r->counts.duplicates, (unsigned long long)r->counts.rejected,
                  (unsigned long long)r->items.updated, (unsigned long long)r->items.unchanged);
  }
  vg_sinks_send_all(p->sinks, p->ig.alerts);
  vg_sinks_pump(p->sinks, p->outbox, p->st);
}

static void store_next(poll_run *p);

/* On a thread of the pool: the store is this job's alone while it runs. */
static void on_store(uv_work_t *w) {
  poll_run *p = w->data;
  p->stored_ok =
      vg_feed_store(&p->ig, p->storing, p->max_line, p->max_archive, 0, &p->result) == 0;
}

static void on_stored(uv_work_t *w, int status) {
  (void)status;
  poll_run *p = w->data;
  report(p, p->storing, &p->result, p->stored_ok);
  vg_fetch_free(p->storing);
  p->storing = NULL;
  p->busy = 0;
  if (--p->pending == 0) vg_feeds_stop(p->feeds);
  else store_next(p);
}

/* Starts storing the oldest fetch waiting, unless one is being stored. */
static void store_next(poll_run *p) {
  if (p->busy || !p->nfetched) return;
  p->storing = p->fetched[0];
  memmove(p->fetched, p->fetched + 1, --p->nfetched * sizeof *p->fetched);
  p->busy = 1;
  p->work.data = p;
  if (uv_queue_work(p->loop, &p->work, on_store, on_stored) != 0) {
    on_store(&p->work); /* no pool: here, then */
    on_stored(&p->work, 0);
  }
}

static void on_fetch(void *ud, vg_fetch *x) {
  poll_run *p = ud;
  /* Room for every feed was made before the poll began. */
  p->fetched[p->nfetched++] = x;
  store_next(p);
}

int vg_cmd_poll(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {"source", required_argument, NULL, 's'},
                                       VG_CLI_RULES_OPTION,
                                       {"no-rules", no_argument, NULL, 'n'},
                                       {"follow-redirects", required_argument, NULL, 'L'},
                                       VG_CLI_SKIP_BROKEN_OPTION,
                                       VG_CLI_GLOBAL_OPTIONS, {0}};
  const char *format = "auto", *source = NULL;
  int opt, status = VG_EXIT_OK, no_rules = 0, skip_broken = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    switch (opt) {
    case 'f': {
      vg_feed_format f;
      if (vg_feed_format_parse(optarg, &f) && !vg_tabular_find(optarg)) {
        fprintf(stderr, "vigil poll: --format must be auto, rss, atom, json, chrono or a table "
                        "format (acled, gdelt, or one the 'formats' table declares)\n");
        status = VG_EXIT_USAGE;
        goto done;
      }
      format = optarg;
      break;
    }
    case 's': source = optarg; break;
    case 'L':
      if (vg_redirects_parse(optarg, &cfg.follow_redirects)) {
        fprintf(stderr, "vigil poll: --follow-redirects must be same-host, any or none\n");
        status = VG_EXIT_USAGE;
        goto done;
      }
      break;
    case 'r': vg_cli_flag("vigil poll", &cfg, "rules", optarg); break;
    case 'n': no_rules = 1; break;
    case 'B': skip_broken = 1; break;
    case 'h': fputs(poll_help, stdout); goto done;
    default: fputs(poll_help, stderr); status = VG_EXIT_USAGE; goto done;
    }
  }
  vg_config_resolve(&cfg); /* every layer is in: derive the paths */
  if (optind >= argc) {
    fputs(poll_help, stderr);
    status = VG_EXIT_USAGE;
    goto done;
  }
  /* A URL that cannot be polled stops it before anything is touched. */
  for (int i = optind; i < argc; i++) {
    char why[300];
    if (vg_feed_url_check(argv[i], why, sizeof why)) {
      fprintf(stderr, "vigil poll: %s; nothing polled\n", why);
      status = VG_EXIT_USAGE;
      goto done;
    }
  }
  /* The URLs given replace the configured feeds. */
  vg_config only = {0};
  only.feed_interval = cfg.feed_interval;
  only.follow_redirects = cfg.follow_redirects;
  for (int i = optind; i < argc; i++) vg_config_add_feed(&only, argv[i], source, format, 0);
  poll_run p = {0};
  p.max_line = cfg.max_line;
  p.max_archive = cfg.feed_max_archive;
  vg_alert_list alerts = {0};
  uv_loop_t loop;
  uv_loop_init(&loop);
  char err[512];
  vg_rules *rules = NULL;
  /* The rules first: broken ones stop the command before the database is touched. */
  if ((!no_rules && !(rules = vg_cli_command_rules("vigil poll", &cfg, skip_broken))) ||
      !(p.st = vg_cli_open_store("vigil poll", &cfg, 0)) ||
      !(p.sinks = vg_sinks_new(&loop, &cfg, err, sizeof err)) ||
      !(p.outbox = vg_sinks_outbox(p.sinks, p.st, 1))) {
    if (p.st) fprintf(stderr, "vigil poll: %s\n", p.sinks ? "out of memory" : err);
    status = VG_EXIT_FAIL;
  } else {
    p.ig = (vg_ingest){p.st, rules, &alerts, NULL, p.outbox};
    p.pending = only.nfeeds;
    p.loop = &loop;
    p.fetched = calloc(only.nfeeds, sizeof *p.fetched);
    p.feeds = p.fetched ? vg_feeds_start(&loop, only.feeds, only.nfeeds, cfg.feed_max_body, 1,
                                         on_fetch, &p)
                        : NULL;
    if (!p.feeds) {
      fprintf(stderr, "vigil poll: cannot set up HTTP\n");
      status = VG_EXIT_FAIL;
    } else {
      for (size_t i = 0; i < only.nfeeds; i++) {
        char *etag, *modified;
        int failures;
        if (vg_store_feed_get(p.st, only.feeds[i].url, &etag, &modified, &failures) == 1)
          vg_feeds_restore(p.feeds, &only.feeds[i], etag, modified, failures);
        free(etag);
        free(modified);
      }
      uv_run(&loop, UV_RUN_DEFAULT);
      if (p.failed) status = VG_EXIT_REJECTS;
      if (vg_cli.json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "summary");
        cJSON_AddNumberToObject(o, "feeds", (double)only.nfeeds);
        cJSON_AddNumberToObject(o, "failed", (double)p.nfailed);
        cJSON_AddNumberToObject(o, "stored", (double)p.total.stored);
        cJSON_AddNumberToObject(o, "duplicates", (double)p.total.duplicates);
        cJSON_AddNumberToObject(o, "rejected", (double)p.total.rejected);
        vg_cli_json_line(o);
      }
    }
    vg_sinks_drain(p.sinks, p.outbox, p.st, &loop); /* what failed is the daemon's then */
  }
  vg_sinks_close(p.sinks);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  vg_outbox_free(p.outbox);
  free(p.fetched);
  vg_rules_free(rules);
  vg_alert_list_clear(&alerts);
  free(alerts.v);
  vg_store_close(p.st);
  vg_config_free(&only); /* its feeds alone */
done:
  vg_config_free(&cfg);
  return status;
}

/* Adds s to o under key, or null when there is none. */
static void add_text(cJSON *o, const char *key, const char *s) {
  if (s) cJSON_AddStringToObject(o, key, s);
  else cJSON_AddNullToObject(o, key);
}

cJSON *vg_cli_feed_json(const vg_feed_row *f, int scheduled) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "url", f->url);
  cJSON_AddStringToObject(o, "source", f->source);
  cJSON_AddBoolToObject(o, "scheduled", scheduled);
  cJSON_AddNumberToObject(o, "polls", (double)f->polls);
  cJSON_AddNumberToObject(o, "items", (double)f->items_seen);
  add_text(o, "last_success", f->last_success);
  add_text(o, "next_poll", scheduled ? f->next_poll : NULL);
  cJSON_AddNumberToObject(o, "failures", f->failures);
  add_text(o, "last_error", f->last_error);
  add_text(o, "last_error_at", f->last_error_at);
  if (f->last_archive) cJSON_AddStringToObject(o, "last_archive", f->last_archive);
  return o;
}

/* What vg_cli_feeds walks: the configured feeds, and with `all` every
 * other feed the database knows. */
typedef struct {
  const vg_feed_conf *feeds;
  size_t nfeeds;
  int all;
  char *shown;  /* per configured feed: listed already */
  vg_cli_feed_fn fn;
  void *ud;
} feeds_walk;

/* The index of url among the configured feeds, or -1. */
static long configured(const feeds_walk *w, const char *url) {
  for (size_t i = 0; i < w->nfeeds; i++)
    if (strcmp(w->feeds[i].url, url) == 0) return (long)i;
  return -1;
}

static int walk_feed(void *ud, const vg_feed_row *f) {
  feeds_walk *w = ud;
  long i = configured(w, f->url);
  if (i < 0 && !w->all) return 0;
  if (i >= 0) w->shown[i] = 1;
  return w->fn(w->ud, f, i >= 0);
}

int vg_cli_feeds(vg_store *st, const vg_feed_conf *feeds, size_t nfeeds, int all,
                 vg_cli_feed_fn fn, void *ud) {
  feeds_walk w = {feeds, nfeeds, all, calloc(nfeeds + 1, 1), fn, ud};
  if (!w.shown) return VG_ENOMEM;
  int rc = vg_store_feeds(st, walk_feed, &w);
  for (size_t i = 0; i < nfeeds && rc == 0; i++)
    if (!w.shown[i]) { /* configured, never polled */
      vg_feed_row never = {.url = feeds[i].url, .source = feeds[i].source};
      rc = fn(ud, &never, 1);
    }
  free(w.shown);
  return rc;
}

/* On a terminal, one row a feed under a header, its state coloured. */
static void print_feed_row(vg_table *t, const vg_feed_row *f, int scheduled) {
  vg_table_cell(t, VG_STYLE_NONE, "%s", f->url);
  vg_table_cell(t, VG_STYLE_DIM, "%s", f->source);
  vg_table_cell(t, VG_STYLE_NONE, "%lld", f->polls);
  vg_table_cell(t, VG_STYLE_NONE, "%lld", f->items_seen);
  if (f->last_archive)
    vg_table_cell(t, VG_STYLE_NONE, "%s (%s)", f->last_success ? f->last_success : "never",
                  f->last_archive);
  else
    vg_table_cell(t, VG_STYLE_NONE, "%s", f->last_success ? f->last_success : "never");
  if (!scheduled) vg_table_cell(t, VG_STYLE_DIM, "not scheduled");
  else vg_table_cell(t, VG_STYLE_NONE, "%s", f->next_poll ? f->next_poll : "at start");
  if (f->last_error)
    vg_table_cell(t, VG_STYLE_RED, "failing (%d in a row): %s", f->failures, f->last_error);
  else
    vg_table_cell(t, VG_STYLE_GREEN, "%s", f->polls ? "ok" : "-");
  vg_table_row(t);
}

/* The plain lines scripts read. */
static void print_feed_lines(const vg_feed_row *f, int scheduled) {
  vg_cli_printf("%s\n", f->url);
  if (!f->polls && !f->last_success && !f->last_error) {
    vg_cli_printf("  source %s; never polled; next poll when the daemon starts\n", f->source);
    return;
  }
  vg_cli_printf("  source %s; %lld polls, %lld items; last success %s; ", f->source, f->polls,
                f->items_seen, f->last_success ? f->last_success : "never");
  if (!scheduled) vg_cli_printf("not scheduled: not a configured feed\n");
  else vg_cli_printf("next poll %s\n", f->next_poll ? f->next_poll : "when the daemon starts");
  if (f->last_archive) vg_cli_printf("  last archive %s\n", f->last_archive);
  if (f->last_error)
    vg_cli_printf("  failing: %d in a row; last error at %s: %s\n", f->failures,
                  f->last_error_at ? f->last_error_at : "?", f->last_error);
}

static int print_feed(void *ud, const vg_feed_row *f, int scheduled) {
  vg_table *t = ud;
  if (vg_cli.json) return vg_cli_json_line(vg_cli_feed_json(f, scheduled));
  if (t->layout) print_feed_row(t, f, scheduled);
  else print_feed_lines(f, scheduled);
  return 0;
}

int vg_cmd_feeds(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, VG_CLI_GLOBAL_OPTIONS, {0}};
  int opt, status = VG_EXIT_OK, all = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    if (opt == 'a') {
      all = 1;
      continue;
    }
    if (opt == 'h') {
      puts("usage: vigil feeds [--all] [--json] [--db PATH] [--config FILE]\n"
           "The health of every configured feed (those `vigil run` polls): last success,\n"
           "last error, failures in a row, items seen, next poll; on a terminal, one row a\n"
           "feed. --all adds every other feed the database knows (polled once with\n"
           "`vigil poll`, or no longer configured), shown as not scheduled.\n"
           "  --json   one JSON object a feed: url, source, scheduled (true or false), polls,\n"
           "           items, last_success, next_poll, failures (in a row), last_error,\n"
           "           last_error_at (null when there is none), and for a feed that\n"
           "           follows GDELT's update listing last_archive (the archive ingested\n"
           "           last)");
      goto done;
    }
    status = VG_EXIT_USAGE;
    goto done;
  }
  vg_config_resolve(&cfg); /* every layer is in: derive the paths */
  vg_store *st = vg_cli_open_store("vigil feeds", &cfg, VG_STORE_READONLY);
  if (!st) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  vg_table t;
  vg_table_init(&t, stdout, "  ");
  if (!vg_cli.json && t.layout) {
    static const char *const head[] = {"feed", "source", "polls", "items", "last success",
                                       "next poll", "state"};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++)
      vg_table_cell(&t, VG_STYLE_BOLD, "%s", head[i]);
    vg_table_row(&t);
  }
  int rc = vg_cli_feeds(st, cfg.feeds, cfg.nfeeds, all, print_feed, &t);
  if (rc) {
    fprintf(stderr, "vigil feeds: %s\n", rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
    status = VG_EXIT_FAIL;
  }
  vg_table_free(&t);
  vg_store_close(st);
done:
  vg_config_free(&cfg);
  return status;
}
