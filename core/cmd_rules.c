/* cmd_rules.c — the rule writer's tools: `vigil check` loads every rule file
 * and reports its errors; `vigil test` runs the test cases the files carry
 * against a database in memory; `vigil replay` runs the current rules again
 * over stored entries. */
#include "cli.h"
#include "batch.h"
#include "ingest.h"
#include "interrupt.h"
#include "sinks.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What check and test load, and which of it they speak of. With no path
 * named, the rules (configured, or --rules) are loaded and spoken of
 * whole. With paths named, those are loaded after the rules, as part of
 * them, so that `after` names and lists resolve as the daemon would see
 * them; only the named files' problems, rules and test cases count. */
typedef struct {
  const char *cmd; /* "vigil check" */
  char **load;     /* NULL-ended: what is loaded, in order (strings not owned) */
  char **named;    /* NULL-ended real paths of the named files; NULL: all count */
  char *names;     /* what is spoken of, for the summary */
  int shown;       /* problems of named files, said on stderr */
  int hidden;      /* problems of the other files loaded with them */
} rule_set;

static void rule_set_free(rule_set *rs) {
  free(rs->load);
  for (size_t i = 0; rs->named && rs->named[i]; i++)
    free(rs->named[i]);
  free(rs->named);
  free(rs->names);
}

static void push(char ***v, size_t *n, char *s) {
  char **nv = realloc(*v, (*n + 2) * sizeof *nv);
  if (!nv) abort(); /* a few pointers: nothing sensible is left to do */
  nv[(*n)++] = s;
  nv[*n] = NULL;
  *v = nv;
}

/* Whether file is one the command speaks of. */
static int named(const rule_set *rs, const char *file) {
  if (!rs->named) return 1;
  if (!file) return 1; /* a path that could not be read: said */
  char *real = realpath(file, NULL);
  int yes = 0;
  for (size_t i = 0; real && rs->named[i] && !yes; i++)
    yes = strcmp(rs->named[i], real) == 0;
  free(real);
  return yes;
}

/* A rule file's problem that counts: FILE:LINE: message on standard error,
 * or with --json one object {"type":"error", file, line (when it has one),
 * message} on standard output. */
static void set_report(void *ud, const char *file, const char *msg) {
  rule_set *rs = ud;
  if (!named(rs, file)) {
    rs->hidden++;
    return;
  }
  rs->shown++;
  if (!vg_cli.json) {
    vg_cli_eprintf("%s\n", msg);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "error");
  cJSON_AddStringToObject(o, "file", file ? file : rs->names ? rs->names : "");
  size_t n = file ? strlen(file) : 0;
  if (file && strncmp(msg, file, n) == 0 && msg[n] == ':') { /* FILE:LINE: or FILE: */
    char *end;
    long line = strtol(msg + n + 1, &end, 10);
    if (end > msg + n + 1 && *end == ':') {
      cJSON_AddNumberToObject(o, "line", (double)line);
      n = (size_t)(end - msg);
    }
    msg += n + 1 + (msg[n + 1] == ' ');
  }
  cJSON_AddStringToObject(o, "message", msg);
  vg_cli_json_line(o);
}

/* Adds the real paths of the rule files of path (a directory's *.lua, or
 * the file) to the named ones. */
static void name_files(rule_set *rs, size_t *n, const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    char *real = realpath(path, NULL);
    if (real) push(&rs->named, n, real);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t len = strlen(de->d_name);
    if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".lua") != 0) continue;
    char file[4096];
    snprintf(file, sizeof file, "%s/%s", path, de->d_name);
    char *real = realpath(file, NULL);
    if (real) push(&rs->named, n, real);
  }
  closedir(d);
}

/* Joins v with ", " into a new string. */
static char *joined(char *const *v) {
  size_t len = 1;
  for (size_t i = 0; v && v[i]; i++)
    len += strlen(v[i]) + 2;
  char *out = calloc(1, len);
  if (!out) abort();
  for (size_t i = 0; v && v[i]; i++) {
    if (i) strcat(out, ", ");
    strcat(out, v[i]);
  }
  return out;
}

/* Parses the flags and paths of check and test into cfg and rs. A path
 * named, or one of the rules, that cannot be read stops them with
 * VG_EXIT_USAGE; only the default rules path may be missing (it is warned
 * of and left out). Returns 0, 1 after --help, or an exit status. */
static int set_args(vg_config *cfg, rule_set *rs, int argc, char **argv, const char *help) {
  static const struct option opts[] = {VG_CLI_RULES_OPTION, VG_CLI_GLOBAL_OPTIONS, {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(cfg, opt, optarg)) continue;
    if (opt == 'r') {
      vg_cli_flag(rs->cmd, cfg, "rules", optarg);
    } else if (opt == 'h') {
      fputs(help, stdout);
      return 1;
    } else {
      fputs(help, stderr);
      return VG_EXIT_USAGE;
    }
  }
  size_t nload = 0, nnamed = 0;
  if (optind == argc) { /* the rules themselves */
    if (vg_cli_rules_paths(rs->cmd, cfg)) return VG_EXIT_USAGE;
    for (size_t i = 0; cfg->rules && cfg->rules[i]; i++)
      push(&rs->load, &nload, cfg->rules[i]);
    rs->names = joined(cfg->rules);
    vg_config_resolve(cfg); /* every layer is in: derive the paths */
    return 0;
  }
  vg_config named_paths = {.rules = argv + optind};
  int rules = vg_config_find("rules");
  named_paths.origin[rules] = VG_ORIGIN_FLAG;
  if (vg_cli_rules_paths(rs->cmd, &named_paths) || vg_cli_rules_paths(rs->cmd, cfg))
    return VG_EXIT_USAGE;
  for (size_t i = 0; cfg->rules && cfg->rules[i]; i++) {
    struct stat sb;
    if (stat(cfg->rules[i], &sb) == 0) /* a default that is not there: warned of */
      push(&rs->load, &nload, cfg->rules[i]);
  }
  rs->named = calloc(1, sizeof *rs->named);
  if (!rs->named) abort();
  for (int i = optind; i < argc; i++) {
    push(&rs->load, &nload, argv[i]);
    name_files(rs, &nnamed, argv[i]);
  }
  rs->names = joined(argv + optind);
  vg_config_resolve(cfg);
  return 0;
}

/* Loads what rs says with lim; NULL (said) when the engine cannot start. */
static vg_rules *set_load(rule_set *rs, const vg_rules_limits *lim) {
  int errors = 0;
  vg_rules *r = vg_rules_load_paths(rs->load, NULL, lim, set_report, rs, &errors);
  if (!r) fprintf(stderr, "%s: cannot set up the rule engine\n", rs->cmd);
  return r;
}

/* Says on stderr how many problems of the other rules were not shown. */
static void say_hidden(const rule_set *rs) {
  if (rs->hidden)
    fprintf(stderr,
            "%s: the other rules loaded with them have %d error%s, not shown (%s with no path "
            "shows them)\n",
            rs->cmd, rs->hidden, rs->hidden == 1 ? "" : "s", rs->cmd);
}

/* What partition_warning needs. */
typedef struct {
  const rule_set *rs;
  const char *partition; /* nats_partition */
} partition_ctx;

/* A correlation rule of a named file that does not group by the field the
 * configured partition is keyed by: FILE:LINE: warning: ... on standard
 * error, or with --json {"type":"warning", file, line, rule, message}. */
static void partition_warning(void *ud, const char *rule, const char *file, int line,
                              const char *why) {
  const partition_ctx *p = ud;
  if (!named(p->rs, file)) return;
  if (!vg_cli.json) {
    vg_cli_eprintf("%s:%d: warning: partition %s: rule '%s' %s\n", file, line, p->partition, rule,
                   why);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "warning");
  cJSON_AddStringToObject(o, "file", file);
  cJSON_AddNumberToObject(o, "line", line);
  cJSON_AddStringToObject(o, "rule", rule);
  cJSON_AddStringToObject(o, "message", why);
  vg_cli_json_line(o);
}

static const char check_help[] =
    "usage: vigil check [--rules PATH]... [PATH...]\n"
    "Loads rule files in a sandbox and reports each error as FILE:LINE: message.\n"
    "With no PATH it checks the rules: the configured `rules` (default: the shipped ones), or the\n"
    "--rules paths (repeatable, a directory or a file each), loaded as one set.\n"
    "A PATH (a directory of *.lua files, or a file) is checked as part of those rules:\n"
    "they are loaded too, so that its `after` names and a rule name it repeats are seen\n"
    "as the daemon would see them, but only the errors, rules and test cases of the\n"
    "files named count. To check a directory alone, give it as --rules PATH.\n"
    "When the configuration sets nats_partition (the daemon consumes one partition of\n"
    "the stream), each correlation rule that does not group by nats_partition_by\n"
    "(by = \"FIELD\") is warned of as FILE:LINE: warning: ...; warnings do not count\n"
    "as errors.\n"
    "Prints 'PATHS: N rules, N test cases, N errors'. Exit status 0, 1 on any error,\n"
    "2 when a path cannot be read, 3 when the rule engine cannot start.\n"
    "  --json   one JSON object a line: each error {\"type\":\"error\", file, line (when\n"
    "           it has one), message}, then {\"type\":\"summary\", paths, rules, tests,\n"
    "           errors}; each warning {\"type\":\"warning\", file, line, rule, message}\n";

int vg_cmd_check(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  rule_set rs = {.cmd = "vigil check"};
  int status = set_args(&cfg, &rs, argc, argv, check_help);
  if (status) {
    rule_set_free(&rs);
    vg_config_free(&cfg);
    return status == 1 ? VG_EXIT_OK : status;
  }
  vg_rules_limits lim = vg_cli_rule_limits(&cfg);
  vg_rules *r = set_load(&rs, &lim);
  if (!r) {
    status = VG_EXIT_FAIL;
  } else {
    size_t nrules = 0, ntests = 0;
    for (size_t i = 0; i < vg_rules_count(r); i++)
      nrules += named(&rs, vg_rules_rule_file(r, i));
    for (size_t i = 0; i < vg_rules_test_count(r); i++)
      ntests += named(&rs, vg_rules_test_file(r, i));
    say_hidden(&rs);
    if (vg_config_partition(&cfg) >= 0) {
      partition_ctx p = {&rs, cfg.nats_partition};
      vg_rules_partition_check(r, cfg.nats_partition_by, partition_warning, &p);
    }
    if (vg_cli.json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "type", "summary");
      cJSON_AddStringToObject(o, "paths", rs.names);
      cJSON_AddNumberToObject(o, "rules", (double)nrules);
      cJSON_AddNumberToObject(o, "tests", (double)ntests);
      cJSON_AddNumberToObject(o, "errors", rs.shown);
      vg_cli_json_line(o);
    } else {
      vg_style style = rs.shown ? VG_STYLE_RED : VG_STYLE_GREEN;
      vg_cli_printf("%s", rs.names);
      printf(": %zu rules, %zu test cases, %s%d error%s%s\n", nrules, ntests,
             vg_term_on(stdout, style), rs.shown, rs.shown == 1 ? "" : "s",
             vg_term_off(stdout, style));
    }
    status = rs.shown ? VG_EXIT_REJECTS : VG_EXIT_OK;
  }
  vg_rules_free(r);
  rule_set_free(&rs);
  vg_config_free(&cfg);
  return status;
}

/* ---- vigil test ---- */

/* Differences found by one test case, one line each. */
typedef struct {
  char *text;
  size_t len, cap;
} diffs;

static void say(diffs *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(diffs *d, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  if (d->len + (size_t)n + 2 > d->cap) {
    size_t cap = (d->len + (size_t)n + 2) * 2;
    char *t = realloc(d->text, cap);
    if (!t) return;
    d->text = t;
    d->cap = cap;
  }
  memcpy(d->text + d->len, line, (size_t)n);
  d->len += (size_t)n;
  d->text[d->len++] = '\n';
  d->text[d->len] = '\0';
}

/* The tags of one entry that rules of `file` set. */
typedef struct {
  vg_rules *r;
  const char *file;
  char **tags;
  size_t n;
  char *rules[64];
} tag_set;

static int collect_tag(void *ud, const char *tag, const char *rule) {
  tag_set *t = ud;
  const char *f = vg_rules_file_of(t->r, rule);
  if (!f || strcmp(f, t->file) != 0 || t->n >= 64) return 0;
  t->rules[t->n] = strdup(rule);
  t->tags[t->n++] = strdup(tag);
  return 0;
}

/* An alert as found in the database, its entries turned into given indexes. */
typedef struct {
  char *rule, *severity, *message;
  int64_t given[16];
  size_t ngiven;
  int matched;
} found_alert;

typedef struct {
  vg_rules *r;
  const char *file;
  const int64_t *ids; /* entry id of each given entry */
  size_t nids;
  found_alert v[64];
  size_t n;
} alert_set;

static int collect_alert(void *ud, const vg_alert_row *a) {
  alert_set *s = ud;
  const char *f = vg_rules_file_of(s->r, a->rule);
  if (!f || strcmp(f, s->file) != 0 || s->n >= 64) return 0;
  found_alert *fa = &s->v[s->n++];
  memset(fa, 0, sizeof *fa);
  fa->rule = strdup(a->rule);
  fa->severity = strdup(a->severity);
  fa->message = strdup(a->message);
  for (const char *p = a->entries; p && *p && fa->ngiven < 16;) {
    char *end;
    long long id = strtoll(p, &end, 10);
    for (size_t k = 0; k < s->nids && fa->ngiven < 16; k++)
      if (s->ids[k] == id) fa->given[fa->ngiven++] = (int64_t)k + 1;
    if (*end != ',') break;
    p = end + 1;
  }
  return 0;
}

static int same_entries(const found_alert *f, const struct vg_expected_alert *e) {
  if (f->ngiven != e->nentries) return 0;
  for (size_t i = 0; i < e->nentries; i++) {
    int in = 0;
    for (size_t k = 0; k < f->ngiven && !in; k++) in = f->given[k] == e->entries[i];
    if (!in) return 0;
  }
  return 1;
}

static void entries_text(char *buf, size_t cap, const int64_t *v, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? "," : "", (long long)v[i]);
}

/* The rule failures met while one case runs: each is a difference. */
typedef struct {
  diffs *d;
  const int64_t *ids; /* entry id of each given entry stored so far */
  size_t stored;      /* how many */
  size_t storing;     /* the given entry being stored (1-based), or 0 */
  int n;
} failures;

static void on_rule_failure(void *ud, const char *rule, const char *file, int line, int64_t entry,
                            const char *why) {
  failures *f = ud;
  size_t given = 0;
  for (size_t k = 0; k < f->stored && !given; k++)
    if (f->ids[k] == entry) given = k + 1;
  if (!given) given = f->storing;
  if (given)
    say(f->d, "entry %zu: rule '%s' (%s:%d) failed: %s", given, rule, file, line, why);
  else
    say(f->d, "rule '%s' (%s:%d) failed: %s", rule, file, line, why);
  f->n++;
}

/* Runs one case; returns the number of differences (0: passed). A rule
 * that fails on its entries (of any file: they all run) is one. */
static int run_case(vg_rules *r, const vg_rule_test *t, diffs *d) {
  char err[512];
  vg_store *st = vg_store_open(":memory:", VG_STORE_SYNC_NORMAL, err, sizeof err);
  if (!st) {
    say(d, "cannot open a database in memory: %s", err);
    return 1;
  }
  int64_t *ids = calloc(t->ngiven + 1, sizeof *ids);
  vg_ingest ig = {st, r, NULL, NULL, NULL};
  int problems = 0;
  failures fails = {d, ids, 0, 0, 0};
  vg_rules_on_failure(r, on_rule_failure, &fails);
  vg_batch b;
  vg_batch_init(&b, &ig);
  if (vg_batch_begin(&b)) {
    say(d, "cannot begin a transaction: %s", b.err);
    problems++;
  }
  for (size_t j = 0; b.open && ids && j < t->ngiven; j++) {
    vg_line line = {t->given[j], strlen(t->given[j]), strlen(t->given[j]), j + 1, 0,
                    VG_FORMAT_AUTO, "test", 1 << 20, NULL, NULL};
    vg_result res;
    fails.storing = j + 1;
    if (vg_ingest_line(&b.ig, &line, &res, NULL)) {
      say(d, "given entry %zu: database error: %s", j + 1, vg_store_errmsg(st));
      problems++;
    } else if (res.status != VG_STORED) {
      say(d, "given entry %zu was not stored: %s", j + 1,
          res.status == VG_DUPLICATE ? "it repeats an earlier one" : res.reason);
      problems++;
    }
    ids[j] = res.id;
    fails.stored = j + 1;
  }
  fails.storing = 0;
  if (b.open && vg_batch_end(&b, 0, NULL, NULL)) {
    say(d, "the given entries were not committed: %s", b.err);
    problems++;
  }
  vg_batch_free(&b);
  vg_rules_on_failure(r, NULL, NULL);
  problems += fails.n;
  if (vg_rules_exhausted(r))
    say(d, "the rules were skipped: they filled the rule memory (rule_memory)"), problems++;
  for (size_t j = 0; ids && t->has_tags && j < t->ngiven; j++) {
    char *tags[64], **want = t->tags[j];
    tag_set got = {r, t->file, tags, 0, {0}};
    vg_store_entry_tags(st, ids[j], collect_tag, &got);
    for (size_t k = 0; want && want[k]; k++) {
      int have = 0;
      for (size_t m = 0; m < got.n && !have; m++) have = strcmp(got.tags[m], want[k]) == 0;
      if (!have) say(d, "entry %zu: missing tag '%s'", j + 1, want[k]), problems++;
    }
    for (size_t m = 0; m < got.n; m++) {
      int wanted = 0;
      for (size_t k = 0; want && want[k] && !wanted; k++) wanted = strcmp(got.tags[m], want[k]) == 0;
      if (!wanted)
        say(d, "entry %zu: unexpected tag '%s' (set by rule '%s')", j + 1, got.tags[m],
            got.rules[m]), problems++;
      free(got.tags[m]);
      free(got.rules[m]);
    }
  }
  if (ids && t->has_alerts) {
    alert_set *got = calloc(1, sizeof *got);
    if (got) {
      *got = (alert_set){.r = r, .file = t->file, .ids = ids, .nids = t->ngiven};
      vg_alert_query q = {0};
      vg_store_alerts(st, &q, collect_alert, got);
      char e1[128], e2[128];
      for (size_t k = 0; k < t->nalerts; k++) {
        const struct vg_expected_alert *want = &t->alerts[k];
        found_alert *hit = NULL;
        for (size_t m = 0; m < got->n && !hit; m++) {
          found_alert *f = &got->v[m];
          if (!f->matched && strcmp(f->rule, want->rule) == 0 && same_entries(f, want) &&
              (!want->severity || strcmp(want->severity, f->severity) == 0) &&
              (!want->message || strstr(f->message, want->message)))
            hit = f;
        }
        entries_text(e1, sizeof e1, want->entries, want->nentries);
        if (hit) hit->matched = 1;
        else say(d, "missing alert from rule '%s' on entries %s%s%s%s", want->rule, e1,
                 want->severity ? ", severity " : "", want->severity ? want->severity : "",
                 want->message ? " (message naming the words given)" : ""), problems++;
      }
      for (size_t m = 0; m < got->n; m++) {
        found_alert *f = &got->v[m];
        entries_text(e2, sizeof e2, f->given, f->ngiven);
        if (!f->matched)
          say(d, "unexpected alert from rule '%s' on entries %s: [%s] %s", f->rule, e2,
              f->severity, f->message), problems++;
        free(f->rule);
        free(f->severity);
        free(f->message);
      }
      free(got);
    }
  }
  free(ids);
  vg_store_close(st);
  return problems;
}

/* One case's verdict: "ok  " or "FAIL" (green or red on a terminal) with
 * its file, line and name, then its differences, one a line; or one JSON
 * object {"type":"case", file, line, name, passed, differences}. */
static void print_case(const vg_rule_test *t, int bad, const char *diff) {
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "case");
    cJSON_AddStringToObject(o, "file", t->file ? t->file : "");
    cJSON_AddNumberToObject(o, "line", t->line);
    cJSON_AddStringToObject(o, "name", t->name ? t->name : "");
    cJSON_AddBoolToObject(o, "passed", !bad);
    cJSON *v = cJSON_AddArrayToObject(o, "differences");
    for (const char *p = diff; p && *p;) {
      const char *nl = strchr(p, '\n');
      size_t n = nl ? (size_t)(nl - p) : strlen(p);
      char *one = strndup(p, n);
      if (one) cJSON_AddItemToArray(v, cJSON_CreateString(one));
      free(one);
      p += n + (nl != NULL);
    }
    vg_cli_json_line(o);
    return;
  }
  vg_style style = bad ? VG_STYLE_RED : VG_STYLE_GREEN;
  printf("%s%s%s ", vg_term_on(stdout, style), bad ? "FAIL" : "ok  ", vg_term_off(stdout, style));
  vg_cli_printf("%s:%d %s\n", t->file, t->line, t->name);
  if (bad) fputs(diff ? diff : "", stdout);
}

static const char test_help[] =
    "usage: vigil test [--verbose] [--rules PATH]... [PATH...]\n"
    "Runs the test cases of the rule files: with no PATH, those of the rules (the\n"
    "configured `rules`, default the shipped ones, or the --rules paths, repeatable); with PATHs\n"
    "(directories of *.lua files, or files), those of the files named, loaded as part of\n"
    "the rules as `vigil check` does. Each case feeds its `given` entries through every rule into\n"
    "a database in memory, then compares the tags and alerts that the rules of its\n"
    "own file produced with what it expects, and no others. A rule that fails on\n"
    "one of the entries (an error, a loop, too much memory) fails the case too.\n"
    "Prints each case as ok or FAIL with the differences and rule errors, and a last\n"
    "line 'N passed, N failed'.\n"
    "  --json   one JSON object a line: each case {\"type\":\"case\", file, line, name,\n"
    "           passed, differences (a list of sentences)}, each rule file error\n"
    "           {\"type\":\"error\", file, line, message}, then {\"type\":\"summary\",\n"
    "           passed, failed, errors}\n";

int vg_cmd_test(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  rule_set rs = {.cmd = "vigil test"};
  int status = set_args(&cfg, &rs, argc, argv, test_help);
  if (status) {
    rule_set_free(&rs);
    vg_config_free(&cfg);
    return status == 1 ? VG_EXIT_OK : status;
  }
  int verbose = vg_cli.verbose;
  if (!verbose && !vg_cli.log_level) vg_log_set_level(VG_LOG_ERROR); /* rule failures show as differences */
  vg_rules_limits lim = vg_cli_rule_limits(&cfg);
  lim.max_failures = 0; /* a rule failing in one case still runs in the next */
  vg_rules *r = set_load(&rs, &lim);
  if (!r) {
    rule_set_free(&rs);
    vg_config_free(&cfg);
    return VG_EXIT_FAIL;
  }
  int passed = 0, failed = 0;
  for (size_t i = 0; i < vg_rules_test_count(r); i++) {
    if (!named(&rs, vg_rules_test_file(r, i))) continue;
    vg_rule_test t;
    diffs d = {0};
    char err[256];
    int bad = vg_rules_test_get(r, i, &t, err, sizeof err) ? (say(&d, "%s", err), 1)
                                                           : run_case(r, &t, &d);
    print_case(&t, bad, d.text);
    bad ? failed++ : passed++;
    free(d.text);
    vg_rule_test_free(&t);
  }
  say_hidden(&rs);
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "summary");
    cJSON_AddNumberToObject(o, "passed", passed);
    cJSON_AddNumberToObject(o, "failed", failed);
    cJSON_AddNumberToObject(o, "errors", rs.shown);
    vg_cli_json_line(o);
  } else {
    if (rs.shown) printf("%d rule file error%s (above)\n", rs.shown, rs.shown == 1 ? "" : "s");
    vg_style style = failed || rs.shown ? VG_STYLE_RED : VG_STYLE_GREEN;
    printf("%s%d passed, %d failed%s\n", vg_term_on(stdout, style), passed, failed,
           vg_term_off(stdout, style));
  }
  vg_rules_free(r);
  rule_set_free(&rs);
  vg_config_free(&cfg);
  return failed || rs.shown ? VG_EXIT_REJECTS : VG_EXIT_OK;
}

/* ---- vigil replay ---- */

#define REPLAY_CHUNK 5000

/* A stored entry copied out of a query, to run the rules on after it. */
typedef struct {
  vg_rule_entry e;
  char *owned; /* date, precision, text, source and fields, one allocation */
} replay_row;

typedef struct {
  replay_row *v;
  size_t n;
} replay_chunk;

static int copy_row(void *ud, const vg_row *r) {
  replay_chunk *c = ud;
  replay_row *row = &c->v[c->n];
  if (!(row->owned = vg_rule_entry_from_row(r, &row->e))) return VG_ENOMEM;
  c->n++;
  return 0;
}

static const char replay_help[] =
    "usage: vigil replay [--since DATE] [--until DATE] [--rules PATH]... [--skip-broken]\n"
    "                    [--json] [--db PATH] [--config FILE]\n"
    "       vigil replay --nats [URL] [--from-seq N | --from-time TIME] [--rules PATH]...\n"
    "                    [--skip-broken] [--json] [--db PATH] [--config FILE]\n"
    "       vigil replay --dry-run [--rules PATH]... [--since DATE] [--json] [--db PATH]\n"
    "                    [--config FILE]\n"
    "Runs the current rules again over the stored entries in date order. Each entry's\n"
    "tags and correlation marks are set anew; alerts already stored are kept and not\n"
    "raised again; new and amended ones go to the sinks. Running it twice changes nothing the\n"
    "second time. --rules (repeatable, a directory or a file each) replaces the configured\n"
    "rules. A rule file that does not load stops it before any entry; with\n"
    "--skip-broken the rules that loaded run, and what the others set is kept.\n"
    "  --json   the summary as one JSON object: type \"summary\", entries, rules,\n"
    "           new_alerts, amended, interrupted, and signal when it was\n"
    "With --nats, reads the JetStream stream of entries (nats_stream, on URL or\n"
    "nats_url; the subject nats_filter or nats_partition names, as the daemon does)\n"
    "into a FRESH database (one holding entries is refused), storing each message as\n"
    "the daemon would: rules run, alerts raised, nats_msgs rows written. It reads from\n"
    "the first message, from sequence N (--from-seq), or from TIME (--from-time, RFC\n"
    "3339 such as 2023-01-05T09:30:00Z, or a date), up to the stream's last message\n"
    "when it started, through an ordered consumer that it deletes at the end. A\n"
    "rejected message is said as nats:STREAM:SEQ: reason. Its summary: messages, their\n"
    "first and last seq, stored, duplicates, rejected, rules, new alerts, amended\n"
    "(--json: type \"summary\", stream, messages, first_seq, last_seq, stored,\n"
    "duplicates, rejected, rules, new_alerts, amended, interrupted; each reject\n"
    "{\"type\":\"reject\", origin, seq, reason}). Exit status 1 when a message was\n"
    "rejected, 3 when the server or the stream cannot be reached.\n"
    "On a terminal, a progress line on standard error (entries, entries/s); none with\n"
    "--quiet, which also drops the text summary. SIGINT or SIGTERM stops it between two\n"
    "entries: those replayed are committed, the summary says it was interrupted, and\n"
    "the exit status is 130 (143 for SIGTERM); running it again replays the whole range\n"
    "(with --nats, into a fresh database again: the one it began holds entries now).\n"
    "With --dry-run, says what the rules (--rules: the new ones) would change, and\n"
    "changes nothing: the database is opened read-only and copied into a scratch file\n"
    "under $TMPDIR (removed at the end, on an error or a first SIGINT too), the tags,\n"
    "marks, events, absences and alerts of the range are cleared in the copy, the\n"
    "entries (not the retracted ones) run through the rules afresh in date order, and\n"
    "the result is compared with the stored state; no sink is called. It prints each\n"
    "alert in force (state active) added, removed or changed (the same dedup key, but\n"
    "another message, severity, date, count or entries), with its rule, date, message\n"
    "and entries, and per tag how many entries gain and lose it, with a few examples.\n"
    "--since DATE replays only the entries whose date reaches DATE and compares only\n"
    "the alerts dated from DATE on; what the earlier entries left (their marks, tags,\n"
    "absences and alerts) stays as stored, so windows reaching back before DATE see it.\n"
    "  --json   one JSON document: type \"dry_run\", added, removed (alerts: rule, key,\n"
    "           date, severity, message, count, entries [{id, date, text}]), changed\n"
    "           ({rule, key, before, after}), tags ({tag, added, removed, examples:\n"
    "           {added, removed}}), summary {entries, rules, since, alerts_added,\n"
    "           alerts_removed, alerts_changed, tags_changed, tags_added, tags_removed,\n"
    "           changes}\n"
    "Exit status 0 when nothing would change, 1 when something would, 2 on a usage\n"
    "error, 3 when it cannot tell (rules that do not load, a database that cannot be\n"
    "read or copied), 130 or 143 when a signal stopped it.\n";

int vg_cmd_replay(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {{"since", required_argument, NULL, 's'},
                                       {"until", required_argument, NULL, 'u'},
                                       VG_CLI_RULES_OPTION,
                                       VG_CLI_SKIP_BROKEN_OPTION,
                                       {"nats", optional_argument, NULL, 'N'},
                                       {"from-seq", required_argument, NULL, 'Q'},
                                       {"from-time", required_argument, NULL, 'T'},
                                       {"dry-run", no_argument, NULL, 'y'},
                                       VG_CLI_GLOBAL_OPTIONS, {0}};
  vg_query q = {0};
  vg_cli_range rg = {0};
  vg_replay_nats_opts nats = {0};
  int opt, status = VG_EXIT_OK, skip_broken = 0, from_nats = 0, dry_run = 0;
  char *end;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    int range = vg_cli_range_opt("vigil replay", &rg, opt, optarg);
    if (range < 0) goto usage;
    if (range) continue;
    switch (opt) {
    case 'r': vg_cli_flag("vigil replay", &cfg, "rules", optarg); break;
    case 'B': skip_broken = 1; break;
    case 'y': dry_run = 1; break;
    case 'N':
      from_nats = 1;
      nats.url = optarg;
      break;
    case 'Q':
      nats.has_seq = 1;
      errno = 0;
      nats.from_seq = strtoull(optarg, &end, 10);
      if (*end || errno || optarg[0] < '0' || optarg[0] > '9' || nats.from_seq == 0) {
        vg_cli_eprintf("vigil replay: --from-seq '%s': a stream sequence number, 1 or more\n",
                       optarg);
        goto usage;
      }
      break;
    case 'T':
      nats.has_time = 1;
      int bad = vg_replay_nats_time(optarg, &nats.from_ns);
      if (bad == -2)
        vg_cli_eprintf("vigil replay: --from-time '%s': a time from 1970 to 2262-04-10\n",
                       optarg);
      else if (bad)
        vg_cli_eprintf("vigil replay: --from-time '%s': neither an RFC 3339 time"
                       " (2023-01-05T09:30:00Z) nor a date (2023-01-05)\n",
                       optarg);
      if (bad) goto usage;
      break;
    case 'h': fputs(replay_help, stdout); goto done;
    default: fputs(replay_help, stderr); goto usage;
    }
  }
  vg_config_resolve(&cfg); /* every layer is in: derive the paths */
  /* --nats URL: the URL is the one word left (getopt moved it behind the flags). */
  if (from_nats && !nats.url && optind + 1 == argc) nats.url = argv[optind++];
  if (optind < argc) {
    vg_cli_eprintf("vigil replay: unexpected argument '%s'\n", argv[optind]);
    goto usage;
  }
  if (!from_nats && (nats.has_seq || nats.has_time)) {
    fprintf(stderr, "vigil replay: --from-seq and --from-time read a stream: give --nats too\n");
    goto usage;
  }
  if (dry_run) {
    const char *with = from_nats     ? "--nats"
                       : rg.has_until  ? "--until"
                       : skip_broken   ? "--skip-broken"
                                       : NULL;
    if (with) {
      fprintf(stderr, "vigil replay: --dry-run replays the stored entries from --since (or"
                      " the first) to the last, with rules that all load: not with %s\n", with);
      goto usage;
    }
    status = vg_replay_dry_run(&cfg, &(vg_replay_dry_opts){rg.has_since, rg.since});
    goto done;
  }
  if (from_nats) {
    if (nats.has_seq && nats.has_time) {
      fprintf(stderr, "vigil replay: --from-seq or --from-time, not both\n");
      goto usage;
    }
    if (rg.has_since || rg.has_until) {
      fprintf(stderr, "vigil replay: --since and --until choose stored entries; a stream is"
                      " read from --from-seq or --from-time\n");
      goto usage;
    }
    nats.skip_broken = skip_broken;
    status = vg_replay_nats(&cfg, &nats);
    goto done;
  }
  char err[512];
  /* The rules first: broken ones stop the command before the database is
   * touched, since a replay without them would take away what they set. */
  vg_rules *r = vg_cli_command_rules("vigil replay", &cfg, skip_broken);
  if (!r) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  vg_store *st = vg_cli_open_store("vigil replay", &cfg, 0);
  if (!st) {
    vg_rules_free(r);
    status = VG_EXIT_FAIL;
    goto done;
  }
  q.has_since = rg.has_since;
  q.since = rg.since;
  q.has_until = rg.has_until;
  q.until = rg.until;
  uv_loop_t loop;
  uv_loop_init(&loop);
  vg_sinks *sinks = vg_sinks_new(&loop, &cfg, err, sizeof err);
  replay_chunk chunk = {calloc(REPLAY_CHUNK, sizeof(replay_row)), 0};
  vg_alert_list alerts = {0};
  vg_batch b;
  vg_outbox *outbox = sinks ? vg_sinks_outbox(sinks, st, 1) : NULL;
  vg_batch_init(&b, &(vg_ingest){st, r, &alerts, vg_interrupt_catch(), outbox});
  uint64_t entries = 0, raised = 0, amended = 0;
  vg_progress progress;
  vg_progress_init(&progress, "replay", "entries", 0, vg_cli.quiet);
  if (!sinks || !chunk.v || !outbox) {
    fprintf(stderr, "vigil replay: %s\n", sinks ? "out of memory" : err);
    status = VG_EXIT_FAIL;
  }
  q.limit = REPLAY_CHUNK;
  while (status == VG_EXIT_OK && !vg_ingest_stopped(&b.ig)) {
    chunk.n = 0;
    int rc = vg_store_query(st, &q, copy_row, &chunk);
    if (rc == 0 && chunk.n == 0) break;
    if (rc == 0) rc = vg_batch_begin(&b);
    size_t done = 0; /* a stop is honoured between two entries; those run are committed */
    for (; rc == 0 && done < chunk.n && !vg_ingest_stopped(&b.ig); done++)
      rc = vg_rules_rerun(r, st, &chunk.v[done].e, b.ig.alerts);
    if ((rc = vg_batch_end(&b, rc, NULL, NULL))) {
      vg_progress_clear(&progress);
      fprintf(stderr, "vigil replay: %s\n", b.err);
      status = VG_EXIT_FAIL;
    } else if (done) {
      entries += done;
      for (size_t i = 0; i < alerts.n; i++) {
        if (alerts.v[i].version > 1) amended++;
        else raised++;
      }
      vg_sinks_send_all(sinks, &alerts);
      vg_sinks_pump(sinks, outbox, st);
      uv_run(&loop, UV_RUN_NOWAIT);
      q.has_after = 1;
      q.after_day = chunk.v[done - 1].e.first;
      q.after_id = chunk.v[done - 1].e.id;
      vg_progress_show(&progress, entries, 0);
    }
    for (size_t i = 0; i < chunk.n; i++) free(chunk.v[i].owned);
  }
  vg_progress_clear(&progress);
  const char *signal = vg_interrupt_name();
  if (status == VG_EXIT_OK && vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "summary");
    cJSON_AddNumberToObject(o, "entries", (double)entries);
    cJSON_AddNumberToObject(o, "rules", (double)vg_rules_count(r));
    cJSON_AddNumberToObject(o, "new_alerts", (double)raised);
    cJSON_AddNumberToObject(o, "amended", (double)amended);
    cJSON_AddBoolToObject(o, "interrupted", signal != NULL);
    if (signal) cJSON_AddStringToObject(o, "signal", signal);
    vg_cli_json_line(o);
  } else if (status == VG_EXIT_OK && !vg_cli.quiet) {
    printf("replayed %llu entries with %zu rules: %llu new alerts, %llu amended",
           (unsigned long long)entries, vg_rules_count(r), (unsigned long long)raised,
           (unsigned long long)amended);
    if (signal) printf("; interrupted by %s: the later entries were not replayed", signal);
    putchar('\n');
  }
  status = vg_interrupt_status(status);
  vg_sinks_finish(sinks, outbox, st, &loop);
  free(chunk.v);
  vg_batch_free(&b);
  free(alerts.v);
  vg_rules_free(r);
  vg_store_close(st);
  goto done;
usage:
  status = VG_EXIT_USAGE;
done:
  vg_config_free(&cfg);
  return status;
}
