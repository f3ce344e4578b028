/* cmd_digest.c — `vigil digest NAME`: one digest on demand; `--list`: the
 * configured digests with their schedules, last and next runs. */
#include "cli.h"
#include "cron.h"
#include "date.h"
#include "digest.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
    "usage: vigil digest NAME [--at DATE] [--out DIR] [--json] [--db PATH] [--config FILE]\n"
    "       vigil digest --list [--json]\n"
    "Writes digest NAME for the period that ends the day before DATE (default: today),\n"
    "in the formats it is configured with, into DIR (default: its configured `out`, or\n"
    "digests/ in state_dir, or beside the database: var/digests for var/vigil.db),\n"
    "and prints the files written. --list shows each digest's schedule, last and next run.\n"
    "  --json   one JSON object a line: for NAME, each file written {digest, file}; for\n"
    "           --list, each digest {digest, schedule, days, last_period, ran_at,\n"
    "           next_run (null when never), error (a schedule that does not parse)}\n";

/* Sets TZ to the configured zone, so local times are the digests' times. */
static void use_timezone(const vg_config *cfg) {
  if (cfg->timezone && cfg->timezone[0]) {
    setenv("TZ", cfg->timezone, 1);
    tzset();
  }
}

/* Each configured digest: its schedule, days, the last period written (and
 * when) and the next run; a table (its header bold on a terminal), or one
 * JSON object a digest. */
static int list(const vg_config *cfg) {
  vg_store *st = vg_cli_open_store("vigil digest", cfg, VG_STORE_READONLY);
  if (!st) return VG_EXIT_FAIL;
  time_t now = time(NULL);
  vg_table t;
  vg_table_init(&t, stdout, " ");
  static const size_t widths[] = {10, 16, 5, 24};
  for (int i = 0; i < 4; i++) vg_table_min(&t, i, widths[i]);
  if (!vg_cli.json) {
    static const char *const head[] = {"digest", "schedule", "days", "last period (ran at)",
                                       "next run"};
    for (int i = 0; i < 5; i++) vg_table_cell(&t, VG_STYLE_BOLD, "%s", head[i]);
    vg_table_row(&t);
  }
  for (size_t i = 0; i < cfg->ndigests; i++) {
    const vg_digest_conf *d = &cfg->digests[i];
    vg_cron c;
    char err[200], last[11] = "", ran[32] = "", next[40] = "never", seen[64] = "never";
    int good = vg_cron_parse(d->schedule, &c, err, sizeof err) == 0, has_next = 0;
    if (good) {
      time_t at = vg_cron_next(&c, now);
      struct tm tm;
      if (at != (time_t)-1 && localtime_r(&at, &tm))
        has_next = strftime(next, sizeof next, "%Y-%m-%d %H:%M %Z", &tm) > 0;
    } else {
      snprintf(next, sizeof next, "bad schedule");
    }
    int ran_before = vg_store_digest_last(st, d->name, last, ran) == 1;
    if (ran_before) snprintf(seen, sizeof seen, "%s (%s)", last, ran);
    if (vg_cli.json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "digest", d->name);
      cJSON_AddStringToObject(o, "schedule", d->schedule);
      cJSON_AddNumberToObject(o, "days", d->days);
      if (ran_before) cJSON_AddStringToObject(o, "last_period", last);
      else cJSON_AddNullToObject(o, "last_period");
      if (ran_before) cJSON_AddStringToObject(o, "ran_at", ran);
      else cJSON_AddNullToObject(o, "ran_at");
      if (has_next) cJSON_AddStringToObject(o, "next_run", next);
      else cJSON_AddNullToObject(o, "next_run");
      if (!good) cJSON_AddStringToObject(o, "error", err);
      vg_cli_json_line(o);
      continue;
    }
    vg_table_cell(&t, VG_STYLE_NONE, "%s", d->name);
    vg_table_cell(&t, VG_STYLE_NONE, "%s", d->schedule);
    vg_table_cell(&t, VG_STYLE_NONE, "%d", d->days);
    vg_table_cell(&t, ran_before ? VG_STYLE_NONE : VG_STYLE_DIM, "%s", seen);
    vg_table_cell(&t, good ? VG_STYLE_NONE : VG_STYLE_RED, "%s", next);
    vg_table_row(&t);
  }
  vg_table_free(&t);
  vg_store_close(st);
  return VG_EXIT_OK;
}

/* The files written (one path a line in `files`): as they are, or one JSON
 * object a file. */
static void print_files(const char *name, const char *files) {
  if (!vg_cli.json) {
    fputs(files, stdout);
    return;
  }
  for (const char *p = files; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    char *path = strndup(p, n);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "digest", name);
    if (path) cJSON_AddStringToObject(o, "file", path);
    vg_cli_json_line(o);
    free(path);
    p += n + (nl != NULL);
  }
}

int vg_cmd_digest(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {{"at", required_argument, NULL, 'a'},
                                       {"out", required_argument, NULL, 'o'},
                                       {"list", no_argument, NULL, 'l'},
                                       VG_CLI_GLOBAL_OPTIONS, {0}};
  const char *at = NULL, *out = NULL;
  int opt, status = VG_EXIT_OK, listing = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    switch (opt) {
    case 'a': at = optarg; break;
    case 'o': out = optarg; break;
    case 'l': listing = 1; break;
    case 'h': fputs(help, stdout); goto done;
    default: fputs(help, stderr); status = VG_EXIT_USAGE; goto done;
    }
  }
  vg_config_resolve(&cfg); /* every layer is in: derive the paths */
  use_timezone(&cfg);
  if (listing) {
    status = list(&cfg);
    goto done;
  }
  if (optind + 1 != argc) {
    fputs(help, stderr);
    status = VG_EXIT_USAGE;
    goto done;
  }
  const vg_digest_conf *d = vg_config_digest(&cfg, argv[optind]);
  if (!d) {
    fprintf(stderr, "vigil digest: no digest '%s' is configured (see vigil digest --list)\n",
            argv[optind]);
    status = VG_EXIT_USAGE;
    goto done;
  }
  int32_t day;
  if (at) {
    if (vg_cli_day("vigil digest", "--at", at, 0, &day)) {
      status = VG_EXIT_USAGE;
      goto done;
    }
  } else {
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    day = vg_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  }
  vg_store *st = vg_cli_open_store("vigil digest", &cfg, VG_STORE_READONLY);
  if (!st) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  char err[1024], *files = NULL;
  if (vg_digest_render(st, d, vg_digest_period_of_day(d, day), out, 0, &files, err, sizeof err)) {
    fprintf(stderr, "vigil digest: %s: %s\n", d->name, err);
    status = VG_EXIT_FAIL;
  } else {
    print_files(d->name, files);
  }
  free(files);
  vg_store_close(st);
done:
  vg_config_free(&cfg);
  return status;
}
