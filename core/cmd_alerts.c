/* cmd_alerts.c — `vigil alerts`: stored alerts in date order, as text or JSON. */
#include "cli.h"
#include "date.h"
#include "store.h"
#include "term.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil alerts [--since DATE] [--until DATE] [--rule R] [--limit N] [--json]\n"
    "                    [--db PATH] [--config FILE]\n"
    "Lists stored alerts by the event date of the entry that raised them, each\n"
    "with [entries ID,...]: the entries it concerns, which `vigil show ID,...` shows.\n"
    "  --json   one JSON object a line: id, rule, key, severity, message, date,\n"
    "           created_at, version (1, and one more each time it was amended),\n"
    "           entries (the ids of the entries it concerns), silenced (the id of\n"
    "           the silence that kept it from the sinks, or null), state (active or\n"
    "           silenced) and, for a threshold, count (the events of its window)\n"
    "A silenced alert ends with [silenced by ID] (`vigil silence list --all`).\n";

/* date  severity  rule  message  [...]: aligned, the severity coloured, on
 * a terminal (term.h). */
static int print_text(void *ud, const vg_alert_row *a) {
  vg_table *t = ud;
  vg_table_cell(t, VG_STYLE_NONE, "%s", a->date);
  vg_table_cell(t, vg_term_severity(a->severity), "%s", a->severity);
  vg_table_cell(t, VG_STYLE_BOLD, "%s", a->rule);
  vg_table_cell(t, VG_STYLE_NONE, "%s", a->message);
  if (a->count >= 0)
    vg_table_cell(t, VG_STYLE_DIM, "[%lld events; entries %s]", a->count,
                  a->entries ? a->entries : "");
  else
    vg_table_cell(t, VG_STYLE_DIM, "[entries %s]", a->entries ? a->entries : "");
  if (a->silence_id) vg_table_cell(t, VG_STYLE_DIM, "[silenced by %lld]", (long long)a->silence_id);
  vg_table_row(t);
  return 0;
}

static int print_json(void *ud, const vg_alert_row *a) {
  (void)ud;
  return vg_cli_json_line(vg_cli_alert_json(a));
}

int vg_cmd_alerts(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {
      VG_CLI_RANGE_OPTIONS, {"rule", required_argument, NULL, 'r'},
      VG_CLI_GLOBAL_OPTIONS, {0}};
  vg_alert_query q = {0};
  vg_cli_range rg = {0};
  int opt, status = VG_EXIT_OK;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    int range = vg_cli_range_opt("vigil alerts", &rg, opt, optarg);
    if (range < 0) goto usage;
    if (range) continue;
    switch (opt) {
    case 'r': q.rule = optarg; break;
    case 'h': fputs(help, stdout); goto done;
    default: fputs(help, stderr); goto usage;
    }
  }
  vg_config_resolve(&cfg); /* every layer is in: derive the paths */
  if (optind < argc) {
    vg_cli_eprintf("vigil alerts: unexpected argument '%s'\n", argv[optind]);
    goto usage;
  }
  q.has_since = rg.has_since;
  q.since = rg.since;
  q.has_until = rg.has_until;
  q.until = rg.until;
  q.limit = rg.limit;
  vg_store *st = vg_cli_open_store("vigil alerts", &cfg, VG_STORE_READONLY);
  if (!st) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  vg_table t;
  vg_table_init(&t, stdout, "  ");
  vg_table_min(&t, 1, 4); /* the severity */
  int rc = vg_store_alerts(st, &q, vg_cli.json ? print_json : print_text, &t);
  vg_table_free(&t);
  if (rc) {
    fprintf(stderr, "vigil alerts: %s\n", rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
    status = VG_EXIT_FAIL;
  }
  vg_store_close(st);
  goto done;
usage:
  status = VG_EXIT_USAGE;
done:
  vg_config_free(&cfg);
  return status;
}
