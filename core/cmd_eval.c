/* cmd_eval.c — `vigil eval`: measures a rule set against labelled corpus
 * lines. Each line is an entry as `vigil ingest` takes it plus the tags it
 * must get (expect_tags), the tags it must not get (reject_tags) and the
 * alert rules that must raise an alert naming it (expect_alerts). The
 * entries go, in date order, through the rules into a database in memory;
 * the tags and alerts read back are scored per tag and per alert rule
 * (true and false positives, misses, precision, recall, F1). With
 * --against a second rule set runs on the same entries and the lines one
 * set gets right and the other wrong are named. */
#include "batch.h"
#include "cli.h"
#include "ingest.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable list of owned strings. */
typedef struct {
  char **v;
  size_t n;
} strv;

static void strv_add(strv *s, const char *str) {
  char **nv = realloc(s->v, (s->n + 1) * sizeof *nv);
  char *copy = strdup(str);
  if (!nv || !copy) abort(); /* a few names: nothing sensible is left to do */
  nv[s->n++] = copy;
  s->v = nv;
}

static int strv_has(const strv *s, const char *str) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->v[i], str) == 0) return 1;
  return 0;
}

static void strv_add_new(strv *s, const char *str) {
  if (!strv_has(s, str)) strv_add(s, str);
}

static void strv_free(strv *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
  *s = (strv){0};
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

enum { SETS = 2 }; /* the rules, and the --against rules */

/* One labelled corpus line. */
typedef struct {
  const char *file;      /* the corpus file (an argv string) */
  unsigned long line;    /* 1-based */
  size_t order;          /* its place among all lines read, to keep equal dates in order */
  char *id;              /* its "id", or NULL */
  char *text;            /* its "text", for the reports */
  char *entry;           /* the line without its labels, as compact JSON */
  int32_t first, second; /* its date, for the order */
  strv expect, reject, alerts, reject_alerts;
  int has_alerts;        /* it carries expect_alerts ... */
  int has_reject_alerts; /* ... and reject_alerts: it scores the rules they name, else all */
  int64_t id_in[SETS]; /* its entry's id in each set's database */
  strv got[SETS];      /* the tags each set gave it */
  strv raised[SETS];   /* the rules whose alerts name it, in each set */
} sample;

typedef struct {
  sample *v;
  size_t n, cap;
  unsigned long refused;
} corpus;

/* Says why a line is refused: FILE:LINE: why on stderr, or with --json
 * {"type":"error", file, line, message} on standard output. */
static void refuse(corpus *c, const char *file, unsigned long line, const char *why) {
  c->refused++;
  if (!vg_cli.json) {
    vg_cli_eprintf("vigil eval: %s:%lu: %s\n", file, line, why);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "error");
  cJSON_AddStringToObject(o, "file", file);
  cJSON_AddNumberToObject(o, "line", (double)line);
  cJSON_AddStringToObject(o, "message", why);
  vg_cli_json_line(o);
}

/* Takes the label member `name` (an array of strings, or absent) out of o
 * into out; 1 when present, 0 when absent, -1 (why written) when it is no
 * array of strings. */
static int take_labels(cJSON *o, const char *name, strv *out, char *why, size_t cap) {
  cJSON *a = cJSON_DetachItemFromObjectCaseSensitive(o, name);
  if (!a) return 0;
  int rc = 1;
  if (!cJSON_IsArray(a)) rc = -1;
  for (cJSON *it = a->child; rc == 1 && it; it = it->next) {
    if (cJSON_IsString(it))
      strv_add_new(out, it->valuestring);
    else
      rc = -1;
  }
  if (rc < 0) snprintf(why, cap, "\"%s\" is not a list of names", name);
  cJSON_Delete(a);
  return rc;
}

/* Reads one corpus line into s; 0, or -1 with why. */
static int read_sample(const char *data, size_t len, sample *s, size_t max_line, char *why,
                       size_t cap) {
  cJSON *o = cJSON_ParseWithLength(data, len);
  if (!cJSON_IsObject(o)) {
    snprintf(why, cap, "not a JSON object");
    cJSON_Delete(o);
    return -1;
  }
  if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "date"))) {
    snprintf(why, cap, "no date: a \"date\" string is needed");
    cJSON_Delete(o);
    return -1;
  }
  int rc = 0;
  if (take_labels(o, "expect_tags", &s->expect, why, cap) < 0 ||
      take_labels(o, "reject_tags", &s->reject, why, cap) < 0 ||
      (s->has_alerts = take_labels(o, "expect_alerts", &s->alerts, why, cap)) < 0 ||
      (s->has_reject_alerts = take_labels(o, "reject_alerts", &s->reject_alerts, why, cap)) < 0)
    rc = -1;
  if (rc == 0 && s->has_reject_alerts) s->has_alerts = 1;
  cJSON *id = cJSON_DetachItemFromObjectCaseSensitive(o, "id");
  if (cJSON_IsString(id))
    s->id = strdup(id->valuestring);
  else if (cJSON_IsNumber(id))
    s->id = cJSON_PrintUnformatted(id);
  cJSON_Delete(id);
  cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
  s->text = strdup(cJSON_IsString(text) ? text->valuestring : "");
  s->entry = rc ? NULL : cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (rc) return -1;
  if (!s->entry || !s->text) abort();
  vg_entry e;
  char reason[VG_REASON_MAX];
  size_t n = strlen(s->entry);
  if (n > max_line) {
    snprintf(why, cap, "the entry is %zu bytes, over the line cap of %zu", n, max_line);
    return -1;
  }
  if (vg_entry_parse(s->entry, n, VG_FORMAT_JSON, "eval", &e, reason)) {
    snprintf(why, cap, "%s", reason);
    return -1;
  }
  s->first = e.date.first;
  s->second = e.date.second;
  vg_entry_clear(&e);
  return 0;
}

static void sample_free(sample *s) {
  free(s->id);
  free(s->text);
  free(s->entry);
  strv_free(&s->expect);
  strv_free(&s->reject);
  strv_free(&s->alerts);
  strv_free(&s->reject_alerts);
  for (int k = 0; k < SETS; k++) {
    strv_free(&s->got[k]);
    strv_free(&s->raised[k]);
  }
}

/* Reads every line of file into c, refusing (and naming) the bad ones.
 * Blank lines are skipped. -1 when the file cannot be read. */
static int read_corpus(corpus *c, const char *file, size_t max_line) {
  FILE *f = fopen(file, "r");
  if (!f) {
    vg_cli_eprintf("vigil eval: %s: cannot read the corpus: %s\n", file, strerror(errno));
    return -1;
  }
  char *buf = NULL;
  size_t bufcap = 0;
  ssize_t len;
  unsigned long line = 0;
  while ((len = getline(&buf, &bufcap, f)) >= 0) {
    line++;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
      len--;
    if (strspn(buf, " \t") >= (size_t)len) continue;
    if (c->n == c->cap) {
      size_t cap = c->cap ? c->cap * 2 : 64;
      sample *nv = realloc(c->v, cap * sizeof *nv);
      if (!nv) abort();
      c->v = nv;
      c->cap = cap;
    }
    sample *s = &c->v[c->n];
    *s = (sample){.file = file, .line = line, .order = c->n};
    char why[256];
    if (read_sample(buf, (size_t)len, s, max_line, why, sizeof why)) {
      refuse(c, file, line, why);
      sample_free(s);
    } else {
      c->n++;
    }
  }
  int failed = ferror(f);
  if (failed) vg_cli_eprintf("vigil eval: %s: read error after line %lu\n", file, line);
  free(buf);
  fclose(f);
  return failed ? -1 : 0;
}

static int by_date(const void *a, const void *b) {
  const sample *x = a, *y = b;
  if (x->first != y->first) return x->first < y->first ? -1 : 1;
  if (x->second != y->second) return x->second < y->second ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* ---- running a rule set ---- */

static int keep_tag(void *ud, const char *tag, const char *rule) {
  (void)rule;
  strv_add_new(ud, tag);
  return 0;
}

typedef struct {
  corpus *c;
  int k;
} alert_ctx;

/* Adds the alert's rule to each sample whose entry it names. */
static int keep_alert(void *ud, const vg_alert_row *a) {
  alert_ctx *ac = ud;
  for (const char *p = a->entries; p && *p;) {
    char *end;
    long long id = strtoll(p, &end, 10);
    if (end == p) break;
    for (size_t i = 0; i < ac->c->n; i++)
      if (ac->c->v[i].id_in[ac->k] == id) strv_add_new(&ac->c->v[i].raised[ac->k], a->rule);
    if (*end != ',') break;
    p = end + 1;
  }
  return 0;
}

/* Ingests the corpus's entries, in date order, through r into a database
 * in memory in one transaction, and reads back the tags and alerts of set
 * k. 0, or -1 after saying why. */
static int run_set(corpus *c, vg_rules *r, int k, size_t max_line) {
  char err[512];
  vg_store *st = vg_store_open(":memory:", VG_STORE_SYNC_NORMAL, err, sizeof err);
  if (!st) {
    fprintf(stderr, "vigil eval: cannot open a database in memory: %s\n", err);
    return -1;
  }
  vg_batch b;
  vg_batch_init(&b, &(vg_ingest){st, r, NULL, NULL, NULL});
  int rc = vg_batch_begin(&b);
  for (size_t i = 0; rc == 0 && i < c->n; i++) {
    sample *s = &c->v[i];
    size_t n = strlen(s->entry);
    vg_line line = {s->entry, n, n, s->line, 0, VG_FORMAT_JSON, "eval", max_line, s->file, NULL};
    vg_result res;
    rc = vg_ingest_line(&b.ig, &line, &res, NULL);
    s->id_in[k] = rc == 0 && res.status != VG_REJECTED ? res.id : 0;
  }
  if ((rc = vg_batch_end(&b, rc, NULL, NULL)))
    fprintf(stderr, "vigil eval: the entries were not stored: %s\n", b.err);
  vg_batch_free(&b);
  for (size_t i = 0; rc == 0 && i < c->n; i++)
    if (c->v[i].id_in[k]) rc = vg_store_entry_tags(st, c->v[i].id_in[k], keep_tag, &c->v[i].got[k]);
  alert_ctx ac = {c, k};
  vg_alert_query q = {0};
  if (rc == 0) rc = vg_store_alerts(st, &q, keep_alert, &ac);
  if (rc)
    fprintf(stderr, "vigil eval: cannot read back the tags and alerts: %s\n", vg_store_errmsg(st));
  vg_store_close(st);
  return rc ? -1 : 0;
}

/* ---- scoring ---- */

typedef enum { NOT_SCORED, TRUE_POS, FALSE_POS, MISS, TRUE_NEG } verdict;

typedef enum { KIND_TAG, KIND_ALERT } kind;

/* What set k did on s for the tag or alert rule `name`. A line scores a tag
 * it names in expect_tags or reject_tags. It scores an alert rule it names
 * in expect_alerts or reject_alerts; with expect_alerts alone, every alert
 * rule (its list is then the complete one). */
static verdict judge(const sample *s, kind kd, const char *name, int k) {
  int want, got;
  if (kd == KIND_TAG) {
    want = strv_has(&s->expect, name);
    if (!want && !strv_has(&s->reject, name)) return NOT_SCORED;
    got = strv_has(&s->got[k], name);
  } else {
    if (!s->has_alerts) return NOT_SCORED;
    want = strv_has(&s->alerts, name);
    if (!want && s->has_reject_alerts && !strv_has(&s->reject_alerts, name)) return NOT_SCORED;
    got = strv_has(&s->raised[k], name);
  }
  return want ? (got ? TRUE_POS : MISS) : (got ? FALSE_POS : TRUE_NEG);
}

typedef struct {
  unsigned long tp, fp, fn;
} score;

/* A ratio whose denominator is zero is 1: nothing claimed was wrong, or
 * there was nothing to find. F1 is then 2tp / (2tp + fp + fn). */
static double ratio(unsigned long num, unsigned long den) {
  return den ? (double)num / (double)den : 1.0;
}
static double precision(score s) { return ratio(s.tp, s.tp + s.fp); }
static double recall(score s) { return ratio(s.tp, s.tp + s.fn); }
static double f1(score s) { return ratio(2 * s.tp, 2 * s.tp + s.fp + s.fn); }

static score score_of(const corpus *c, kind kd, const char *name, int k) {
  score sc = {0};
  for (size_t i = 0; i < c->n; i++) {
    verdict v = judge(&c->v[i], kd, name, k);
    sc.tp += v == TRUE_POS;
    sc.fp += v == FALSE_POS;
    sc.fn += v == MISS;
  }
  return sc;
}

static const char *kind_key(kind kd) { return kd == KIND_TAG ? "tag" : "alert"; }

static void json_score(kind kd, const char *name, score sc, const char *set) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", kind_key(kd));
  cJSON_AddStringToObject(o, kd == KIND_TAG ? "tag" : "rule", name);
  if (set) cJSON_AddStringToObject(o, "set", set);
  cJSON_AddNumberToObject(o, "tp", (double)sc.tp);
  cJSON_AddNumberToObject(o, "fp", (double)sc.fp);
  cJSON_AddNumberToObject(o, "fn", (double)sc.fn);
  cJSON_AddNumberToObject(o, "precision", precision(sc));
  cJSON_AddNumberToObject(o, "recall", recall(sc));
  cJSON_AddNumberToObject(o, "f1", f1(sc));
  vg_cli_json_line(o);
}

/* One line named in a list: a miss, a false positive, a fixed or a broken
 * line. Text: "  WHAT FILE:LINE [id]: text" cut to one line of about 100
 * characters; JSON: {"type":WHAT, tag or alert, file, line, id, text}. */
static void say_line(const char *what, kind kd, const char *name, const sample *s,
                     const char *set) {
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", what);
    cJSON_AddStringToObject(o, kind_key(kd), name);
    if (set) cJSON_AddStringToObject(o, "set", set);
    cJSON_AddStringToObject(o, "file", s->file);
    cJSON_AddNumberToObject(o, "line", (double)s->line);
    if (s->id) cJSON_AddStringToObject(o, "id", s->id);
    cJSON_AddStringToObject(o, "text", s->text);
    vg_cli_json_line(o);
    return;
  }
  size_t n = strcspn(s->text, "\r\n"), cut = n;
  if (cut > 100) { /* back to the start of a UTF-8 character */
    cut = 100;
    while (cut > 0 && ((unsigned char)s->text[cut] & 0xC0) == 0x80)
      cut--;
  }
  const char *label = strcmp(what, "false_positive") == 0 ? "false positive" : what;
  vg_cli_printf("  %-14s %s:%lu%s%s%s: %.*s%s\n", label, s->file, s->line, s->id ? " [" : "",
                s->id ? s->id : "", s->id ? "]" : "", (int)cut, s->text,
                cut < strlen(s->text) ? " ..." : "");
}

static void text_score(score sc) {
  printf(" %5lu %5lu %5lu %9.3f %7.3f %6.3f", sc.tp, sc.fp, sc.fn, precision(sc), recall(sc),
         f1(sc));
}

/* Prints the figures of every name of one kind, and the lines to look at:
 * the misses and false positives of the rules, and with --against the lines
 * fixed (wrong with the --against rules, right with the rules) and broken
 * (the other way). */
static void report(const corpus *c, kind kd, const strv *names, int sets) {
  if (!names->n) return;
  if (!vg_cli.json) {
    const char *head = kd == KIND_TAG ? "TAG" : "ALERT RULE";
    vg_style bold = VG_STYLE_BOLD;
    printf("%s%-20s %5s %5s %5s %9s %7s %6s", vg_term_on(stdout, bold), head, "TP", "FP", "FN",
           "PRECISION", "RECALL", "F1");
    if (sets > 1)
      printf(" | %5s %5s %5s %9s %7s %6s  (--against)", "TP", "FP", "FN", "PRECISION", "RECALL",
             "F1");
    printf("%s\n", vg_term_off(stdout, bold));
  }
  for (size_t t = 0; t < names->n; t++) {
    const char *name = names->v[t];
    score sc[SETS];
    for (int k = 0; k < sets; k++)
      sc[k] = score_of(c, kd, name, k);
    if (vg_cli.json) {
      for (int k = 0; k < sets; k++)
        json_score(kd, name, sc[k], sets > 1 ? (k ? "against" : "rules") : NULL);
    } else {
      vg_cli_printf("%-20s", name);
      for (int k = 0; k < sets; k++) {
        if (k) printf(" |");
        text_score(sc[k]);
      }
      putchar('\n');
    }
    const char *set = sets > 1 ? "rules" : NULL;
    for (size_t i = 0; i < c->n; i++) {
      verdict v = judge(&c->v[i], kd, name, 0);
      if (v == MISS) say_line("miss", kd, name, &c->v[i], set);
      if (v == FALSE_POS) say_line("false_positive", kd, name, &c->v[i], set);
    }
    for (size_t i = 0; sets > 1 && i < c->n; i++) {
      verdict now = judge(&c->v[i], kd, name, 0), then = judge(&c->v[i], kd, name, 1);
      int right = now == TRUE_POS || now == TRUE_NEG;
      int was_right = then == TRUE_POS || then == TRUE_NEG;
      if (now != NOT_SCORED && right != was_right)
        say_line(right ? "fixed" : "broken", kd, name, &c->v[i], NULL);
    }
  }
}

/* ---- the command ---- */

typedef struct {
  const char *tag;
  double min;
} floor_f1;

static const char eval_help[] =
    "usage: vigil eval [--rules PATH]... [--against PATH]... [--min-f1 TAG=X]... [--json]\n"
    "                  CORPUS...\n"
    "Measures rules against labelled entries. A CORPUS file holds one JSON object a line:\n"
    "an entry as `vigil ingest` takes it (date, text, source and other fields) plus\n"
    "  expect_tags    tags a correct rule set sets on it\n"
    "  reject_tags    tags it must not get\n"
    "  expect_alerts  names of the alert rules that should raise an alert naming it\n"
    "  reject_alerts  names of alert rules that must not name it; without it, a line\n"
    "                 carrying expect_alerts (even empty) lists them all\n"
    "  id             a name for the line, shown beside its file:line\n"
    "The entries, without those members, go in date order through the rules (the\n"
    "configured `rules`, or the --rules paths, repeatable) into a database in memory.\n"
    "A line scores a tag it names in expect_tags or reject_tags: a true positive when\n"
    "an expected tag is set, a miss (fn) when it is not, a false positive (fp) when a\n"
    "rejected one is set. Alert rules are scored alike on the lines that name them\n"
    "(or on every line carrying expect_alerts without reject_alerts).\n"
    "Prints per tag and per alert rule tp, fp, fn, precision, recall and F1 (a\n"
    "ratio over nothing is 1), then each miss and false positive as FILE:LINE: text.\n"
    "  --rules PATH     the rules to measure (a directory or a file; repeatable)\n"
    "  --against PATH   a second rule set run on the same corpus (repeatable): both\n"
    "                   sets' figures side by side, and the lines fixed (wrong with\n"
    "                   --against, right with the rules) and broken (the reverse)\n"
    "  --min-f1 NAME=X  exit status 1, saying so, when the F1 of tag or alert rule NAME\n"
    "                   with the rules is below X (0 to 1; repeatable); a NAME no line\n"
    "                   scores fails it too\n"
    "  --json   one JSON object a line: {\"type\":\"tag\", tag, tp, fp, fn, precision,\n"
    "           recall, f1} per tag and {\"type\":\"alert\", rule, ...} per alert rule (with\n"
    "           --against, two each with \"set\":\"rules\" or \"against\");\n"
    "           {\"type\":\"miss\"|\"false_positive\", tag or alert, file, line, id (when\n"
    "           given), text} (\"set\":\"rules\" with --against); {\"type\":\"fixed\"|\n"
    "           \"broken\", tag or alert, file, line, id, text}; {\"type\":\"error\", file,\n"
    "           line, message} per line refused; then {\"type\":\"summary\", entries,\n"
    "           refused, tags, alert_rules, below_floor}\n"
    "A line that is not a JSON object, has no date or is no entry is refused with\n"
    "FILE:LINE: why; the rest is measured. Exit status 0; 1 when a line was refused or\n"
    "an F1 is below its --min-f1; 2 on a usage error; 3 when the rules do not load.\n";

/* Parses TAG=X of --min-f1 into f; -1 after saying why. */
static int parse_floor(const char *arg, floor_f1 *f) {
  const char *eq = strrchr(arg, '=');
  char *end;
  if (eq && eq != arg) {
    errno = 0;
    f->min = strtod(eq + 1, &end);
    if (!errno && end != eq + 1 && !*end && f->min >= 0 && f->min <= 1) {
      f->tag = arg;
      return (int)(eq - arg);
    }
  }
  vg_cli_eprintf("vigil eval: --min-f1 '%s': NAME=X is needed, X from 0 to 1\n", arg);
  return -1;
}

/* Checks the floors against the rules' figures, each on the tag or else
 * the alert rule of its name; the number below theirs. */
static int check_floors(const corpus *c, const strv *tags, const strv *alerts, floor_f1 *floors,
                        int *lens, size_t n) {
  int below = 0;
  for (size_t i = 0; i < n; i++) {
    char *name = strndup(floors[i].tag, (size_t)lens[i]);
    if (!name) abort();
    kind kd = strv_has(tags, name) ? KIND_TAG : KIND_ALERT;
    if (kd == KIND_ALERT && !strv_has(alerts, name)) {
      vg_cli_eprintf("vigil eval: --min-f1 %s: no corpus line scores this tag or alert rule\n",
                     name);
      below++;
    } else {
      double got = f1(score_of(c, kd, name, 0));
      if (got + 1e-9 < floors[i].min) {
        vg_cli_eprintf("vigil eval: %s '%s': F1 %.3f is below its floor %.3f\n",
                       kd == KIND_TAG ? "tag" : "alert rule", name, got, floors[i].min);
        below++;
      }
    }
    free(name);
  }
  return below;
}

int vg_cmd_eval(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {VG_CLI_RULES_OPTION,
                                       {"against", required_argument, NULL, 'a'},
                                       {"min-f1", required_argument, NULL, 'm'},
                                       VG_CLI_GLOBAL_OPTIONS,
                                       {0}};
  char **against = calloc((size_t)argc + 1, sizeof *against);
  floor_f1 *floors = calloc((size_t)argc + 1, sizeof *floors);
  int *lens = calloc((size_t)argc + 1, sizeof *lens);
  size_t nagainst = 0, nfloors = 0;
  corpus c = {0};
  vg_rules *r[SETS] = {NULL, NULL};
  strv tags = {0}, alerts = {0};
  int opt, status = VG_EXIT_OK, sets = 1;
  if (!against || !floors || !lens) abort();
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    switch (opt) {
    case 'r': vg_cli_flag("vigil eval", &cfg, "rules", optarg); break;
    case 'a': against[nagainst++] = optarg; break;
    case 'm':
      if ((lens[nfloors] = parse_floor(optarg, &floors[nfloors])) < 0) goto usage;
      nfloors++;
      break;
    case 'h': fputs(eval_help, stdout); goto done;
    default: fputs(eval_help, stderr); goto usage;
    }
  }
  vg_config_resolve(&cfg);
  if (optind == argc) {
    fprintf(stderr, "vigil eval: which corpus? Name one or more files.\n");
    fputs(eval_help, stderr);
    goto usage;
  }
  sets = nagainst ? 2 : 1;
  if (!(r[0] = vg_cli_command_rules("vigil eval", &cfg, 0))) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  if (nagainst) {
    vg_config other = cfg; /* shares cfg's strings: not freed */
    other.rules = against;
    other.origin[vg_config_find("rules")] = VG_ORIGIN_FLAG;
    if (!(r[1] = vg_cli_command_rules("vigil eval --against", &other, 0))) {
      status = VG_EXIT_FAIL;
      goto done;
    }
  }
  for (int i = optind; i < argc; i++)
    if (read_corpus(&c, argv[i], cfg.max_line)) {
      status = VG_EXIT_FAIL;
      goto done;
    }
  qsort(c.v, c.n, sizeof *c.v, by_date);
  for (int k = 0; k < sets; k++)
    if (run_set(&c, r[k], k, cfg.max_line)) {
      status = VG_EXIT_FAIL;
      goto done;
    }
  for (size_t i = 0; i < c.n; i++) {
    sample *s = &c.v[i];
    for (size_t j = 0; j < s->expect.n; j++)
      strv_add_new(&tags, s->expect.v[j]);
    for (size_t j = 0; j < s->reject.n; j++)
      strv_add_new(&tags, s->reject.v[j]);
    for (size_t j = 0; j < s->alerts.n; j++)
      strv_add_new(&alerts, s->alerts.v[j]);
    for (size_t j = 0; j < s->reject_alerts.n; j++)
      strv_add_new(&alerts, s->reject_alerts.v[j]);
    for (int k = 0; s->has_alerts && !s->has_reject_alerts && k < sets; k++)
      for (size_t j = 0; j < s->raised[k].n; j++)
        strv_add_new(&alerts, s->raised[k].v[j]);
  }
  if (tags.n) qsort(tags.v, tags.n, sizeof *tags.v, by_name);
  if (alerts.n) qsort(alerts.v, alerts.n, sizeof *alerts.v, by_name);
  report(&c, KIND_TAG, &tags, sets);
  if (tags.n && alerts.n && !vg_cli.json) putchar('\n');
  report(&c, KIND_ALERT, &alerts, sets);
  int below = check_floors(&c, &tags, &alerts, floors, lens, nfloors);
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "summary");
    cJSON_AddNumberToObject(o, "entries", (double)c.n);
    cJSON_AddNumberToObject(o, "refused", (double)c.refused);
    cJSON_AddNumberToObject(o, "tags", (double)tags.n);
    cJSON_AddNumberToObject(o, "alert_rules", (double)alerts.n);
    cJSON_AddNumberToObject(o, "below_floor", below);
    vg_cli_json_line(o);
  } else if (!vg_cli.quiet) {
    printf("%zu entr%s, %zu tag%s and %zu alert rule%s scored; %lu line%s refused\n", c.n,
           c.n == 1 ? "y" : "ies", tags.n, tags.n == 1 ? "" : "s", alerts.n,
           alerts.n == 1 ? "" : "s", c.refused, c.refused == 1 ? "" : "s");
  }
  status = c.refused || below ? VG_EXIT_REJECTS : VG_EXIT_OK;
  goto done;
usage:
  status = VG_EXIT_USAGE;
done:
  strv_free(&tags);
  strv_free(&alerts);
  for (size_t i = 0; i < c.n; i++)
    sample_free(&c.v[i]);
  free(c.v);
  for (int k = 0; k < SETS; k++)
    vg_rules_free(r[k]);
  free(against);
  free(floors);
  free(lens);
  vg_config_free(&cfg);
  return status;
}
