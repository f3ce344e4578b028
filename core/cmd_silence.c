/* cmd_silence.c — `vigil silence add|list|expire`: silences, which keep the
 * alerts of a rule (and key) from the sinks until a time, with who asked
 * and why. Writes go through the store on a connection of this process,
 * waiting busy_timeout_ms for the daemon's transaction to end, so a
 * running daemon takes a new silence at its next transaction. */
#include "cli.h"
#include "silence.h"
#include "store.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil silence add --rule R [--key K] (--until TIME | --for DURATION)\n"
    "                         --author NAME --reason TEXT\n"
    "       vigil silence list [--all] [--json]\n"
    "       vigil silence expire ID\n"
    "A silence keeps the alerts of rule R (of key K only, or of any key) from the\n"
    "sinks until a time: they are still stored, marked [silenced by ID] in `vigil\n"
    "alerts`. It holds from the wall clock (UTC) it is added at; a running daemon\n"
    "takes it at its next transaction. Silences are never deleted: expire ends one.\n"
    "  add      prints the new silence's id (--json: the silence)\n"
    "           --until TIME      a UTC time, 2026-12-04T08:00:00Z (or with an offset)\n"
    "           --for DURATION    from now: 30m, 2h, 3d, 1w, 1d12h\n"
    "  list     the active silences (--all: the expired ones too), by id\n"
    "  expire   ends silence ID now\n";

static int usage_error(const char *fmt, const char *arg) {
  vg_cli_eprintf(fmt, arg);
  fputs(help, stderr);
  return VG_EXIT_USAGE;
}

/* ---- list ---- */

static int print_text(void *ud, const vg_silence_row *s) {
  vg_table *t = ud;
  char state[64];
  if (s->active)
    snprintf(state, sizeof state, "active");
  else if (s->expired_at)
    snprintf(state, sizeof state, "expired %s", s->expired_at);
  else
    snprintf(state, sizeof state, "lapsed");
  vg_table_cell(t, VG_STYLE_NONE, "%lld", (long long)s->id);
  vg_table_cell(t, s->active ? VG_STYLE_BOLD : VG_STYLE_DIM, "%s", state);
  vg_table_cell(t, VG_STYLE_BOLD, "%s", s->rule);
  vg_table_cell(t, VG_STYLE_NONE, s->key ? "key %s" : "any key%s", s->key ? s->key : "");
  vg_table_cell(t, VG_STYLE_NONE, "until %s", s->until);
  vg_table_cell(t, VG_STYLE_NONE, "%s", s->author);
  vg_table_cell(t, VG_STYLE_DIM, "%s (added %s)", s->reason, s->created_at);
  vg_table_row(t);
  return 0;
}

static int print_json(void *ud, const vg_silence_row *s) {
  (void)ud;
  return vg_cli_json_line(vg_silence_json(s));
}

/* ---- the command ---- */

enum { OPT_RULE = 0x200, OPT_KEY, OPT_UNTIL, OPT_FOR, OPT_AUTHOR, OPT_REASON, OPT_ALL };

int vg_cmd_silence(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {{"rule", required_argument, NULL, OPT_RULE},
                                       {"key", required_argument, NULL, OPT_KEY},
                                       {"until", required_argument, NULL, OPT_UNTIL},
                                       {"for", required_argument, NULL, OPT_FOR},
                                       {"author", required_argument, NULL, OPT_AUTHOR},
                                       {"reason", required_argument, NULL, OPT_REASON},
                                       {"all", no_argument, NULL, OPT_ALL},
                                       VG_CLI_GLOBAL_OPTIONS,
                                       {0}};
  vg_silence_in in = {0};
  const char *until = NULL, *dur = NULL;
  int all = 0, opt, status = VG_EXIT_OK;
  vg_store *st = NULL;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    switch (opt) {
    case OPT_RULE: in.rule = optarg; break;
    case OPT_KEY: in.key = optarg; break;
    case OPT_UNTIL: until = optarg; break;
    case OPT_FOR: dur = optarg; break;
    case OPT_AUTHOR: in.author = optarg; break;
    case OPT_REASON: in.reason = optarg; break;
    case OPT_ALL: all = 1; break;
    case 'h': fputs(help, stdout); goto done;
    default: fputs(help, stderr); goto usage;
    }
  }
  vg_config_resolve(&cfg);
  if (optind >= argc) {
    status = usage_error("vigil silence: which: add, list or expire?%s\n", "");
    goto done;
  }
  const char *verb = argv[optind++];
  int adding = strcmp(verb, "add") == 0, listing = strcmp(verb, "list") == 0,
      expiring = strcmp(verb, "expire") == 0;
  if (!adding && !listing && !expiring) {
    status = usage_error("vigil silence: unknown action '%s' (add, list or expire)\n", verb);
    goto done;
  }
  /* Each action's own options, and only those. */
  const char *stray = !adding && in.rule     ? "--rule"
                      : !adding && in.key    ? "--key"
                      : !adding && until     ? "--until"
                      : !adding && dur       ? "--for"
                      : !adding && in.author ? "--author"
                      : !adding && in.reason ? "--reason"
                      : !listing && all      ? "--all"
                                             : NULL;
  if (stray) {
    char msg[128];
    snprintf(msg, sizeof msg, "vigil silence %s: %s is not an option of it\n", verb, stray);
    status = usage_error("%s", msg);
    goto done;
  }
  int64_t id = 0;
  if (expiring) {
    char *end;
    if (optind != argc - 1 || (id = strtoll(argv[optind], &end, 10)) <= 0 || *end) {
      status = usage_error("vigil silence expire: give one silence id%s\n", "");
      goto done;
    }
  } else if (optind < argc) {
    vg_cli_eprintf("vigil silence %s: unexpected argument '%s'\n", verb, argv[optind]);
    goto usage;
  }
  char until_at[VG_SILENCE_TIME_MAX];
  if (adding) {
    const char *missing = !in.rule || !in.rule[0]       ? "--rule"
                          : !in.author || !in.author[0] ? "--author"
                          : !in.reason || !in.reason[0] ? "--reason"
                          : !until && !dur              ? "--until or --for"
                                                        : NULL;
    if (missing) {
      fprintf(stderr, "vigil silence add: %s is required (and not empty)\n", missing);
      goto usage;
    }
    if (until && dur) {
      fprintf(stderr, "vigil silence add: give --until or --for, not both\n");
      goto usage;
    }
    if (in.key && !in.key[0]) {
      fprintf(stderr, "vigil silence add: --key is empty: leave it out to silence every key\n");
      goto usage;
    }
    char err[512];
    if (vg_silence_until(until, dur, time(NULL), until_at, err, sizeof err)) {
      vg_cli_eprintf("vigil silence add: --%s\n", err);
      goto usage;
    }
    in.until = until_at;
  }
  st = vg_cli_open_store("vigil silence", &cfg, listing ? VG_STORE_READONLY : 0);
  if (!st) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  int rc = 0;
  if (adding) {
    rc = vg_store_silence_add(st, &in, &id);
    if (rc == VG_EINVAL) { /* the clock passed until meanwhile */
      fprintf(stderr, "vigil silence add: --until is not in the future\n");
      goto usage;
    }
    if (rc == 0 && vg_cli.json)
      rc = vg_store_silence(st, id, print_json, NULL) == 1 ? 0 : VG_EDB;
    else if (rc == 0)
      printf("%lld\n", (long long)id);
  } else if (listing) {
    vg_table t;
    vg_table_init(&t, stdout, "  ");
    rc = vg_store_silences(st, all, 0, 0, vg_cli.json ? print_json : print_text, &t);
    vg_table_free(&t);
  } else {
    rc = vg_store_silence_expire(st, id);
    if (rc == 1) {
      if (vg_cli.json)
        rc = vg_store_silence(st, id, print_json, NULL) == 1 ? 0 : VG_EDB;
      else
        rc = 0, printf("silence %lld expired\n", (long long)id);
    } else if (rc == 0) {
      vg_table t;
      vg_table_init(&t, stderr, "  ");
      int found = vg_store_silence(st, id, print_text, &t);
      vg_table_free(&t);
      if (found == 0) {
        fprintf(stderr, "vigil silence expire: no silence %lld\n", (long long)id);
        status = VG_EXIT_MISSING;
      } else if (found == 1) {
        fprintf(stderr, "vigil silence expire: silence %lld was no longer active (above)\n",
                (long long)id);
      } else {
        rc = found;
      }
    }
  }
  if (rc < 0) {
    fprintf(stderr, "vigil silence %s: %s\n", verb,
            rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
    status = VG_EXIT_FAIL;
  }
  goto done;
usage:
  status = VG_EXIT_USAGE;
done:
  vg_store_close(st);
  vg_config_free(&cfg);
  return status;
}
