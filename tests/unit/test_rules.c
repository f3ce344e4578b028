/* test_rules.c — the rule API as rule writers use it.
 *
 * Each test writes rule files into a temporary directory, loads them with
 * vg_rules_load and runs entries stored in a database in memory through
 * vg_rules_run, then reads back what the rules stored (vg_store_entry_tags,
 * vg_store_alerts) and the alerts handed on in the out list. Covers `when`,
 * `tags` (list and function forms) and `alert` (function, string and table
 * forms, severity defaults, keys, deduplication); the run order (file name,
 * then declaration, then `after`) and what loading reports about unknown or
 * cyclic `after` names, duplicate rule names and bad rule specs; the entry
 * object (fields, e.tags, e:find, e:has_tag, e:match, e:mentions, e:actors);
 * days, weeks and date; running the rules again over stored entries
 * (vg_rules_rerun: what it sets anew and what it keeps, for a file that did
 * not load or a rule that fails); rule failures told to vg_rules_on_failure;
 * and reading test cases with vg_rules_test_get, from a file written here
 * and from the shipped rules/ directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cJSON.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "rules.h"
#include "store.h"
#include "vigil.h"

#include "support.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

/* A stored entry and what the rules see of it. */
typedef struct {
  char *line; /* the parsed entry may point into it */
  vg_entry e;
  char date[VG_DATE_TEXT_MAX];
  vg_rule_entry re;
} stored;

typedef struct {
  char dir[64];
  vg_store *st;
  vg_rules *r;
  int errors; /* what the last load said */
  support_reports rep;
  stored entries[32];
  size_t nentries;
  vg_alert_list out; /* alerts handed on by the runs */
} fixture;

static const vg_rules_limits limits = {8u << 20, 200000, 3, 1.0, 0};

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  if (!fx) return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vigil-rules-XXXXXX");
  char err[256] = "";
  if (!mkdtemp(fx->dir) ||
      !(fx->st = vg_store_open(":memory:", VG_STORE_SYNC_NORMAL, err, sizeof err))) {
    fprintf(stderr, "setup: %s\n", err);
    rmdir(fx->dir);
    free(fx);
    return -1;
  }
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  vg_alert_list_clear(&fx->out);
  free(fx->out.v);
  vg_rules_free(fx->r);
  for (size_t i = 0; i < fx->nentries; i++) {
    vg_entry_clear(&fx->entries[i].e);
    free(fx->entries[i].line);
  }
  vg_store_close(fx->st);
  support_remove_dir(fx->dir);
  free(fx);
  return 0;
}

/* ---- helpers ---- */

static void write_rules(fixture *fx, const char *name, const char *text) {
  assert_int_equal(support_write_file(fx->dir, name, text), 0);
}

/* Loads fx->dir, keeping what it reports. */
static void load(fixture *fx) {
  memset(&fx->rep, 0, sizeof fx->rep);
  vg_rules_free(fx->r);
  fx->r = vg_rules_load(fx->dir, NULL, &limits, support_collect_report, &fx->rep, &fx->errors);
  assert_non_null(fx->r);
}

/* Loads fx->dir and fails the test on any report. */
static void load_clean(fixture *fx) {
  load(fx);
  if (fx->errors) fail_msg("the rules did not load cleanly: %s", fx->rep.text);
}

/* Parses line, stores it in its own transaction; returns its index. */
static int store_line(fixture *fx, const char *text) {
  assert_true(fx->nentries < sizeof fx->entries / sizeof fx->entries[0]);
  stored *s = &fx->entries[fx->nentries];
  char why[VG_REASON_MAX];
  s->line = strdup(text);
  assert_non_null(s->line);
  if (vg_entry_parse(s->line, strlen(s->line), VG_FORMAT_AUTO, "desk", &s->e, why)) {
    free(s->line);
    fail_msg("cannot parse \"%s\": %s", text, why);
  }
  fx->nentries++;
  int64_t id = 0;
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_store_insert(fx->st, &s->e, &id), VG_STORED);
  assert_int_equal(vg_store_commit(fx->st), 0);
  vg_date_format(&s->e.date, s->date);
  s->re = (vg_rule_entry){id,           s->date,      vg_precision_name(s->e.date.precision),
                          s->e.date.first, s->e.date.last, s->e.text, s->e.text_len, s->e.source,
                          s->e.fields};
  return (int)fx->nentries - 1;
}

/* Runs the rules on entry i in a transaction of its own; alerts go to fx->out. */
static void run(fixture *fx, int i) {
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_rules_run(fx->r, fx->st, &fx->entries[i].re, &fx->out), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
}

/* Stores line and runs the rules on it; returns its index. */
static int run_line(fixture *fx, const char *line) {
  int i = store_line(fx, line);
  run(fx, i);
  return i;
}

typedef struct {
  char text[1024];
  int with_rule;
} tag_text;

static int join_tag(void *ud, const char *tag, const char *rule) {
  tag_text *t = ud;
  size_t used = strlen(t->text);
  if (t->with_rule)
    snprintf(t->text + used, sizeof t->text - used, "%s%s=%s", used ? "," : "", tag, rule);
  else
    snprintf(t->text + used, sizeof t->text - used, "%s%s", used ? "," : "", tag);
  return 0;
}

/* The stored tags of entry i in tag order, joined by ','; with_rule adds
 * "=rule" to each. The text stays valid until the next call. */
static const char *tags_of_x(fixture *fx, int i, int with_rule) {
  static tag_text t;
  memset(&t, 0, sizeof t);
  t.with_rule = with_rule;
  assert_int_equal(vg_store_entry_tags(fx->st, fx->entries[i].re.id, join_tag, &t), 0);
  return t.text;
}

static const char *tags_of(fixture *fx, int i) { return tags_of_x(fx, i, 0); }

/* The stored alerts, one line each: "rule|key|severity|message|entries". */
typedef struct {
  int n;
  char text[8192];
} alert_text;

static int join_alert(void *ud, const vg_alert_row *a) {
  alert_text *t = ud;
  size_t used = strlen(t->text);
  snprintf(t->text + used, sizeof t->text - used, "%s|%s|%s|%s|%s\n", a->rule, a->key,
           a->severity, a->message, a->entries ? a->entries : "");
  t->n++;
  return 0;
}

static const char *alerts_text(fixture *fx, int *n) {
  static alert_text t;
  memset(&t, 0, sizeof t);
  vg_alert_query q = {0};
  assert_int_equal(vg_store_alerts(fx->st, &q, join_alert, &t), 0);
  if (n) *n = t.n;
  return t.text;
}

/* "N" for the id of entry i, as the alert lines show entry ids. */
static const char *id_text(fixture *fx, int i) {
  static char buf[4][32];
  static int next;
  char *b = buf[next++ % 4];
  snprintf(b, 32, "%lld", (long long)fx->entries[i].re.id);
  return b;
}

/* ---- when, tags ---- */

static void test_when_and_tag_list(void **state) {
  fixture *fx = *state;
  write_rules(fx, "events.lua", "rule \"launch\" {\n"
                                "  when = function(e) return e:find(\"launches\") end,\n"
                                "  tags = { \"launch\", \"event\" },\n"
                                "}\n");
  load_clean(fx);
  assert_int_equal(vg_rules_count(fx->r), 1);
  int yes = run_line(fx, "Nov. 21, 2023: North Korea launches a satellite.");
  int no = run_line(fx, "Nov. 22, 2023: South Korea suspends the agreement.");
  assert_string_equal(tags_of_x(fx, yes, 1), "event=launch,launch=launch");
  assert_string_equal(tags_of(fx, no), "");
}

static void test_tags_without_when_apply_to_every_entry(void **state) {
  fixture *fx = *state;
  write_rules(fx, "all.lua", "rule \"all\" { tags = { \"seen\" } }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: one")), "seen");
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-22: two")), "seen");
}

static void test_when_returning_a_value_counts_as_yes(void **state) {
  fixture *fx = *state;
  write_rules(fx, "truthy.lua", "rule \"truthy\" {\n"
                                "  when = function(e) return e:match(\"\\\\d+\") end,\n"
                                "  tags = { \"has-number\" },\n"
                                "}\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: 3 missiles")), "has-number");
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-22: no numbers")), "");
}

static void test_tags_function_form(void **state) {
  fixture *fx = *state;
  write_rules(fx, "fn.lua", "rule \"by-source\" {\n"
                            "  tags = function(e) return { \"source:\" .. e.source, \"words:\" .. select(2, e.text:gsub(\"%S+\", \"\")) } end,\n"
                            "}\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: North Korea fires a missile");
  assert_string_equal(tags_of(fx, i), "source:desk,words:5");
}

static void test_tags_function_returning_nil_is_not_a_failure(void **state) {
  fixture *fx = *state;
  /* Three entries with no tags to set do not count against the rule. */
  write_rules(fx, "maybe.lua", "rule \"maybe\" {\n"
                               "  tags = function(e) if e:find(\"missile\") then return { \"missile\" } end end,\n"
                               "}\n");
  load_clean(fx);
  for (int k = 0; k < 4; k++) {
    char line[64];
    snprintf(line, sizeof line, "2023-11-%02d: nothing to see", k + 1);
    assert_string_equal(tags_of(fx, run_line(fx, line)), "");
  }
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-30: a missile")), "missile");
}

static void test_when_false_skips_tags_and_alert(void **state) {
  fixture *fx = *state;
  write_rules(fx, "never.lua", "rule \"never\" {\n"
                               "  when = function(e) return false end,\n"
                               "  tags = function(e) error(\"tags called\") end,\n"
                               "  alert = function(e) error(\"alert called\") end,\n"
                               "}\n"
                               "rule \"nil-when\" {\n"
                               "  when = function(e) end,\n"
                               "  tags = { \"nil-when\" },\n"
                               "}\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: anything");
  int n;
  assert_string_equal(tags_of(fx, i), "");
  alerts_text(fx, &n);
  assert_int_equal(n, 0);
}

static void test_tag_set_by_two_rules_is_kept_once(void **state) {
  fixture *fx = *state;
  write_rules(fx, "twice.lua", "rule \"first\" { tags = { \"dup\" } }\n"
                               "rule \"second\" { tags = { \"dup\", \"other\" } }\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: anything");
  assert_string_equal(tags_of_x(fx, i, 1), "dup=first,other=second");
}

/* ---- alerts ---- */

static void test_alert_function_returning_a_string(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"say\" {\n"
                           "  when = function(e) return e:find(\"missile\") end,\n"
                           "  alert = function(e) return \"seen: \" .. e.text end,\n"
                           "}\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: a missile");
  run_line(fx, "2023-11-22: nothing");
  int n;
  const char *a = alerts_text(fx, &n);
  assert_int_equal(n, 1);
  char want[256];
  snprintf(want, sizeof want, "say||warn|seen: a missile|%s\n", id_text(fx, i));
  assert_string_equal(a, want);
}

static void test_alert_static_table_form(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"static\" {\n"
                           "  when = function(e) return e:find(\"missile\") end,\n"
                           "  alert = { message = \"a missile\", severity = \"crit\" },\n"
                           "}\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: a missile");
  int n;
  const char *a = alerts_text(fx, &n);
  char want[256];
  snprintf(want, sizeof want, "static||crit|a missile|%s\n", id_text(fx, i));
  assert_string_equal(a, want);
}

static void test_alert_severity_defaults_to_rule_severity(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"fn-info\" { severity = \"info\",\n"
                           "  alert = function(e) return { message = \"m1\" } end }\n"
                           "rule \"table-info\" { severity = \"info\", alert = { message = \"m2\" } }\n"
                           "rule \"string-crit\" { severity = \"crit\",\n"
                           "  alert = function(e) return \"m3\" end }\n"
                           "rule \"override\" { severity = \"info\",\n"
                           "  alert = function(e) return { message = \"m4\", severity = \"crit\" } end }\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: anything");
  char want[512];
  const char *id = id_text(fx, i);
  snprintf(want, sizeof want,
           "fn-info||info|m1|%s\ntable-info||info|m2|%s\nstring-crit||crit|m3|%s\n"
           "override||crit|m4|%s\n",
           id, id, id, id);
  assert_string_equal(alerts_text(fx, NULL), want);
}

static void test_alert_severity_defaults_to_warn(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"plain\" { alert = { message = \"m\" } }\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: anything");
  char want[128];
  snprintf(want, sizeof want, "plain||warn|m|%s\n", id_text(fx, i));
  assert_string_equal(alerts_text(fx, NULL), want);
}

static void test_alert_returning_nil_or_false_raises_nothing(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"nil\" { alert = function(e) return nil end }\n"
                           "rule \"false\" { alert = function(e) return false end }\n");
  load_clean(fx);
  run_line(fx, "2023-11-21: anything");
  int n;
  alerts_text(fx, &n);
  assert_int_equal(n, 0);
  assert_int_equal(fx->out.n, 0);
}

static void test_alert_key_makes_distinct_alerts_for_one_entry(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "local n = 0\n"
                           "rule \"keyed\" {\n"
                           "  alert = function(e) n = n + 1 return { message = \"m\", key = \"k\" .. n } end,\n"
                           "}\n");
  load_clean(fx);
  int i = store_line(fx, "2023-11-21: anything");
  run(fx, i);
  run(fx, i);
  char want[256];
  const char *id = id_text(fx, i);
  snprintf(want, sizeof want, "keyed|k1|warn|m|%s\nkeyed|k2|warn|m|%s\n", id, id);
  assert_string_equal(alerts_text(fx, NULL), want);
  assert_int_equal(fx->out.n, 2);
  assert_string_equal(fx->out.v[0].key, "k1");
  assert_string_equal(fx->out.v[1].key, "k2");
}

static void test_alert_number_key(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"keyed\" { alert = function(e) return { message = \"m\", key = 42 } end }\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: anything");
  char want[128];
  snprintf(want, sizeof want, "keyed|42|warn|m|%s\n", id_text(fx, i));
  assert_string_equal(alerts_text(fx, NULL), want);
}

static void test_same_entry_twice_stores_alert_once(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"once\" { alert = function(e) return \"m\" end }\n");
  load_clean(fx);
  int i = store_line(fx, "2023-11-21: anything");
  run(fx, i);
  assert_int_equal(fx->out.n, 1);
  run(fx, i);
  assert_int_equal(fx->out.n, 1); /* not handed on again */
  int n;
  alerts_text(fx, &n);
  assert_int_equal(n, 1);
}

static void test_same_rule_on_two_entries_makes_two_alerts(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"each\" { alert = function(e) return \"m\" end }\n");
  load_clean(fx);
  int a = run_line(fx, "2023-11-21: one");
  int b = run_line(fx, "2023-11-22: two");
  char want[128];
  snprintf(want, sizeof want, "each||warn|m|%s\neach||warn|m|%s\n", id_text(fx, a),
           id_text(fx, b));
  assert_string_equal(alerts_text(fx, NULL), want);
  assert_int_equal(fx->out.n, 2);
}

static void test_alert_out_list_carries_the_alert(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"out\" {\n"
                           "  severity = \"crit\",\n"
                           "  alert = function(e) return { message = \"launch: \" .. e.text, key = \"k\" } end,\n"
                           "}\n");
  load_clean(fx);
  int i = run_line(fx, "Nov. 21, 2023: a satellite");
  assert_int_equal(fx->out.n, 1);
  const vg_alert *a = &fx->out.v[0];
  assert_true(a->id > 0);
  assert_string_equal(a->rule, "out");
  assert_string_equal(a->key, "k");
  assert_string_equal(a->severity, "crit");
  assert_string_equal(a->message, "launch: a satellite");
  assert_string_equal(a->date, "2023-11-21");
  assert_null(a->sinks);
  assert_int_equal(a->nentries, 1);
  assert_int_equal(a->entries[0], fx->entries[i].re.id);
}

static void test_alert_out_list_names_the_rule_sinks(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"paged\" {\n"
                           "  sinks = { \"pager\", \"mail\" },\n"
                           "  alert = { message = \"m\" },\n"
                           "}\n");
  load_clean(fx);
  run_line(fx, "2023-11-21: anything");
  assert_int_equal(fx->out.n, 1);
  assert_non_null(fx->out.v[0].sinks);
  assert_string_equal(fx->out.v[0].sinks, "pager,mail");
}

static void test_empty_sinks_list_names_no_sinks(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"quiet\" { sinks = {}, alert = { message = \"m\" } }\n");
  load_clean(fx);
  run_line(fx, "2023-11-21: anything");
  assert_int_equal(fx->out.n, 1);
  assert_null(fx->out.v[0].sinks);
}

static void test_alert_out_list_without_key(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"plain\" { alert = { message = \"m\" } }\n");
  load_clean(fx);
  run_line(fx, "2023-11-21: anything");
  assert_int_equal(fx->out.n, 1);
  assert_string_equal(fx->out.v[0].key, "");
}

static void test_long_alert_message_is_cut(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"long\" { alert = function(e) return string.rep(\"m\", 5000) end }\n");
  load_clean(fx);
  run_line(fx, "2023-11-21: anything");
  assert_int_equal(fx->out.n, 1);
  assert_int_equal(strlen(fx->out.v[0].message), 4096);
}

static void test_rule_with_tags_and_alert_does_both(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"both\" {\n"
                           "  when = function(e) return e:find(\"ICBM\") end,\n"
                           "  tags = { \"icbm\" },\n"
                           "  alert = function(e) return \"tags: \" .. table.concat(e.tags, \",\") end,\n"
                           "}\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: an ICBM");
  assert_string_equal(tags_of(fx, i), "icbm");
  assert_int_equal(fx->out.n, 1);
  assert_string_equal(fx->out.v[0].message, "tags: icbm");
}

/* ---- order ---- */

/* Each rule tags "NAME@N", N the number of tags set before it ran. */
#define ORDER_RULE(name) "rule \"" name "\" { tags = function(e) return { \"" name "@\" .. #e.tags } end }\n"

static void test_rules_run_in_file_then_declaration_order(void **state) {
  fixture *fx = *state;
  write_rules(fx, "b.lua", ORDER_RULE("b1"));
  write_rules(fx, "a.lua", ORDER_RULE("a2") ORDER_RULE("a1"));
  write_rules(fx, "c.lua", ORDER_RULE("c1"));
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: anything");
  assert_string_equal(tags_of(fx, i), "a1@1,a2@0,b1@2,c1@3");
}

static void test_after_runs_a_rule_after_another_file(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"reader\" {\n"
                           "  after = { \"setter\" },\n"
                           "  when = function(e) return e:has_tag(\"z-tag\") end,\n"
                           "  tags = { \"saw-z\" },\n"
                           "}\n");
  write_rules(fx, "z.lua", "rule \"setter\" { tags = { \"z-tag\" } }\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: anything");
  assert_string_equal(tags_of(fx, i), "saw-z,z-tag");
}

static void test_without_after_a_later_file_is_not_seen(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"reader\" {\n"
                           "  when = function(e) return e:has_tag(\"z-tag\") end,\n"
                           "  tags = { \"saw-z\" },\n"
                           "}\n");
  write_rules(fx, "z.lua", "rule \"setter\" { tags = { \"z-tag\" } }\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: anything");
  assert_string_equal(tags_of(fx, i), "z-tag");
}

static void test_after_moves_only_what_it_must(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", ORDER_RULE("a1")
                           "rule \"a2\" { after = { \"z1\" },"
                           " tags = function(e) return { \"a2@\" .. #e.tags } end }\n"
                           ORDER_RULE("a3"));
  write_rules(fx, "z.lua", ORDER_RULE("z1"));
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: anything");
  /* a1, a3, z1 keep their order; a2 waits for z1. */
  assert_string_equal(tags_of(fx, i), "a1@0,a2@3,a3@1,z1@2");
}

static void test_after_chain_across_files(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"third\" { after = { \"second\" },"
                           " tags = function(e) return { \"third@\" .. #e.tags } end }\n");
  write_rules(fx, "b.lua", "rule \"second\" { after = { \"first\" },"
                           " tags = function(e) return { \"second@\" .. #e.tags } end }\n");
  write_rules(fx, "c.lua", ORDER_RULE("first"));
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: anything");
  assert_string_equal(tags_of(fx, i), "first@0,second@1,third@2");
}

static void test_unknown_after_name_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "\nrule \"lonely\" { after = { \"nope\" }, tags = { \"lonely\" } }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_int_equal(fx->rep.n, 1);
  assert_contains(fx->rep.text, "a.lua:2:");
  assert_contains(fx->rep.text, "'nope'");
  /* The rule itself still runs. */
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: anything")), "lonely");
}

static void test_after_cycle_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"x\" { after = { \"y\" }, tags = { \"x\" } }\n"
                           "rule \"y\" { after = { \"x\" }, tags = { \"y\" } }\n"
                           "rule \"free\" { tags = { \"free\" } }\n");
  load(fx);
  assert_true(fx->errors >= 1);
  assert_contains(fx->rep.text, "cycle");
  assert_contains(fx->rep.text, "'x'");
  assert_contains(fx->rep.text, "'y'");
  if (strstr(fx->rep.text, "'free'")) fail_msg("'free' is in no cycle: %s", fx->rep.text);
  /* Every rule still runs. */
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: anything")), "free,x,y");
}

static void test_rule_after_itself_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"self\" { after = { \"self\" }, tags = { \"self\" } }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "cycle");
}

/* ---- what loading reports ---- */

static void test_duplicate_rule_name_across_files_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"dup\" { tags = { \"from-a\" } }\n");
  write_rules(fx, "b.lua", "rule \"b-only\" { tags = { \"b-only\" } }\n"
                           "rule \"dup\" { tags = { \"from-b\" } }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "b.lua:2:");
  assert_contains(fx->rep.text, "'dup'");
  assert_contains(fx->rep.text, "a.lua:1");
  /* The file that repeats the name does not load; the first one does. */
  assert_int_equal(vg_rules_count(fx->r), 1);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: anything")), "from-a");
}

static void test_duplicate_rule_name_in_one_file_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"dup\" { tags = { \"one\" } }\n"
                           "rule \"dup\" { tags = { \"two\" } }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "a.lua:2:");
  assert_int_equal(vg_rules_count(fx->r), 0);
}

static void test_unknown_field_reported_with_file_and_line(void **state) {
  fixture *fx = *state;
  write_rules(fx, "typo.lua", "-- the field is misspelt\n"
                              "\n"
                              "rule \"typo\" {\n"
                              "  wehn = function(e) return true end,\n"
                              "  tags = { \"x\" },\n"
                              "}\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  char where[PATH_MAX];
  snprintf(where, sizeof where, "%s/typo.lua:3:", fx->dir);
  assert_contains(fx->rep.text, where);
  assert_contains(fx->rep.text, "'wehn'");
  assert_contains(fx->rep.text, "'typo'");
  assert_int_equal(vg_rules_count(fx->r), 0);
}

static void test_bad_severity_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"loud\" { severity = \"loud\", tags = { \"x\" } }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "a.lua:1:");
  assert_contains(fx->rep.text, "severity");
}

static void test_rule_doing_nothing_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"idle\" { when = function(e) return true end }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "a.lua:1:");
  assert_contains(fx->rep.text, "'idle'");
}

static void test_when_not_a_function_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"w\" { when = true, tags = { \"x\" } }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "'when'");
}

static void test_static_tag_with_a_space_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"t\" { tags = { \"two words\" } }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "a.lua:1:");
  assert_contains(fx->rep.text, "two words");
}

static void test_static_alert_without_message_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"t\" { alert = { severity = \"crit\" } }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "message");
}

static void test_after_not_a_list_of_names_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"t\" { after = \"other\", tags = { \"x\" } }\n"
                           "rule \"other\" { tags = { \"y\" } }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "'after'");
}

static void test_declaring_a_rule_inside_a_rule_fails(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"late\" {\n"
                           "  tags = function(e) rule \"sneaky\" { tags = { \"sneaky\" } } return { \"late\" } end,\n"
                           "}\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: anything")), "");
  assert_int_equal(vg_rules_count(fx->r), 1);
  assert_null(vg_rules_file_of(fx->r, "sneaky"));
}

static void test_file_of_names_the_declaring_file(void **state) {
  fixture *fx = *state;
  write_rules(fx, "events.lua", "rule \"ev\" { tags = { \"ev\" } }\n");
  load_clean(fx);
  char want[PATH_MAX];
  snprintf(want, sizeof want, "%s/events.lua", fx->dir);
  assert_non_null(vg_rules_file_of(fx->r, "ev"));
  assert_string_equal(vg_rules_file_of(fx->r, "ev"), want);
  assert_null(vg_rules_file_of(fx->r, "nope"));
}

static void test_empty_directory_loads_cleanly(void **state) {
  fixture *fx = *state;
  load_clean(fx);
  assert_int_equal(vg_rules_count(fx->r), 0);
  assert_int_equal(vg_rules_test_count(fx->r), 0);
  run_line(fx, "2023-11-21: anything");
}

/* ---- the entry object ---- */

static void test_entry_fields_of_a_chronology_line(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"show\" { alert = function(e)\n"
                           "  return table.concat({ e.date, e.precision, e.day, e.last_day, e.source,\n"
                           "                        e.text, type(e.id) }, \"|\")\n"
                           "end }\n");
  load_clean(fx);
  int i = run_line(fx, "mid-December 2023: artillery fire");
  assert_int_equal(fx->out.n, 1);
  char want[256];
  snprintf(want, sizeof want, "2023-12-11/2023-12-20|range|%d|%d|desk|artillery fire|number",
           fx->entries[i].re.first, fx->entries[i].re.last);
  assert_string_equal(fx->out.v[0].message, want);
  assert_int_equal(fx->entries[i].re.last - fx->entries[i].re.first, 9);
}

static void test_entry_id_is_the_stored_id(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"id\" { tags = function(e) return { \"id:\" .. e.id } end }\n");
  load_clean(fx);
  run_line(fx, "2023-11-20: first");
  int i = run_line(fx, "2023-11-21: second");
  char want[64];
  snprintf(want, sizeof want, "id:%s", id_text(fx, i));
  assert_string_equal(tags_of(fx, i), want);
}

static void test_entry_json_fields(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"f\" { tags = function(e)\n"
                           "  local f = e.fields\n"
                           "  return { \"region:\" .. f.region, \"count:\" .. f.meta.count,\n"
                           "           \"second:\" .. f.meta.list[2], \"n:\" .. #f.meta.list,\n"
                           "           \"flag:\" .. tostring(f.flag), \"ratio:\" .. f.ratio,\n"
                           "           \"none:\" .. tostring(f.none) }\n"
                           "end }\n");
  load_clean(fx);
  int i = run_line(fx, "{\"date\": \"2023-11-21\", \"text\": \"x\", \"region\": \"east\","
                       " \"meta\": {\"count\": 3, \"list\": [\"a\", \"b\"]}, \"flag\": true,"
                       " \"ratio\": 0.5, \"none\": null, \"source\": \"wire\"}");
  assert_string_equal(tags_of(fx, i),
                      "count:3,flag:true,n:2,none:nil,ratio:0.5,region:east,second:b");
}

static void test_entry_fields_are_read_only(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"top\" { tags = function(e) e.fields.region = \"west\" return { \"top\" } end }\n"
                           "rule \"nested\" { tags = function(e) e.fields.meta.count = 4 return { \"nested\" } end }\n"
                           "rule \"list\" { tags = function(e) table.insert(e.fields.meta.list, \"c\") return { \"list\" } end }\n"
                           "rule \"meta\" { tags = function(e) setmetatable(e.fields.meta, nil) return { \"meta\" } end }\n"
                           "rule \"after\" { after = { \"top\", \"nested\", \"list\", \"meta\" }, tags = function(e)\n"
                           "  return { e.fields.region .. \"-\" .. e.fields.meta.count .. \"-\" .. #e.fields.meta.list }\n"
                           "end }\n");
  load_clean(fx);
  int i = run_line(fx, "{\"date\": \"2023-11-21\", \"text\": \"x\", \"region\": \"east\","
                       " \"meta\": {\"count\": 3, \"list\": [\"a\", \"b\"]}}");
  assert_string_equal(tags_of(fx, i), "east-3-2");
}

static void test_entry_fields_iterate_with_pairs(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"keys\" { tags = function(e)\n"
                           "  local keys = {}\n"
                           "  for k in pairs(e.fields) do keys[#keys + 1] = k end\n"
                           "  table.sort(keys)\n"
                           "  return { \"keys:\" .. table.concat(keys, \"+\") }\n"
                           "end }\n");
  load_clean(fx);
  int i = run_line(fx, "{\"date\": \"2023-11-21\", \"text\": \"x\", \"b\": 1, \"a\": 2}");
  assert_string_equal(tags_of(fx, i), "keys:a+b");
}

static void test_entry_fields_empty_for_a_chronology_line(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"f\" { tags = function(e)\n"
                           "  local n = 0\n"
                           "  for _ in pairs(e.fields) do n = n + 1 end\n"
                           "  return { \"n:\" .. n, \"region:\" .. tostring(e.fields.region) }\n"
                           "end }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: x")), "n:0,region:nil");
}

static void test_entry_tags_lists_tags_set_so_far(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"one\" { tags = { \"one\" } }\n"
                           "rule \"two\" { tags = { \"two\", \"zwei\" } }\n"
                           "rule \"seen\" { tags = function(e) return { \"seen:\" .. table.concat(e.tags, \"+\") } end }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: x")),
                      "one,seen:one+two+zwei,two,zwei");
}

static void test_entry_tags_is_a_copy(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"one\" { tags = { \"one\" } }\n"
                           "rule \"meddle\" { when = function(e) local t = e.tags t[#t + 1] = \"sneaky\" return false end, tags = { \"x\" } }\n"
                           "rule \"check\" { tags = function(e) return { e:has_tag(\"sneaky\") and \"fooled\" or \"n:\" .. #e.tags } end }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: x")), "n:1,one");
}

static void test_entry_tags_start_empty_for_each_entry(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"count\" { tags = function(e) return { \"before:\" .. #e.tags } end }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: x")), "before:0");
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-22: y")), "before:0");
}

static void test_has_tag_takes_a_list(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"one\" { tags = { \"one\" } }\n"
                           "rule \"any\" { when = function(e) return e:has_tag({ \"zero\", \"one\" }) end, tags = { \"any\" } }\n"
                           "rule \"none\" { when = function(e) return e:has_tag({ \"zero\", \"two\" }) end, tags = { \"none\" } }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: x")), "any,one");
}

static void test_find_takes_a_word_or_a_list(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"word\" { when = function(e) return e:find(\"missile\") end, tags = { \"word\" } }\n"
                           "rule \"list\" { when = function(e) return e:find({ \"rocket\", \"missile\" }) end, tags = { \"list\" } }\n"
                           "rule \"part\" { when = function(e) return e:find(\"miss\") end, tags = { \"part\" } }\n"
                           "rule \"weapons\" { when = function(e) return e:find(lists.weapons) end, tags = { \"weapons\" } }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: a Missile flies")), "list,weapons,word");
}

static void test_find_reads_lists_as_they_are_now(void **state) {
  fixture *fx = *state;
  /* A frozen list is read once; a list that can change is read at each call. */
  write_rules(fx, "a.lua", "rule \"grow\" { when = function(e) table.insert(lists.weapons, \"flies\") end, tags = { \"grew\" } }\n"
                           "rule \"weapons\" { after = { \"grow\" }, when = function(e) return e:find(lists.weapons) end, tags = { \"weapons\" } }\n"
                           "local t = { \"nothing\" }\n"
                           "rule \"changing\" { when = function(e) local was = e:find(t); t[1] = \"flies\"; return not was and e:find(t) end, tags = { \"changing\" } }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: a missile flies")), "changing,weapons");
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-22: a bird flies")), "");
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-23: a rocket")), "weapons");
}

static void test_find_with_a_bad_argument_fails_the_rule(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"bad\" { when = function(e) return e:find({ \"x\", 3 }) end, tags = { \"bad\" } }\n"
                           "rule \"good\" { tags = { \"good\" } }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: y")), "good");
}

static void test_mentions_an_actor_by_any_of_its_names(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"nk\" { when = function(e) return e:mentions(\"North Korea\") end, tags = { \"nk\" } }\n"
                           "rule \"key\" { when = function(e) return e:mentions(\"north-korea\") end, tags = { \"key\" } }\n"
                           "rule \"jp\" { when = function(e) return e:mentions(\"Japan\") end, tags = { \"jp\" } }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: Pyongyang fires a missile")), "key,nk");
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-22: Kishida speaks")), "jp");
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-23: Seoul reacts")), "");
}

static void test_mentions_other_words_as_written(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"sat\" { when = function(e) return e:mentions(\"satellite\") end, tags = { \"sat\" } }\n"
                           "rule \"any\" { when = function(e) return e:mentions({ \"Japan\", \"Moscow\" }) end, tags = { \"any\" } }\n");
  load_clean(fx);
  /* "Moscow" stands for Russia, so "Putin" matches it. */
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: Putin launches a satellite")), "any,sat");
}

static void test_actors_are_sorted_keys(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"actors\" { tags = function(e) return { \"actors:\" .. table.concat(e:actors(), \"+\") } end }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: Seoul and Washington watch as Kim meets Putin")),
                      "actors:north-korea+russia+south-korea+us");
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-22: officials tell us nothing")), "actors:");
}

/* e:agents(), e:mode() and e:action() on lines written to trap a reader
 * that looks only for names and verbs anywhere in the text. */
static void test_agents_mode_and_action_read_the_main_clause(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua",
              "rule \"read\" { tags = function(e)\n"
              "  local m, d = e:mode()\n"
              "  return { \"a:\" .. table.concat(e:agents(), \"+\"), \"m:\" .. m, \"d:\" .. (d or \"-\"),\n"
              "           \"v:\" .. e:action() }\n"
              "end }\n");
  load_clean(fx);
  static const struct {
    const char *line, *tags;
  } cases[] = {
      /* who acts: the subject, "X and Y" both, not everyone named */
      {"2022-10-05: South Korea and the US fire missiles in response to North Korea's launch.",
       "a:south-korea+us,d:-,m:event,v:fire"},
      {"2022-10-08: North Korea stages air drills in answer to US-South Korea exercises.",
       "a:north-korea,d:-,m:event,v:stages"},
      /* "X says Y did": Y acts; "it" stands for X */
      {"2023-03-14: Japan says North Korea fired a missile that morning.",
       "a:north-korea,d:-,m:event,v:fired"},
      /* no actor in the subject: the owner of a ship, a place */
      {"2023-07-18: The USS Kentucky docks at Busan.", "a:us,d:-,m:event,v:docks"},
      /* a passive's agent follows "by" */
      {"2023-04-30: The North's launch was condemned by the G7.", "a:,d:-,m:reaction,v:condemned"},
      /* reactions */
      {"2024-03-05: North Korea denounces planned US-South Korea live-fire drills.",
       "a:north-korea,d:-,m:reaction,v:denounces"},
      {"2023-05-01: Kim Yo Jong called the drills a rehearsal for invasion.",
       "a:north-korea,d:-,m:reaction,v:called"},
      /* plans, agreements, intents; not "responded to the launch" */
      {"2022-05-21: South Korea and the US agree to expand their drills.",
       "a:south-korea+us,d:-,m:plan,v:agree"},
      {"2023-05-03: The allies will hold drills in August.", "a:south-korea+us,d:-,m:plan,v:will"},
      {"2023-05-02: Kim Jong Un called for more satellite launches.",
       "a:north-korea,d:-,m:plan,v:called"},
      {"2023-05-05: The carrier was ordered to sail toward the peninsula.",
       "a:,d:-,m:plan,v:ordered"},
      {"2023-05-04: US and South Korean forces responded to the launch by firing missiles.",
       "a:south-korea+us,d:-,m:event,v:responded"},
      {"2023-05-06: A missile, believed to be a Scud, appeared to explode on launch.",
       "a:north-korea,d:-,m:event,v:appeared"},
      /* reports of an earlier day, dated when the text names the day */
      {"2023-03-13: North Korea says it conducted a cruise missile test over the weekend.",
       "a:north-korea,d:2023-03-11,m:report,v:conducted"},
      {"2023-05-09: Pyongyang says Monday's missile was a new type.", "a:,d:2023-05-08,m:report,v:was"},
      {"2023-03-20: Three missiles were fired from Sunan on Sunday.",
       "a:north-korea,d:2023-03-19,m:report,v:fired"},
      {"2023-04-05: North Korea said it had tested a glide vehicle last week.",
       "a:north-korea,d:-,m:report,v:tested"},
      /* the day named is the entry's own, or the day the saying was made */
      {"2023-03-14: North Korea fired a missile on Tuesday, Seoul said.",
       "a:north-korea,d:-,m:event,v:fired"},
      {"2023-03-14: Seoul said on Tuesday that North Korea fired a missile.",
       "a:north-korea,d:-,m:event,v:fired"},
      /* "to" after a motion or before a number is no intent */
      {"2023-05-10: A North Korean missile rose to about 2,000 km.",
       "a:north-korea,d:-,m:event,v:rose"},
      {"2023-05-11: North Korea's ICBM flew to 6,000 km.", "a:north-korea,d:-,m:event,v:flew"},
      /* earlier days without a weekday; "last Friday" said on a Friday */
      {"2023-05-12: North Korea launched two missiles last month.",
       "a:north-korea,d:-,m:report,v:launched"},
      {"2023-05-12: North Korea fired a missile last Friday.",
       "a:north-korea,d:2023-05-05,m:report,v:fired"},
      /* the day something was said or published is not the action's */
      {"2023-03-20: North Korea's state media on Monday released photos of Sunday's launch.",
       "a:north-korea,d:2023-03-19,m:report,v:released"},
      /* a date named by month and day: earlier, or the entry's own */
      {"2023-03-07: North Korea said it fired a cruise missile on March 5.",
       "a:north-korea,d:2023-03-05,m:report,v:fired"},
      {"2023-03-07: North Korea fired a cruise missile on March 7.",
       "a:north-korea,d:-,m:event,v:fired"},
      {"2024-01-03: Pyongyang said the rocket launched on Dec. 30 carried a satellite.",
       "a:,d:2023-12-30,m:report,v:launched"},
      /* a month has no day to count back from */
      {"2023-05: North Korea says it fired a missile on Monday.", "a:north-korea,d:-,m:event,v:fired"},
      /* no verb found: everyone named, as they are told */
      {"2023-05-07: Kim and Putin at the cosmodrome.", "a:north-korea+russia,d:-,m:event,v:"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *got = tags_of(fx, run_line(fx, cases[i].line));
    if (strcmp(got, cases[i].tags) != 0)
      fail_msg("%s\n  got  %s\n  want %s", cases[i].line, got, cases[i].tags);
  }
}

/* A line of reports of reports, 32 KB long, is read within a small budget:
 * reports are followed three deep, and a line is read from its first
 * 2000 bytes. */
static void test_a_long_line_of_reports_is_read_within_the_budget(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"read\" { tags = function(e)\n"
                           "  return { \"a:\" .. table.concat(e:agents(), \"+\"), \"m:\" .. e:mode() } end }\n");
  load_clean(fx);
  static const char head[] = "2023-03-14: ", said[] = "Seoul said that ", tail[] = "North Korea fired.";
  size_t n = 2000, len = strlen(head) + n * strlen(said) + strlen(tail) + 1;
  char *line = malloc(len);
  assert_non_null(line);
  strcpy(line, head);
  for (size_t i = 0; i < n; i++) strcat(line, said);
  strcat(line, tail);
  assert_string_equal(tags_of(fx, run_line(fx, line)), "a:south-korea,m:event");
  free(line);
}

/* What e:agents() returns is the rule's own: changing it changes nothing
 * for the next rule. */
static void test_agents_returns_a_copy(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"spoil\" { tags = function(e) local a = e:agents(); a[1] = \"x\"; return {} end }\n"
                           "rule \"read\" { after = { \"spoil\" }, tags = function(e)\n"
                           "  return { \"a:\" .. table.concat(e:agents(), \"+\") } end }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: North Korea fires a missile")), "a:north-korea");
}

static void test_match_returns_captures(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"caps\" { tags = function(e)\n"
                           "  local n, what = e:match(\"fires (\\\\d+) (\\\\w+)\")\n"
                           "  return { \"n:\" .. n, \"what:\" .. what, \"type:\" .. type(n) }\n"
                           "end }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: North Korea fires 2 missiles east")),
                      "n:2,type:string,what:missiles");
}

static void test_match_without_groups_returns_whole_match(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"whole\" { tags = function(e)\n"
                           "  local m = e:match(\"Hwasong-\\\\d+\")\n"
                           "  return { \"m:\" .. m }\n"
                           "end }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-12-18: a Hwasong-18 flies")), "m:Hwasong-18");
}

static void test_match_no_match_is_nil(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"none\" { tags = function(e) return { \"m:\" .. tostring(e:match(\"\\\\d{4}x\")) } end }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: nothing")), "m:nil");
}

static void test_match_unset_group_is_nil(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"opt\" { tags = function(e)\n"
                           "  local a, b = e:match(\"(fires)|(launches)\")\n"
                           "  return { \"a:\" .. tostring(a), \"b:\" .. tostring(b) }\n"
                           "end }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: it launches")), "a:nil,b:launches");
}

static void test_match_is_unicode_aware(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"u\" { tags = function(e) return { \"w:\" .. e:match(\"^\\\\w+\") } end }\n");
  load_clean(fx);
  /* \w takes in the é of "Cafés" (PCRE2_UCP). */
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: Caf\xc3\xa9s close")),
                      "w:Caf\xc3\xa9s");
}

static void test_bad_regex_fails_the_rule(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"bad\" { when = function(e) return e:match(\"(unclosed\") end, tags = { \"bad\" } }\n"
                           "rule \"good\" { tags = { \"good\" } }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: (unclosed")), "good");
}

static void test_catastrophic_regex_fails_the_rule(void **state) {
  fixture *fx = *state;
  /* Backtracking past the match limit is an error, not a quiet "no match". */
  write_rules(fx, "a.lua", "rule \"slow\" { tags = function(e)\n"
                           "  return { e:match(\"^(a+)+$\") and \"match\" or \"no-match\" }\n"
                           "end }\n"
                           "rule \"good\" { tags = { \"good\" } }\n");
  load_clean(fx);
  char line[128];
  snprintf(line, sizeof line, "2023-11-21: %s!", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  assert_string_equal(tags_of(fx, run_line(fx, line)), "good");
}

/* ---- e:match with many groups, in a child process (it may crash) ---- */

typedef int (*child_fn)(fixture *fx);

/* Runs fn(fx) in a child process. Returns its exit status, 128 + the signal
 * that ended it, or -1 when it was still running after `seconds`. */
static int in_child(fixture *fx, child_fn fn, int seconds) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) fail_msg("fork failed");
  if (pid == 0) {
    static const int sigs[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGSYS};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
    _exit(fn(fx));
  }
  int status = 0;
  struct timespec nap = {0, 10 * 1000 * 1000};
  for (long waited = 0; waited < seconds * 100L; waited++) {
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    nanosleep(&nap, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

/* Empties the wanted tag (ud) when the entry carries it. */
static int clear_if_tag(void *ud, const char *tag, const char *rule) {
  (void)rule;
  char *want = ud;
  if (strcmp(tag, want) == 0) want[0] = '\0';
  return 0;
}

/* In a child: the rule "many" tags "caps:N" with the number of captures of
 * a pattern of N groups, for growing N, under the default limits. 0 when
 * every N came back. PCRE2 copies a frame holding every capture for each
 * group it enters, so a match takes memory (and work) in the square of the
 * groups: 400 take 8 MB, 1600 would take 80 MB, more than rules may hold. */
static int child_many_captures(fixture *fx) {
  static const int sizes[] = {10, 25, 50, 100, 200, 400};
  static const vg_rules_limits defaults = VG_RULES_LIMITS_DEFAULT;
  char text[2048];
  memset(text, 0, sizeof text);
  memset(text + 12, 'a', 1700);
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    int n = sizes[k];
    char rule[8192];
    int used = snprintf(rule, sizeof rule, "rule \"many\" { tags = function(e)\n"
                                           "  return { \"caps:\" .. select(\"#\", e:match(\"");
    for (int g = 0; g < n; g++) used += snprintf(rule + used, sizeof rule - (size_t)used, "(a)");
    snprintf(rule + used, sizeof rule - (size_t)used, "\")) } end }\n");
    if (support_write_file(fx->dir, "many.lua", rule)) return 10;
    vg_rules_free(fx->r);
    int errors = 0;
    support_reports rep = {0};
    fx->r = vg_rules_load(fx->dir, NULL, &defaults, support_collect_report, &rep, &errors);
    if (!fx->r || errors) return 11;
    memcpy(text, "2023-11-", 8); /* a new entry each time: the day changes */
    snprintf(text + 8, 4, "%02d:", (int)k + 1);
    text[11] = ' ';
    vg_entry e;
    char why[VG_REASON_MAX], date[VG_DATE_TEXT_MAX];
    char *line = strdup(text);
    if (!line || vg_entry_parse(line, strlen(line), VG_FORMAT_AUTO, "desk", &e, why)) return 12;
    int64_t id;
    if (vg_store_begin(fx->st) || vg_store_insert(fx->st, &e, &id) != VG_STORED) return 13;
    vg_date_format(&e.date, date);
    vg_rule_entry re = {id,         date,     vg_precision_name(e.date.precision), e.date.first,
                        e.date.last, e.text, e.text_len, e.source, e.fields};
    if (vg_rules_run(fx->r, fx->st, &re, NULL) || vg_store_commit(fx->st)) return 14;
    char want[32];
    snprintf(want, sizeof want, "caps:%d", n);
    vg_store_entry_tags(fx->st, id, clear_if_tag, want);
    vg_entry_clear(&e);
    free(line);
    if (want[0]) {
      fprintf(stderr, "a pattern of %d groups did not give %d captures\n", n, n);
      return 20 + (int)k;
    }
  }
  return 0;
}

static void test_match_returns_every_capture_of_many_groups(void **state) {
  int st = in_child(*state, child_many_captures, 120); /* a second or two here */
  if (st == -1) fail_msg("still running after 120 s");
  if (st > 128) fail_msg("the process was killed by signal %d", st - 128);
  if (st != 0) fail_msg("the child process reported problem %d", st);
}

/* ---- days, weeks, date ---- */

static void test_days_weeks_and_date(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"time\" { tags = function(e)\n"
                           "  return { \"days:\" .. days(14), \"weeks:\" .. weeks(2),\n"
                           "           \"same-day:\" .. tostring(date\"2023-11-21\" == e.day),\n"
                           "           \"written:\" .. tostring(date\"Nov. 21, 2023\" == e.day),\n"
                           "           \"month:\" .. tostring(date\"November 2023\" == e.day - 20),\n"
                           "           \"window:\" .. tostring(e.day - date\"2023-11-07\" <= weeks(2)) }\n"
                           "end }\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: x");
  assert_string_equal(tags_of(fx, i), "days:14,month:true,same-day:true,weeks:14,window:true,"
                                      "written:true");
}

static void test_date_is_the_day_number(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"d\" { tags = function(e) return { \"day:\" .. date\"2023-11-21\" } end }\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: x");
  char want[32];
  snprintf(want, sizeof want, "day:%d", vg_days_from_civil(2023, 11, 21));
  assert_string_equal(tags_of(fx, i), want);
  assert_int_equal(fx->entries[i].re.first, vg_days_from_civil(2023, 11, 21));
}

static void test_bad_date_and_days_arguments_fail_the_rule(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", "rule \"d1\" { tags = function(e) return { \"d1:\" .. date\"Octember 5, 2023\" } end }\n"
                           "rule \"d2\" { tags = function(e) return { \"d2:\" .. days(\"two\") } end }\n"
                           "rule \"d3\" { tags = function(e) return { \"d3:\" .. weeks() } end }\n"
                           "rule \"good\" { tags = { \"good\" } }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: x")), "good");
}

static void test_date_at_load_time(void **state) {
  fixture *fx = *state;
  /* Values computed while the file loads are kept for its rules. */
  write_rules(fx, "a.lua", "local since = date\"2023-11-01\"\n"
                           "rule \"recent\" { when = function(e) return e.day >= since end, tags = { \"recent\" } }\n");
  load_clean(fx);
  assert_string_equal(tags_of(fx, run_line(fx, "2023-11-21: x")), "recent");
  assert_string_equal(tags_of(fx, run_line(fx, "2023-10-21: y")), "");
}

/* ---- test cases ---- */

static void test_test_case_read_back(void **state) {
  fixture *fx = *state;
  write_rules(fx, "cases.lua",
              "rule \"launch\" { when = function(e) return e:find(\"launches\") end, tags = { \"launch\" } }\n"
              "\n"
              "test \"two entries\" {\n"
              "  given = {\n"
              "    \"Nov. 21, 2023: North Korea launches a satellite.\",\n"
              "    { date = \"2023-11-22\", text = \"Nothing.\", region = \"east\" },\n"
              "  },\n"
              "  tags = { { \"launch\" }, {} },\n"
              "  alerts = { { rule = \"launch\", entries = { 1, 2 }, severity = \"warn\", message = \"m\" } },\n"
              "}\n"
              "test \"one entry\" {\n"
              "  given = { \"2023-11-23: x\" },\n"
              "  alerts = { { rule = \"launch\" } },\n"
              "}\n");
  load_clean(fx);
  assert_int_equal(vg_rules_test_count(fx->r), 2);

  vg_rule_test t;
  char err[256] = "";
  assert_int_equal(vg_rules_test_get(fx->r, 0, &t, err, sizeof err), 0);
  assert_string_equal(t.name, "two entries");
  assert_contains(t.file, "cases.lua");
  assert_int_equal(t.line, 3);
  assert_int_equal(t.ngiven, 2);
  assert_string_equal(t.given[0], "Nov. 21, 2023: North Korea launches a satellite.");
  cJSON *j = cJSON_Parse(t.given[1]);
  assert_non_null(j);
  assert_string_equal(cJSON_GetObjectItem(j, "date")->valuestring, "2023-11-22");
  assert_string_equal(cJSON_GetObjectItem(j, "text")->valuestring, "Nothing.");
  assert_string_equal(cJSON_GetObjectItem(j, "region")->valuestring, "east");
  cJSON_Delete(j);
  assert_true(t.has_tags);
  assert_string_equal(t.tags[0][0], "launch");
  assert_null(t.tags[0][1]);
  assert_null(t.tags[1][0]);
  assert_true(t.has_alerts);
  assert_int_equal(t.nalerts, 1);
  assert_string_equal(t.alerts[0].rule, "launch");
  assert_string_equal(t.alerts[0].severity, "warn");
  assert_string_equal(t.alerts[0].message, "m");
  assert_int_equal(t.alerts[0].nentries, 2);
  assert_int_equal(t.alerts[0].entries[0], 1);
  assert_int_equal(t.alerts[0].entries[1], 2);
  vg_rule_test_free(&t);

  assert_int_equal(vg_rules_test_get(fx->r, 1, &t, err, sizeof err), 0);
  assert_string_equal(t.name, "one entry");
  assert_false(t.has_tags);
  assert_true(t.has_alerts);
  assert_null(t.alerts[0].severity);
  assert_null(t.alerts[0].message);
  assert_int_equal(t.alerts[0].nentries, 1); /* one given entry: the alert is about it */
  assert_int_equal(t.alerts[0].entries[0], 1);
  vg_rule_test_free(&t);
}

static void test_test_case_alert_needs_entries_with_several_given(void **state) {
  fixture *fx = *state;
  write_rules(fx, "cases.lua", "rule \"r\" { tags = { \"r\" } }\n"
                               "test \"vague\" {\n"
                               "  given = { \"2023-11-21: a\", \"2023-11-22: b\" },\n"
                               "  alerts = { { rule = \"r\" } },\n"
                               "}\n");
  load_clean(fx);
  vg_rule_test t;
  char err[256] = "";
  assert_int_equal(vg_rules_test_get(fx->r, 0, &t, err, sizeof err), VG_EINVAL);
  assert_contains(err, "entries");
  vg_rule_test_free(&t);
}

static void test_test_case_without_given_reported(void **state) {
  fixture *fx = *state;
  write_rules(fx, "cases.lua", "test \"empty\" { tags = {} }\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "cases.lua:1:");
  assert_contains(fx->rep.text, "given");
  assert_int_equal(vg_rules_test_count(fx->r), 0);
}

/* ---- running the rules again over stored entries (vigil replay) ---- */

/* Runs the rules again on entry i in a transaction of its own. */
static void rerun(fixture *fx, int i) {
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_rules_rerun(fx->r, fx->st, &fx->entries[i].re, &fx->out), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
}

static int count_mark(void *ud, const vg_mark *m) {
  (void)m;
  (*(int *)ud)++;
  return 0;
}

/* How many marks step 0 of rule has, under the key "" (a rule without by). */
static int marks_of(fixture *fx, const char *rule) {
  int n = 0;
  assert_int_equal(vg_store_marks(fx->st, rule, 0, "", INT32_MIN, INT32_MAX, 0, count_mark, &n), 0);
  return n;
}

#define RERUN_A "rule \"tag-a\" { when = function(e) return e:find(\"alpha\") end, tags = { \"a\" } }\n"
#define RERUN_B "rule \"tag-b\" { tags = { \"b\" } }\n"

static void test_rerun_sets_tags_anew(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", RERUN_A);
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: alpha and beta");
  assert_string_equal(tags_of(fx, i), "a");
  write_rules(fx, "a.lua", "rule \"tag-a\" { when = function(e) return e:find(\"gamma\") end, tags = { \"a\" } }\n"
                           "rule \"tag-beta\" { when = function(e) return e:find(\"beta\") end, tags = { \"beta\" } }\n");
  load_clean(fx);
  rerun(fx, i);
  assert_string_equal(tags_of_x(fx, i, 1), "beta=tag-beta");
  rerun(fx, i);
  assert_string_equal(tags_of_x(fx, i, 1), "beta=tag-beta");
}

static void test_rerun_removes_tags_of_rules_removed_when_every_file_loads(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", RERUN_A);
  write_rules(fx, "b.lua", RERUN_B);
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: alpha");
  assert_string_equal(tags_of(fx, i), "a,b");
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/b.lua", fx->dir);
  assert_int_equal(unlink(path), 0);
  load_clean(fx);
  assert_int_equal(vg_rules_unloaded(fx->r), 0);
  rerun(fx, i);
  assert_string_equal(tags_of(fx, i), "a");
}

static void test_rerun_keeps_tags_of_a_file_that_did_not_load(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", RERUN_A);
  write_rules(fx, "b.lua", RERUN_B);
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: alpha");
  int j = run_line(fx, "2023-11-22: omega");
  assert_string_equal(tags_of(fx, i), "a,b");
  assert_string_equal(tags_of(fx, j), "b");
  write_rules(fx, "b.lua", RERUN_B "local broken = = 1\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "b.lua:2:");
  assert_int_equal(vg_rules_unloaded(fx->r), 1);
  rerun(fx, i);
  rerun(fx, j);
  assert_string_equal(tags_of_x(fx, i, 1), "a=tag-a,b=tag-b");
  assert_string_equal(tags_of_x(fx, j, 1), "b=tag-b");
  /* The rules that run still decide their own tags. */
  write_rules(fx, "a.lua", "rule \"tag-a\" { when = function(e) return e:find(\"omega\") end, tags = { \"a\" } }\n");
  load(fx);
  rerun(fx, i);
  rerun(fx, j);
  assert_string_equal(tags_of(fx, i), "b");
  assert_string_equal(tags_of(fx, j), "a,b");
}

static void test_rerun_with_an_unreadable_directory_keeps_every_tag(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", RERUN_A);
  write_rules(fx, "b.lua", RERUN_B);
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: alpha");
  vg_rules_free(fx->r);
  memset(&fx->rep, 0, sizeof fx->rep);
  char gone[PATH_MAX];
  snprintf(gone, sizeof gone, "%s/no-such-dir", fx->dir);
  fx->r = vg_rules_load(gone, NULL, &limits, support_collect_report, &fx->rep, &fx->errors);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 1);
  assert_int_equal(vg_rules_unloaded(fx->r), 1);
  rerun(fx, i);
  assert_string_equal(tags_of(fx, i), "a,b");
}

static void test_rerun_keeps_the_tags_of_a_rule_that_fails(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", RERUN_A);
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: alpha");
  write_rules(fx, "a.lua", "rule \"tag-a\" { when = function(e) return e:find(nil) end, tags = { \"a\" } }\n");
  load_clean(fx);
  rerun(fx, i);
  assert_string_equal(tags_of_x(fx, i, 1), "a=tag-a");
}

static void test_rerun_kept_tags_are_seen_by_the_rules_that_run(void **state) {
  fixture *fx = *state;
  write_rules(fx, "b.lua", RERUN_B);
  write_rules(fx, "c.lua", "rule \"after-b\" { when = function(e) return e:has_tag(\"b\") end, tags = { \"c\" } }\n"
                           "threshold \"two-b\" { match = tagged\"b\", count = 2, within = days(5) }\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: one");
  assert_string_equal(tags_of(fx, i), "b,c");
  assert_int_equal(marks_of(fx, "two-b"), 1);
  write_rules(fx, "b.lua", "rule \"tag-b\" {\n");
  load(fx);
  assert_int_equal(vg_rules_unloaded(fx->r), 1);
  rerun(fx, i);
  assert_string_equal(tags_of_x(fx, i, 1), "b=tag-b,c=after-b");
  assert_int_equal(marks_of(fx, "two-b"), 1);
}

static void test_rerun_keeps_the_marks_of_a_correlation_that_did_not_load(void **state) {
  fixture *fx = *state;
  write_rules(fx, "a.lua", RERUN_A);
  write_rules(fx, "z.lua", "threshold \"two-a\" { match = tagged\"a\", count = 2, within = days(5) }\n");
  load_clean(fx);
  int i = run_line(fx, "2023-11-21: alpha");
  assert_int_equal(marks_of(fx, "two-a"), 1);
  write_rules(fx, "z.lua", "threshold \"two-a\" { match = tagged\"a\", count = 2, within = days(5) ]\n");
  load(fx);
  assert_int_equal(fx->errors, 1);
  rerun(fx, i);
  assert_int_equal(marks_of(fx, "two-a"), 1);
  /* Once every file loads again, the marks of a correlation that is gone go. */
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/z.lua", fx->dir);
  assert_int_equal(unlink(path), 0);
  load_clean(fx);
  rerun(fx, i);
  assert_int_equal(marks_of(fx, "two-a"), 0);
}

/* ---- rule failures told to the caller ---- */

typedef struct {
  int n;
  char text[2048]; /* "rule|file:line|entry|why" a line */
} failure_text;

static void collect_failure(void *ud, const char *rule, const char *file, int line, int64_t entry,
                            const char *why) {
  failure_text *f = ud;
  size_t used = strlen(f->text);
  snprintf(f->text + used, sizeof f->text - used, "%s|%s:%d|%lld|%s\n", rule, file, line,
           (long long)entry, why);
  f->n++;
}

static void test_failures_are_told_with_rule_file_line_and_error(void **state) {
  fixture *fx = *state;
  write_rules(fx, "typo.lua", "rule \"typo\" {\n"
                              "  when = function(e) return e:has_tags(\"x\") end,\n"
                              "  tags = { \"y\" },\n"
                              "}\n"
                              "rule \"fine\" { tags = { \"fine\" } }\n");
  load_clean(fx);
  failure_text f = {0};
  vg_rules_on_failure(fx->r, collect_failure, &f);
  int i = run_line(fx, "2023-11-21: anything");
  assert_int_equal(f.n, 1);
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "typo|%s/typo.lua:1|%s|%s/typo.lua:2: ", fx->dir, id_text(fx, i),
           fx->dir);
  assert_contains(f.text, want);
  assert_contains(f.text, "has_tags");
  assert_string_equal(tags_of(fx, i), "fine");
  vg_rules_on_failure(fx->r, NULL, NULL);
  run_line(fx, "2023-11-22: anything else");
  assert_int_equal(f.n, 1);
}

/* The shipped rules/ directory, found next to this source file. */
static void shipped_rules_dir(char *dir, size_t cap) {
  snprintf(dir, cap, "%s", __FILE__);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, cap, ".");
  strncat(dir, "/../../rules", cap - strlen(dir) - 1);
}

static void test_shipped_rules_load_and_carry_test_cases(void **state) {
  fixture *fx = *state;
  char dir[PATH_MAX];
  shipped_rules_dir(dir, sizeof dir);
  vg_rules_limits lim = VG_RULES_LIMITS_DEFAULT;
  memset(&fx->rep, 0, sizeof fx->rep);
  fx->r = vg_rules_load(dir, NULL, &lim, support_collect_report, &fx->rep, &fx->errors);
  assert_non_null(fx->r);
  if (fx->errors) fail_msg("the shipped rules in %s did not load: %s", dir, fx->rep.text);
  assert_true(vg_rules_count(fx->r) > 0);
  size_t n = vg_rules_test_count(fx->r);
  assert_true(n > 0);
  for (size_t i = 0; i < n; i++) {
    vg_rule_test t;
    char err[256] = "";
    int rc = vg_rules_test_get(fx->r, i, &t, err, sizeof err);
    if (rc) fail_msg("test case %zu: %s", i, err);
    assert_true(strlen(t.name) > 0);
    assert_int_equal(access(t.file, R_OK), 0);
    assert_true(t.line > 0);
    assert_true(t.ngiven > 0);
    assert_true(t.has_tags || t.has_alerts);
    for (size_t k = 0; k < t.ngiven; k++) {
      assert_non_null(t.given[k]);
      if (t.has_tags) assert_non_null(t.tags[k]);
    }
    for (size_t k = 0; k < t.nalerts; k++) {
      if (!vg_rules_file_of(fx->r, t.alerts[k].rule))
        fail_msg("%s:%d: test '%s' expects an alert from unknown rule '%s'", t.file, t.line,
                 t.name, t.alerts[k].rule);
      for (size_t m = 0; m < t.alerts[k].nentries; m++)
        assert_in_range(t.alerts[k].entries[m], 1, t.ngiven);
    }
    vg_rule_test_free(&t);
  }
}

int main(void) {
  vg_log_set_level(getenv("VIGIL_TEST_LOG") ? VG_LOG_DEBUG : VG_LOG_ERROR + 1);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_when_and_tag_list),
      T(test_tags_without_when_apply_to_every_entry),
      T(test_when_returning_a_value_counts_as_yes),
      T(test_tags_function_form),
      T(test_tags_function_returning_nil_is_not_a_failure),
      T(test_when_false_skips_tags_and_alert),
      T(test_tag_set_by_two_rules_is_kept_once),
      T(test_alert_function_returning_a_string),
      T(test_alert_static_table_form),
      T(test_alert_severity_defaults_to_rule_severity),
      T(test_alert_severity_defaults_to_warn),
      T(test_alert_returning_nil_or_false_raises_nothing),
      T(test_alert_key_makes_distinct_alerts_for_one_entry),
      T(test_alert_number_key),
      T(test_same_entry_twice_stores_alert_once),
      T(test_same_rule_on_two_entries_makes_two_alerts),
      T(test_alert_out_list_carries_the_alert),
      T(test_alert_out_list_names_the_rule_sinks),
      T(test_empty_sinks_list_names_no_sinks),
      T(test_alert_out_list_without_key),
      T(test_long_alert_message_is_cut),
      T(test_rule_with_tags_and_alert_does_both),
      T(test_rules_run_in_file_then_declaration_order),
      T(test_after_runs_a_rule_after_another_file),
      T(test_without_after_a_later_file_is_not_seen),
      T(test_after_moves_only_what_it_must),
      T(test_after_chain_across_files),
      T(test_unknown_after_name_reported),
      T(test_after_cycle_reported),
      T(test_rule_after_itself_reported),
      T(test_duplicate_rule_name_across_files_reported),
      T(test_duplicate_rule_name_in_one_file_reported),
      T(test_unknown_field_reported_with_file_and_line),
      T(test_bad_severity_reported),
      T(test_rule_doing_nothing_reported),
      T(test_when_not_a_function_reported),
      T(test_static_tag_with_a_space_reported),
      T(test_static_alert_without_message_reported),
      T(test_after_not_a_list_of_names_reported),
      T(test_declaring_a_rule_inside_a_rule_fails),
      T(test_file_of_names_the_declaring_file),
      T(test_empty_directory_loads_cleanly),
      T(test_entry_fields_of_a_chronology_line),
      T(test_entry_id_is_the_stored_id),
      T(test_entry_json_fields),
      T(test_entry_fields_are_read_only),
      T(test_entry_fields_iterate_with_pairs),
      T(test_entry_fields_empty_for_a_chronology_line),
      T(test_entry_tags_lists_tags_set_so_far),
      T(test_entry_tags_is_a_copy),
      T(test_entry_tags_start_empty_for_each_entry),
      T(test_has_tag_takes_a_list),
      T(test_find_takes_a_word_or_a_list),
      T(test_find_reads_lists_as_they_are_now),
      T(test_find_with_a_bad_argument_fails_the_rule),
      T(test_mentions_an_actor_by_any_of_its_names),
      T(test_mentions_other_words_as_written),
      T(test_actors_are_sorted_keys),
      T(test_agents_mode_and_action_read_the_main_clause),
      T(test_agents_returns_a_copy),
      T(test_a_long_line_of_reports_is_read_within_the_budget),
      T(test_match_returns_captures),
      T(test_match_without_groups_returns_whole_match),
      T(test_match_no_match_is_nil),
      T(test_match_unset_group_is_nil),
      T(test_match_is_unicode_aware),
      T(test_bad_regex_fails_the_rule),
      T(test_catastrophic_regex_fails_the_rule),
      T(test_match_returns_every_capture_of_many_groups),
      T(test_days_weeks_and_date),
      T(test_date_is_the_day_number),
      T(test_bad_date_and_days_arguments_fail_the_rule),
      T(test_date_at_load_time),
      T(test_rerun_sets_tags_anew),
      T(test_rerun_removes_tags_of_rules_removed_when_every_file_loads),
      T(test_rerun_keeps_tags_of_a_file_that_did_not_load),
      T(test_rerun_with_an_unreadable_directory_keeps_every_tag),
      T(test_rerun_keeps_the_tags_of_a_rule_that_fails),
      T(test_rerun_kept_tags_are_seen_by_the_rules_that_run),
      T(test_rerun_keeps_the_marks_of_a_correlation_that_did_not_load),
      T(test_failures_are_told_with_rule_file_line_and_error),
      T(test_test_case_read_back),
      T(test_test_case_alert_needs_entries_with_several_given),
      T(test_test_case_without_given_reported),
      T(test_shipped_rules_load_and_carry_test_cases),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
