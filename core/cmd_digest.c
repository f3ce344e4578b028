/* cmd_digest.c — `vigil digest NAME`: one digest on demand; `--list`: the
 * configured digests with their schedules, last and next runs. */
#include "cli.h"
#include "cron.h"
#include "date.h"
#include "digest.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
    "usage: vigil digest NAME [--at DATE] [--out DIR] [--db PATH] [--config FILE]\n"
    "       vigil digest --list\n"
    "Writes digest NAME for the period that ends the day before DATE (default: today),\n"
    "in the formats it is configured with, into DIR (default: its configured `out`, or\n"
    "digests/ in state_dir, or beside the database: var/digests for var/vigil.db),\n"
    "and prints the files written. --list shows each digest's schedule, last and next run.\n";

/* Sets TZ to the configured zone, so local times are the digests' times. */
static void use_timezone(const vg_config *cfg) {
  if (cfg->timezone && cfg->timezone[0]) {
    setenv("TZ", cfg->timezone, 1);
    tzset();
  }
}

static int list(const vg_config *cfg) {
  vg_store *st = vg_cli_open_store("vigil digest", cfg, VG_STORE_READONLY);
  if (!st) return VG_EXIT_FAIL;
  time_t now = time(NULL);
  printf("%-10s %-16s %-5s %-24s %s\n", "digest", "schedule", "days", "last period (ran at)",
         "next run");
  for (size_t i = 0; i < cfg->ndigests; i++) {
    const vg_digest_conf *d = &cfg->digests[i];
    vg_cron c;
    char err[200], last[11] = "", ran[32] = "", next[40] = "never", seen[64] = "never";
    if (vg_cron_parse(d->schedule, &c, err, sizeof err) == 0) {
      time_t t = vg_cron_next(&c, now);
      struct tm tm;
      if (t != (time_t)-1 && localtime_r(&t, &tm)) strftime(next, sizeof next, "%Y-%m-%d %H:%M %Z", &tm);
    } else {
      snprintf(next, sizeof next, "bad schedule");
    }
    if (vg_store_digest_last(st, d->name, last, ran) == 1) snprintf(seen, sizeof seen, "%s (%s)", last, ran);
    printf("%-10s %-16s %-5d %-24s %s\n", d->name, d->schedule, d->days, seen, next);
  }
  vg_store_close(st);
  return VG_EXIT_OK;
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
    fputs(files, stdout);
  }
  free(files);
  vg_store_close(st);
done:
  vg_config_free(&cfg);
  return status;
}
