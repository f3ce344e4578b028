/* cmd_correct.c — `vigil amend ID` and `vigil retract ID`: a correction or
 * a retraction of a stored entry, made by hand. Each is written as the JSON
 * record a source would send ({"amends": ID, ...} or {"retracts": ID, ...})
 * and goes through ingestion like one, in a transaction of its own: the
 * entry changes, what rested on it is worked out again (correct.h), and the
 * alerts that change reach the sinks as amendments and retractions. */
#include "batch.h"
#include "cli.h"
#include "correct.h"
#include "ingest.h"
#include "interrupt.h"
#include "sinks.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char amend_help[] =
    "usage: vigil amend ID [--date DATE] [--text TEXT] [--source SOURCE] [--field NAME=VALUE]...\n"
    "                      [--reason TEXT] [--json]\n"
    "Corrects stored entry ID: what is given replaces what it says, the rest stays.\n"
    "Its old version stays readable (vigil show ID --history). Its tags are made\n"
    "again, and every alert that rested on it is worked out again: amended,\n"
    "raised, or retracted (kept, with the reason); the sinks get each change.\n"
    "  --date DATE          the corrected date (any form a chronology line takes)\n"
    "  --text TEXT          the corrected text\n"
    "  --source SOURCE      the corrected source\n"
    "  --field NAME=VALUE   a field of the entry, as text (again for more)\n"
    "  --reason TEXT        why, kept with the old version\n"
    "Prints the alerts that changed. Exit status 0; 1 when there is no such entry,\n"
    "it is retracted, or the correction would make it say what another entry says;\n"
    "3 when the database or the rules cannot be used.\n";

static const char retract_help[] =
    "usage: vigil retract ID --reason TEXT [--json]\n"
    "Retracts stored entry ID: its source withdrew it. It stays in the store\n"
    "(vigil show ID), out of consideration: its tags and marks go, and every\n"
    "alert that rested on it is worked out again; one nothing holds up any more\n"
    "is retracted with the reason, one that now holds (an absence whose answer\n"
    "was retracted) is raised. The sinks get each change.\n"
    "Prints the alerts that changed. Exit status 0; 1 when there is no such entry;\n"
    "3 when the database or the rules cannot be used.\n";

/* Says what the correction did, and each alert it changed. */
static void report(const char *cmd, int64_t id, const vg_result *res, const vg_alert_list *a) {
  const char *what = res->status == VG_CORRECTION   ? "corrected"
                     : res->status == VG_RETRACTION ? "retracted"
                                                    : "unchanged";
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "entry", (double)id);
    cJSON_AddStringToObject(o, "status", what);
    cJSON *v = cJSON_AddArrayToObject(o, "alerts");
    for (size_t i = 0; i < a->n; i++) {
      const vg_alert *x = &a->v[i];
      cJSON *j = cJSON_CreateObject();
      cJSON_AddNumberToObject(j, "id", (double)x->id);
      cJSON_AddStringToObject(j, "rule", x->rule);
      cJSON_AddStringToObject(j, "change", x->retracted      ? "retracted"
                                           : x->version > 1 ? "amended"
                                                            : "raised");
      cJSON_AddNumberToObject(j, "version", x->version);
      cJSON_AddStringToObject(j, "date", x->date);
      cJSON_AddStringToObject(j, "message", x->message);
      if (x->retracted) cJSON_AddStringToObject(j, "reason", x->reason ? x->reason : "");
      cJSON_AddItemToArray(v, j);
    }
    vg_cli_json_line(o);
    return;
  }
  (void)cmd;
  if (vg_cli.quiet) return;
  printf("entry %lld %s; %zu alert%s changed\n", (long long)id, what, a->n, a->n == 1 ? "" : "s");
  for (size_t i = 0; i < a->n; i++) {
    const vg_alert *x = &a->v[i];
    printf("  alert %lld %s (version %d) %s %s: %s\n", (long long)x->id,
           x->retracted ? "retracted" : x->version > 1 ? "amended" : "raised", x->version,
           x->rule, x->date, x->message);
  }
}

/* Runs the record through ingestion with the configured rules and sinks. */
static int apply(const char *cmd, vg_config *cfg, int64_t id, const char *record) {
  int status = VG_EXIT_OK;
  vg_rules *rules = vg_cli_command_rules(cmd, cfg, 0);
  if (!rules) return VG_EXIT_FAIL;
  vg_store *st = vg_cli_open_store(cmd, cfg, 0);
  if (!st) {
    vg_rules_free(rules);
    return VG_EXIT_FAIL;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  char err[512];
  vg_alert_list alerts = {0};
  vg_sinks *sinks = vg_sinks_new(&loop, cfg, err, sizeof err);
  vg_outbox *outbox = sinks ? vg_sinks_outbox(sinks, st, 1) : NULL;
  if (!sinks || !outbox) {
    fprintf(stderr, "%s: %s\n", cmd, sinks ? "out of memory" : err);
    status = VG_EXIT_FAIL;
  }
  vg_batch b;
  vg_batch_init(&b, &(vg_ingest){st, rules, &alerts, vg_interrupt_catch(), outbox});
  vg_result res = {0};
  if (status == VG_EXIT_OK) {
    vg_line line = {record, strlen(record), strlen(record), 1, 0, VG_FORMAT_JSON, "cli",
                    cfg->max_line, "cli", NULL};
    int rc = vg_batch_begin(&b);
    if (rc == 0) rc = vg_ingest_line(&b.ig, &line, &res, NULL);
    if (rc == 0 && res.status == VG_REJECTED) rc = VG_EINVAL;
    if ((rc = vg_batch_end(&b, rc, NULL, NULL))) {
      if (rc == VG_EINVAL) {
        /* The reason reads "amends 7: there is no entry 7": the id is said. */
        const char *why = strchr(res.reason, ':');
        vg_cli_eprintf("%s: entry %lld: %s\n", cmd, (long long)id, why ? why + 2 : res.reason);
      } else {
        vg_cli_eprintf("%s: %s\n", cmd, b.err);
      }
      /* Refused: no such entry (as `vigil show` says of one), or a
       * correction rejected, as a rejected line is. */
      status = rc == VG_EINVAL ? VG_EXIT_REJECTS : VG_EXIT_FAIL;
    } else {
      report(cmd, id, &res, &alerts);
      vg_sinks_send_all(sinks, &alerts);
    }
  }
  vg_batch_free(&b);
  vg_sinks_finish(sinks, outbox, st, &loop);
  vg_store_close(st);
  vg_rules_free(rules);
  vg_alert_list_clear(&alerts);
  free(alerts.v);
  return status;
}

/* The entry id of argument `word`, or 0 (said) when it is none. */
static int64_t entry_id(const char *cmd, const char *word) {
  char *end;
  errno = 0;
  long long v = strtoll(word, &end, 10);
  if (*end || errno || v < 1 || word[0] < '0' || word[0] > '9') {
    vg_cli_eprintf("%s: '%s' is not an entry id\n", cmd, word);
    return 0;
  }
  return v;
}

static int run(int argc, char **argv, int retract) {
  const char *cmd = retract ? "vigil retract" : "vigil amend";
  const char *help = retract ? retract_help : amend_help;
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {{"date", required_argument, NULL, 'd'},
                                       {"text", required_argument, NULL, 't'},
                                       {"source", required_argument, NULL, 's'},
                                       {"field", required_argument, NULL, 'F'},
                                       {"reason", required_argument, NULL, 'R'},
                                       VG_CLI_RULES_OPTION,
                                       VG_CLI_GLOBAL_OPTIONS,
                                       {0}};
  cJSON *rec = cJSON_CreateObject();
  int opt, status = VG_EXIT_OK, changes = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    const char *name = NULL;
    switch (opt) {
    case 'd': name = "date"; break;
    case 't': name = "text"; break;
    case 's': name = "source"; break;
    case 'R': name = "reason"; break;
    case 'F': {
      const char *eq = strchr(optarg, '=');
      static const char *const own[] = {"date", "text", "source", "amends", "retracts", "reason"};
      int taken = 0;
      for (size_t i = 0; eq && i < sizeof own / sizeof *own; i++)
        taken |= strlen(own[i]) == (size_t)(eq - optarg) && !strncmp(optarg, own[i], eq - optarg);
      if (!eq || eq == optarg || taken) {
        vg_cli_eprintf("%s: --field '%s': NAME=VALUE, NAME not date, text, source or reason\n",
                       cmd, optarg);
        status = VG_EXIT_USAGE;
        goto done;
      }
      char nm[256];
      if ((size_t)(eq - optarg) >= sizeof nm) {
        vg_cli_eprintf("%s: --field: a name of %zu bytes is over the %zu-byte cap\n", cmd,
                       (size_t)(eq - optarg), sizeof nm - 1);
        status = VG_EXIT_USAGE;
        goto done;
      }
      snprintf(nm, sizeof nm, "%.*s", (int)(eq - optarg), optarg);
      cJSON_DeleteItemFromObjectCaseSensitive(rec, nm);
      cJSON_AddStringToObject(rec, nm, eq + 1);
      changes++;
      continue;
    }
    case 'r': vg_cli_flag(cmd, &cfg, "rules", optarg); continue;
    case 'h': fputs(help, stdout); goto done;
    default: fputs(help, stderr); status = VG_EXIT_USAGE; goto done;
    }
    if (retract && strcmp(name, "reason") != 0) {
      vg_cli_eprintf("%s: --%s: a retraction takes a reason only\n", cmd, name);
      fputs(help, stderr);
      status = VG_EXIT_USAGE;
      goto done;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(rec, name);
    cJSON_AddStringToObject(rec, name, optarg);
    changes += strcmp(name, "reason") != 0;
  }
  vg_config_resolve(&cfg);
  if (optind + 1 != argc) {
    vg_cli_eprintf("%s: give one entry id\n", cmd);
    fputs(help, stderr);
    status = VG_EXIT_USAGE;
    goto done;
  }
  int64_t id = entry_id(cmd, argv[optind]);
  if (!id) {
    status = VG_EXIT_USAGE;
    goto done;
  }
  if (retract && !cJSON_GetObjectItemCaseSensitive(rec, "reason")) {
    vg_cli_eprintf("%s: --reason is needed: say why the entry is withdrawn\n", cmd);
    status = VG_EXIT_USAGE;
    goto done;
  }
  if (!retract && !changes) {
    vg_cli_eprintf("%s: nothing to change: give --date, --text, --source or --field\n", cmd);
    status = VG_EXIT_USAGE;
    goto done;
  }
  cJSON_AddNumberToObject(rec, retract ? "retracts" : "amends", (double)id);
  char *record = cJSON_PrintUnformatted(rec);
  status = record ? apply(cmd, &cfg, id, record) : VG_EXIT_FAIL;
  cJSON_free(record);
done:
  cJSON_Delete(rec);
  vg_config_free(&cfg);
  return status;
}

int vg_cmd_amend(int argc, char **argv) { return run(argc, argv, 0); }

int vg_cmd_retract(int argc, char **argv) { return run(argc, argv, 1); }
