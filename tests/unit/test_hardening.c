/* test_hardening.c — what keeps a hostile or unlucky rule from taking the
 * daemon down or from bending what other rules see.
 *
 * Each test writes rule files into a temporary directory, loads them under
 * limits of its own, and ingests lines into a database in memory through
 * vg_ingest_line and vg_ingest_flush inside vg_store_begin / commit, as the
 * daemon does. Covered:
 *
 *   - a rule that fills the Lua state's memory and keeps it filled (catching
 *     its own memory errors through coroutine.resume) does not abort the
 *     process: the host's own Lua calls (entry objects, sequence alerts) have
 *     room of their own, and once the rule is disabled the other rules go on;
 *     nor does one that, with the memory full, keeps every entry object it is
 *     handed;
 *   - table.move is not offered, setmetatable refuses __len, the pattern
 *     functions refuse a long pattern on a long text (and say why), while a
 *     plain find still works; e:find over a long list of words, and other
 *     library functions doing work in C in proportion to their arguments,
 *     are held to the instruction budget;
 *   - history.entries after a memory error in the same state answers the
 *     query asked, not the rest of the one that failed;
 *   - an absence whose first step has more than a thousand marks in a day is
 *     answered for every one of them;
 *   - a rolled-back transaction leaves no watermark behind;
 *   - print() logs its arguments and nothing else;
 *   - from the hostile suite (tests/hostile/): %b on a long text is refused;
 *     e:match is held to the budget across all the start positions it
 *     tries, and its backtracking frames to the memory cap; comparing
 *     huge strings in a loop meets the time limit; history look-ups in a
 *     loop, copies, tonumber, utf8.offset and os.date of megabytes are
 *     charged; a long entry gets a budget to match its length; a file that
 *     fails where Lua cannot say the line is reported by name; the log
 *     writes control characters escaped.
 *
 * Cases that could hang or abort run in a child process with a time limit,
 * so that they fail as tests instead. */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "rules.h"
#include "rules_impl.h"
#include "sandbox.h"
#include "store.h"
#include "vigil.h"

#include "support.h"

#include <lauxlib.h>

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

#define assert_lacks(hay, needle)                                                                  \
  do {                                                                                             \
    if (strstr((hay), (needle))) fail_msg("did not expect \"%s\" in \"%s\"", (needle), (hay));     \
  } while (0)

typedef struct {
  char dir[64];
  vg_store *st;
  vg_rules *r;
  vg_sandbox *sb;    /* for the tests of the sandbox on its own */
  char *log;         /* what a test caught of stderr */
  int errors;        /* what the last load said */
  support_reports rep;
  vg_alert_list out; /* the new alerts handed on for the sinks */
  vg_ingest ig;      /* the store, the rules and out */
  uint64_t line_no;
} fixture;

/* Small limits: 8 MiB, a generous budget, a rule disabled after 3 failures. */
static const vg_rules_limits small_limits = {8u << 20, 5000000, 3, 1.0, 0};

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  if (!fx) return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vigil-hardening-XXXXXX");
  char err[256] = "";
  if (!mkdtemp(fx->dir) ||
      !(fx->st = vg_store_open(":memory:", VG_STORE_SYNC_NORMAL, err, sizeof err))) {
    fprintf(stderr, "setup: %s\n", err);
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
  vg_sandbox_free(fx->sb);
  free(fx->log);
  vg_store_close(fx->st);
  support_remove_dir(fx->dir);
  free(fx);
  return 0;
}

/* ---- helpers that do not assert (they also run in child processes) ---- */

static int write_rules(fixture *fx, const char *name, const char *text) {
  return support_write_file(fx->dir, name, text);
}

/* Loads the rules directory under lim; 0 when it loaded without a report. */
static int load_rules(fixture *fx, const vg_rules_limits *lim) {
  memset(&fx->rep, 0, sizeof fx->rep);
  vg_rules_free(fx->r);
  fx->r = vg_rules_load(fx->dir, NULL, lim, support_collect_report, &fx->rep, &fx->errors);
  fx->ig.rules = fx->r;
  if (!fx->r) return -1;
  if (fx->errors) fprintf(stderr, "the rules did not load cleanly: %s", fx->rep.text);
  return fx->errors ? -1 : 0;
}

/* Ingests one line (chronology or JSON) into the open transaction. Returns
 * what vg_ingest_line returned (0, or VG_EDB / VG_ENOMEM: roll back); *status
 * and *id say what became of the line. */
static int ingest(fixture *fx, const char *text, int *status, int64_t *id) {
  vg_line l = {0};
  l.data = text;
  l.len = strlen(text);
  l.total = l.len;
  l.line_no = ++fx->line_no;
  l.format = VG_FORMAT_AUTO;
  l.source = "desk";
  l.max_line = l.len + 1;
  vg_result res;
  int rc = vg_ingest_line(&fx->ig, &l, &res, NULL);
  *status = res.status;
  *id = res.id;
  if (rc == 0 && res.status == VG_REJECTED)
    fprintf(stderr, "\"%.60s\" was rejected: %s\n", text, res.reason);
  return rc;
}

static int join_tag(void *ud, const char *tag, const char *by) {
  (void)by;
  char *buf = ud;
  size_t used = strlen(buf);
  snprintf(buf + used, 512 - used, "%s%s", used ? "," : "", tag);
  return 0;
}

/* The stored tags of an entry, in tag order, joined by ','. */
static const char *tags_of(fixture *fx, int64_t id, char buf[512]) {
  buf[0] = '\0';
  if (vg_store_entry_tags(fx->st, id, join_tag, buf)) snprintf(buf, 512, "?");
  return buf;
}

static int count_alert(void *ud, const vg_alert_row *a) {
  (void)a;
  ++*(int *)ud;
  return 0;
}

/* How many alerts a rule has stored (every rule when NULL); -1 on error. */
static int alerts_of(fixture *fx, const char *rname) {
  int n = 0;
  vg_alert_query q = {0};
  q.rule = rname;
  return vg_store_alerts(fx->st, &q, count_alert, &n) ? -1 : n;
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

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bounds on how long a refused or budget-stopped call may take are
 * many times what it takes here (milliseconds for a refusal, about a second
 * for the longest budget under the sanitizers), so that a machine several
 * times slower, or busy with other work, passes; and far below what the
 * call would take if it were not refused or charged (minutes, or forever),
 * which is what they tell apart. valgrind (make test-valgrind sets
 * VIGIL_UNDER_VALGRIND) runs the code tens of times slower again. */
static double slowdown(void) { return getenv("VIGIL_UNDER_VALGRIND") ? 50.0 : 1.0; }

/* How long a child process may run before it is taken for hung and killed:
 * a generous bound, which costs time only when a test fails. */
#define CHILD_SECONDS 120

/* A JSON entry line dated date whose text is head followed by filler
 * repeated up to n bytes of text in all. The caller frees it. */
static char *json_line(const char *date, const char *head, const char *filler, size_t n) {
  size_t hn = strlen(head), fn = strlen(filler);
  char *line = malloc(n + 64);
  if (!line) return NULL;
  int used = snprintf(line, 64, "{\"date\":\"%s\",\"text\":\"", date);
  char *p = line + used;
  memcpy(p, head, hn);
  for (size_t k = hn; k < n; k++)
    p[k] = filler[(k - hn) % fn];
  memcpy(p + n, "\"}", 3);
  return line;
}

/* ---- stderr, caught ---- */

typedef struct {
  int saved; /* the real stderr */
  int fd;    /* the file it goes to meanwhile, already unlinked */
} caught;

/* From now on, what is written to stderr goes to a temporary file. */
static int catch_stderr(caught *c) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/vigil-hardening-log-XXXXXX");
  if ((c->fd = mkstemp(path)) < 0) return -1;
  unlink(path); /* nothing is left behind, even by a child that is killed */
  fflush(stderr);
  c->saved = dup(STDERR_FILENO);
  if (c->saved < 0 || dup2(c->fd, STDERR_FILENO) < 0) {
    if (c->saved >= 0) close(c->saved);
    close(c->fd);
    return -1;
  }
  return 0;
}

/* Gives stderr back and returns what was written to it (the caller frees
 * it), also echoed to the real stderr. */
static char *release_stderr(caught *c) {
  fflush(stderr);
  dup2(c->saved, STDERR_FILENO);
  close(c->saved);
  char *buf = NULL;
  size_t n = 0, cap = 0;
  if (lseek(c->fd, 0, SEEK_SET) == 0) {
    for (;;) {
      if (n + 4096 + 1 > cap) {
        char *b = realloc(buf, cap = cap ? cap * 2 : 8192);
        if (!b) break;
        buf = b;
      }
      ssize_t got = read(c->fd, buf + n, cap - n - 1);
      if (got <= 0) break;
      n += (size_t)got;
    }
  }
  close(c->fd);
  if (buf) {
    buf[n] = '\0';
    fputs(buf, stderr);
  }
  return buf;
}

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

#define assert_child_ok(fx, fn, seconds)                                                           \
  do {                                                                                             \
    int st_ = in_child((fx), (fn), (seconds));                                                     \
    if (st_ == -1) fail_msg("still running after %d s", (seconds));                                \
    if (st_ > 128) fail_msg("the process was killed by signal %d", st_ - 128);                     \
    if (st_ != 0) fail_msg("the child process reported problem %d (see its stderr)", st_);         \
  } while (0)

/* ---- a rule that fills the memory and keeps it filled ---- */

/* 00-hog.lua: on each FILL entry, a coroutine grows a list held by a
 * file-level global until the state's cap stops it; resume catches the
 * memory error, so the rule itself returns normally and the memory stays
 * taken. Once full, making the next coroutine fails: the rule fails. */
static const char hog_rules[] =
    "cos = {}\n"
    "head = false\n"
    "rule \"hog\" {\n"
    "  when = function(e)\n"
    "    if e:find\"FILL\" then\n"
    "      local co = coroutine.create(function() while true do head = {head} end end)\n"
    "      cos[#cos + 1] = co\n"
    "      coroutine.resume(co)\n"
    "    end\n"
    "    return false\n"
    "  end,\n"
    "  tags = { \"hog-ran\" },\n"
    "}\n";

static int hog_disabled(const fixture *fx) {
  for (size_t i = 0; i < fx->r->n; i++)
    if (strcmp(fx->r->v[i].name, "hog") == 0) return fx->r->v[i].disabled;
  return 0;
}

static const char plain_rules[] = "rule \"plain\" { tags = { \"plain\" } }\n";

static const char seq_rules[] =
    "sequence \"seq\" {\n"
    "  steps = { function(e) return e:find\"alpha\" end, function(e) return e:find\"beta\" end },\n"
    "  within = days(30),\n"
    "}\n";

/* Ingests text; a run that fails with VG_ENOMEM rolls back and begins
 * again. Returns 0, or a problem number (abort the child with it). */
static int ingest_tolerant(fixture *fx, const char *text, int64_t *id, int *rolled_back) {
  int status;
  int rc = ingest(fx, text, &status, id);
  if (rc == 0 && status == VG_STORED) return 0;
  if (rc == VG_ENOMEM || status == VG_ENOMEM) {
    fprintf(stderr, "\"%s\": the rules gave VG_ENOMEM; rolled back\n", text);
    vg_store_rollback(fx->st);
    (*rolled_back)++;
    return vg_store_begin(fx->st) ? 21 : 0;
  }
  fprintf(stderr, "\"%s\": vg_ingest_line gave %d, status %d\n", text, rc, status);
  return 22;
}

static int child_memory_hog(fixture *fx) {
  if (write_rules(fx, "00-hog.lua", hog_rules) || write_rules(fx, "50-plain.lua", plain_rules) ||
      write_rules(fx, "60-seq.lua", seq_rules))
    return 10;
  if (load_rules(fx, &small_limits)) return 11;
  int rolled_back = 0, rc;
  int64_t id;
  char tags[512];
  static const char *const batch[] = {
      "2023-01-01: alpha opens",   "2023-01-02: FILL one",      "2023-01-02: FILL two",
      "2023-01-02: FILL three",    "2023-01-02: FILL four",     "2023-01-02: FILL five",
      "2023-01-03: beta closes",   "2023-01-04: beta again",    "2023-01-05: alpha reopens",
      "2023-01-06: beta once more"};
  if (vg_store_begin(fx->st)) return 12;
  for (size_t i = 0; i < sizeof batch / sizeof batch[0]; i++)
    if ((rc = ingest_tolerant(fx, batch[i], &id, &rolled_back))) return rc;
  rc = vg_ingest_flush(&fx->ig);
  if (rc == VG_ENOMEM) {
    vg_store_rollback(fx->st);
  } else if (rc || vg_store_commit(fx->st)) {
    fprintf(stderr, "flush gave %d\n", rc);
    return 13;
  }
  /* What the test is about: the memory is full, and the hog is disabled. */
  const vg_sandbox *sb = fx->r->sb;
  if (sb->mem + (64u << 10) < sb->mem_max) {
    fprintf(stderr, "the hog did not fill the memory: %zu of %zu bytes\n", sb->mem, sb->mem_max);
    return 19;
  }
  if (!hog_disabled(fx)) {
    fprintf(stderr, "the hog was not disabled after its failures\n");
    return 20;
  }
  /* alpha opens, then beta closes, with the memory full: the host made
   * the sequence's alert all the same. */
  if (!rolled_back && alerts_of(fx, "seq") < 1) {
    fprintf(stderr, "the sequence raised no alert while the memory was full\n");
    return 23;
  }
  /* The memory is still taken (the hog's globals hold it) and the hog is
   * disabled by now: the other rules still run on every new entry. */
  static const char *const later[] = {"2023-02-01: alpha later", "2023-02-02: beta later",
                                      "2023-02-03: FILL again", "2023-02-04: quiet news"};
  for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
    int status;
    if (vg_store_begin(fx->st)) return 14;
    rc = ingest(fx, later[i], &status, &id);
    if (rc || status != VG_STORED) {
      fprintf(stderr, "\"%s\" after the hog was disabled: rc %d, status %d\n", later[i], rc,
              status);
      return 15;
    }
    if (vg_ingest_flush(&fx->ig) || vg_store_commit(fx->st)) return 16;
    tags_of(fx, id, tags);
    if (strcmp(tags, "plain") != 0) {
      fprintf(stderr, "\"%s\" after the hog was disabled has tags \"%s\", not \"plain\"\n",
              later[i], tags);
      return 17;
    }
  }
  /* alpha later, then beta later: the sequence still raises its alert. */
  int seq = alerts_of(fx, "seq");
  if (seq < 1) {
    fprintf(stderr, "the sequence raised %d alerts after the hog was disabled\n", seq);
    return 18;
  }
  vg_rules_free(fx->r);
  fx->r = NULL;
  return 0;
}

static void test_memory_hog_does_not_abort_and_others_go_on(void **state) {
  assert_child_ok(*state, child_memory_hog, CHILD_SECONDS);
}

/* The same, with vg_rules_run called directly: each run gives 0 or
 * VG_ENOMEM, never anything else, and the process lives. */
static int child_memory_hog_direct(fixture *fx) {
  if (write_rules(fx, "00-hog.lua", hog_rules) || write_rules(fx, "50-plain.lua", plain_rules) ||
      write_rules(fx, "60-seq.lua", seq_rules))
    return 10;
  if (load_rules(fx, &small_limits)) return 11;
  fx->ig.rules = NULL; /* store only; the rules are run below */
  static const char *const lines[] = {"2023-01-01: alpha", "2023-01-02: FILL 1",
                                      "2023-01-02: FILL 2", "2023-01-02: FILL 3",
                                      "2023-01-02: FILL 4", "2023-01-03: beta",
                                      "2023-01-04: beta", "2023-01-05: plain news"};
  if (vg_store_begin(fx->st)) return 12;
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    int status;
    int64_t id;
    if (ingest(fx, lines[i], &status, &id) || status != VG_STORED) return 13;
    vg_entry e;
    char why[VG_REASON_MAX], date[VG_DATE_TEXT_MAX];
    char *copy = strdup(lines[i]);
    if (!copy || vg_entry_parse(copy, strlen(copy), VG_FORMAT_AUTO, "desk", &e, why)) return 14;
    vg_date_format(&e.date, date);
    vg_rule_entry re = {id,        date,       vg_precision_name(e.date.precision),
                        e.date.first, e.date.last, e.text, e.text_len, e.source, e.fields};
    int rc = vg_rules_run(fx->r, fx->st, &re, &fx->out);
    vg_entry_clear(&e);
    free(copy);
    if (rc != 0 && rc != VG_ENOMEM) {
      fprintf(stderr, "vg_rules_run on \"%s\" gave %d\n", lines[i], rc);
      return 15;
    }
  }
  vg_store_rollback(fx->st);
  if (!hog_disabled(fx)) {
    fprintf(stderr, "the hog was not disabled after its failures\n");
    return 16;
  }
  vg_rules_free(fx->r);
  fx->r = NULL;
  return 0;
}

static void test_memory_hog_rules_run_gives_zero_or_enomem(void **state) {
  assert_child_ok(*state, child_memory_hog_direct, CHILD_SECONDS);
}

/* keeper.lua: fills the memory as the hog does, then keeps every entry
 * object it is handed, in slots of a list made at load time, so that
 * keeping one costs the rule nothing of its own cap: the objects are the
 * host's. */
static const char keeper_rules[] =
    "kept = {}\n"
    "for i = 1, 200000 do kept[i] = false end\n"
    "n = 0\n"
    "cos = {}\n"
    "head = false\n"
    "rule \"keeper\" {\n"
    "  when = function(e)\n"
    "    if n == 0 then\n"
    "      local co = coroutine.create(function() while true do head = {head} end end)\n"
    "      cos[1] = co\n"
    "      coroutine.resume(co)\n"
    "    end\n"
    "    n = n + 1\n"
    "    kept[n] = e\n"
    "    return false\n"
    "  end,\n"
    "  tags = { \"never\" },\n"
    "}\n";

/* vg_rules_run on 200000 entries (not stored: the rule only keeps them):
 * each run gives 0 or VG_ENOMEM, and the process lives. */
static int child_entry_keeper(fixture *fx) {
  static const vg_rules_limits lim = {16u << 20, 5000000, 3, 1.0, 0};
  if (write_rules(fx, "keeper.lua", keeper_rules) || load_rules(fx, &lim)) return 10;
  if (vg_store_begin(fx->st)) return 11;
  size_t enomem = 0;
  for (int64_t i = 1; i <= 200000; i++) {
    vg_rule_entry re = {i, "2023-01-01", "day", 19358, 19358, "news", 4, "desk", NULL};
    int rc = vg_rules_run(fx->r, fx->st, &re, &fx->out);
    if (rc == VG_ENOMEM) enomem++;
    else if (rc != 0) {
      fprintf(stderr, "vg_rules_run on entry %lld gave %d\n", (long long)i, rc);
      return 12;
    }
  }
  if (enomem) fprintf(stderr, "%zu runs gave VG_ENOMEM\n", enomem);
  vg_store_rollback(fx->st);
  vg_rules_free(fx->r);
  fx->r = NULL;
  return 0;
}

static void test_rule_keeping_entry_objects_past_the_cap_does_not_abort(void **state) {
  assert_child_ok(*state, child_entry_keeper, CHILD_SECONDS);
}

/* ---- what the safe libraries leave out or refuse ---- */

/* Loads code as an untrusted chunk in a fresh environment and calls it;
 * returns the status, leaving the results or the message on the stack. */
static int sandbox_run(vg_sandbox *sb, const char *code, int nresults) {
  if (luaL_loadbufferx(sb->L, code, strlen(code), "=chunk", "t") != LUA_OK) return -1;
  vg_sandbox_push_env(sb);
  lua_setupvalue(sb->L, -2, 1);
  return vg_sandbox_call(sb, 0, nresults);
}

static void test_table_move_is_not_offered(void **state) {
  fixture *fx = *state;
  vg_sandbox *sb = fx->sb = vg_sandbox_new(8u << 20, 1000000);
  assert_non_null(sb);
  assert_int_equal(sandbox_run(sb, "return type(table.move)", 1), LUA_OK);
  assert_string_equal(lua_tostring(sb->L, -1), "nil");
  lua_settop(sb->L, 0);
  assert_int_equal(sandbox_run(sb, "return table.move({1, 2, 3}, 1, 3, 2)", 1), LUA_ERRRUN);
  lua_settop(sb->L, 0);
  /* The rest of the table library is still there. */
  assert_int_equal(
      sandbox_run(sb, "local t = {3, 1, 2} table.sort(t) table.insert(t, 4) return table.concat(t)",
                  1),
      LUA_OK);
  assert_string_equal(lua_tostring(sb->L, -1), "1234");
}

static void test_setmetatable_with_len_is_refused(void **state) {
  fixture *fx = *state;
  vg_sandbox *sb = fx->sb = vg_sandbox_new(8u << 20, 1000000);
  assert_non_null(sb);
  int rc = sandbox_run(sb, "return setmetatable({}, { __len = function() return 1e15 end })", 1);
  assert_int_equal(rc, LUA_ERRRUN);
  assert_contains(lua_tostring(sb->L, -1), "__len");
  lua_settop(sb->L, 0);
  /* Other metatables are still allowed. */
  assert_int_equal(sandbox_run(sb, "local t = setmetatable({}, { __index = function() return 7 end })"
                                   " return t.x",
                               1),
                   LUA_OK);
  assert_int_equal(lua_tointeger(sb->L, -1), 7);
}

/* A 200 KB subject and a 2 KB pattern: each pattern function refuses it
 * at once, whatever the pattern holds. */
static const char *const long_pattern_calls[] = {
    "return string.find(s, string.rep('b', 2000))",
    "return s:find(string.rep('b', 2000))",
    "return string.match(s, string.rep('b', 2000))",
    "return (string.gsub(s, string.rep('b', 2000), ''))",
    "for w in string.gmatch(s, string.rep('b', 2000)) do end return 1",
    /* special characters but no repetition: each start matches far */
    "return string.find(s, string.rep('%a', 1000) .. '%d')",
};

#define NCALLS (sizeof long_pattern_calls / sizeof long_pattern_calls[0])

static void test_long_pattern_on_long_text_is_refused_quickly(void **state) {
  fixture *fx = *state;
  vg_sandbox *sb = fx->sb = vg_sandbox_new(8u << 20, 1000000);
  assert_non_null(sb);
  for (size_t i = 0; i < NCALLS; i++) {
    char code[512];
    snprintf(code, sizeof code, "local s = string.rep('a', 200000) %s", long_pattern_calls[i]);
    double t0 = now_seconds();
    int rc = sandbox_run(sb, code, 1);
    double took = now_seconds() - t0;
    if (rc != LUA_ERRRUN)
      fail_msg("\"%s\" was not refused (status %d, %.2f s)", long_pattern_calls[i], rc, took);
    if (took > 5.0 * slowdown())
      fail_msg("\"%s\" was refused only after %.2f s", long_pattern_calls[i], took);
    lua_settop(sb->L, 0);
  }
}

/* The refusal says why, and where: the rule's file and line. */
static void test_long_pattern_refusal_says_why(void **state) {
  fixture *fx = *state;
  vg_sandbox *sb = fx->sb = vg_sandbox_new(8u << 20, 1000000);
  assert_non_null(sb);
  for (size_t i = 0; i < NCALLS; i++) {
    char code[512];
    snprintf(code, sizeof code, "local s = string.rep('a', 200000)\n%s", long_pattern_calls[i]);
    assert_int_equal(sandbox_run(sb, code, 1), LUA_ERRRUN);
    const char *msg = lua_tostring(sb->L, -1);
    if (!strstr(msg, "could take too long") || !strstr(msg, "chunk:2:"))
      fail_msg("\"%s\" was refused with \"%s\"", long_pattern_calls[i], msg);
    lua_settop(sb->L, 0);
  }
}

static void test_plain_find_on_reasonable_sizes_works(void **state) {
  fixture *fx = *state;
  vg_sandbox *sb = fx->sb = vg_sandbox_new(8u << 20, 1000000);
  assert_non_null(sb);
  assert_int_equal(sandbox_run(sb,
                               "local s = string.rep('a', 200000) .. 'needle.+'\n"
                               "local a = string.find(s, 'needle.+', 1, true)\n"
                               "local b = s:find('needle.+', 1, true)\n"
                               "local c = string.find(string.rep('xy', 5000) .. '%d', '%d', 1, true)\n"
                               "local d = string.find(s, 'absent', 1, true)\n"
                               "return a .. ',' .. b .. ',' .. c .. ',' .. tostring(d)",
                               1),
                   LUA_OK);
  assert_string_equal(lua_tostring(sb->L, -1), "200001,200001,10001,nil");
  lua_settop(sb->L, 0);
  /* And short patterns on short texts, with repetitions. */
  assert_int_equal(sandbox_run(sb, "return (('launch of a Hwasong-18'):match('Hwasong%-(%d+)'))", 1),
                   LUA_OK);
  assert_string_equal(lua_tostring(sb->L, -1), "18");
}

/* A rule file whose rule "bad" calls body and would then tag "bad-ran",
 * and a rule "good" that tags every entry. */
static void run_bad_body(fixture *fx, const char *body, const char *line) {
  char text[2048];
  snprintf(text, sizeof text,
           "rule \"bad\" {\n"
           "  when = function(e)\n"
           "    %s\n"
           "    return true\n"
           "  end,\n"
           "  tags = { \"bad-ran\" },\n"
           "}\n"
           "rule \"good\" { tags = { \"good\" } }\n",
           body);
  assert_int_equal(write_rules(fx, "bad.lua", text), 0);
  if (load_rules(fx, &small_limits)) fail_msg("the rules did not load: %s", fx->rep.text);
  int status;
  int64_t id;
  char tags[512];
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(ingest(fx, line, &status, &id), 0);
  assert_int_equal(status, VG_STORED);
  assert_int_equal(vg_ingest_flush(&fx->ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  if (strcmp(tags_of(fx, id, tags), "good") != 0)
    fail_msg("\"%s\": the entry has tags \"%s\", not \"good\"", body, tags);
}

static void test_rule_calling_table_move_fails(void **state) {
  run_bad_body(*state, "table.move({1, 2, 3}, 1, 3, 1, {})", "2023-01-01: news");
}

static void test_rule_setting_len_fails(void **state) {
  run_bad_body(*state, "local t = setmetatable({}, { __len = function() return 3 end })",
               "2023-01-01: news");
}

static void test_rule_with_long_pattern_fails(void **state) {
  run_bad_body(*state, "string.find(string.rep('a', 200000), string.rep('b', 2000))",
               "2023-01-01: news");
}

/* e:find with a list of 100000 words on an entry of 200 KB: every word is
 * a scan of the text in C, which the budget must count. The word is absent
 * but each pair of its letters is in the text ("news absen ..."), so that
 * the pairs rule no scan out. */
static const char scan_rules[] =
    "local words = {}\n"
    "for i = 1, 100000 do words[i] = \"absenews\" end\n"
    "rule \"scan\" { when = function(e) return e:find(words) end, tags = { \"scanned\" } }\n"
    "rule \"good\" { tags = { \"good\" } }\n";

static int child_long_word_list(fixture *fx) {
  static const vg_rules_limits lim = {8u << 20, 2000000, 3, 1.0, 0};
  if (write_rules(fx, "scan.lua", scan_rules)) return 10;
  if (load_rules(fx, &lim)) return 11;
  char *line = json_line("2023-01-01", "news ", "absen ", 200000);
  if (!line) return 12;
  caught c;
  if (catch_stderr(&c)) return 13;
  int status;
  int64_t id = 0;
  double t0 = now_seconds();
  int rc = vg_store_begin(fx->st) ? -1 : ingest(fx, line, &status, &id);
  double took = now_seconds() - t0;
  char *log = release_stderr(&c);
  free(line);
  if (rc || status != VG_STORED) {
    fprintf(stderr, "ingest gave %d, status %d\n", rc, status);
    free(log);
    return 14;
  }
  if (vg_ingest_flush(&fx->ig) || vg_store_commit(fx->st)) return 15;
  char tags[512];
  tags_of(fx, id, tags);
  int problem = 0;
  if (strcmp(tags, "good") != 0) {
    fprintf(stderr, "the entry has tags \"%s\", not \"good\"\n", tags);
    problem = 16;
  } else if (!log || !strstr(log, "rule 'scan'") || !strstr(log, "instruction budget")) {
    fprintf(stderr, "no instruction budget failure of 'scan' was logged\n");
    problem = 17;
  } else if (took > 20.0 * slowdown()) { /* a second here; minutes uncharged */
    fprintf(stderr, "the rules took %.2f s on the entry\n", took);
    problem = 18;
  }
  free(log);
  vg_rules_free(fx->r);
  fx->r = NULL;
  return problem;
}

static void test_find_with_a_long_word_list_is_charged_to_the_budget(void **state) {
  assert_child_ok(*state, child_long_word_list, CHILD_SECONDS);
}

/* Other library functions that, like table.move, loop in C in proportion
 * to the size of what they are given: a rule calling one of them in a loop
 * must still be stopped by its budget in about the time its instructions
 * take. Each body loops forever on a list of 200000 items or a text of
 * 2 MB, in a child, under a budget of 200000 instructions, which Lua code
 * alone spends in milliseconds. */
static const char *const c_loops[] = {
    "local t = {string.rep('x', 200000):byte(1, -1)}\n"
    "while true do table.insert(t, 1, 0) table.remove(t, 1) end",
    "local t = {string.rep('x', 200000):byte(1, -1)}\n"
    "while true do table.sort(t) end",
    "local t = {string.rep('x', 200000):byte(1, -1)}\n"
    "while true do local s = table.concat(t) end",
    "local s = string.rep('x', 2000000)\n"
    "while true do local u = s:upper() end",
    "while true do local s = string.rep('x', 2000000) end",
    /* One instruction each, over megabytes made by doubling (which the
     * budget sees only through the memory it makes): a copy, a number read
     * from a megabyte of digits, utf8.offset across a megabyte, os.date of
     * a 64 KB format. */
    "local s = 'x' for i = 1, 21 do s = s .. s end\n"
    "while true do local copy = s .. '!' end",
    "local d = '9' for i = 1, 20 do d = d .. d end\n"
    "while true do local n = tonumber(d) end",
    "local s = 'u' for i = 1, 20 do s = s .. s end\n"
    "while true do local n = utf8.offset(s, 1000000) end",
    "local f = '%c' for i = 1, 15 do f = f .. f end\n"
    "while true do local s = os.date(f) end",
};

static const char *c_loop_body; /* the body the child runs */

static int child_c_loop(fixture *fx) {
  vg_sandbox *sb = fx->sb = vg_sandbox_new(8u << 20, 200000);
  if (!sb) return 10;
  int rc = sandbox_run(sb, c_loop_body, 0);
  const char *msg = lua_tostring(sb->L, -1);
  if (rc != LUA_ERRRUN || !msg || !strstr(msg, "instruction budget")) {
    fprintf(stderr, "status %d: %s\n", rc, msg ? msg : "(no message)");
    return 11;
  }
  return 0;
}

/* Runs fn in a child once for each of the n bodies, with *current set to
 * it; fails the test naming each body whose child did not end well (its
 * last line, for a body of several). */
static void each_in_child(fixture *fx, const char *const *bodies, size_t n, const char **current,
                          child_fn fn, const char *what) {
  char failed[2048] = "";
  for (size_t i = 0; i < n; i++) {
    *current = bodies[i];
    int st = in_child(fx, fn, CHILD_SECONDS);
    if (st == 0) continue;
    const char *shown = strchr(bodies[i], '\n') ? strchr(bodies[i], '\n') + 1 : bodies[i];
    size_t used = strlen(failed);
    snprintf(failed + used, sizeof failed - used, "\n  %s: %s", shown,
             st == -1 ? "still running" : st > 128 ? "killed by a signal" : "failed");
  }
  if (failed[0]) fail_msg("%s:%s", what, failed);
}

static void test_c_work_of_library_functions_is_held_to_the_budget(void **state) {
  each_in_child(*state, c_loops, sizeof c_loops / sizeof c_loops[0], &c_loop_body, child_c_loop,
                "not stopped by the instruction budget");
}

/* e:agents(), e:mode() and e:action() run with the count hook off: given a
 * table for the entry, whose __index loops, they must refuse it before the
 * hook goes off, not run the rule's loop unbounded. In a child, so that a
 * loop that got through is killed rather than hanging the suite. */
static const char *const fake_entry_calls[] = {
    "e.agents(setmetatable({}, { __index = function() while true do end end }))",
    "e.mode(setmetatable({}, { __index = function() while true do end end }))",
    "e.action(setmetatable({ text = 'x' }, { __len = function() while true do end end }))",
};
static const char *fake_entry_call;

static int child_fake_entry(fixture *fx) {
  char text[1024];
  snprintf(text, sizeof text,
           "rule \"bad\" { when = function(e) %s return true end, tags = { \"bad-ran\" } }\n"
           "rule \"good\" { tags = { \"good\" } }\n",
           fake_entry_call);
  if (write_rules(fx, "bad.lua", text)) return 10;
  if (load_rules(fx, &small_limits)) return 11;
  int status;
  int64_t id = 0;
  char tags[512];
  if (vg_store_begin(fx->st) || ingest(fx, "2023-01-01: news", &status, &id) || status != VG_STORED)
    return 12;
  if (vg_ingest_flush(&fx->ig) || vg_store_commit(fx->st)) return 13;
  if (strcmp(tags_of(fx, id, tags), "good") != 0) {
    fprintf(stderr, "the entry has tags \"%s\", not \"good\"\n", tags);
    return 14;
  }
  return 0;
}

static void test_sense_methods_refuse_a_table_for_the_entry(void **state) {
  each_in_child(*state, fake_entry_calls, sizeof fake_entry_calls / sizeof fake_entry_calls[0],
                &fake_entry_call, child_fake_entry, "a fake entry got through");
}

/* ---- history after a memory error ---- */

/* The probe fills the memory in 64 KB pieces, then asks for the entries
 * tagged "a", whose 1 MB texts cannot be made: that query fails. With the
 * memory let go, it asks for "b", then "a" again; each answer must hold
 * its own tag's entries only. The alert message says what it saw. */
static const char history_rules[] =
    "rule \"tag-a\" { when = function(e) return e:find\"alpha\" end, tags = { \"a\" } }\n"
    "rule \"tag-b\" { when = function(e) return e:find\"bravo\" end, tags = { \"b\" } }\n";

static const char probe_rules[] =
    "local function attempt(f)\n"
    "  return coroutine.resume(coroutine.create(f))\n"
    "end\n"
    "-- how many rows, or -1 when a row lacks the word\n"
    "local function only(rows, word)\n"
    "  local n = 0\n"
    "  for _, x in ipairs(rows) do\n"
    "    if not string.find(x.text, word, 1, true) then return -1 end\n"
    "    n = n + 1\n"
    "  end\n"
    "  return n\n"
    "end\n"
    "local function show(ok, rows, word)\n"
    "  if not ok then return 'failed' end\n"
    "  return tostring(only(rows, word))\n"
    "end\n"
    "rule \"probe\" {\n"
    "  when = function(e) return e:find\"probe\" end,\n"
    "  alert = function(e)\n"
    "    local pad = {}\n"
    "    attempt(function() while true do pad[#pad + 1] = string.rep('x', 65536) end end)\n"
    "    local ok1 = attempt(function() return history.entries{tag = 'a'} end)\n"
    "    pad = nil\n"
    "    local ok2, b = attempt(function() return history.entries{tag = 'b'} end)\n"
    "    local ok3, a = attempt(function() return history.entries{tag = 'a'} end)\n"
    "    return 'a: ' .. (ok1 and 'answered' or 'failed') .. '; b: ' .. show(ok2, b, 'bravo')\n"
    "      .. '; a: ' .. show(ok3, a, 'alpha')\n"
    "  end,\n"
    "}\n";

static void test_history_after_a_memory_error_answers_its_own_query(void **state) {
  fixture *fx = *state;
  static const vg_rules_limits lim = {8u << 20, 50000000, 100, 1.0, 0};
  assert_int_equal(write_rules(fx, "10-tags.lua", history_rules), 0);
  assert_int_equal(write_rules(fx, "20-probe.lua", probe_rules), 0);
  if (load_rules(fx, &lim)) fail_msg("the rules did not load: %s", fx->rep.text);
  assert_int_equal(vg_store_begin(fx->st), 0);
  int status;
  int64_t id;
  char tags[512];
  static const char *const dates[] = {"2023-01-01", "2023-01-02", "2023-01-03"};
  for (size_t i = 0; i < 3; i++) {
    char *line = json_line(dates[i], "alpha ", "x", 1u << 20);
    assert_non_null(line);
    assert_int_equal(ingest(fx, line, &status, &id), 0);
    free(line);
    assert_int_equal(status, VG_STORED);
    assert_string_equal(tags_of(fx, id, tags), "a");
  }
  assert_int_equal(ingest(fx, "2023-01-04: bravo one", &status, &id), 0);
  assert_string_equal(tags_of(fx, id, tags), "b");
  assert_int_equal(ingest(fx, "2023-01-05: bravo two", &status, &id), 0);
  assert_string_equal(tags_of(fx, id, tags), "b");
  assert_int_equal(ingest(fx, "2023-01-06: probe", &status, &id), 0);
  assert_int_equal(status, VG_STORED);
  assert_int_equal(vg_ingest_flush(&fx->ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(fx->out.n, 1);
  assert_string_equal(fx->out.v[0].rule, "probe");
  /* The first query failed for want of memory; the next two each got
   * their own tag's entries, all of them. */
  assert_string_equal(fx->out.v[0].message, "a: failed; b: 2; a: 3");
}

/* Without any memory error: one query after the other, each its own. */
static void test_history_queries_one_after_another(void **state) {
  fixture *fx = *state;
  static const vg_rules_limits lim = {8u << 20, 5000000, 100, 1.0, 0};
  assert_int_equal(write_rules(fx, "10-tags.lua", history_rules), 0);
  assert_int_equal(
      write_rules(fx, "20-probe.lua",
                  "local function texts(rows)\n"
                  "  local t = {}\n"
                  "  for _, x in ipairs(rows) do t[#t + 1] = x.text end\n"
                  "  return table.concat(t, ',')\n"
                  "end\n"
                  "rule \"probe\" {\n"
                  "  when = function(e) return e:find\"probe\" end,\n"
                  "  alert = function(e)\n"
                  "    return texts(history.entries{tag = 'a'}) .. ' | ' ..\n"
                  "      texts(history.entries{tag = 'b'}) .. ' | ' ..\n"
                  "      texts(history.entries{tag = 'a', limit = 1})\n"
                  "  end,\n"
                  "}\n"),
      0);
  if (load_rules(fx, &lim)) fail_msg("the rules did not load: %s", fx->rep.text);
  static const char *const lines[] = {"2023-01-01: alpha one", "2023-01-02: bravo one",
                                      "2023-01-03: alpha two", "2023-01-04: bravo two",
                                      "2023-01-05: probe"};
  assert_int_equal(vg_store_begin(fx->st), 0);
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    int status;
    int64_t id;
    assert_int_equal(ingest(fx, lines[i], &status, &id), 0);
    assert_int_equal(status, VG_STORED);
  }
  assert_int_equal(vg_ingest_flush(&fx->ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(fx->out.n, 1);
  assert_string_equal(fx->out.v[0].message,
                      "alpha one,alpha two | bravo one,bravo two | alpha one");
}

/* ---- an absence with more first steps in a day than one look-up holds ---- */

static const char absence_rules[] =
    "absence \"abs\" {\n"
    "  steps = { function(e) return e:find\"alpha\" end, function(e) return e:find\"beta\" end },\n"
    "  within = days(7),\n"
    "}\n";

static void test_absence_with_more_than_a_thousand_first_steps_in_a_day(void **state) {
  fixture *fx = *state;
  static const vg_rules_limits lim = {32u << 20, 1000000, 100, 1.0, 0};
  assert_int_equal(write_rules(fx, "abs.lua", absence_rules), 0);
  if (load_rules(fx, &lim)) fail_msg("the rules did not load: %s", fx->rep.text);
  int status;
  int64_t id;
  assert_int_equal(vg_store_begin(fx->st), 0);
  for (int i = 1; i <= 1100; i++) {
    char line[64];
    snprintf(line, sizeof line, "2023-11-01: alpha %d", i);
    assert_int_equal(ingest(fx, line, &status, &id), 0);
    assert_int_equal(status, VG_STORED);
  }
  assert_int_equal(ingest(fx, "2023-11-02: beta", &status, &id), 0);
  assert_int_equal(ingest(fx, "2023-12-30: news that moves the watermark", &status, &id), 0);
  assert_int_equal(status, VG_STORED);
  assert_int_equal(vg_ingest_flush(&fx->ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  /* Every alpha was answered by the beta a day later. */
  int n = alerts_of(fx, "abs");
  if (n != 0) fail_msg("%d absence alerts, though the beta answered every alpha", n);
  assert_int_equal(fx->out.n, 0);

  /* The rule itself still fires on an alpha nothing answers. */
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(ingest(fx, "2023-12-01: alpha unanswered", &status, &id), 0);
  assert_int_equal(ingest(fx, "2024-01-10: later news", &status, &id), 0);
  assert_int_equal(vg_ingest_flush(&fx->ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(alerts_of(fx, "abs"), 1);
  assert_int_equal(fx->out.n, 1);
  assert_contains(fx->out.v[0].message, "alpha unanswered");
}

/* The same, one transaction per line: the answers come in later batches. */
static void test_absence_with_many_first_steps_answered_a_batch_later(void **state) {
  fixture *fx = *state;
  static const vg_rules_limits lim = {32u << 20, 1000000, 100, 1.0, 0};
  assert_int_equal(write_rules(fx, "abs.lua", absence_rules), 0);
  if (load_rules(fx, &lim)) fail_msg("the rules did not load: %s", fx->rep.text);
  int status;
  int64_t id;
  assert_int_equal(vg_store_begin(fx->st), 0);
  for (int i = 1; i <= 1100; i++) {
    char line[64];
    snprintf(line, sizeof line, "2023-11-01: alpha %d", i);
    assert_int_equal(ingest(fx, line, &status, &id), 0);
  }
  assert_int_equal(vg_ingest_flush(&fx->ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  static const char *const later[] = {"2023-11-02: beta", "2023-12-30: news"};
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(vg_store_begin(fx->st), 0);
    assert_int_equal(ingest(fx, later[i], &status, &id), 0);
    assert_int_equal(vg_ingest_flush(&fx->ig), 0);
    assert_int_equal(vg_store_commit(fx->st), 0);
  }
  int n = alerts_of(fx, "abs");
  if (n != 0) fail_msg("%d absence alerts, though the beta answered every alpha", n);
}

/* ---- a rolled-back transaction leaves no watermark ---- */

static void test_rolled_back_entries_do_not_move_the_watermark(void **state) {
  fixture *fx = *state;
  static const vg_rules_limits lim = {8u << 20, 1000000, 100, 1.0, 0};
  assert_int_equal(write_rules(fx, "abs.lua", absence_rules), 0);
  if (load_rules(fx, &lim)) fail_msg("the rules did not load: %s", fx->rep.text);
  int status;
  int64_t id;
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(ingest(fx, "2030-01-01: news from far ahead", &status, &id), 0);
  assert_int_equal(status, VG_STORED);
  vg_store_rollback(fx->st);
  assert_int_equal(entries_stored(fx), 0);

  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(ingest(fx, "2023-01-01: alpha one", &status, &id), 0);
  assert_int_equal(status, VG_STORED);
  assert_int_equal(vg_ingest_flush(&fx->ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  int n = alerts_of(fx, "abs");
  if (n != 0) fail_msg("%d absence alerts: the watermark came from a rolled-back entry", n);
  assert_int_equal(fx->out.n, 0);

  /* An entry that is kept moves it as it should. */
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(ingest(fx, "2023-01-09: later news", &status, &id), 0);
  assert_int_equal(vg_ingest_flush(&fx->ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(alerts_of(fx, "abs"), 1);
}

/* A rolled-back entry earlier than the watermark's own does not pull it
 * back either: the committed watermark holds. */
static void test_rollback_keeps_the_committed_watermark(void **state) {
  fixture *fx = *state;
  static const vg_rules_limits lim = {8u << 20, 1000000, 100, 1.0, 0};
  assert_int_equal(write_rules(fx, "abs.lua", absence_rules), 0);
  if (load_rules(fx, &lim)) fail_msg("the rules did not load: %s", fx->rep.text);
  int status;
  int64_t id;
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(ingest(fx, "2023-03-01: news", &status, &id), 0);
  assert_int_equal(vg_ingest_flush(&fx->ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(ingest(fx, "2030-01-01: news from far ahead", &status, &id), 0);
  vg_store_rollback(fx->st);
  /* An alpha of 2023-02-01: its deadline (02-08) is before the committed
   * watermark (03-01), so it fires; one of 2023-02-25 (03-04) waits. */
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(ingest(fx, "2023-02-01: alpha early", &status, &id), 0);
  assert_int_equal(ingest(fx, "2023-02-25: alpha late", &status, &id), 0);
  assert_int_equal(vg_ingest_flush(&fx->ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(alerts_of(fx, "abs"), 1);
  assert_int_equal(fx->out.n, 1);
  assert_contains(fx->out.v[0].message, "alpha early");
}

/* ---- attacks of the hostile suite (tests/hostile/) ---- */

static void test_balanced_pattern_on_long_text_is_refused(void **state) {
  fixture *fx = *state;
  vg_sandbox *sb = fx->sb = vg_sandbox_new(8u << 20, 1000000);
  assert_non_null(sb);
  /* %b scans to the end of the subject from every start: n * n steps. */
  double t0 = now_seconds();
  int rc = sandbox_run(sb, "return string.rep('(', 100000):find('%b()')", 1);
  double took = now_seconds() - t0;
  assert_int_equal(rc, LUA_ERRRUN);
  assert_contains(lua_tostring(sb->L, -1), "could take too long");
  if (took > 5.0 * slowdown()) fail_msg("refused only after %.2f s", took);
  lua_settop(sb->L, 0);
  /* On a short text it is as useful as ever. */
  assert_int_equal(sandbox_run(sb, "return ('f(a(b)c)d'):match('%b()')", 1), LUA_OK);
  assert_string_equal(lua_tostring(sb->L, -1), "(a(b)c)");
}

/* Stores line with rule "bad" (bad_when) and rule "good" loaded, under
 * lim; 0 when the entry got "good" alone and the log names "bad" failing
 * with one of the reasons (separated by '|'), within `seconds`. */
static int bad_rule_on_line(fixture *fx, const vg_rules_limits *lim, const char *bad_when,
                            const char *line, const char *reasons, double seconds) {
  char text[2048];
  snprintf(text, sizeof text,
           "rule \"bad\" { when = function(e) %s end, tags = { \"bad-ran\" } }\n"
           "rule \"good\" { tags = { \"good\" } }\n",
           bad_when);
  if (write_rules(fx, "bad.lua", text) || load_rules(fx, lim)) return 10;
  caught c;
  if (vg_store_begin(fx->st) || catch_stderr(&c)) return 11;
  int status;
  int64_t id = 0;
  double t0 = now_seconds();
  int rc = ingest(fx, line, &status, &id);
  double took = now_seconds() - t0;
  char *log = release_stderr(&c);
  if (rc || status != VG_STORED || vg_ingest_flush(&fx->ig) || vg_store_commit(fx->st)) {
    free(log);
    return 12;
  }
  char tags[512];
  int problem = 0;
  if (strcmp(tags_of(fx, id, tags), "good") != 0) {
    fprintf(stderr, "the entry has tags \"%s\", not \"good\"\n", tags);
    problem = 13;
  } else if (!log || !strstr(log, "rule 'bad'")) {
    fprintf(stderr, "no failure of 'bad' was logged\n");
    problem = 14;
  } else if (took > seconds * slowdown()) {
    fprintf(stderr, "the rules took %.2f s on the entry\n", took);
    problem = 15;
  } else {
    problem = 16;
    char want[256];
    snprintf(want, sizeof want, "%s", reasons);
    for (char *r = strtok(want, "|"); r && problem; r = strtok(NULL, "|"))
      if (strstr(log, r)) problem = 0;
    if (problem) fprintf(stderr, "'bad' failed, but not for %s\n", reasons);
  }
  free(log);
  vg_rules_free(fx->r);
  fx->r = fx->ig.rules = NULL;
  return problem;
}

/* A text of 5000 runs of 18 a's, each ending in '!': (a+)+$ backtracks
 * on each run, and no start position comes near PCRE2's match limit, which
 * counts each start position on its own. */
static int child_regex_over_many_starts(fixture *fx) {
  char *line = json_line("2023-01-01", "runs ", "aaaaaaaaaaaaaaaaaa!", 5000 * 19);
  if (!line) return 9;
  int rc = bad_rule_on_line(fx, &small_limits, "return e:match('(a+)+$') ~= nil", line,
                            "instruction budget", 15.0);
  free(line);
  return rc;
}

static void test_regex_backtracking_over_many_starts_is_held_to_the_budget(void **state) {
  assert_child_ok(*state, child_regex_over_many_starts, CHILD_SECONDS);
}

/* A thousand captures in a group repeated over 5000 a's: each frame PCRE2
 * backtracks through holds every capture, 80 MB in all, more than the
 * rules' memory cap of 8 MB. */
static int child_regex_frames(fixture *fx) {
  char *line = json_line("2023-01-01", "", "a", 5000);
  if (!line) return 9;
  memcpy(line + strlen(line) - 2, "!c\"}", 5); /* ...aaa!c" */
  int rc = bad_rule_on_line(fx, &small_limits,
                            "return e:match('^(?:a' .. string.rep('()', 1000) .. ')*c') ~= nil",
                            line, "no more memory|instruction budget", 15.0);
  free(line);
  return rc;
}

static void test_regex_frames_are_held_to_the_memory_cap(void **state) {
  assert_child_ok(*state, child_regex_frames, CHILD_SECONDS);
}

/* Two equal strings of a megabyte, compared in a loop: each comparison is
 * one instruction and a megabyte of memcmp, which no count sees. The call
 * is stopped by its time limit, a microsecond per unit of its budget. */
static int child_compare_loop(fixture *fx) {
  vg_sandbox *sb = fx->sb = vg_sandbox_new(8u << 20, 2000000);
  if (!sb) return 10;
  double t0 = now_seconds();
  int rc = sandbox_run(sb,
                       "local a, b = 'x', 'x'\n"
                       "for i = 1, 20 do a = a .. a b = b .. b end\n"
                       "local same = 0\n"
                       "while true do if a == b then same = same + 1 end end",
                       0);
  double took = now_seconds() - t0;
  const char *msg = lua_tostring(sb->L, -1);
  if (rc != LUA_ERRRUN || !msg || !strstr(msg, "chunk:4: time limit of 2000 ms exceeded")) {
    fprintf(stderr, "status %d: %s\n", rc, msg ? msg : "(no message)");
    return 11;
  }
  /* Its limit, and at most one stretch of a thousand comparisons past it (a
   * tenth of a second here); a machine several times slower or busy adds
   * to that stretch only. */
  if (took < 1.5 || took > 10.0) {
    fprintf(stderr, "stopped after %.2f s, not about 2 s\n", took);
    return 12;
  }
  return 0;
}

static void test_comparing_huge_strings_in_a_loop_meets_the_time_limit(void **state) {
  assert_child_ok(*state, child_compare_loop, CHILD_SECONDS);
}

/* history.entries over 300 rows, in a loop: each look-up is charged by the
 * rows it reads. */
static int child_history_loop(fixture *fx) {
  static const vg_rules_limits lim = {8u << 20, 1000000, 3, 1.0, 0};
  if (write_rules(fx, "10-tags.lua", history_rules) ||
      write_rules(fx, "20-loop.lua",
                  "rule \"bad\" {\n"
                  "  when = function(e)\n"
                  "    if not e:find\"probe\" then return false end\n"
                  "    while true do local rows = history.entries{tag = 'a', limit = 1000} end\n"
                  "  end,\n"
                  "  tags = { \"bad-ran\" },\n"
                  "}\n") ||
      load_rules(fx, &lim))
    return 10;
  int status;
  int64_t id;
  if (vg_store_begin(fx->st)) return 11;
  for (int i = 0; i < 300; i++) {
    char line[64];
    snprintf(line, sizeof line, "2023-01-01: alpha %d", i);
    if (ingest(fx, line, &status, &id) || status != VG_STORED) return 12;
  }
  caught c;
  if (catch_stderr(&c)) return 13;
  double t0 = now_seconds();
  int rc = ingest(fx, "2023-01-02: probe", &status, &id);
  double took = now_seconds() - t0;
  char *log = release_stderr(&c);
  int problem = rc || status != VG_STORED ? 14
                : !log || !strstr(log, "rule 'bad'") || !strstr(log, "instruction budget") ? 15
                : took > 20.0 * slowdown() ? 16
                             : 0;
  if (problem) /* which check failed, for a run that shows only this process's output */
    fprintf(stderr, "# history loop: check %d failed: rc %d, status %d, %.2f s; log: %.300s\n",
            problem, rc, status, took, log ? log : "(none)");
  free(log);
  vg_store_rollback(fx->st);
  return problem;
}

static void test_history_lookups_in_a_loop_are_held_to_the_budget(void **state) {
  assert_child_ok(*state, child_history_loop, CHILD_SECONDS);
}

/* A 1 MB entry scanned for 40 words, none there: 40 scans of the text, as
 * many as a short entry allows. The budget grows with the text, so a long
 * entry is no reason to fail (nor, failing often, to be disabled). */
static void test_long_entry_gets_a_budget_to_match(void **state) {
  fixture *fx = *state;
  static const vg_rules_limits lim = {32u << 20, 1000000, 3, 1.0, 0};
  assert_int_equal(write_rules(fx, "scan.lua",
                               "local words = {}\n"
                               "for i = 1, 40 do words[i] = 'absent' .. i end\n"
                               "rule \"scan\" {\n"
                               "  tags = function(e)\n"
                               "    return { e:find(words) and 'found' or 'scanned' }\n"
                               "  end,\n"
                               "}\n"),
                   0);
  if (load_rules(fx, &lim)) fail_msg("the rules did not load: %s", fx->rep.text);
  char *line = json_line("2023-01-01", "long ", "nothing here ", 1u << 20);
  assert_non_null(line);
  int status;
  int64_t id;
  char tags[512];
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(ingest(fx, line, &status, &id), 0);
  free(line);
  assert_int_equal(status, VG_STORED);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_string_equal(tags_of(fx, id, tags), "scanned");
}

/* A file whose source nests deeper than the parser allows fails with a
 * message Lua cannot place: the report names the file all the same. */
static void test_load_failure_without_a_line_names_the_file(void **state) {
  fixture *fx = *state;
  char text[1024] = "local x = ";
  for (int i = 0; i < 300; i++) strcat(text, "(");
  strcat(text, "1");
  for (int i = 0; i < 300; i++) strcat(text, ")");
  strcat(text, "\nrule \"deep\" { tags = { \"deep\" } }\n");
  assert_int_equal(write_rules(fx, "deep.lua", text), 0);
  assert_int_equal(write_rules(fx, "plain.lua", plain_rules), 0);
  assert_int_not_equal(load_rules(fx, &small_limits), 0);
  assert_int_equal(fx->errors, 1);
  char want[PATH_MAX];
  snprintf(want, sizeof want, "%s/deep.lua: C stack overflow", fx->dir);
  assert_contains(fx->rep.text, want);
  assert_int_equal(vg_rules_count(fx->r), 1);
}

/* One event, one line: what a message holds of control characters (from
 * an entry's text, a rule's print or error) is written escaped. */
static void test_log_escapes_control_characters(void **state) {
  fixture *fx = *state;
  caught c;
  assert_int_equal(catch_stderr(&c), 0);
  vg_warn("text: one\ntwo\r\033[2J\007\177\tend");
  char *log = fx->log = release_stderr(&c);
  assert_non_null(log);
  assert_contains(log, " warn  text: one\\x0atwo\\x0d\\x1b[2J\\x07\\x7f\tend\n");
  assert_int_equal(strchr(log, '\n') - log, (long)strlen(log) - 1);
}

/* ---- print ---- */

/* The line of log that holds "print:", without its newline; "" if none. */
static void print_line(const char *log, const char *after, char *buf, size_t cap) {
  buf[0] = '\0';
  const char *p = log ? strstr(log, after) : NULL;
  if (!p) return;
  const char *start = p;
  while (start > log && start[-1] != '\n') start--;
  const char *end = strchr(p, '\n');
  size_t n = end ? (size_t)(end - start) : strlen(start);
  snprintf(buf, cap, "%.*s", (int)n, start);
}

static int ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), m = strlen(tail);
  return n >= m && strcmp(s + n - m, tail) == 0;
}

static void test_print_logs_exactly_its_arguments(void **state) {
  fixture *fx = *state;
  assert_int_equal(write_rules(fx, "p.lua",
                               "rule \"p\" {\n"
                               "  when = function(e)\n"
                               "    print(\"hi\")\n"
                               "    print(\"several\", 1, nil, true)\n"
                               "    print()\n"
                               "    return false\n"
                               "  end,\n"
                               "  tags = { \"never\" },\n"
                               "}\n"),
                   0);
  if (load_rules(fx, &small_limits)) fail_msg("the rules did not load: %s", fx->rep.text);
  int status;
  int64_t id;
  assert_int_equal(vg_store_begin(fx->st), 0);
  caught c;
  assert_int_equal(catch_stderr(&c), 0);
  int rc = ingest(fx, "2023-01-01: news", &status, &id);
  char *log = fx->log = release_stderr(&c);
  assert_non_null(log);
  assert_int_equal(rc, 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  char line[1024], where[PATH_MAX + 16];
  print_line(log, "print: hi", line, sizeof line);
  if (!line[0]) fail_msg("no \"print: hi\" line in the log: %s", log);
  if (!ends_with(line, "print: hi")) fail_msg("the line logged is \"%s\"", line);
  snprintf(where, sizeof where, "%s/p.lua:3: print: hi", fx->dir);
  assert_contains(line, where);
  print_line(log, "print: several", line, sizeof line);
  if (!ends_with(line, "print: several\t1\tnil\ttrue")) fail_msg("the line logged is \"%s\"", line);
  /* print() with nothing logs nothing after the colon. */
  snprintf(where, sizeof where, "%s/p.lua:5: print:", fx->dir);
  print_line(log, where, line, sizeof line);
  if (!ends_with(line, "print: ") && !ends_with(line, "print:"))
    fail_msg("the line logged for print() is \"%s\"", line);
  assert_lacks(log, "userdata");
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_memory_hog_does_not_abort_and_others_go_on),
      T(test_memory_hog_rules_run_gives_zero_or_enomem),
      T(test_rule_keeping_entry_objects_past_the_cap_does_not_abort),
      T(test_table_move_is_not_offered),
      T(test_setmetatable_with_len_is_refused),
      T(test_long_pattern_on_long_text_is_refused_quickly),
      T(test_long_pattern_refusal_says_why),
      T(test_plain_find_on_reasonable_sizes_works),
      T(test_rule_calling_table_move_fails),
      T(test_rule_setting_len_fails),
      T(test_rule_with_long_pattern_fails),
      T(test_find_with_a_long_word_list_is_charged_to_the_budget),
      T(test_c_work_of_library_functions_is_held_to_the_budget),
      T(test_sense_methods_refuse_a_table_for_the_entry),
      T(test_history_after_a_memory_error_answers_its_own_query),
      T(test_history_queries_one_after_another),
      T(test_absence_with_more_than_a_thousand_first_steps_in_a_day),
      T(test_absence_with_many_first_steps_answered_a_batch_later),
      T(test_rolled_back_entries_do_not_move_the_watermark),
      T(test_rollback_keeps_the_committed_watermark),
      T(test_print_logs_exactly_its_arguments),
      T(test_balanced_pattern_on_long_text_is_refused),
      T(test_regex_backtracking_over_many_starts_is_held_to_the_budget),
      T(test_regex_frames_are_held_to_the_memory_cap),
      T(test_comparing_huge_strings_in_a_loop_meets_the_time_limit),
      T(test_history_lookups_in_a_loop_are_held_to_the_budget),
      T(test_long_entry_gets_a_budget_to_match),
      T(test_load_failure_without_a_line_names_the_file),
      T(test_log_escapes_control_characters),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
