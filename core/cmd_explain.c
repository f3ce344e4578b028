/* cmd_explain.c — `vigil explain ALERT_ID` and `vigil explain --entry ID
 * [--rule NAME]`: why an alert fired, and why an entry did or did not
 * raise one (explain.h gathers both as one JSON object; --json prints it,
 * the text below is drawn from it, so the two never differ). The rules are
 * loaded as the commands that run them load them. */
#include "cli.h"
#include "explain.h"
#include "store.h"
#include "vigil.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil explain [OPTIONS] ALERT_ID\n"
    "       vigil explain [OPTIONS] --entry ID [--rule NAME]\n"
    "Says why an alert fired: its rule (kind, parameters, the file that declared it\n"
    "and the hash of that file's text when the alert was last written, and whether\n"
    "the file loaded now still has it), its key, each entry it names with the span of\n"
    "days of its date and the step it matched, the window arithmetic in days (a\n"
    "sequence's \"launch 2023-11-21, show-of-force 2023-12-01: 10 days <= 14\", a\n"
    "threshold's count against its count, an absence's empty window, a first\n"
    "occurrence's \"no earlier mark\"), its versions with the entry that wrote each,\n"
    "its retraction, the silence that marked it and the rule's quiet period.\n"
    "With --entry, says what each rule sees in a stored entry now: a tagging rule's\n"
    "`when`, a correlation's steps and key, the partners within its window and,\n"
    "when there are none, the nearest marks outside it and why each fails.\n"
    "  --entry ID          explain an entry instead of an alert\n"
    "  --rule NAME         with --entry: that rule only\n"
    "  --rules PATH        the rules to load (a directory or a file; repeatable;\n"
    "                      default: the configured `rules`)\n"
    "  --skip-broken       explain with the rules that load despite errors in others\n"
    "  --json              one JSON object: what the text says, field by field\n"
    "An id that names nothing is said on stderr, with exit status 1; a bad id or an\n"
    "unknown rule is a usage error (2).\n";

/* ---- text ---- */

static const char *str(const cJSON *o, const char *name) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
  return s ? s : "";
}

static double num(const cJSON *o, const char *name) {
  return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

/* "  label      value", the labels padded to one width. */
static void row(const char *label, const char *value) {
  vg_cli_printf("  %-10s %s\n", label, value);
}

/* Each string of array `name` of o, indented. */
static void lines(const cJSON *o, const char *name, const char *indent) {
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, name)) {
    if (cJSON_IsString(it)) vg_cli_printf("%s%s\n", indent, it->valuestring);
  }
}

static void print_alert(const cJSON *o) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "alert");
  const cJSON *ru = cJSON_GetObjectItemCaseSensitive(o, "rule");
  const cJSON *file = cJSON_GetObjectItemCaseSensitive(o, "rule_file");
  char buf[512];
  vg_cli_printf("alert %.0f: %s\n", num(a, "id"), str(a, "message"));
  row("rule", str(a, "rule"));
  if (cJSON_IsObject(ru)) {
    row("kind", str(ru, "kind"));
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(ru, "steps"), *it;
    if (cJSON_GetArraySize(steps)) {
      buf[0] = '\0';
      int k = 1;
      cJSON_ArrayForEach(it, steps) {
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%d. %s", k > 1 ? ", " : "", k,
                 it->valuestring);
        k++;
      }
      row("steps", buf);
    }
    static const char *const params[] = {"within", "count", "lateness", "min_gap", "quiet"};
    for (size_t i = 0; i < sizeof params / sizeof *params; i++) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(ru, params[i]);
      if (!cJSON_IsNumber(v) || (i == 4 && v->valuedouble == 0)) continue;
      snprintf(buf, sizeof buf, i == 1 ? "%.0f" : "%.0f days", v->valuedouble);
      row(params[i], buf);
    }
  }
  row("file", cJSON_IsString(cJSON_GetObjectItemCaseSensitive(file, "path")) ? str(file, "path")
                                                                               : "(unknown)");
  row("hash", cJSON_IsString(cJSON_GetObjectItemCaseSensitive(file, "hash")) ? str(file, "hash")
                                                                               : "(unknown)");
  row("now", str(file, "verdict"));
  snprintf(buf, sizeof buf, *str(o, "key") ? "`%s`" : "(none)%s", str(o, "key"));
  row("key", buf);
  row("severity", str(a, "severity"));
  row("date", str(a, "date"));
  row("state", str(o, "state"));
  if (strcmp(str(o, "state"), "retracted") == 0) row("reason", str(o, "retract_reason"));
  vg_cli_printf("entries\n");
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "entries")) {
    if (!cJSON_GetObjectItemCaseSensitive(it, "date")) {
      vg_cli_printf("  entry %.0f  (no longer stored)\n", num(it, "id"));
      continue;
    }
    char steps[256] = "", span[128];
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(it, "steps")) {
      snprintf(steps + strlen(steps), sizeof steps - strlen(steps), "%sstep %.0f (%s)",
               steps[0] ? ", " : "", num(s, "step"), str(s, "name"));
    }
    if (strcmp(str(it, "first_day"), str(it, "last_day")) == 0)
      snprintf(span, sizeof span, "%s", str(it, "date"));
    else
      snprintf(span, sizeof span, "%s (%s..%s)", str(it, "date"), str(it, "first_day"),
               str(it, "last_day"));
    vg_cli_printf("  entry %-4.0f %-12s %s\n", num(it, "id"), span, steps[0] ? steps : "(no mark)");
    vg_cli_printf("             %s\n", str(it, "text"));
  }
  vg_cli_printf("why\n");
  lines(o, "why", "  ");
  vg_cli_printf("versions\n");
  lines(o, "history", "  ");
  vg_cli_printf("silence\n");
  const cJSON *sil = cJSON_GetObjectItemCaseSensitive(o, "silence");
  if (cJSON_IsObject(sil))
    vg_cli_printf("  silenced by silence %.0f (%s, %s), until %s%s\n", num(sil, "id"),
                  str(sil, "author"), str(sil, "reason"), str(sil, "until"),
                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sil, "active"))
                      ? ""
                      : " (no longer active)");
  else
    vg_cli_printf("  none\n");
  vg_cli_printf("quiet\n");
  lines(cJSON_GetObjectItemCaseSensitive(o, "quiet"), "lines", "  ");
}

static void print_found(const cJSON *ro, const char *name, const char *title) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(ro, name), *it;
  if (!cJSON_GetArraySize(list)) return;
  vg_cli_printf("    %s\n", title);
  cJSON_ArrayForEach(it, list) {
    vg_cli_printf("      entry %-4.0f %s %s: %s\n", num(it, "entry"),
                  str(it, "step_name"), str(it, "date"), str(it, "why"));
  }
}

static void print_entry(const cJSON *o) {
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "entry"), *ro;
  vg_cli_printf("entry %.0f: %s %s\n", num(e, "id"), str(e, "span"), str(e, "text"));
  cJSON_ArrayForEach(ro, cJSON_GetObjectItemCaseSensitive(o, "rules")) {
    vg_cli_printf("  %s (%s, %s)\n", str(ro, "rule"), str(ro, "kind"), str(ro, "file"));
    lines(ro, "why", "    ");
    print_found(ro, "partners", "pairs with");
    print_found(ro, "near_misses", "nearest outside the window");
    lines(ro, "alert_lines", "    ");
  }
}

/* ---- the command ---- */

/* A positive whole number, or -1. */
static long long parse_id(const char *s) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  return *s && !*end && !errno && v > 0 ? v : -1;
}

int vg_cmd_explain(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  enum { OPT_ENTRY = 0x200, OPT_RULE };
  static const struct option opts[] = {{"entry", required_argument, NULL, OPT_ENTRY},
                                       {"rule", required_argument, NULL, OPT_RULE},
                                       VG_CLI_RULES_OPTION,
                                       VG_CLI_SKIP_BROKEN_OPTION,
                                       VG_CLI_GLOBAL_OPTIONS,
                                       {0}};
  int opt, status = VG_EXIT_OK, skip_broken = 0;
  const char *entry_arg = NULL, *rule_name = NULL;
  vg_store *st = NULL;
  vg_rules *r = NULL;
  cJSON *o = NULL;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    switch (opt) {
    case 'h': fputs(help, stdout); goto done;
    case OPT_ENTRY: entry_arg = optarg; break;
    case OPT_RULE: rule_name = optarg; break;
    case 'r': vg_cli_flag("vigil explain", &cfg, "rules", optarg); break;
    case 'B': skip_broken = 1; break;
    default: fputs(help, stderr); goto usage;
    }
  }
  long long id;
  if (entry_arg) {
    if (optind < argc) {
      vg_cli_eprintf("vigil explain: --entry explains one entry; '%s' is one argument too many\n",
                     argv[optind]);
      goto usage;
    }
    if ((id = parse_id(entry_arg)) < 0) {
      vg_cli_eprintf("vigil explain: --entry '%s' is no entry id (a positive whole number)\n",
                     entry_arg);
      goto usage;
    }
  } else {
    if (rule_name) {
      fprintf(stderr, "vigil explain: --rule goes with --entry\n");
      goto usage;
    }
    if (optind >= argc) {
      fprintf(stderr, "vigil explain: which alert? Give its id (vigil alerts lists them), or "
                      "--entry ID\n");
      goto usage;
    }
    if (optind + 1 < argc) {
      vg_cli_eprintf("vigil explain: one alert at a time; '%s' is one argument too many\n",
                     argv[optind + 1]);
      goto usage;
    }
    if ((id = parse_id(argv[optind])) < 0) {
      vg_cli_eprintf("vigil explain: '%s' is no alert id (a positive whole number)\n",
                     argv[optind]);
      goto usage;
    }
  }
  vg_config_resolve(&cfg);
  if (!(st = vg_cli_open_store("vigil explain", &cfg, VG_STORE_READONLY))) goto failed;
  if (!(r = vg_cli_command_rules("vigil explain", &cfg, skip_broken))) goto failed;
  if (rule_name && !vg_rules_file_of(r, rule_name)) {
    vg_cli_eprintf("vigil explain: no rule '%s' among the rules loaded (vigil check lists them)\n",
                   rule_name);
    goto usage;
  }
  int rc = entry_arg ? vg_explain_entry(r, st, id, rule_name, &o)
                     : vg_explain_alert(r, st, id, &o);
  if (rc == VG_EINVAL) {
    fprintf(stderr, "vigil explain: no %s %lld\n", entry_arg ? "entry" : "alert", id);
    status = VG_EXIT_MISSING;
    goto done;
  }
  if (rc) {
    fprintf(stderr, "vigil explain: %s %lld: %s\n", entry_arg ? "entry" : "alert", id,
            rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
    goto failed;
  }
  if (vg_cli.json) {
    status = vg_cli_json_line(o) ? VG_EXIT_FAIL : VG_EXIT_OK;
    o = NULL;
  } else if (entry_arg) {
    print_entry(o);
  } else {
    print_alert(o);
  }
  goto done;
failed:
  status = VG_EXIT_FAIL;
  goto done;
usage:
  status = VG_EXIT_USAGE;
done:
  cJSON_Delete(o);
  vg_rules_free(r);
  vg_store_close(st);
  vg_config_free(&cfg);
  return status;
}
