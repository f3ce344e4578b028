/* test_correlate.c — correlation rules in event time, checked the way an
 * analyst reads their alerts.
 *
 * Each test writes a tagging rule (the words launch, exercise and summit
 * become tags) and a few correlation rules into a temporary directory, loads
 * them, and ingests chronology lines into a database in memory through
 * vg_ingest_line, as the daemon does: one transaction per line or per batch,
 * each ended with vg_ingest_flush before its commit. The stored alerts are
 * read back with vg_store_alerts, each with the texts of the entries it
 * names, so expectations read as "rule(key): text | text".
 *
 * Covers sequence (window bounds, same day, step order, one alert per last
 * step naming every first step, late first steps, replays, per_pair,
 * min_gap, by (a function, or a field by name), month-precision dates,
 * three steps, two steps of one kind on one day), threshold (count, window, a later window, quiet, a dense day:
 * one alert with the true count, a bounded list and one alert call an
 * entry), absence (answered in time, fired once at the watermark, order
 * within a batch, lateness, the wall clock), first (one per value, moved to
 * an earlier entry), one event reported by several sources or worded alike
 * (counted once, never paired with itself, every report named), the same
 * alerts (and their dates and messages) whatever the arrival order, history
 * queries from rules (also in the form README.md shows), and what loading
 * reports about bad correlation specs and about a `by` that gives no usable
 * key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "date.h"
#include "ingest.h"
#include "rules.h"
#include "rules_impl.h"
#include "store.h"
#include "vigil.h"

#include "support.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

typedef struct {
  char dir[64];
  vg_store *st;
  vg_rules *r;
  int errors; /* what the last load said */
  support_reports rep;
  vg_alert_list out; /* the new alerts handed on for the sinks */
  vg_ingest ig;      /* the store, the rules and out */
  uint64_t line_no;
  const char *source; /* of the lines fed, NULL for "desk" */
} fixture;

/* Failures are counted, not punished: no rule is disabled in these tests.
 * Their entries of one kind share a template ("launch number 5"): distinct
 * events, so only reports alike in every word are one (similarity 1). */
static const vg_rules_limits limits = {8u << 20, 200000, 100, 1.0, 0};

static vg_store *open_memory(void) {
  char err[256] = "";
  vg_store *st = vg_store_open(":memory:", VG_STORE_SYNC_NORMAL, err, sizeof err);
  if (!st) fprintf(stderr, "cannot open a store in memory: %s\n", err);
  return st;
}

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  if (!fx) return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vigil-correlate-XXXXXX");
  if (!mkdtemp(fx->dir)) {
    free(fx);
    return -1;
  }
  if (!(fx->st = open_memory())) {
    rmdir(fx->dir);
    free(fx);
    return -1;
  }
  fx->ig = (vg_ingest){fx->st, NULL, &fx->out, NULL, NULL};
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  vg_alert_list_clear(&fx->out);
  free(fx->out.v);
  vg_rules_free(fx->r);
  vg_store_close(fx->st);
  support_remove_dir(fx->dir);
  free(fx);
  return 0;
}

/* ---- rules ---- */

static void write_rules(fixture *fx, const char *name, const char *text) {
  assert_int_equal(support_write_file(fx->dir, name, text), 0);
}

static void load(fixture *fx) {
  memset(&fx->rep, 0, sizeof fx->rep);
  vg_rules_free(fx->r);
  fx->r = vg_rules_load(fx->dir, NULL, &limits, support_collect_report, &fx->rep, &fx->errors);
  assert_non_null(fx->r);
  fx->ig.rules = fx->r;
}

static void load_clean(fixture *fx) {
  load(fx);
  if (fx->errors) fail_msg("the rules did not load cleanly: %s", fx->rep.text);
}

/* The plain rule every test starts from: each of the words becomes a tag. */
#define TAGGING                                                                                    \
  "rule \"t\" {\n"                                                                                 \
  "  tags = function(e)\n"                                                                         \
  "    local t = {}\n"                                                                             \
  "    for _, w in ipairs{\"launch\", \"exercise\", \"summit\"} do\n"                              \
  "      if e:find(w) then t[#t + 1] = w end\n"                                                    \
  "    end\n"                                                                                      \
  "    return t\n"                                                                                 \
  "  end,\n"                                                                                       \
  "}\n"

#define LAUNCH_THEN_EXERCISE "steps = { tagged\"launch\", tagged\"exercise\" }"
#define SEQ14 "sequence \"seq\" { " LAUNCH_THEN_EXERCISE ", within = days(14) }\n"
#define THR "threshold \"thr\" { match = tagged\"launch\", count = 3, within = days(30) }\n"
#define ABS "absence \"abs\" { " LAUNCH_THEN_EXERCISE ", within = days(7) }\n"
#define MEETINGS "steps = { tagged\"summit\", tagged\"summit\" }, within = days(10)"
#define NEW                                                                                        \
  "first \"new\" {\n"                                                                              \
  "  match = tagged\"launch\",\n"                                                                  \
  "  by = function(e) return e:match[[\\b(Hwasong-\\d+|KN-\\d+)\\b]] end,\n"                       \
  "}\n"

/* Loads the tagging rule and the correlation rules in text. */
static void use_rules(fixture *fx, const char *text) {
  write_rules(fx, "00-tags.lua", TAGGING);
  write_rules(fx, "10-correlate.lua", text);
  load_clean(fx);
}

/* ---- ingesting, as the daemon does ---- */

static void begin(fixture *fx) { assert_int_equal(vg_store_begin(fx->st), 0); }

static void flush(fixture *fx) { assert_int_equal(vg_ingest_flush(&fx->ig), 0); }

static void commit(fixture *fx) { assert_int_equal(vg_store_commit(fx->st), 0); }

/* Ingests one chronology line into the open transaction; returns its status. */
static int feed_status(fixture *fx, const char *text, int64_t *id) {
  vg_line l = {0};
  l.data = text;
  l.len = strlen(text);
  l.total = l.len;
  l.line_no = ++fx->line_no;
  l.format = VG_FORMAT_AUTO;
  l.source = fx->source ? fx->source : "desk";
  l.max_line = 4096;
  vg_result res;
  vg_counts c = {0};
  assert_int_equal(vg_ingest_line(&fx->ig, &l, &res, &c), 0);
  if (res.status == VG_REJECTED) fail_msg("\"%s\" was rejected: %s", text, res.reason);
  *id = res.id;
  return res.status;
}

/* Ingests a new line; returns the id it was stored under. */
static int64_t feed(fixture *fx, const char *text) {
  int64_t id = 0;
  assert_int_equal(feed_status(fx, text, &id), VG_STORED);
  return id;
}

/* The lines (NULL-ended) in one transaction, flushed and committed. */
static void batch_of(fixture *fx, const char *const *lines) {
  begin(fx);
  for (size_t i = 0; lines[i]; i++)
    feed(fx, lines[i]);
  flush(fx);
  commit(fx);
}

/* The lines (NULL-ended), one transaction each. */
static void each_of(fixture *fx, const char *const *lines) {
  for (size_t i = 0; lines[i]; i++) {
    begin(fx);
    feed(fx, lines[i]);
    flush(fx);
    commit(fx);
  }
}

/* The lines (NULL-ended), one transaction each, as reported by source. */
static void reported_by(fixture *fx, const char *source, const char *const *lines) {
  fx->source = source;
  each_of(fx, lines);
  fx->source = NULL;
}

#define BATCH(fx, ...) batch_of((fx), (const char *const[]){__VA_ARGS__, NULL})
#define EACH(fx, ...) each_of((fx), (const char *const[]){__VA_ARGS__, NULL})
#define REPORTED_BY(fx, source, ...)                                                               \
  reported_by((fx), (source), (const char *const[]){__VA_ARGS__, NULL})

/* The wall clock reaching `today`, in a transaction of its own. */
static void tick(fixture *fx, int32_t today) {
  begin(fx);
  assert_int_equal(vg_rules_tick(fx->r, fx->st, today, &fx->out), 0);
  commit(fx);
}

/* Starts over on an empty store, with the same rules. */
static void fresh_store(fixture *fx) {
  vg_store_close(fx->st);
  fx->st = open_memory();
  assert_non_null(fx->st);
  fx->ig.st = fx->st;
  vg_alert_list_clear(&fx->out);
}

/* ---- reading the alerts back ---- */

#define ALERTS_MAX 32
#define NAMED_SHOWN 16

typedef struct {
  int64_t id;
  char rule[64], key[128], date[32], message[512];
  char ids[512];    /* the entry ids, as stored */
  long long count;  /* the events of a threshold's window, or -1 */
  char texts[2048]; /* the texts of those entries, sorted, joined by " | " */
  size_t nentries;
} alert_row;

typedef struct {
  alert_row v[ALERTS_MAX];
  size_t n;
  int overflow;
} alert_set;

static int take_alert(void *ud, const vg_alert_row *row) {
  alert_set *s = ud;
  if (s->n == ALERTS_MAX) {
    s->overflow = 1;
    return 1;
  }
  alert_row *a = &s->v[s->n++];
  memset(a, 0, sizeof *a);
  a->id = row->id;
  snprintf(a->rule, sizeof a->rule, "%s", row->rule);
  snprintf(a->key, sizeof a->key, "%s", row->key ? row->key : "");
  snprintf(a->date, sizeof a->date, "%s", row->date);
  snprintf(a->message, sizeof a->message, "%s", row->message);
  snprintf(a->ids, sizeof a->ids, "%s", row->entries ? row->entries : "");
  a->count = row->count;
  return 0;
}

static int take_text(void *ud, const vg_row *row) {
  snprintf(ud, 256, "%.*s", (int)row->text_len, row->text);
  return 0;
}

static int by_string(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every stored alert, in date order, with the texts of its entries. The
 * set stays valid until the next call. */
static const alert_set *alerts(fixture *fx) {
  static alert_set s;
  memset(&s, 0, sizeof s);
  vg_alert_query q = {0};
  int rc = vg_store_alerts(fx->st, &q, take_alert, &s);
  assert_false(s.overflow);
  assert_int_equal(rc, 0);
  for (size_t i = 0; i < s.n; i++) {
    alert_row *a = &s.v[i];
    char texts[NAMED_SHOWN][256];
    const char *sorted[NAMED_SHOWN];
    size_t n = 0;
    for (const char *p = a->ids; *p;) {
      char *end;
      long long id = strtoll(p, &end, 10);
      assert_true(end != p);
      assert_true(n < NAMED_SHOWN);
      assert_int_equal(vg_store_entry(fx->st, id, take_text, texts[n]), 0);
      sorted[n] = texts[n];
      n++;
      p = *end == ',' ? end + 1 : end;
    }
    qsort(sorted, n, sizeof *sorted, by_string);
    a->nentries = n;
    for (size_t k = 0; k < n; k++) {
      size_t used = strlen(a->texts);
      snprintf(a->texts + used, sizeof a->texts - used, "%s%s", k ? " | " : "", sorted[k]);
    }
  }
  return &s;
}

/* Every alert as "rule(key): text | text" (the key only when there is one),
 * the alerts sorted, one a line. Valid until the next call. */
static const char *summary(fixture *fx) {
  static char buf[16384], lines[ALERTS_MAX][2300];
  const char *sorted[ALERTS_MAX];
  const alert_set *s = alerts(fx);
  for (size_t i = 0; i < s->n; i++) {
    const alert_row *a = &s->v[i];
    if (a->key[0])
      snprintf(lines[i], sizeof lines[i], "%s(%s): %s", a->rule, a->key, a->texts);
    else
      snprintf(lines[i], sizeof lines[i], "%s: %s", a->rule, a->texts);
    sorted[i] = lines[i];
  }
  qsort(sorted, s->n, sizeof *sorted, by_string);
  buf[0] = '\0';
  for (size_t i = 0; i < s->n; i++) {
    size_t used = strlen(buf);
    snprintf(buf + used, sizeof buf - used, "%s%s", i ? "\n" : "", sorted[i]);
  }
  return buf;
}

/* The lines, one transaction each, on an empty store: what alerts they give. */
static const char *fresh_run(fixture *fx, const char *const *lines) {
  fresh_store(fx);
  each_of(fx, lines);
  return summary(fx);
}

#define FRESH(fx, ...) fresh_run((fx), (const char *const[]){__VA_ARGS__, NULL})

/* The alerts of one rule, how many. */
static size_t count_of(fixture *fx, const char *rname) {
  const alert_set *s = alerts(fx);
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++)
    n += strcmp(s->v[i].rule, rname) == 0;
  return n;
}

/* The only alert of a rule (fails unless there is exactly one); a copy. */
static alert_row only_alert(fixture *fx, const char *rname) {
  const alert_set *s = alerts(fx);
  const alert_row *found = NULL;
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->v[i].rule, rname) == 0) {
      if (found) fail_msg("rule '%s' has more than one alert:\n%s", rname, summary(fx));
      found = &s->v[i];
    }
  if (!found) fail_msg("rule '%s' has no alert", rname);
  return *found;
}

static const rule *loaded_rule(fixture *fx, const char *rname) {
  for (size_t i = 0; i < fx->r->n; i++)
    if (strcmp(fx->r->v[i].name, rname) == 0) return &fx->r->v[i];
  fail_msg("no rule '%s' is loaded", rname);
  return NULL;
}

static int32_t day(int y, int m, int d) { return vg_days_from_civil(y, m, d); }

/* ---- sequence ---- */

static void test_sequence_window_includes_day_fourteen_not_fifteen(void **state) {
  fixture *fx = *state;
  use_rules(fx, SEQ14);
  EACH(fx, "2023-03-01: launch one", "2023-03-15: exercise fourteen days later");
  assert_string_equal(summary(fx), "seq: exercise fourteen days later | launch one");
  assert_int_equal(fx->out.n, 1);

  assert_string_equal(
      FRESH(fx, "2023-03-01: launch one", "2023-03-16: exercise fifteen days later"), "");
  assert_int_equal(fx->out.n, 0);

  /* The same bounds when the launch arrives after the exercise. */
  assert_string_equal(
      FRESH(fx, "2023-03-15: exercise fourteen days later", "2023-03-01: launch one"),
      "seq: exercise fourteen days later | launch one");
  assert_string_equal(
      FRESH(fx, "2023-03-16: exercise fifteen days later", "2023-03-01: launch one"), "");
}

static void test_sequence_same_day_pairs(void **state) {
  fixture *fx = *state;
  use_rules(fx, SEQ14);
  EACH(fx, "2023-03-01: launch at dawn", "2023-03-01: exercise at noon");
  assert_string_equal(summary(fx), "seq: exercise at noon | launch at dawn");
  /* A day carries no order within it: the other arrival order pairs too. */
  assert_string_equal(FRESH(fx, "2023-03-01: exercise at noon", "2023-03-01: launch at dawn"),
                      "seq: exercise at noon | launch at dawn");
}

static void test_sequence_exercise_before_launch_does_not_pair(void **state) {
  fixture *fx = *state;
  use_rules(fx, SEQ14);
  EACH(fx, "2023-03-01: exercise first", "2023-03-05: launch four days after");
  assert_string_equal(summary(fx), "");
  assert_string_equal(FRESH(fx, "2023-03-05: launch four days after", "2023-03-01: exercise first"),
                      "");
  assert_int_equal(fx->out.n, 0);
}

static void test_sequence_one_alert_per_exercise_naming_every_launch(void **state) {
  fixture *fx = *state;
  use_rules(fx, SEQ14);
  EACH(fx, "2023-02-10: launch too early", "2023-03-01: launch one", "2023-03-05: launch two",
       "2023-03-10: exercise alpha");
  assert_string_equal(summary(fx), "seq: exercise alpha | launch one | launch two");
  assert_int_equal(alerts(fx)->n, 1);
  assert_int_equal(fx->out.n, 1);
  assert_int_equal(fx->out.v[0].nentries, 3);

  /* A second exercise is a second alert, for its own window. */
  EACH(fx, "2023-03-12: exercise bravo");
  assert_string_equal(summary(fx), "seq: exercise alpha | launch one | launch two\n"
                                   "seq: exercise bravo | launch one | launch two");
  assert_int_equal(fx->out.n, 2);
}

static void test_sequence_late_launch_amends_the_alert(void **state) {
  fixture *fx = *state;
  use_rules(fx, SEQ14);
  EACH(fx, "2023-03-01: launch one", "2023-03-10: exercise alpha");
  alert_row before = only_alert(fx, "seq");
  assert_string_equal(before.texts, "exercise alpha | launch one");
  assert_int_equal(fx->out.n, 1);

  EACH(fx, "2023-03-05: launch two, reported late");
  alert_row after = only_alert(fx, "seq");
  assert_int_equal(after.id, before.id);
  assert_string_equal(after.texts, "exercise alpha | launch one | launch two, reported late");
  assert_int_equal(fx->out.n, 1); /* amended, not raised again */

  /* A late launch outside the window changes nothing. */
  EACH(fx, "2023-02-01: launch long before");
  assert_string_equal(summary(fx), "seq: exercise alpha | launch one | launch two, reported late");
  assert_int_equal(fx->out.n, 1);

  /* A late launch in the windows of two exercises amends both alerts. */
  EACH(fx, "2023-03-12: exercise bravo");
  assert_int_equal(fx->out.n, 2);
  EACH(fx, "2023-03-09: launch three, reported late");
  assert_string_equal(summary(fx),
                      "seq: exercise alpha | launch one | launch three, reported late | "
                      "launch two, reported late\n"
                      "seq: exercise bravo | launch one | launch three, reported late | "
                      "launch two, reported late");
  assert_int_equal(fx->out.n, 2);
}

static void test_sequence_replay_changes_nothing(void **state) {
  fixture *fx = *state;
  use_rules(fx, SEQ14);
  static const char *const lines[] = {"2023-03-01: launch one", "2023-03-05: launch two",
                                      "2023-03-10: exercise alpha", "2023-03-30: exercise late",
                                      NULL};
  each_of(fx, lines);
  char first[4096];
  snprintf(first, sizeof first, "%s", summary(fx));
  assert_string_equal(first, "seq: exercise alpha | launch one | launch two");
  size_t raised = fx->out.n;

  begin(fx);
  for (size_t i = 0; lines[i]; i++) {
    int64_t id;
    assert_int_equal(feed_status(fx, lines[i], &id), VG_DUPLICATE);
  }
  flush(fx);
  commit(fx);
  assert_string_equal(summary(fx), first);
  assert_int_equal(fx->out.n, raised);
}

static void test_sequence_per_pair_one_alert_per_launch(void **state) {
  fixture *fx = *state;
  use_rules(fx,
            "sequence \"pp\" { " LAUNCH_THEN_EXERCISE ", within = days(14), per_pair = true }\n");
  EACH(fx, "2023-03-01: launch one", "2023-03-05: launch two", "2023-03-10: exercise alpha");
  assert_string_equal(summary(fx), "pp: exercise alpha | launch one\n"
                                   "pp: exercise alpha | launch two");
  assert_int_equal(fx->out.n, 2);

  EACH(fx, "2023-03-07: launch three, reported late");
  assert_string_equal(summary(fx), "pp: exercise alpha | launch one\n"
                                   "pp: exercise alpha | launch three, reported late\n"
                                   "pp: exercise alpha | launch two");
  assert_int_equal(fx->out.n, 3);
}

static void test_sequence_min_gap_excludes_close_pairs(void **state) {
  fixture *fx = *state;
  use_rules(fx, "sequence \"gap\" { " LAUNCH_THEN_EXERCISE
                ", within = days(14), min_gap = days(2) }\n");
  EACH(fx, "2023-03-01: launch nine days before", "2023-03-08: launch two days before",
       "2023-03-09: launch one day before", "2023-03-10: launch the same day",
       "2023-03-10: exercise alpha");
  assert_string_equal(summary(fx),
                      "gap: exercise alpha | launch nine days before | launch two days before");

  assert_string_equal(FRESH(fx, "2023-03-09: launch one day before",
                            "2023-03-10: launch the same day", "2023-03-10: exercise alpha"),
                      "");
}

static void test_sequence_by_key_pairs_only_equal_keys(void **state) {
  fixture *fx = *state;
  use_rules(fx, "sequence \"colour\" {\n"
                "  " LAUNCH_THEN_EXERCISE ",\n"
                "  within = days(14),\n"
                "  by = function(e) return e:match[[\\b(red|blue)\\b]] end,\n"
                "}\n");
  EACH(fx, "2023-03-01: launch by red", "2023-03-02: launch by nobody",
       "2023-03-05: exercise by blue");
  assert_string_equal(summary(fx), "");

  EACH(fx, "2023-03-06: exercise by red");
  assert_string_equal(summary(fx), "colour(red): exercise by red | launch by red");
  assert_string_equal(only_alert(fx, "colour").key, "red");
}

static void test_sequence_by_field_pairs_only_equal_field_texts(void **state) {
  fixture *fx = *state;
  use_rules(fx, "sequence \"region\" {\n"
                "  " LAUNCH_THEN_EXERCISE ",\n"
                "  within = days(14),\n"
                "  by = \"region\",\n"
                "}\n");
  EACH(fx, "{\"date\": \"2023-03-01\", \"text\": \"launch north\", \"region\": \"north\"}",
       "2023-03-02: launch with no region",
       "{\"date\": \"2023-03-03\", \"text\": \"launch nowhere\", \"region\": null}",
       "{\"date\": \"2023-03-05\", \"text\": \"exercise south\", \"region\": \"south\"}");
  assert_string_equal(summary(fx), "");
  EACH(fx, "{\"date\": \"2023-03-06\", \"text\": \"exercise north\", \"region\": \"north\"}");
  assert_string_equal(summary(fx), "region(north): exercise north | launch north");
  EACH(fx, "2023-03-07: exercise with no region");
  assert_int_equal(count_of(fx, "region"), 1); /* no field: the rule does not apply */
}

/* The rules' checker for partitions: told of each correlation that does
 * not group by the field the partitions are keyed by. */
static void say_partition(void *ud, const char *name, const char *file, int line, const char *why) {
  char *out = ud;
  (void)file;
  (void)line;
  snprintf(out + strlen(out), 1024 - strlen(out), "%s: %.40s\n", name, why);
}

static void test_partition_check_names_rules_not_grouped_by_the_field(void **state) {
  fixture *fx = *state;
  use_rules(fx, "sequence \"by-region\" { " LAUNCH_THEN_EXERCISE ", within = days(3),"
                " by = \"region\" }\n"
                "sequence \"by-source\" { " LAUNCH_THEN_EXERCISE ", within = days(3),"
                " by = \"source\" }\n"
                "threshold \"any\" { match = tagged\"launch\", count = 2, within = days(3) }\n"
                NEW);
  char out[1024] = "";
  assert_int_equal(vg_rules_partition_check(fx->r, "region", say_partition, out), 3);
  assert_string_equal(out, "by-source: groups by \"source\", not by \"region\" the \n"
                           "any: has no 'by': it correlates across all en\n"
                           "new: groups by a function, which cannot be ch\n");
  out[0] = '\0';
  assert_int_equal(vg_rules_partition_check(fx->r, "", say_partition, out), 4);
  assert_contains(out, "by-region: groups by \"region\", but nats_partition_b");
}

static void test_sequence_month_dated_launch_pairs_only_when_the_month_fits(void **state) {
  fixture *fx = *state;
  use_rules(fx, "sequence \"seq14\" { " LAUNCH_THEN_EXERCISE ", within = days(14) }\n"
                "sequence \"seq45\" { " LAUNCH_THEN_EXERCISE ", within = days(45) }\n");
  /* March 1 + 45 days is April 15: the last exercise day whose window
   * holds the whole month. An exercise inside March may precede part of
   * the month, so it does not pair. */
  static const char *const lines[] = {
      "2023-03: launch sometime in March", "2023-03-20: exercise inside March",
      "2023-04-10: exercise on April 10",  "2023-04-15: exercise on April 15",
      "2023-04-16: exercise on April 16",  NULL};
  static const char *const reversed[] = {
      "2023-04-16: exercise on April 16",  "2023-04-15: exercise on April 15",
      "2023-04-10: exercise on April 10",  "2023-03-20: exercise inside March",
      "2023-03: launch sometime in March", NULL};
  const char *want = "seq45: exercise on April 10 | launch sometime in March\n"
                     "seq45: exercise on April 15 | launch sometime in March";
  each_of(fx, lines);
  assert_string_equal(summary(fx), want);
  assert_string_equal(fresh_run(fx, reversed), want);
}

static void test_sequence_three_steps_fire_only_in_order(void **state) {
  fixture *fx = *state;
  use_rules(fx, "sequence \"chain\" {\n"
                "  steps = { tagged\"launch\", tagged\"exercise\", tagged\"summit\" },\n"
                "  within = days(10),\n"
                "}\n");
  const char *want = "chain: exercise b | launch a | summit c";
  assert_string_equal(
      FRESH(fx, "2023-03-01: launch a", "2023-03-04: exercise b", "2023-03-08: summit c"), want);
  /* The same chain, arriving last step first. */
  assert_string_equal(
      FRESH(fx, "2023-03-08: summit c", "2023-03-01: launch a", "2023-03-04: exercise b"), want);
  /* Ten days from first to last is still in. */
  assert_string_equal(
      FRESH(fx, "2023-03-01: launch a", "2023-03-05: exercise b", "2023-03-11: summit c"), want);
  /* Out of order, or eleven days. */
  assert_string_equal(
      FRESH(fx, "2023-03-01: launch a", "2023-03-04: summit c", "2023-03-08: exercise b"), "");
  assert_string_equal(
      FRESH(fx, "2023-03-01: exercise b", "2023-03-03: launch a", "2023-03-05: summit c"), "");
  assert_string_equal(
      FRESH(fx, "2023-03-01: launch a", "2023-03-05: exercise b", "2023-03-12: summit c"), "");
}

/* Two meetings on one day pair once, either way round, and a meeting never
 * pairs with itself. */
static void test_sequence_of_one_kind_pairs_a_same_day_pair_once(void **state) {
  fixture *fx = *state;
  use_rules(fx, "sequence \"meet\" { " MEETINGS " }\n");
  const char *pair = "meet: summit in the evening | summit in the morning";
  EACH(fx, "2023-03-01: summit in the morning", "2023-03-01: summit in the evening");
  assert_string_equal(summary(fx), pair);
  assert_int_equal(fx->out.n, 1);
  assert_string_equal(FRESH(fx, "2023-03-01: summit in the evening",
                            "2023-03-01: summit in the morning"),
                      pair);
  fresh_store(fx);
  BATCH(fx, "2023-03-01: summit in the morning", "2023-03-01: summit in the evening");
  assert_string_equal(summary(fx), pair);
  assert_int_equal(fx->out.n, 1);

  /* A third, three days later, pairs with each: one alert of its own. */
  EACH(fx, "2023-03-04: summit three days later");
  assert_string_equal(summary(fx), "meet: summit in the evening | summit in the morning\n"
                                   "meet: summit in the evening | summit in the morning | "
                                   "summit three days later");
  assert_int_equal(fx->out.n, 2);

  /* Alone, a meeting pairs with nothing. */
  assert_string_equal(FRESH(fx, "2023-03-01: summit alone"), "");

  /* Three on one day: every pair is named by one alert only, the one of
   * whichever of its two entries the order within the day puts last. */
  FRESH(fx, "2023-03-01: summit a", "2023-03-01: summit b", "2023-03-01: summit c");
  const alert_set *s = alerts(fx);
  assert_int_equal(s->n, 2);
  assert_int_equal(s->v[0].nentries + s->v[1].nentries, 5);

  /* One alert per pair, too. */
  use_rules(fx, "sequence \"meet\" { " MEETINGS ", per_pair = true }\n");
  assert_string_equal(FRESH(fx, "2023-03-01: summit in the morning",
                            "2023-03-01: summit in the evening"),
                      pair);
  assert_int_equal(fx->out.n, 1);
}

/* ---- the same alerts in any arrival order ---- */

static const char *const mixed[] = {
    "2023-02-20: exercise zero",
    "2023-03-01: launch of a Hwasong-15",
    "2023-03-05: exercise alpha",
    "2023-03-08: launch of a KN-23",
    "2023-03-12: launch of a Hwasong-15 again",
    "2023-03-14: exercise bravo",
    "2023-03-30: launch of a Hwasong-17",
    "2023-03: launch reported sometime in March",
    "2023-04-20: exercise charlie",
    "2023-04-25: launch of a KN-23 again",
    "2023-04-27: exercise delta",
};
#define NMIXED (sizeof mixed / sizeof mixed[0])

static const char *const mixed_alerts =
    "new(Hwasong-15): launch of a Hwasong-15\n"
    "new(Hwasong-17): launch of a Hwasong-17\n"
    "new(KN-23): launch of a KN-23\n"
    "seq: exercise alpha | launch of a Hwasong-15\n"
    "seq: exercise bravo | launch of a Hwasong-15 | launch of a Hwasong-15 again | launch of a "
    "KN-23\n"
    "seq: exercise delta | launch of a KN-23 again\n"
    "thr: launch of a Hwasong-15 | launch of a Hwasong-15 again | launch of a Hwasong-17 | launch "
    "of a KN-23\n"
    "thr: launch of a Hwasong-15 | launch of a Hwasong-15 again | launch of a Hwasong-17 | launch "
    "of a KN-23 | launch reported sometime in March\n"
    "thr: launch of a Hwasong-15 | launch of a Hwasong-15 again | launch of a KN-23";

/* Ingests mixed[] in the given order on an empty store, one transaction a
 * line or all in one batch. */
static void run_mixed(fixture *fx, const size_t *order, int one_batch) {
  fresh_store(fx);
  if (one_batch) begin(fx);
  for (size_t i = 0; i < NMIXED; i++) {
    if (!one_batch) begin(fx);
    feed(fx, mixed[order[i]]);
    if (!one_batch) {
      flush(fx);
      commit(fx);
    }
  }
  if (one_batch) {
    flush(fx);
    commit(fx);
  }
}

static const size_t date_order[NMIXED] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const size_t reverse_order[NMIXED] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
static const size_t shuffled_order[NMIXED] = {5, 9, 1, 7, 10, 3, 0, 8, 4, 2, 6};

static void test_same_alerts_in_any_arrival_order(void **state) {
  fixture *fx = *state;
  use_rules(fx, SEQ14 THR NEW);
  run_mixed(fx, date_order, 0);
  assert_string_equal(summary(fx), mixed_alerts);
  run_mixed(fx, reverse_order, 0);
  assert_string_equal(summary(fx), mixed_alerts);
  run_mixed(fx, shuffled_order, 0);
  assert_string_equal(summary(fx), mixed_alerts);
  run_mixed(fx, shuffled_order, 1);
  assert_string_equal(summary(fx), mixed_alerts);
}

/* The alert of a sequence is dated on the exercise and worded by its
 * tightest chain (the latest launch before it), whatever order the entries
 * came in. */
static void test_sequence_alert_date_and_message_do_not_depend_on_arrival_order(void **state) {
  fixture *fx = *state;
  use_rules(fx, SEQ14);
  static const char *const orders[][4] = {
      {"2023-03-01: launch one", "2023-03-12: launch two", "2023-03-14: exercise", NULL},
      {"2023-03-14: exercise", "2023-03-12: launch two", "2023-03-01: launch one", NULL},
      {"2023-03-14: exercise", "2023-03-01: launch one", "2023-03-12: launch two", NULL},
  };
  for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
    fresh_store(fx);
    each_of(fx, orders[i]);
    alert_row a = only_alert(fx, "seq");
    assert_string_equal(a.texts, "exercise | launch one | launch two");
    if (strcmp(a.date, "2023-03-14") != 0 ||
        strcmp(a.message, "2023-03-12 launch two, then 2023-03-14 exercise") != 0)
      fail_msg("arrival order %zu: alert dated %s, \"%s\"", i + 1, a.date, a.message);
  }
}

/* ---- threshold ---- */

static void test_threshold_third_launch_in_thirty_days_raises_one(void **state) {
  fixture *fx = *state;
  use_rules(fx, THR);
  EACH(fx, "2023-03-01: launch one", "2023-03-10: launch two");
  assert_string_equal(summary(fx), "");

  EACH(fx, "2023-03-20: launch three");
  assert_string_equal(summary(fx), "thr: launch one | launch three | launch two");
  assert_int_equal(fx->out.n, 1);
  assert_string_equal(only_alert(fx, "thr").date, "2023-03-20");

  /* A fourth in the window: an alert for its own window, the first kept. */
  EACH(fx, "2023-03-25: launch four");
  assert_string_equal(summary(fx), "thr: launch four | launch one | launch three | launch two\n"
                                   "thr: launch one | launch three | launch two");
  assert_int_equal(fx->out.n, 2);
  assert_string_equal(alerts(fx)->v[1].date, "2023-03-25");
}

static void test_threshold_window_is_thirty_days_inclusive(void **state) {
  fixture *fx = *state;
  use_rules(fx, THR);
  assert_string_equal(
      FRESH(fx, "2023-03-01: launch one", "2023-03-15: launch two", "2023-03-31: launch three"),
      "thr: launch one | launch three | launch two");
  assert_string_equal(
      FRESH(fx, "2023-03-01: launch one", "2023-03-15: launch two", "2023-04-01: launch three"),
      "");
}

static void test_threshold_quiet_suppresses_the_next_alert(void **state) {
  fixture *fx = *state;
  use_rules(fx, THR "threshold \"thrq\" { match = tagged\"launch\", count = 3, within = days(30),"
                    " quiet = days(30) }\n");
  EACH(fx, "2023-03-01: launch one", "2023-03-10: launch two", "2023-03-20: launch three",
       "2023-03-25: launch four");
  assert_int_equal(count_of(fx, "thr"), 2);
  assert_int_equal(count_of(fx, "thrq"), 1);
  assert_string_equal(only_alert(fx, "thrq").texts, "launch one | launch three | launch two");

  /* Once the quiet days are over, the next burst raises again. */
  EACH(fx, "2023-05-01: launch five", "2023-05-02: launch six", "2023-05-03: launch seven");
  assert_int_equal(count_of(fx, "thr"), 3);
  assert_int_equal(count_of(fx, "thrq"), 2);
  const alert_set *s = alerts(fx);
  const alert_row *last = &s->v[s->n - 1];
  assert_string_equal(last->date, "2023-05-03");
  assert_string_equal(last->texts, "launch five | launch seven | launch six");
}

/* One alert of a rule that may name many entries. */
typedef struct {
  const char *rule;
  size_t n;      /* alerts of the rule */
  char message[256], date[32];
  long long count;
  size_t named;  /* entries the last one names */
} many_named;

static int take_many(void *ud, const vg_alert_row *row) {
  many_named *m = ud;
  if (strcmp(row->rule, m->rule) != 0) return 0;
  m->n++;
  snprintf(m->message, sizeof m->message, "%s", row->message);
  snprintf(m->date, sizeof m->date, "%s", row->date);
  m->count = row->count;
  m->named = row->entries && *row->entries ? 1 : 0;
  for (const char *p = row->entries; p && *p; p++) m->named += *p == ',';
  return 0;
}

/* The alerts of rule, in date order; the fields of the last one. */
static many_named alerts_of_rule(fixture *fx, const char *rname) {
  many_named m = {.rule = rname};
  vg_alert_query q = {0};
  assert_int_equal(vg_store_alerts(fx->st, &q, take_many, &m), 0);
  return m;
}

/* Fifteen hundred launches on one day: one window, so one alert, which
 * counts them all, names a hundred, and is worked out once per entry. */
static void test_threshold_dense_day_counts_every_launch_in_one_alert(void **state) {
  fixture *fx = *state;
  use_rules(fx, "threshold \"dense\" {\n"
                "  match = tagged\"launch\", count = 3, within = days(30),\n"
                "  alert = (function()\n"
                "    local calls = 0\n"
                "    return function(launches, key, count)\n"
                "      calls = calls + 1\n"
                "      return (\"%d launches, %d named, call %d\"):format(count, #launches, calls)\n"
                "    end\n"
                "  end)(),\n"
                "}\n");
  begin(fx);
  for (int i = 0; i < 1500; i++) {
    char line[64];
    snprintf(line, sizeof line, "2023-03-01: launch number %d", i);
    feed(fx, line);
  }
  flush(fx);
  commit(fx);
  many_named m = alerts_of_rule(fx, "dense");
  assert_int_equal(m.n, 1);
  assert_int_equal(m.count, 1500);
  assert_int_equal(m.named, 100);
  /* The third launch reached the count; each one after it was one call. */
  assert_string_equal(m.message, "1500 launches, 100 named, call 1498");
  assert_int_equal(fx->out.n, 1);
  /* Handed on once, as it stands when its transaction commits. */
  assert_int_equal(fx->out.v[0].count, 1500);
  assert_int_equal(fx->out.v[0].version, 1);

  /* A late launch in the window amends it: one more, one more call. */
  EACH(fx, "2023-02-20: launch reported late");
  m = alerts_of_rule(fx, "dense");
  assert_int_equal(m.n, 1);
  assert_int_equal(m.count, 1501);
  assert_string_equal(m.message, "1501 launches, 100 named, call 1499");
  /* Handed on again as an amendment, in the place of the version before. */
  assert_int_equal(fx->out.n, 1);
  assert_int_equal(fx->out.v[0].count, 1501);
  assert_int_equal(fx->out.v[0].version, 2);

  /* Thirty days on, the window still holds March 1 but not February 20. */
  EACH(fx, "2023-03-31: launch thirty days later");
  m = alerts_of_rule(fx, "dense");
  assert_int_equal(m.n, 2);
  assert_string_equal(m.date, "2023-03-31");
  assert_int_equal(m.count, 1501);
  assert_string_equal(m.message, "1501 launches, 100 named, call 1500");
  assert_int_equal(fx->out.n, 2);
}

/* The default message says how many events the window held. */
static void test_threshold_default_message_counts_the_window(void **state) {
  fixture *fx = *state;
  use_rules(fx, THR);
  EACH(fx, "2023-03-01: launch one", "2023-03-10: launch two", "2023-03-20: launch three",
       "2023-03-21: launch four");
  const alert_set *s = alerts(fx);
  assert_int_equal(s->n, 2);
  assert_string_equal(s->v[0].message, "3 events within 30 days, up to 2023-03-20");
  assert_int_equal(s->v[0].count, 3);
  assert_string_equal(s->v[1].message, "4 events within 30 days, up to 2023-03-21");
  assert_int_equal(s->v[1].count, 4);
}

/* ---- absence ---- */

static void test_absence_answered_in_time_raises_nothing(void **state) {
  fixture *fx = *state;
  use_rules(fx, ABS);
  EACH(fx, "2023-03-01: launch one", "2023-03-06: exercise five days later",
       "2023-03-20: a quiet day");
  assert_string_equal(summary(fx), "");
  /* The last day of the window still answers; the day after does not. */
  assert_string_equal(FRESH(fx, "2023-03-01: launch one", "2023-03-08: exercise on the last day",
                            "2023-03-20: a quiet day"),
                      "");
  assert_string_equal(FRESH(fx, "2023-03-01: launch one", "2023-03-09: exercise a day too late",
                            "2023-03-20: a quiet day"),
                      "abs: launch one");
  /* The same when the answer arrives before the launch. */
  assert_string_equal(FRESH(fx, "2023-03-08: exercise on the last day", "2023-03-01: launch one",
                            "2023-03-20: a quiet day"),
                      "");
  assert_string_equal(FRESH(fx, "2023-03-09: exercise a day too late", "2023-03-01: launch one",
                            "2023-03-20: a quiet day"),
                      "abs: launch one");
  /* An exercise the same day answers, in either arrival order. */
  assert_string_equal(FRESH(fx, "2023-03-01: launch one", "2023-03-01: exercise the same day",
                            "2023-03-20: a quiet day"),
                      "");
  assert_string_equal(FRESH(fx, "2023-03-01: exercise the same day", "2023-03-01: launch one",
                            "2023-03-20: a quiet day"),
                      "");
  /* An exercise before the launch does not answer it. */
  assert_string_equal(
      FRESH(fx, "2023-02-27: exercise before", "2023-03-01: launch one", "2023-03-20: a quiet day"),
      "abs: launch one");
}

static void test_absence_late_launch_is_judged_at_its_batch_end(void **state) {
  fixture *fx = *state;
  use_rules(fx, ABS);
  /* The watermark is already past the launch's window when it arrives. */
  EACH(fx, "2023-03-05: exercise four days after", "2023-03-20: a quiet day",
       "2023-03-01: launch answered");
  assert_string_equal(summary(fx), "");
  EACH(fx, "2023-03-02: launch also answered");
  assert_string_equal(summary(fx), "");
  EACH(fx, "2023-03-10: launch left alone");
  assert_string_equal(summary(fx), "abs: launch left alone");
  assert_int_equal(fx->out.n, 1);
}

static void test_absence_fires_once_when_the_window_has_passed(void **state) {
  fixture *fx = *state;
  use_rules(fx, ABS);
  EACH(fx, "2023-03-01: launch one");
  assert_string_equal(summary(fx), "");
  EACH(fx, "2023-03-08: news on the last day of the window");
  assert_string_equal(summary(fx), "");

  begin(fx);
  feed(fx, "2023-03-09: news the day after");
  assert_string_equal(summary(fx), ""); /* not before the batch ends */
  flush(fx);
  assert_string_equal(summary(fx), "abs: launch one");
  commit(fx);
  alert_row a = only_alert(fx, "abs");
  assert_string_equal(a.date, "2023-03-01");
  assert_string_equal(a.message, "nothing followed within 7 days: 2023-03-01 launch one");
  assert_int_equal(fx->out.n, 1);

  /* An answer that comes after the alert does not take it back. */
  EACH(fx, "2023-03-05: exercise reported late", "2023-04-01: news much later");
  assert_string_equal(summary(fx), "abs: launch one");
  assert_int_equal(fx->out.n, 1);
}

static void test_absence_order_within_a_batch_does_not_matter(void **state) {
  fixture *fx = *state;
  use_rules(fx, ABS);
  BATCH(fx, "2023-03-06: exercise five days later", "2023-03-20: a quiet day",
        "2023-03-01: launch one");
  assert_string_equal(summary(fx), "");

  fresh_store(fx);
  BATCH(fx, "2023-03-01: launch one", "2023-03-20: a quiet day",
        "2023-03-06: exercise five days later");
  assert_string_equal(summary(fx), "");

  fresh_store(fx);
  BATCH(fx, "2023-03-01: launch one", "2023-03-20: a quiet day");
  assert_string_equal(summary(fx), "abs: launch one");
}

static void test_absence_lateness_delays_firing(void **state) {
  fixture *fx = *state;
  use_rules(fx, ABS "absence \"late\" { " LAUNCH_THEN_EXERCISE ", within = days(7),"
                    " lateness = days(3) }\n");
  /* The deadline is March 8: with lateness 3 the newest day must pass March 11. */
  EACH(fx, "2023-03-01: launch one", "2023-03-11: news ten days later");
  assert_string_equal(summary(fx), "abs: launch one");
  EACH(fx, "2023-03-12: news eleven days later");
  assert_string_equal(summary(fx), "abs: launch one\nlate: launch one");

  /* An answer that arrives within the lateness still counts. */
  assert_string_equal(FRESH(fx, "2023-03-01: launch one", "2023-03-11: news ten days later",
                            "2023-03-06: exercise reported late", "2023-03-20: news much later"),
                      "abs: launch one");
}

static void test_absence_wall_clock_fires_on_tick(void **state) {
  fixture *fx = *state;
  use_rules(fx, ABS "absence \"wall\" { " LAUNCH_THEN_EXERCISE ", within = days(7),"
                    " clock = \"wall\" }\n");
  EACH(fx, "2023-03-01: launch one");
  tick(fx, day(2023, 3, 8));
  assert_string_equal(summary(fx), "");
  tick(fx, day(2023, 3, 9));
  assert_string_equal(summary(fx), "wall: launch one");
  assert_int_equal(fx->out.n, 1);
  tick(fx, day(2023, 3, 10));
  assert_string_equal(summary(fx), "wall: launch one");
  assert_int_equal(fx->out.n, 1);
}

/* ---- first ---- */

static void test_first_one_alert_per_weapon(void **state) {
  fixture *fx = *state;
  use_rules(fx, NEW);
  EACH(fx, "2023-03-05: launch of a Hwasong-15", "2023-03-10: launch of a KN-23",
       "2023-03-20: launch of a Hwasong-15 again", "2023-03-25: launch of an unnamed missile",
       "2023-03-26: exercise against Hwasong-15 mock-ups");
  assert_string_equal(summary(fx), "new(Hwasong-15): launch of a Hwasong-15\n"
                                   "new(KN-23): launch of a KN-23");
  assert_int_equal(fx->out.n, 2);
}

static void test_first_earlier_entry_moves_the_alert(void **state) {
  fixture *fx = *state;
  use_rules(fx, NEW);
  EACH(fx, "2023-03-05: launch of a Hwasong-15", "2023-03-20: launch of a Hwasong-15 again");
  alert_row before = only_alert(fx, "new");
  assert_string_equal(before.date, "2023-03-05");

  EACH(fx, "2023-02-20: launch of a Hwasong-15 in an old report");
  alert_row after = only_alert(fx, "new");
  assert_int_equal(after.id, before.id);
  assert_string_equal(after.texts, "launch of a Hwasong-15 in an old report");
  assert_int_equal(after.nentries, 1);
  assert_string_equal(after.date, "2023-02-20");
  assert_contains(after.message, "2023-02-20");
  assert_int_equal(fx->out.n, 1);

  /* A later one that is not the earliest moves nothing. */
  EACH(fx, "2023-02-25: launch of a Hwasong-15 between");
  after = only_alert(fx, "new");
  assert_string_equal(after.date, "2023-02-20");
  assert_string_equal(after.texts, "launch of a Hwasong-15 in an old report");
}

/* ---- one event, several reports ---- */

/* The same lines through two routes: each is stored (the sources differ),
 * but a launch is one launch. */
static void test_threshold_counts_an_event_reported_twice_once(void **state) {
  fixture *fx = *state;
  use_rules(fx, THR);
  REPORTED_BY(fx, "spool", "2023-03-01: launch one", "2023-03-10: launch two");
  REPORTED_BY(fx, "chronology.txt", "2023-03-01: launch one", "2023-03-10: launch two");
  assert_string_equal(summary(fx), "");
  /* A launch said three times is still one. */
  REPORTED_BY(fx, "wire", "2023-03-10: launch two");
  assert_string_equal(summary(fx), "");

  REPORTED_BY(fx, "spool", "2023-03-20: launch three");
  assert_string_equal(summary(fx), "thr: launch one | launch one | launch three | launch two | "
                                   "launch two | launch two");
  alert_row a = only_alert(fx, "thr");
  assert_int_equal(a.count, 3);
  assert_string_equal(a.message, "3 events within 30 days, up to 2023-03-20");
  assert_int_equal(fx->out.n, 1);

  /* A report of it from elsewhere joins the same alert. */
  REPORTED_BY(fx, "chronology.txt", "2023-03-20: launch three");
  assert_string_equal(only_alert(fx, "thr").texts,
                      "launch one | launch one | launch three | launch three | launch two | "
                      "launch two | launch two");
  assert_int_equal(only_alert(fx, "thr").count, 3);
  assert_int_equal(fx->out.n, 1);
}

/* Case, spacing, punctuation and the way the date is written do not make
 * another event; two days later or other words do (a day later, the same
 * words are the same event: core/events.c). */
static void test_reports_worded_alike_are_one_event(void **state) {
  fixture *fx = *state;
  use_rules(fx, THR);
  REPORTED_BY(fx, "a", "2023-03-01: Launch of a KN-23.");
  REPORTED_BY(fx, "b", "March 1, 2023:   LAUNCH of a kn 23");
  REPORTED_BY(fx, "c", "{\"date\": \"2023-03-01\", \"text\": \"launch, of a \\u201cKN-23\\u201d!\"}");
  REPORTED_BY(fx, "d", "2023-03-03: launch of a KN-23");
  assert_string_equal(summary(fx), "");
  REPORTED_BY(fx, "d", "2023-03-03: launch of a KN-25");
  alert_row a = only_alert(fx, "thr");
  assert_int_equal(a.count, 3);
  assert_int_equal(a.nentries, 5);
}

/* A sequence pairs events: reports of one launch and of one exercise make
 * one alert naming them all, and two reports of one meeting do not pair. */
static void test_sequence_pairs_events_not_reports(void **state) {
  fixture *fx = *state;
  use_rules(fx, SEQ14 "sequence \"meet\" { " MEETINGS " }\n");
  REPORTED_BY(fx, "spool", "2023-03-01: launch one", "2023-03-05: exercise alpha");
  REPORTED_BY(fx, "chronology.txt", "2023-03-01: launch one", "2023-03-05: exercise alpha");
  assert_string_equal(summary(fx),
                      "seq: exercise alpha | exercise alpha | launch one | launch one");
  assert_int_equal(fx->out.n, 1);

  fresh_store(fx);
  REPORTED_BY(fx, "spool", "2023-03-01: summit in Hanoi");
  REPORTED_BY(fx, "chronology.txt", "2023-03-01: Summit in Hanoi.");
  assert_string_equal(summary(fx), "");
  REPORTED_BY(fx, "spool", "2023-03-01: summit in Hanoi ends early");
  assert_int_equal(alerts(fx)->n, 1);
  assert_int_equal(alerts(fx)->v[0].nentries, 3);
}

/* An absence waits once per event, and its alert names every report, even
 * one that comes after it fired. Nor does a report answer its own event. */
static void test_absence_of_an_event_reported_twice_fires_once(void **state) {
  fixture *fx = *state;
  use_rules(fx, ABS);
  REPORTED_BY(fx, "spool", "2023-03-01: launch one");
  REPORTED_BY(fx, "chronology.txt", "2023-03-01: Launch one.");
  EACH(fx, "2023-03-20: a quiet day");
  assert_string_equal(summary(fx), "abs: Launch one. | launch one");
  assert_int_equal(fx->out.n, 1);
  REPORTED_BY(fx, "wire", "2023-03-01: LAUNCH ONE");
  assert_string_equal(summary(fx), "abs: LAUNCH ONE | Launch one. | launch one");
  assert_int_equal(fx->out.n, 1);

  assert_string_equal(FRESH(fx, "2023-03-01: launch during an exercise",
                            "2023-03-01: Launch during an exercise", "2023-03-20: a quiet day"),
                      "abs: Launch during an exercise | launch during an exercise");
}

/* The first occurrence names every report of the first event. */
static void test_first_names_every_report_of_the_first_event(void **state) {
  fixture *fx = *state;
  use_rules(fx, NEW);
  REPORTED_BY(fx, "spool", "2023-03-05: launch of a Hwasong-15");
  REPORTED_BY(fx, "wire", "2023-03-05: Launch of a Hwasong-15.",
              "2023-03-20: launch of a Hwasong-15 again");
  assert_string_equal(summary(fx), "new(Hwasong-15): Launch of a Hwasong-15. | "
                                   "launch of a Hwasong-15");
  assert_int_equal(fx->out.n, 1);
}

/* ---- history ---- */

static void test_history_sees_entries_earlier_in_the_transaction(void **state) {
  fixture *fx = *state;
  use_rules(
      fx,
      "rule \"h\" {\n"
      "  when = function(e)\n"
      "    return e:find(\"report\")\n"
      "      and history.count{tag = \"launch\", from = \"2023-03-01\", to = e.day} == "
      "2\n"
      "      and #history.entries{tag = \"launch\", from = e.day - 30, to = e.day} == 2\n"
      "  end,\n"
      "  alert = function(e)\n"
      "    local seen = {}\n"
      "    for _, x in ipairs(history.entries{tag = \"launch\", from = e.day - 30, to = "
      "e.day}) do\n"
      "      seen[#seen + 1] = x.date .. \" \" .. x.text\n"
      "    end\n"
      "    return (\"%s; March: %d\"):format(table.concat(seen, \", \"),\n"
      "      history.count{tag = \"launch\", from = \"2023-03\", to = \"2023-03\"})\n"
      "  end,\n"
      "}\n");
  /* One transaction: nothing of it is committed when the report runs. */
  BATCH(fx, "2023-02-01: launch zero", "2023-03-01: launch one", "2023-03-10: launch two",
        "2023-03: launch sometime in March", "2023-03-20: launch three", "2023-03-15: report");
  alert_row a = only_alert(fx, "h");
  assert_string_equal(a.texts, "report");
  /* The month-dated launch is not wholly before the report; launch three is after it. */
  assert_string_equal(a.message, "2023-03-01 launch one, 2023-03-10 launch two; March: 4");
}

/* The form README.md shows for a rule reading history. */
static void test_history_as_documented_loads(void **state) {
  fixture *fx = *state;
  write_rules(fx, "hist.lua",
              "rule \"first-launch-this-year\" {\n"
              "  when = function(e)\n"
              "    return e:has_tag\"launch\" and history.count{tag = \"launch\", from = e.day - "
              "days(365), to = e.day} == 1\n"
              "  end,\n"
              "  alert = \"the first launch in a year\",\n"
              "}\n");
  load(fx);
  if (fx->errors) fail_msg("the documented history call does not load: %s", fx->rep.text);
  assert_int_equal(vg_rules_count(fx->r), 1);
}

static void test_history_while_loading_is_an_error(void **state) {
  fixture *fx = *state;
  write_rules(fx, "hist.lua",
              "-- reads history at load time\n"
              "local n = history.count{tag = \"launch\"}\n"
              "rule \"r\" { tags = { \"x\" } }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  char where[PATH_MAX];
  snprintf(where, sizeof where, "%s/hist.lua:2:", fx->dir);
  assert_contains(fx->rep.text, where);
  assert_contains(fx->rep.text, "history can be read only while rules run");
  assert_int_equal(vg_rules_count(fx->r), 0);
}

/* ---- what loading reports ---- */

/* Loads bad.lua alone and expects one report at bad.lua:line naming needle. */
static void expect_load_error(fixture *fx, const char *text, int line, const char *needle) {
  write_rules(fx, "bad.lua", text);
  load(fx);
  assert_int_equal(fx->errors, 1);
  char where[PATH_MAX];
  snprintf(where, sizeof where, "%s/bad.lua:%d:", fx->dir, line);
  assert_contains(fx->rep.text, where);
  assert_contains(fx->rep.text, needle);
  assert_int_equal(vg_rules_count(fx->r), 0);
}

static void test_sequence_without_within_reported(void **state) {
  expect_load_error(*state,
                    "-- no window\n"
                    "sequence \"s\" {\n"
                    "  " LAUNCH_THEN_EXERCISE ",\n"
                    "}\n",
                    2, "needs 'within'");
}

static void test_sequence_with_one_step_reported(void **state) {
  expect_load_error(*state,
                    "-- one step is no sequence\n"
                    "sequence \"s\" {\n"
                    "  steps = { tagged\"launch\" },\n"
                    "  within = days(14),\n"
                    "}\n",
                    2, "two to eight predicates");
}

static void test_sequence_with_a_step_not_a_function_reported(void **state) {
  expect_load_error(*state,
                    "-- a tag name where a predicate belongs\n"
                    "sequence \"s\" {\n"
                    "  steps = { tagged\"launch\", \"exercise\" },\n"
                    "  within = days(14),\n"
                    "}\n",
                    2, "step 2 must be a function");
}

static void test_threshold_with_count_one_reported(void **state) {
  expect_load_error(*state,
                    "-- one entry is no threshold\n"
                    "threshold \"th\" { match = tagged\"launch\", count = 1, within = days(30) }\n",
                    2, "'count', a whole number from 2 to 1000");
}

static void test_threshold_count_over_a_window_of_marks_reported(void **state) {
  expect_load_error(*state,
                    "-- a window is looked at a thousand marks at a time\n"
                    "threshold \"th\" { match = tagged\"launch\", count = 1001, within = days(30) }\n",
                    2, "'count', a whole number from 2 to 1000");
}

static void test_absence_with_three_steps_reported(void **state) {
  expect_load_error(*state,
                    "-- an absence has two steps\n"
                    "absence \"a\" {\n"
                    "  steps = { tagged\"launch\", tagged\"exercise\", tagged\"summit\" },\n"
                    "  within = days(7),\n"
                    "}\n",
                    2, "two predicates");
}

static void test_unknown_correlation_field_reported(void **state) {
  expect_load_error(*state,
                    "-- a misspelt field\n"
                    "sequence \"s\" {\n"
                    "  " LAUNCH_THEN_EXERCISE ",\n"
                    "  within = days(14),\n"
                    "  windw = days(7),\n"
                    "}\n",
                    2, "unknown field 'windw'");
}

static void test_by_returning_a_table_fails_only_that_rule(void **state) {
  fixture *fx = *state;
  use_rules(fx, "sequence \"bad-by\" {\n"
                "  " LAUNCH_THEN_EXERCISE ",\n"
                "  within = days(14),\n"
                "  by = function(e) return { e.text } end,\n"
                "}\n" SEQ14);
  EACH(fx, "2023-03-01: launch one", "2023-03-05: exercise alpha");
  assert_string_equal(summary(fx), "seq: exercise alpha | launch one");
  assert_int_equal(loaded_rule(fx, "bad-by")->failures, 2); /* once per entry it applied to */
  assert_int_equal(loaded_rule(fx, "seq")->failures, 0);
  assert_int_equal(loaded_rule(fx, "t")->failures, 0);
}

int main(void) {
  vg_log_set_level(getenv("VIGIL_TEST_LOG") ? VG_LOG_DEBUG : VG_LOG_ERROR + 1);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_sequence_window_includes_day_fourteen_not_fifteen),
      T(test_sequence_same_day_pairs),
      T(test_sequence_exercise_before_launch_does_not_pair),
      T(test_sequence_one_alert_per_exercise_naming_every_launch),
      T(test_sequence_late_launch_amends_the_alert),
      T(test_sequence_replay_changes_nothing),
      T(test_sequence_per_pair_one_alert_per_launch),
      T(test_sequence_min_gap_excludes_close_pairs),
      T(test_sequence_by_key_pairs_only_equal_keys),
      T(test_sequence_by_field_pairs_only_equal_field_texts),
      T(test_partition_check_names_rules_not_grouped_by_the_field),
      T(test_sequence_month_dated_launch_pairs_only_when_the_month_fits),
      T(test_sequence_three_steps_fire_only_in_order),
      T(test_sequence_of_one_kind_pairs_a_same_day_pair_once),
      T(test_same_alerts_in_any_arrival_order),
      T(test_sequence_alert_date_and_message_do_not_depend_on_arrival_order),
      T(test_threshold_third_launch_in_thirty_days_raises_one),
      T(test_threshold_window_is_thirty_days_inclusive),
      T(test_threshold_quiet_suppresses_the_next_alert),
      T(test_threshold_dense_day_counts_every_launch_in_one_alert),
      T(test_threshold_default_message_counts_the_window),
      T(test_absence_answered_in_time_raises_nothing),
      T(test_absence_late_launch_is_judged_at_its_batch_end),
      T(test_absence_fires_once_when_the_window_has_passed),
      T(test_absence_order_within_a_batch_does_not_matter),
      T(test_absence_lateness_delays_firing),
      T(test_absence_wall_clock_fires_on_tick),
      T(test_first_one_alert_per_weapon),
      T(test_first_earlier_entry_moves_the_alert),
      T(test_threshold_counts_an_event_reported_twice_once),
      T(test_reports_worded_alike_are_one_event),
      T(test_sequence_pairs_events_not_reports),
      T(test_absence_of_an_event_reported_twice_fires_once),
      T(test_first_names_every_report_of_the_first_event),
      T(test_history_sees_entries_earlier_in_the_transaction),
      T(test_history_as_documented_loads),
      T(test_history_while_loading_is_an_error),
      T(test_sequence_without_within_reported),
      T(test_sequence_with_one_step_reported),
      T(test_sequence_with_a_step_not_a_function_reported),
      T(test_threshold_with_count_one_reported),
      T(test_threshold_count_over_a_window_of_marks_reported),
      T(test_absence_with_three_steps_reported),
      T(test_unknown_correlation_field_reported),
      T(test_by_returning_a_table_fails_only_that_rule),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
