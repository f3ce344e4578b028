/* cmd_feeds.c — `vigil poll URL...`: fetch feeds once and ingest their new
 * items; `vigil feeds`: the health of the feeds polled so far. */
#include "cli.h"
#include "feed_store.h"
#include "sinks.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char poll_help[] =
    "usage: vigil poll [--format auto|rss|atom|json|chrono] [--source NAME] [--rules PATH... |\n"
    "                  --no-rules] [--skip-broken] [--follow-redirects same-host|any|none]\n"
    "                  [--db PATH] [--config FILE] URL...\n"
    "Fetches each feed once (RSS, Atom, JSON Lines or chronology lines over HTTP), stores\n"
    "its new items (each item once, across polls), runs the rules on them, and prints what\n"
    "became of each. Conditional requests use what the last poll saw. Redirects are\n"
    "followed to the feed's own host only, unless --follow-redirects (or follow_redirects\n"
    "in the configuration) says otherwise. A rule file that does not load stops it before\n"
    "any fetch, unless --skip-broken runs the rules that loaded. --rules (repeatable, a\n"
    "directory or a file each) replaces the configured rules. Exit status 0 when every\n"
    "feed could be read, 1 when one could not, 3 when the rules or the database failed.\n";

/* The state of one `vigil poll` run. */
typedef struct {
  vg_store *st;
  vg_ingest ig;
  vg_sinks *sinks;
  vg_feeds *feeds;
  size_t pending;  /* fetches not back yet */
  int failed;
  size_t max_line;
} poll_run;

static void on_fetch(void *ud, vg_fetch *x) {
  poll_run *p = ud;
  vg_feed_result r;
  if (vg_feed_store(&p->ig, x, p->max_line, &r)) {
    vg_cli_printf("%s: %s\n", x->feed->url, r.error);
    p->failed = 1;
  } else if (!r.ok) {
    vg_cli_printf("%s: failed: %s\n", x->feed->url, r.error);
    p->failed = 1;
  } else if (x->status == 304) {
    vg_cli_printf("%s: not modified\n", x->feed->url);
  } else {
    vg_cli_printf("%s: %llu stored, %llu duplicates, %llu rejected, %llu updated, %llu unchanged\n",
                  x->feed->url, (unsigned long long)r.counts.stored,
                  (unsigned long long)r.counts.duplicates, (unsigned long long)r.counts.rejected,
                  (unsigned long long)r.items.updated, (unsigned long long)r.items.unchanged);
  }
  vg_sinks_send_all(p->sinks, p->ig.alerts);
  vg_fetch_free(x);
  if (--p->pending == 0) vg_feeds_stop(p->feeds);
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
      if (vg_feed_format_parse(optarg, &f)) {
        fprintf(stderr, "vigil poll: --format must be auto, rss, atom, json or chrono\n");
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
  if (optind >= argc) {
    fputs(poll_help, stderr);
    status = VG_EXIT_USAGE;
    goto done;
  }
  /* The URLs given replace the configured feeds. */
  vg_config only = {0};
  only.feed_interval = cfg.feed_interval;
  only.follow_redirects = cfg.follow_redirects;
  for (int i = optind; i < argc; i++) vg_config_add_feed(&only, argv[i], source, format, 0);
  poll_run p = {0};
  p.max_line = cfg.max_line;
  vg_alert_list alerts = {0};
  uv_loop_t loop;
  uv_loop_init(&loop);
  char err[512];
  vg_rules *rules = NULL;
  /* The rules first: broken ones stop the command before the database is touched. */
  if ((!no_rules && !(rules = vg_cli_command_rules("vigil poll", &cfg, skip_broken))) ||
      !(p.st = vg_cli_open_store("vigil poll", &cfg, 0)) ||
      !(p.sinks = vg_sinks_new(&loop, &cfg, err, sizeof err))) {
    if (p.st) fprintf(stderr, "vigil poll: %s\n", err);
    status = VG_EXIT_FAIL;
  } else {
    p.ig = (vg_ingest){p.st, rules, &alerts, NULL};
    p.pending = only.nfeeds;
    p.feeds = vg_feeds_start(&loop, only.feeds, only.nfeeds, cfg.feed_max_body, 1, on_fetch, &p);
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
    }
  }
  vg_sinks_close(p.sinks);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  vg_rules_free(rules);
  vg_alert_list_clear(&alerts);
  free(alerts.v);
  vg_store_close(p.st);
  for (size_t i = 0; i < only.nfeeds; i++) {
    free(only.feeds[i].url);
    free(only.feeds[i].source);
    free(only.feeds[i].format);
  }
  free(only.feeds);
done:
  vg_config_free(&cfg);
  return status;
}

static int print_feed(void *ud, const vg_feed_row *f) {
  (void)ud;
  vg_cli_printf("%s\n", f->url);
  vg_cli_printf("  source %s; %lld polls, %lld items; last success %s; next poll %s\n", f->source,
                f->polls, f->items_seen, f->last_success ? f->last_success : "never",
                f->next_poll ? f->next_poll : "-");
  if (f->last_error)
    vg_cli_printf("  failing: %d in a row; last error at %s: %s\n", f->failures,
                  f->last_error_at ? f->last_error_at : "?", f->last_error);
  return 0;
}

int vg_cmd_feeds(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {VG_CLI_GLOBAL_OPTIONS, {0}};
  int opt, status = VG_EXIT_OK;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    if (opt == 'h') {
      puts("usage: vigil feeds [--db PATH] [--config FILE]\n"
           "The health of every feed polled: last success, last error, failures in a row,\n"
           "items seen, next poll.");
      goto done;
    }
    status = VG_EXIT_USAGE;
    goto done;
  }
  vg_store *st = vg_cli_open_store("vigil feeds", &cfg, VG_STORE_READONLY);
  if (!st) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  if (vg_store_feeds(st, print_feed, NULL)) {
    fprintf(stderr, "vigil feeds: %s\n", vg_store_errmsg(st));
    status = VG_EXIT_FAIL;
  }
  vg_store_close(st);
done:
  vg_config_free(&cfg);
  return status;
}
