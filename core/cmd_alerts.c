/* cmd_alerts.c — `vigil alerts`: stored alerts in date order, as text or JSON. */
#include "cli.h"
#include "cli_merge.h"
#include "date.h"
#include "store.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil alerts [--since DATE] [--until DATE] [--rule R] [--state S] [--limit N] [--json]\n"
    "                    [--db PATH]... [--config FILE]\n"
    "Lists stored alerts by the event date of the entry that raised them, each\n"
    "with [entries ID,...]: the entries it concerns, which `vigil show ID,...` shows.\n"
    "  --json   one JSON object a line: id, rule, key, severity, message, date,\n"
    "           created_at, version (1, and one more each time it was amended),\n"
    "           entries (the ids of the entries it concerns), silenced (the id of\n"
    "           the silence that kept it from the sinks, or null), state (active,\n"
    "           silenced, or retracted, with the reason), the rule's file and its\n"
    "           hash (rule_file, rule_hash), cause (the entry whose arrival or change\n"
    "           wrote this version) and, for a threshold, count (its window's events)\n"
    "A silenced alert ends with [silenced by ID] (`vigil silence list --all`).\n"
    "  --state S  the alerts in force (the default: active and silenced), or only\n"
    "           active, silenced or retracted ones (taken back when what they rested\n"
    "           on was corrected or retracted: `vigil explain ID` says why), or all\n"
    "  --db PATH  again and again: the alerts of every database, merged in date\n"
    "           order (a day's alerts by the order of the --db, then by id), each\n"
    "           line led by its database; --json adds \"db\" (the path). --limit\n"
    "           counts the merged alerts. Ids are each database's own.\n";

/* Where the records go. */
typedef struct {
  vg_table *t;          /* the text output */
  const vg_config *cfg; /* for the databases' paths */
  size_t n;             /* databases: several name each record's */
} out;

/* [db]  date  severity  rule  message  [...]: aligned, the severity
 * coloured, on a terminal (term.h). */
static int print_text(void *ud, size_t db, const vg_alert_row *a) {
  const out *o = ud;
  vg_table *t = o->t;
  if (o->n > 1) vg_table_cell(t, VG_STYLE_DIM, "%s", vg_cli_store_path(o->cfg, db));
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
  if (a->retracted)
    vg_table_cell(t, VG_STYLE_DIM, "[retracted: %s]", a->retract_reason ? a->retract_reason : "");
  vg_table_row(t);
  return 0;
}

static int print_json(void *ud, size_t db, const vg_alert_row *a) {
  const out *o = ud;
  struct cJSON *j = vg_cli_alert_json(a);
  if (j && o->n > 1 && !cJSON_AddStringToObject(j, "db", vg_cli_store_path(o->cfg, db))) {
    cJSON_Delete(j);
    j = NULL;
  }
  return vg_cli_json_line(j);
}

int vg_cmd_alerts(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {
      VG_CLI_RANGE_OPTIONS, {"rule", required_argument, NULL, 'r'},
      {"state", required_argument, NULL, 'S'},
      VG_CLI_GLOBAL_OPTIONS, {0}};
  vg_alert_query q = {0};
  vg_cli_range rg = {0};
  int opt, status = VG_EXIT_OK;
  vg_cli.multi_db = 1;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    int range = vg_cli_range_opt("vigil alerts", &rg, opt, optarg);
    if (range < 0) goto usage;
    if (range) continue;
    switch (opt) {
    case 'r': q.rule = optarg; break;
    case 'S':
      if (vg_alert_state_parse(optarg, &q)) {
        vg_cli_eprintf("vigil alerts: --state must be active, silenced, retracted or all, not"
                       " '%s'\n", optarg);
        goto usage;
      }
      break;
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
  size_t n, failed;
  vg_store **sts = vg_cli_open_stores("vigil alerts", &cfg, VG_STORE_READONLY, &n);
  if (!sts) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  vg_table t;
  vg_table_init(&t, stdout, "  ");
  vg_table_min(&t, n > 1 ? 2 : 1, 4); /* the severity */
  out o = {&t, &cfg, n};
  int rc = vg_cli_merge_alerts(sts, n, &q, vg_cli.json ? print_json : print_text, &o, &failed);
  vg_table_free(&t);
  if (rc) {
    vg_cli_eprintf("vigil alerts: %s: %s\n", vg_cli_store_path(&cfg, failed),
                   rc == VG_EDB ? vg_store_errmsg(sts[failed]) : vg_strerror(rc));
    status = VG_EXIT_FAIL;
  }
  vg_cli_close_stores(sts, n);
  goto done;
usage:
  status = VG_EXIT_USAGE;
done:
  vg_config_free(&cfg);
  return status;
}
