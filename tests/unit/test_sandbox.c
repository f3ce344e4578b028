/* test_sandbox.c — what the rule sandbox keeps a rule from doing.
 *
 * Each test writes a rules directory into a temporary directory, loads it
 * with vg_rules_load under small limits (8 MiB, 200000 instructions a call,
 * disabled after 3 failures) and runs entries stored in a database in
 * memory through vg_rules_run. A misbehaving rule — one that loops, eats
 * memory, reaches for the system or the interpreter, changes shared tables,
 * keeps the entry, returns garbage, or reads another file's globals — must
 * be stopped without stopping anything else: the run still returns 0, the
 * entry is stored, a well-behaved rule in another file still sets its tag,
 * and after 3 failures the bad rule is no longer called. Also covers rule
 * files that fail to load: the report names file:line, and the previous good
 * version of the file stays in force; and a rules directory that vanished,
 * which keeps every rule loaded before rather than reading as empty.
 *
 * The sandbox layer is also tested on its own (vg_sandbox_*): the memory
 * cap, the per-call instruction budget, unknown globals and read-only views.
 *
 * Cases that could hang or kill the process run in a child process with a
 * time limit, so that they fail as tests instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "rules.h"
#include "sandbox.h"
#include "store.h"
#include "vigil.h"

#include "support.h"

#include <lauxlib.h>

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

#define MAX_FAILURES 3

/* The problems vg_rules_load reported. */
typedef struct {
  int n;
  char text[8192]; /* every message, one per line */
  char file[8][PATH_MAX];
} reports;

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
  reports rep;
  stored entries[8];
  size_t nentries;
} fixture;

static const vg_rules_limits limits = {8u << 20, 200000, MAX_FAILURES, 1.0, 0};

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  if (!fx) return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vigil-sandbox-XXXXXX");
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

/* ---- helpers that do not assert (they also run in child processes) ---- */

static void path_of(const fixture *fx, const char *name, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s", fx->dir, name);
}

static int write_rules(fixture *fx, const char *name, const char *text) {
  return support_write_file(fx->dir, name, text);
}

static void collect_report(void *ud, const char *file, const char *msg) {
  reports *rep = ud;
  size_t used = strlen(rep->text);
  snprintf(rep->text + used, sizeof rep->text - used, "%s\n", msg);
  if (rep->n < 8) snprintf(rep->file[rep->n], sizeof rep->file[rep->n], "%s", file ? file : "");
  rep->n++;
}

/* Loads the rules directory, replacing what was loaded; prev is handed on. */
static vg_rules *load_rules(fixture *fx, const vg_rules *prev) {
  memset(&fx->rep, 0, sizeof fx->rep);
  return vg_rules_load(fx->dir, prev, &limits, collect_report, &fx->rep, &fx->errors);
}

/* Parses line and stores it in its own transaction; returns its index in
 * fx->entries or -1. */
static int store_line(fixture *fx, const char *text) {
  if (fx->nentries == sizeof fx->entries / sizeof fx->entries[0]) return -1;
  stored *s = &fx->entries[fx->nentries];
  char why[VG_REASON_MAX];
  if (!(s->line = strdup(text))) return -1;
  if (vg_entry_parse(s->line, strlen(s->line), VG_FORMAT_AUTO, "desk", &s->e, why)) {
    fprintf(stderr, "cannot parse \"%s\": %s\n", text, why);
    free(s->line);
    return -1;
  }
  fx->nentries++;
  int64_t id = 0;
  if (vg_store_begin(fx->st) || vg_store_insert(fx->st, &s->e, &id) != VG_STORED ||
      vg_store_commit(fx->st))
    return -1;
  vg_date_format(&s->e.date, s->date);
  s->re = (vg_rule_entry){id,           s->date,      vg_precision_name(s->e.date.precision),
                          s->e.date.first, s->e.date.last, s->e.text, s->e.text_len, s->e.source,
                          s->e.fields};
  return (int)fx->nentries - 1;
}

/* Runs the loaded rules on entry i inside a transaction of its own. */
static int run_rules(fixture *fx, int i) {
  if (vg_store_begin(fx->st)) return VG_EDB;
  int rc = vg_rules_run(fx->r, fx->st, &fx->entries[i].re, NULL);
  if (rc) {
    vg_store_rollback(fx->st);
    return rc;
  }
  return vg_store_commit(fx->st);
}

static int join_tag(void *ud, const char *tag, const char *rule) {
  (void)rule;
  char *buf = ud;
  size_t used = strlen(buf);
  snprintf(buf + used, 512 - used, "%s%s", used ? "," : "", tag);
  return 0;
}

/* The stored tags of entry i, in tag order, joined by ','. */
static const char *tags_of(fixture *fx, int i, char buf[512]) {
  buf[0] = '\0';
  if (vg_store_entry_tags(fx->st, fx->entries[i].re.id, join_tag, buf)) snprintf(buf, 512, "?");
  return buf;
}

static int count_row(void *ud, const vg_row *r) {
  (void)r;
  ++*(int *)ud;
  return 0;
}

static int entries_stored(fixture *fx) {
  int n = 0;
  vg_query q = {0};
  return vg_store_query(fx->st, &q, count_row, &n) ? -1 : n;
}

static int count_alert(void *ud, const vg_alert_row *a) {
  (void)a;
  ++*(int *)ud;
  return 0;
}

/* How many alerts rule has stored (every rule when NULL). */
static int alerts_of(fixture *fx, const char *rule) {
  int n = 0;
  vg_alert_query q = {0};
  q.rule = rule;
  return vg_store_alerts(fx->st, &q, count_alert, &n) ? -1 : n;
}

/* The well-behaved rule, in a file loaded after bad.lua. */
static const char good_rules[] = "rule \"good\" { tags = { \"good\" } }\n";

/* bad.lua: `calls` counts calls of the rule "bad", which the rule text
 * raises first thing; "bad-probe" runs after it and tags the count. */
static int write_bad_rules(fixture *fx, const char *rule_text) {
  char text[4096];
  snprintf(text, sizeof text,
           "local calls = 0\n"
           "%s\n"
           "rule \"bad-probe\" {\n"
           "  after = { \"bad\" },\n"
           "  tags = function(e) return { \"bad-calls:\" .. calls } end,\n"
           "}\n",
           rule_text);
  return write_rules(fx, "bad.lua", text) || write_rules(fx, "good.lua", good_rules) ? -1 : 0;
}

static const char *const lines[] = {
    "Nov. 21, 2023: North Korea launches a reconnaissance satellite.",
    "Nov. 22, 2023: South Korea suspends part of the military agreement.",
    "Dec. 18, 2023: North Korea test-fires a Hwasong-18 ICBM.",
    "Dec. 19, 2023: The UN Security Council meets on the launch.",
};

/* ---- child processes ---- */

typedef int (*child_fn)(fixture *fx);

static child_fn child_running; /* what run_child calls in the child */
static int run_child(void *fx) { return child_running(fx); }

/* Runs fn(fx) in a child process (support_in_child). */
static int in_child(fixture *fx, child_fn fn, int seconds) {
  child_running = fn;
  int st = support_in_child(run_child, fx, seconds);
  if (st == -2) fail_msg("fork failed");
  return st;
}

/* How long a child process may run before it is taken for hung and killed:
 * a generous bound, which costs time only when a test fails (a rule that
 * is not stopped runs forever). */
#define CHILD_SECONDS 120

#define assert_child_ok(fx, fn, seconds)                                                           \
  do {                                                                                             \
    int st_ = in_child((fx), (fn), (seconds));                                                     \
    if (st_ == -1) fail_msg("still running after %d s: the rule was not stopped", (seconds));      \
    if (st_ > 128) fail_msg("the process was killed by signal %d", st_ - 128);                     \
    if (st_ != 0) fail_msg("the child process reported problem %d", st_);                          \
  } while (0)

/* In a child: loads the rules, runs three entries; 0 when every run
 * returned 0, each entry got "good" and none got "bad-ran", and the rules
 * could be freed. */
static int child_runs_good_rule(fixture *fx) {
  if (!(fx->r = load_rules(fx, NULL)) || fx->errors) return 1;
  for (int k = 0; k < 3; k++) {
    char tags[512];
    int i = store_line(fx, lines[k]);
    if (i < 0) return 2;
    if (run_rules(fx, i)) return 3;
    tags_of(fx, i, tags);
    if (!strstr(tags, "good") || strstr(tags, "bad-ran")) return 4;
  }
  vg_rules_free(fx->r);
  fx->r = NULL;
  return 0;
}

/* ---- the sandbox on its own ---- */

/* Loads code as an untrusted chunk in a fresh environment and calls it;
 * returns the status, leaving the results or the message on the stack. */
static int sandbox_run(vg_sandbox *sb, const char *code, int nresults) {
  if (luaL_loadbufferx(sb->L, code, strlen(code), "=chunk", "t") != LUA_OK) return -1;
  vg_sandbox_push_env(sb);
  lua_setupvalue(sb->L, -2, 1);
  return vg_sandbox_call(sb, 0, nresults);
}

static void test_sandbox_memory_cap_holds(void **state) {
  (void)state;
  vg_sandbox *sb = vg_sandbox_new(8u << 20, 0); /* no budget: only memory stops it */
  assert_non_null(sb);
  int rc = sandbox_run(sb, "local s = 'x' while true do s = s .. s end", 0);
  assert_int_equal(rc, LUA_ERRMEM);
  assert_contains(lua_tostring(sb->L, -1), "memory");
  assert_true(sb->mem_peak <= sb->mem_max);
  assert_true(sb->mem < (1u << 20)); /* collected after the failed call */
  lua_settop(sb->L, 0);
  assert_int_equal(sandbox_run(sb, "return ('ok'):upper()", 1), LUA_OK);
  assert_string_equal(lua_tostring(sb->L, -1), "OK");
  vg_sandbox_free(sb);
}

/* The budgets of these two are large enough that the time limit that goes
 * with them (a microsecond a unit, on the clock) is far away: the calls
 * take milliseconds of work, and a busy machine may leave a call waiting
 * for the processor for a good part of a second. */

static void test_sandbox_budget_stops_a_loop_and_names_its_line(void **state) {
  (void)state;
  vg_sandbox *sb = vg_sandbox_new(8u << 20, 1000000);
  assert_non_null(sb);
  int rc = sandbox_run(sb, "local n = 0\n"
                           "while true do\n"
                           "  n = n + 1\n"
                           "end\n",
                       0);
  assert_int_equal(rc, LUA_ERRRUN);
  const char *msg = lua_tostring(sb->L, -1);
  assert_contains(msg, "instruction budget");
  if (!strstr(msg, "chunk:2:") && !strstr(msg, "chunk:3:")) fail_msg("no line in \"%s\"", msg);
  assert_true(sb->used > sb->budget);
  vg_sandbox_free(sb);
}

static void test_sandbox_budget_is_per_call(void **state) {
  (void)state;
  /* Eight calls of some 400000 instructions each fit a budget of 1000000. */
  vg_sandbox *sb = vg_sandbox_new(8u << 20, 1000000);
  assert_non_null(sb);
  for (int k = 0; k < 8; k++) {
    int rc = sandbox_run(sb, "local n = 0 for i = 1, 200000 do n = n + i end return n", 1);
    if (rc != LUA_OK) fail_msg("call %d: %s", k + 1, lua_tostring(sb->L, -1));
    assert_int_equal(lua_tointeger(sb->L, -1), 20000100000);
    lua_settop(sb->L, 0);
  }
  vg_sandbox_free(sb);
}

static void test_sandbox_unknown_global_is_named(void **state) {
  (void)state;
  vg_sandbox *sb = vg_sandbox_new(8u << 20, 100000);
  assert_non_null(sb);
  assert_int_equal(sandbox_run(sb, "\nreturn io", 1), LUA_ERRRUN);
  assert_contains(lua_tostring(sb->L, -1), "chunk:2:");
  assert_contains(lua_tostring(sb->L, -1), "'io'");
  lua_settop(sb->L, 0);
  /* What the allow-list offers is there. */
  assert_int_equal(sandbox_run(sb, "return type(string.format) .. type(table.concat) .. type(math.floor)"
                                   " .. type(utf8.char) .. type(os.time) .. type(tostring) .. type(print)",
                               1),
                   LUA_OK);
  assert_string_equal(lua_tostring(sb->L, -1),
                      "functionfunctionfunctionfunctionfunctionfunctionfunction");
  vg_sandbox_free(sb);
}

static void test_sandbox_chunk_globals_stay_in_its_environment(void **state) {
  (void)state;
  vg_sandbox *sb = vg_sandbox_new(8u << 20, 100000);
  assert_non_null(sb);
  assert_int_equal(sandbox_run(sb, "mine = 1 string = nil return 1", 1), LUA_OK);
  lua_settop(sb->L, 0);
  assert_int_equal(sandbox_run(sb, "return type(string)", 1), LUA_OK);
  assert_string_equal(lua_tostring(sb->L, -1), "table");
  lua_settop(sb->L, 0);
  assert_int_equal(sandbox_run(sb, "return mine", 1), LUA_ERRRUN);
  vg_sandbox_free(sb);
}

static void test_sandbox_readonly_view(void **state) {
  (void)state;
  vg_sandbox *sb = vg_sandbox_new(8u << 20, 100000);
  assert_non_null(sb);
  lua_State *L = sb->L;
  /* A trusted table {10, 20, 30, name = "x"} handed to a chunk read-only. */
  vg_sandbox_push_safe(sb);
  lua_newtable(L);
  for (int i = 1; i <= 3; i++) {
    lua_pushinteger(L, i * 10);
    lua_rawseti(L, -2, i);
  }
  lua_pushliteral(L, "x");
  lua_setfield(L, -2, "name");
  vg_sandbox_push_readonly(L, -1);
  lua_setfield(L, -3, "view");
  lua_pop(L, 2);
  assert_int_equal(sandbox_run(sb, "local n, sum = 0, 0\n"
                                   "for k, v in pairs(view) do n = n + 1 end\n"
                                   "for _, v in ipairs(view) do sum = sum + v end\n"
                                   "return #view .. ',' .. n .. ',' .. sum .. ',' .. view.name",
                               1),
                   LUA_OK);
  assert_string_equal(lua_tostring(L, -1), "3,4,60,x");
  lua_settop(L, 0);
  static const char *const writes[] = {"view.name = 'y'", "view[4] = 40", "view[1] = nil",
                                       "setmetatable(view, nil)", "table.insert(view, 40)",
                                       "table.remove(view)", "table.sort(view, function(a, b) return a > b end)"};
  for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
    if (sandbox_run(sb, writes[i], 0) == LUA_OK) fail_msg("\"%s\" changed a read-only view", writes[i]);
    lua_settop(L, 0);
  }
  assert_int_equal(sandbox_run(sb, "return view[1] .. view[2] .. view[3] .. #view .. view.name", 1),
                   LUA_OK);
  assert_string_equal(lua_tostring(L, -1), "1020303x");
  vg_sandbox_free(sb);
}

static void test_sandbox_pairs_does_not_hand_out_the_real_table(void **state) {
  (void)state;
  vg_sandbox *sb = vg_sandbox_new(8u << 20, 100000);
  assert_non_null(sb);
  /* The state pairs gives a generic for must not be the writable table. */
  int rc = sandbox_run(sb, "local f, s = pairs(string)\n"
                           "local ok = type(s) == 'table' and rawequal(s, string)\n"
                           "return tostring(ok)",
                       1);
  assert_int_equal(rc, LUA_OK);
  assert_string_equal(lua_tostring(sb->L, -1), "true");
  lua_settop(sb->L, 0);
  assert_int_equal(sandbox_run(sb, "local f, s = pairs(string) s.upper = nil return 1", 0), LUA_ERRRUN);
  vg_sandbox_free(sb);
}

/* ---- the bad rule is stopped, the rest goes on ---- */

/* Loads bad.lua (the rule "bad" as rule_text, see write_bad_rules) and
 * good.lua, runs four entries and checks that every run returned 0 and
 * stored its entry, that "good" tagged every entry, that "bad" set no tag
 * ("bad-ran") and raised no alert, and that it was called three times and
 * then disabled. */
static void assert_bad_rule_stopped(fixture *fx, const char *rule_text) {
  assert_int_equal(write_bad_rules(fx, rule_text), 0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  if (fx->errors) fail_msg("the rules did not load: %s", fx->rep.text);
  assert_int_equal(vg_rules_count(fx->r), 3);
  static const char *const want[] = {"bad-calls:1,good", "bad-calls:2,good", "bad-calls:3,good",
                                     "bad-calls:3,good"};
  for (int k = 0; k < 4; k++) {
    char tags[512];
    int i = store_line(fx, lines[k]);
    assert_true(i >= 0);
    assert_int_equal(run_rules(fx, i), 0);
    assert_string_equal(tags_of(fx, i, tags), want[k]);
  }
  assert_int_equal(entries_stored(fx), 4);
  assert_int_equal(alerts_of(fx, "bad"), 0);
}

/* A rule whose `when` does body before saying yes. */
static void assert_when_stopped(fixture *fx, const char *body) {
  char rule_text[2048];
  snprintf(rule_text, sizeof rule_text,
           "rule \"bad\" {\n"
           "  when = function(e)\n"
           "    calls = calls + 1\n"
           "    %s\n"
           "    return true\n"
           "  end,\n"
           "  tags = { \"bad-ran\" },\n"
           "}\n",
           body);
  assert_bad_rule_stopped(fx, rule_text);
}

static void test_well_behaved_rules_run(void **state) {
  fixture *fx = *state;
  /* The harness itself: a rule that does nothing wrong is called each time. */
  assert_int_equal(write_bad_rules(fx, "rule \"bad\" { when = function(e) calls = calls + 1 "
                                       "return false end, tags = { \"bad-ran\" } }"),
                   0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 0);
  char tags[512];
  for (int k = 0; k < 4; k++) {
    int i = store_line(fx, lines[k]);
    assert_int_equal(run_rules(fx, i), 0);
    char want[64];
    snprintf(want, sizeof want, "bad-calls:%d,good", k + 1);
    assert_string_equal(tags_of(fx, i, tags), want);
  }
}

static void test_infinite_loop_in_when_stopped(void **state) {
  assert_when_stopped(*state, "while true do end");
}

static void test_infinite_recursion_stopped(void **state) {
  assert_when_stopped(*state, "local function f(n) return f(n + 1) + 1 end f(1)");
}

static void test_infinite_loop_in_coroutine_stopped(void **state) {
  assert_when_stopped(*state, "coroutine.wrap(function() while true do end end)()");
}

static void test_loop_catching_errors_in_coroutines_stopped(void **state) {
  /* resume catches the error of each coroutine; the loop around it must
   * still run out of budget. */
  assert_when_stopped(*state, "while true do\n"
                              "  coroutine.resume(coroutine.create(function() while true do end end))\n"
                              "end");
}

static void test_string_doubling_memory_bomb_stopped(void **state) {
  assert_when_stopped(*state, "local s = 'x' while true do s = string.rep(s, 2) end");
}

static void test_growing_table_memory_bomb_stopped(void **state) {
  assert_when_stopped(*state, "local t = {}\n"
                              "while true do t[#t + 1] = string.rep('x', 1000) .. #t end");
}

static void test_memory_bomb_in_file_level_table_stopped(void **state) {
  /* What the rule keeps between calls stays under the cap too. */
  assert_bad_rule_stopped(*state, "local hoard = {}\n"
                                  "rule \"bad\" {\n"
                                  "  when = function(e)\n"
                                  "    calls = calls + 1\n"
                                  "    while true do hoard[#hoard + 1] = string.rep('y', 4096) .. #hoard end\n"
                                  "  end,\n"
                                  "  tags = { \"bad-ran\" },\n"
                                  "}\n");
}

static void test_os_execute_fails(void **state) {
  assert_when_stopped(*state, "os.execute('touch /tmp/vigil-sandbox-escaped')");
  assert_int_not_equal(access("/tmp/vigil-sandbox-escaped", F_OK), 0);
}

static void test_os_exit_and_getenv_fail(void **state) {
  assert_when_stopped(*state, "local home = os.getenv('HOME') os.exit(1)");
}

static void test_io_open_fails(void **state) {
  assert_when_stopped(*state, "io.open('/etc/passwd')");
}

static void test_require_fails(void **state) {
  assert_when_stopped(*state, "require('os')");
}

static void test_dofile_fails(void **state) {
  assert_when_stopped(*state, "dofile('/dev/null')");
}

static void test_loadfile_fails(void **state) {
  assert_when_stopped(*state, "loadfile('/dev/null')");
}

static void test_load_of_a_string_fails(void **state) {
  assert_when_stopped(*state, "load('return 1')()");
}

static void test_string_dump_fails(void **state) {
  assert_when_stopped(*state, "string.dump(function() end)");
}

static void test_string_dump_through_a_string_method_fails(void **state) {
  /* Strings index the string library through their shared metatable. */
  assert_when_stopped(*state, "local b = ('').dump(function() end)");
}

static void test_debug_getinfo_fails(void **state) {
  assert_when_stopped(*state, "debug.getinfo(1)");
}

static void test_collectgarbage_fails(void **state) {
  assert_when_stopped(*state, "collectgarbage()");
}

static void test_rawset_on_lists_fails(void **state) {
  assert_when_stopped(*state, "rawset(lists, 'x', 1)");
}

static void test_rawget_fails(void **state) {
  assert_when_stopped(*state, "rawget(lists, 'actors')");
}

static void test_getmetatable_of_a_string_fails(void **state) {
  assert_when_stopped(*state, "getmetatable('').__index = {}");
}

static void test_pcall_is_not_offered(void **state) {
  assert_when_stopped(*state, "pcall(function() end)");
}

static void test_unknown_global_read_fails(void **state) {
  assert_when_stopped(*state, "local x = no_such_global");
}

static void test_setmetatable_on_string_library_fails(void **state) {
  assert_when_stopped(*state, "setmetatable(string, { __index = function() return 1 end })");
}

static void test_assigning_into_string_library_fails(void **state) {
  assert_when_stopped(*state, "string.upper = function(s) return s end");
}

static void test_assigning_into_lists_fails(void **state) {
  assert_when_stopped(*state, "lists.actors.x = 1");
}

static void test_assigning_into_an_actor_list_fails(void **state) {
  assert_when_stopped(*state, "lists.actors['north-korea'][1] = 'Nobody'");
}

static void test_table_insert_into_lists_fails(void **state) {
  assert_when_stopped(*state, "table.insert(lists.weapons, 'slingshot')");
}

static void test_setmetatable_on_lists_fails(void **state) {
  assert_when_stopped(*state, "setmetatable(lists, nil)");
}

static void test_lists_stay_unchanged_for_other_rules(void **state) {
  fixture *fx = *state;
  /* Whatever bad.lua tries, good.lua still reads the list as shipped. */
  assert_int_equal(write_rules(fx, "bad.lua", "rule \"bad\" { when = function(e)\n"
                                              "  lists.weapons[1] = 'slingshot'\n"
                                              "  return true end, tags = { \"bad-ran\" } }\n"),
                   0);
  assert_int_equal(write_rules(fx, "good.lua",
                               "rule \"good\" { tags = function(e)\n"
                               "  return { lists.weapons[1] == 'slingshot' and 'changed' or 'intact' }\n"
                               "end }\n"),
                   0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 0);
  char tags[512];
  int i = store_line(fx, lines[0]);
  assert_int_equal(run_rules(fx, i), 0);
  assert_string_equal(tags_of(fx, i, tags), "intact");
}

static void test_writing_to_entry_fails(void **state) {
  assert_when_stopped(*state, "e.text = 'rewritten'");
}

static void test_unknown_entry_field_fails(void **state) {
  assert_when_stopped(*state, "local x = e.body");
}

/* ---- the entry outlives its run only as an invalid object ---- */

static void test_entry_kept_for_a_later_call_fails(void **state) {
  fixture *fx = *state;
  /* "keeper" keeps the entry, "value-keeper" only its id; on the next
   * entry the first fails and the second works. */
  assert_int_equal(write_rules(fx, "keep.lua",
                               "local kept, kept_id\n"
                               "rule \"keeper\" {\n"
                               "  tags = function(e)\n"
                               "    if kept then return { \"reused:\" .. kept.id } end\n"
                               "    kept = e\n"
                               "    return { \"kept\" }\n"
                               "  end,\n"
                               "}\n"
                               "rule \"value-keeper\" {\n"
                               "  tags = function(e)\n"
                               "    local prev = kept_id\n"
                               "    kept_id = e.id\n"
                               "    return { prev and \"prev:\" .. prev or \"first\" }\n"
                               "  end,\n"
                               "}\n"),
                   0);
  assert_int_equal(write_rules(fx, "good.lua", good_rules), 0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 0);
  char tags[512], want[64];
  int a = store_line(fx, lines[0]), b = store_line(fx, lines[1]);
  assert_int_equal(run_rules(fx, a), 0);
  assert_string_equal(tags_of(fx, a, tags), "first,good,kept");
  assert_int_equal(run_rules(fx, b), 0);
  snprintf(want, sizeof want, "good,prev:%lld", (long long)fx->entries[a].re.id);
  assert_string_equal(tags_of(fx, b, tags), want);
}

static void test_entry_kept_in_a_closure_fails(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "keep.lua",
                               "local later\n"
                               "rule \"keeper\" {\n"
                               "  tags = function(e)\n"
                               "    if later then return { later() } end\n"
                               "    later = function() return \"text-len:\" .. #e.text end\n"
                               "    return { later() }\n"
                               "  end,\n"
                               "}\n"),
                   0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 0);
  char tags[512], want[64];
  int a = store_line(fx, lines[0]), b = store_line(fx, lines[1]);
  assert_int_equal(run_rules(fx, a), 0);
  snprintf(want, sizeof want, "text-len:%zu", fx->entries[a].re.text_len);
  assert_string_equal(tags_of(fx, a, tags), want);
  assert_int_equal(run_rules(fx, b), 0);
  assert_string_equal(tags_of(fx, b, tags), "");
}

/* ---- garbage from tags and alert sets nothing ---- */

static void test_tags_returning_a_number_sets_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { tags = function(e) calls = calls + 1 "
                                  "return 42 end }");
}

static void test_tags_returning_a_string_sets_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { tags = function(e) calls = calls + 1 "
                                  "return \"bad-ran\" end }");
}

static void test_tags_list_with_a_non_string_sets_nothing(void **state) {
  /* Not even the good tags of the list are set. */
  assert_bad_rule_stopped(*state, "rule \"bad\" { tags = function(e) calls = calls + 1 "
                                  "return { \"bad-ran\", 5 } end }");
}

static void test_tag_with_a_space_sets_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { tags = function(e) calls = calls + 1 "
                                  "return { \"bad-ran\", \"two words\" } end }");
}

static void test_tag_with_a_comma_sets_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { tags = function(e) calls = calls + 1 "
                                  "return { \"bad-ran\", \"a,b\" } end }");
}

static void test_empty_tag_sets_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { tags = function(e) calls = calls + 1 "
                                  "return { \"bad-ran\", \"\" } end }");
}

static void test_overlong_tag_sets_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { tags = function(e) calls = calls + 1 "
                                  "return { \"bad-ran\", string.rep(\"t\", 65) } end }");
}

static void test_alert_table_without_message_raises_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { alert = function(e) calls = calls + 1 "
                                  "return { severity = \"warn\" } end }");
}

static void test_alert_with_bad_severity_raises_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { alert = function(e) calls = calls + 1 "
                                  "return { message = \"m\", severity = \"loud\" } end }");
}

static void test_alert_returning_a_number_raises_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { alert = function(e) calls = calls + 1 "
                                  "return 42 end }");
}

static void test_alert_returning_true_raises_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { alert = function(e) calls = calls + 1 "
                                  "return true end }");
}

static void test_alert_message_not_a_string_raises_nothing(void **state) {
  assert_bad_rule_stopped(*state, "rule \"bad\" { alert = function(e) calls = calls + 1 "
                                  "return { message = { \"m\" } } end }");
}

static void test_error_raised_with_a_table_is_a_failure(void **state) {
  assert_when_stopped(*state, "error({ code = 1 })");
}

/* ---- files do not share globals ---- */

static void test_file_cannot_read_another_files_globals(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "a.lua", "shared = 1\n"
                                            "rule \"a-reader\" {\n"
                                            "  tags = function(e) return { \"own:\" .. shared } end,\n"
                                            "}\n"),
                   0);
  assert_int_equal(write_rules(fx, "b.lua", "rule \"b-reader\" {\n"
                                            "  tags = function(e) return { \"saw:\" .. tostring(shared) } end,\n"
                                            "}\n"),
                   0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 0);
  assert_int_equal(vg_rules_count(fx->r), 2);
  char tags[512];
  int i = store_line(fx, lines[0]);
  assert_int_equal(run_rules(fx, i), 0);
  assert_string_equal(tags_of(fx, i, tags), "own:1");
}

static void test_file_cannot_read_another_files_globals_at_load(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "a.lua", "shared = 1\nrule \"a\" { tags = { \"a\" } }\n"), 0);
  assert_int_equal(write_rules(fx, "b.lua", "local copy = shared\nrule \"b\" { tags = { \"b\" } }\n"),
                   0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 1);
  assert_int_equal(vg_rules_count(fx->r), 1);
  assert_contains(fx->rep.text, "b.lua:1:");
  assert_contains(fx->rep.text, "shared");
}

static void test_file_cannot_change_what_other_files_see(void **state) {
  fixture *fx = *state;
  /* a.lua replaces days() in its own globals only. */
  assert_int_equal(write_rules(fx, "a.lua", "days = function(n) return -1 end\n"
                                            "rule \"a\" { tags = function(e) return { \"a:\" .. days(2) } end }\n"),
                   0);
  assert_int_equal(write_rules(fx, "b.lua",
                               "rule \"b\" { tags = function(e) return { \"b:\" .. days(2) } end }\n"),
                   0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 0);
  char tags[512];
  int i = store_line(fx, lines[0]);
  assert_int_equal(run_rules(fx, i), 0);
  assert_string_equal(tags_of(fx, i, tags), "a:-1,b:2");
}

/* ---- runaway work the instruction budget does not see ---- */

static int child_finalizer_loops(fixture *fx) {
  if (write_rules(fx, "bad.lua",
                  "rule \"bad\" {\n"
                  "  tags = function(e)\n"
                  "    setmetatable({}, { __gc = function() while true do end end })\n"
                  "    for i = 1, 1000 do local garbage = { i } end\n"
                  "    return { \"bad-ran\" }\n"
                  "  end,\n"
                  "}\n") ||
      write_rules(fx, "good.lua", good_rules))
    return 10;
  return child_runs_good_rule(fx);
}

static void test_finalizer_that_loops_forever_is_stopped(void **state) {
  /* setmetatable is offered; a __gc that never returns must not hang the
   * engine (finalizers run with hooks off). */
  assert_child_ok(*state, child_finalizer_loops, CHILD_SECONDS);
}

static int child_pattern_backtracks(fixture *fx) {
  if (write_rules(fx, "bad.lua",
                  "rule \"bad\" {\n"
                  "  when = function(e)\n"
                  "    return string.rep('a', 100000):find('.-.-.-b') ~= nil\n"
                  "  end,\n"
                  "  tags = { \"bad-ran\" },\n"
                  "}\n") ||
      write_rules(fx, "good.lua", good_rules))
    return 10;
  return child_runs_good_rule(fx);
}

static void test_pattern_backtracking_is_stopped(void **state) {
  /* One call of string.find that backtracks for hours is as bad as a loop. */
  assert_child_ok(*state, child_pattern_backtracks, CHILD_SECONDS);
}

/* ---- hostile tables handed back to the engine ---- */

static int child_tags_table_index_errors(fixture *fx) {
  if (write_rules(fx, "bad.lua",
                  "rule \"bad\" {\n"
                  "  tags = function(e)\n"
                  "    return setmetatable({}, { __len = function() return 1 end,\n"
                  "                              __index = function() error('no tags here') end })\n"
                  "  end,\n"
                  "}\n") ||
      write_rules(fx, "good.lua", good_rules))
    return 10;
  return child_runs_good_rule(fx);
}

static void test_tags_table_whose_index_errors_sets_nothing(void **state) {
  assert_child_ok(*state, child_tags_table_index_errors, CHILD_SECONDS);
}

static int child_tags_table_len_loops(fixture *fx) {
  if (write_rules(fx, "bad.lua",
                  "rule \"bad\" {\n"
                  "  tags = function(e)\n"
                  "    return setmetatable({}, { __len = function() while true do end end })\n"
                  "  end,\n"
                  "}\n") ||
      write_rules(fx, "good.lua", good_rules))
    return 10;
  return child_runs_good_rule(fx);
}

static void test_tags_table_whose_length_loops_sets_nothing(void **state) {
  assert_child_ok(*state, child_tags_table_len_loops, CHILD_SECONDS);
}

static int child_alert_table_index_errors(fixture *fx) {
  if (write_rules(fx, "bad.lua",
                  "rule \"bad\" {\n"
                  "  alert = function(e)\n"
                  "    return setmetatable({}, { __index = function() error('no message') end })\n"
                  "  end,\n"
                  "}\n") ||
      write_rules(fx, "good.lua", good_rules))
    return 10;
  int rc = child_runs_good_rule(fx);
  return rc ? rc : alerts_of(fx, NULL) == 0 ? 0 : 5;
}

static void test_alert_table_whose_index_errors_raises_nothing(void **state) {
  assert_child_ok(*state, child_alert_table_index_errors, CHILD_SECONDS);
}

/* ---- files that fail to load ---- */

static const char broken_text[] = "-- a rule with a syntax error on line 4\n"
                                  "rule \"broken\" {\n"
                                  "  tags = { \"x\" },\n"
                                  "  when = function(e) return e:find(\"x\" end,\n"
                                  "}\n";

static void test_syntax_error_reported_with_file_and_line(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "broken.lua", broken_text), 0);
  assert_int_equal(write_rules(fx, "good.lua", good_rules), 0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_true(fx->errors > 0);
  assert_int_equal(fx->rep.n, fx->errors);
  char where[PATH_MAX];
  snprintf(where, sizeof where, "%s/broken.lua:4:", fx->dir);
  assert_contains(fx->rep.text, where);
  path_of(fx, "broken.lua", where, sizeof where);
  assert_string_equal(fx->rep.file[0], where);
  /* The other file still loads and runs. */
  assert_int_equal(vg_rules_count(fx->r), 1);
  char tags[512];
  int i = store_line(fx, lines[0]);
  assert_int_equal(run_rules(fx, i), 0);
  assert_string_equal(tags_of(fx, i, tags), "good");
}

static void test_error_while_loading_reported_with_file_and_line(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "boom.lua", "rule \"early\" { tags = { \"early\" } }\n"
                                               "\n"
                                               "error(\"boom\")\n"),
                   0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 1);
  char where[PATH_MAX];
  snprintf(where, sizeof where, "%s/boom.lua:3:", fx->dir);
  assert_contains(fx->rep.text, where);
  assert_contains(fx->rep.text, "boom");
  /* What the file declared before failing is undone. */
  assert_int_equal(vg_rules_count(fx->r), 0);
}

static void test_endless_loop_while_loading_is_stopped(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "spin.lua", "while true do end\n"), 0);
  assert_int_equal(write_rules(fx, "good.lua", good_rules), 0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "spin.lua:1:");
  assert_int_equal(vg_rules_count(fx->r), 1);
}

static void test_broken_edit_keeps_previous_version(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "broken.lua", "rule \"v1\" { tags = { \"v1\" } }\n"), 0);
  vg_rules *first = load_rules(fx, NULL);
  assert_non_null(first);
  assert_int_equal(fx->errors, 0);
  assert_int_equal(vg_rules_count(first), 1);

  assert_int_equal(write_rules(fx, "broken.lua", broken_text), 0);
  fx->r = load_rules(fx, first);
  vg_rules_free(first);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "broken.lua:4:");
  assert_contains(fx->rep.text, "previous version");
  assert_int_equal(vg_rules_count(fx->r), 1);
  assert_non_null(vg_rules_file_of(fx->r, "v1"));
  assert_null(vg_rules_file_of(fx->r, "broken"));
  char tags[512];
  int i = store_line(fx, lines[0]);
  assert_int_equal(run_rules(fx, i), 0);
  assert_string_equal(tags_of(fx, i, tags), "v1");
}

static void test_previous_version_survives_two_broken_loads(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "broken.lua", "rule \"v1\" { tags = { \"v1\" } }\n"), 0);
  vg_rules *first = load_rules(fx, NULL);
  assert_non_null(first);
  assert_int_equal(write_rules(fx, "broken.lua", broken_text), 0);
  vg_rules *second = load_rules(fx, first);
  vg_rules_free(first);
  assert_non_null(second);
  fx->r = load_rules(fx, second);
  vg_rules_free(second);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 1);
  assert_int_equal(vg_rules_count(fx->r), 1);
  char tags[512];
  int i = store_line(fx, lines[0]);
  assert_int_equal(run_rules(fx, i), 0);
  assert_string_equal(tags_of(fx, i, tags), "v1");
}

static void test_broken_edit_without_previous_loads_nothing(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "broken.lua", broken_text), 0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 1);
  assert_int_equal(vg_rules_count(fx->r), 0);
  int i = store_line(fx, lines[0]);
  assert_int_equal(run_rules(fx, i), 0);
}

static void test_good_edit_replaces_previous_version(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "edited.lua", "rule \"v1\" { tags = { \"v1\" } }\n"), 0);
  vg_rules *first = load_rules(fx, NULL);
  assert_non_null(first);
  assert_int_equal(write_rules(fx, "edited.lua", "rule \"v2\" { tags = { \"v2\" } }\n"), 0);
  fx->r = load_rules(fx, first);
  vg_rules_free(first);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 0);
  assert_int_equal(vg_rules_count(fx->r), 1);
  char tags[512];
  int i = store_line(fx, lines[0]);
  assert_int_equal(run_rules(fx, i), 0);
  assert_string_equal(tags_of(fx, i, tags), "v2");
}

static void test_missing_directory_reported(void **state) {
  fixture *fx = *state;
  char dir[PATH_MAX];
  path_of(fx, "no-such-dir", dir, sizeof dir);
  memset(&fx->rep, 0, sizeof fx->rep);
  fx->r = vg_rules_load(dir, NULL, &limits, collect_report, &fx->rep, &fx->errors);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 1);
  assert_int_equal(fx->rep.n, 1);
  assert_contains(fx->rep.text, "no-such-dir");
  assert_int_equal(vg_rules_count(fx->r), 0);
}

static void test_vanished_directory_keeps_the_rules_in_force(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "a.lua", "rule \"a\" { tags = { \"a\" } }\n"), 0);
  assert_int_equal(
      write_rules(fx, "b.lua", "rule \"b\" { after = { \"a\" }, tags = { \"b\" } }\n"), 0);
  vg_rules *first = load_rules(fx, NULL);
  assert_non_null(first);
  assert_int_equal(fx->errors, 0);
  assert_int_equal(vg_rules_count(first), 2);

  support_remove_dir(fx->dir);
  assert_int_not_equal(access(fx->dir, F_OK), 0);
  vg_rules *second = load_rules(fx, first);
  vg_rules_free(first);
  assert_non_null(second);
  assert_int_equal(fx->errors, 1);
  assert_contains(fx->rep.text, "cannot read the rules path");
  assert_contains(fx->rep.text, "stay in force");
  assert_int_equal(vg_rules_count(second), 2);
  /* And again, from what the second load kept. */
  fx->r = load_rules(fx, second);
  vg_rules_free(second);
  assert_non_null(fx->r);
  assert_int_equal(vg_rules_count(fx->r), 2);
  assert_non_null(vg_rules_file_of(fx->r, "b"));
  char tags[512];
  int i = store_line(fx, lines[0]);
  assert_int_equal(run_rules(fx, i), 0);
  assert_string_equal(tags_of(fx, i, tags), "a,b");

  /* The directory is back with one file: only that file's rules remain. */
  assert_int_equal(mkdir(fx->dir, 0700), 0);
  assert_int_equal(write_rules(fx, "a.lua", "rule \"a\" { tags = { \"a\" } }\n"), 0);
  vg_rules *third = load_rules(fx, fx->r);
  assert_non_null(third);
  assert_int_equal(fx->errors, 0);
  assert_int_equal(vg_rules_count(third), 1);
  vg_rules_free(third);
}

static void test_only_lua_files_are_loaded(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "notes.txt", "this is not Lua\n"), 0);
  assert_int_equal(write_rules(fx, ".hidden.lua", "this is not Lua either\n"), 0);
  assert_int_equal(write_rules(fx, "good.lua", good_rules), 0);
  fx->r = load_rules(fx, NULL);
  assert_non_null(fx->r);
  assert_int_equal(fx->errors, 0);
  assert_int_equal(vg_rules_count(fx->r), 1);
}

int main(void) {
  vg_log_set_level(getenv("VIGIL_TEST_LOG") ? VG_LOG_DEBUG : VG_LOG_ERROR + 1); /* rule failures are logged; the tests check behaviour */
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sandbox_memory_cap_holds),
      cmocka_unit_test(test_sandbox_budget_stops_a_loop_and_names_its_line),
      cmocka_unit_test(test_sandbox_budget_is_per_call),
      cmocka_unit_test(test_sandbox_unknown_global_is_named),
      cmocka_unit_test(test_sandbox_chunk_globals_stay_in_its_environment),
      cmocka_unit_test(test_sandbox_readonly_view),
      cmocka_unit_test(test_sandbox_pairs_does_not_hand_out_the_real_table),
      T(test_well_behaved_rules_run),
      T(test_infinite_loop_in_when_stopped),
      T(test_infinite_recursion_stopped),
      T(test_infinite_loop_in_coroutine_stopped),
      T(test_loop_catching_errors_in_coroutines_stopped),
      T(test_string_doubling_memory_bomb_stopped),
      T(test_growing_table_memory_bomb_stopped),
      T(test_memory_bomb_in_file_level_table_stopped),
      T(test_os_execute_fails),
      T(test_os_exit_and_getenv_fail),
      T(test_io_open_fails),
      T(test_require_fails),
      T(test_dofile_fails),
      T(test_loadfile_fails),
      T(test_load_of_a_string_fails),
      T(test_string_dump_fails),
      T(test_string_dump_through_a_string_method_fails),
      T(test_debug_getinfo_fails),
      T(test_collectgarbage_fails),
      T(test_rawset_on_lists_fails),
      T(test_rawget_fails),
      T(test_getmetatable_of_a_string_fails),
      T(test_pcall_is_not_offered),
      T(test_unknown_global_read_fails),
      T(test_setmetatable_on_string_library_fails),
      T(test_assigning_into_string_library_fails),
      T(test_assigning_into_lists_fails),
      T(test_assigning_into_an_actor_list_fails),
      T(test_table_insert_into_lists_fails),
      T(test_setmetatable_on_lists_fails),
      T(test_lists_stay_unchanged_for_other_rules),
      T(test_writing_to_entry_fails),
      T(test_unknown_entry_field_fails),
      T(test_entry_kept_for_a_later_call_fails),
      T(test_entry_kept_in_a_closure_fails),
      T(test_tags_returning_a_number_sets_nothing),
      T(test_tags_returning_a_string_sets_nothing),
      T(test_tags_list_with_a_non_string_sets_nothing),
      T(test_tag_with_a_space_sets_nothing),
      T(test_tag_with_a_comma_sets_nothing),
      T(test_empty_tag_sets_nothing),
      T(test_overlong_tag_sets_nothing),
      T(test_alert_table_without_message_raises_nothing),
      T(test_alert_with_bad_severity_raises_nothing),
      T(test_alert_returning_a_number_raises_nothing),
      T(test_alert_returning_true_raises_nothing),
      T(test_alert_message_not_a_string_raises_nothing),
      T(test_error_raised_with_a_table_is_a_failure),
      T(test_file_cannot_read_another_files_globals),
      T(test_file_cannot_read_another_files_globals_at_load),
      T(test_file_cannot_change_what_other_files_see),
      T(test_finalizer_that_loops_forever_is_stopped),
      T(test_pattern_backtracking_is_stopped),
      T(test_tags_table_whose_index_errors_sets_nothing),
      T(test_tags_table_whose_length_loops_sets_nothing),
      T(test_alert_table_whose_index_errors_raises_nothing),
      T(test_syntax_error_reported_with_file_and_line),
      T(test_error_while_loading_reported_with_file_and_line),
      T(test_endless_loop_while_loading_is_stopped),
      T(test_broken_edit_keeps_previous_version),
      T(test_previous_version_survives_two_broken_loads),
      T(test_broken_edit_without_previous_loads_nothing),
      T(test_good_edit_replaces_previous_version),
      T(test_missing_directory_reported),
      T(test_vanished_directory_keeps_the_rules_in_force),
      T(test_only_lua_files_are_loaded),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
