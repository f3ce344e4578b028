/* test_ingest.c — from raw lines to stored entries or kept rejects.
 *
 * Covers vg_ingest_line inside a caller's transaction (stored, duplicate and
 * rejected results with their counts and reasons, a reason quoting control
 * characters kept as one line (and vg_escape_line, which makes it one), the
 * overlong-line flag)
 * and vg_ingest_fd reading a file or a pipe of mixed good and bad lines: the
 * counts, the line numbers handed to on_reject, a last line without a
 * newline, commits every `batch` lines, and a stop flag honoured between
 * two lines (what was read committed, the rest read by the next call); and
 * vg_ingest_feed with the items of a parsed feed and the lines of a
 * chronology feed: an item over max_line rejected and the others stored,
 * and a rejected item or line kept in rejects once for what it said,
 * however often the feed is polled. Each test has its own database in a
 * temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "framer.h"
#include "ingest.h"
#include "store.h"
#include "vigil.h"

#include "support.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

typedef struct {
  char dir[64];
  char path[128];
  vg_store *st;
  vg_ingest ig; /* the store, no rules */
} fixture;

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  if (!fx) return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vigil-ingest-XXXXXX");
  if (!mkdtemp(fx->dir)) {
    free(fx);
    return -1;
  }
  snprintf(fx->path, sizeof fx->path, "%s/vigil.db", fx->dir);
  char err[256] = "";
  fx->st = vg_store_open(fx->path, 0, err, sizeof err);
  if (!fx->st) {
    fprintf(stderr, "cannot open %s: %s\n", fx->path, err);
    rmdir(fx->dir);
    free(fx);
    return -1;
  }
  fx->ig = (vg_ingest){fx->st, NULL, NULL, NULL, NULL};
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  vg_store_close(fx->st);
  support_remove_dir(fx->dir);
  free(fx);
  return 0;
}

/* One integer from SQL run on the database through a connection of its own,
 * so it sees only what has been committed. */
static long long sql_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  long long v = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    fail_msg("cannot open %s directly", path);
  }
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

/* A chronology line from the default source, as the framer would hand it on. */
static vg_line line_of(const char *text, uint64_t line_no) {
  vg_line l = {0};
  l.data = text;
  l.len = strlen(text);
  l.total = l.len;
  l.line_no = line_no;
  l.format = VG_FORMAT_AUTO;
  l.source = "desk";
  l.max_line = 1024;
  return l;
}

static int count_row(void *ud, const vg_row *r) {
  (void)r;
  ++*(int *)ud;
  return 0;
}

/* How many entries a query with no filter returns. */
static int entries_in(vg_store *st) {
  int n = 0;
  vg_query q = {0};
  assert_int_equal(vg_store_query(st, &q, count_row, &n), 0);
  return n;
}

static void test_line_stored_then_duplicate(void **state) {
  fixture *fx = *state;
  vg_counts c = {0};
  vg_result a, b;
  vg_line l = line_of("Nov. 21, 2023: North Korea puts a reconnaissance satellite into orbit.", 1);
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_ingest_line(&fx->ig, &l, &a, &c), 0);
  assert_int_equal(a.status, VG_STORED);
  assert_true(a.id > 0);
  l.line_no = 2;
  assert_int_equal(vg_ingest_line(&fx->ig, &l, &b, &c), 0);
  assert_int_equal(b.status, VG_DUPLICATE);
  assert_int_equal(b.id, a.id);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(c.stored, 1);
  assert_int_equal(c.duplicates, 1);
  assert_int_equal(c.rejected, 0);
  assert_int_equal(entries_in(fx->st), 1);
}

static void test_json_source_names_the_entry(void **state) {
  fixture *fx = *state;
  vg_result r;
  vg_line l = line_of("{\"date\": \"2023-11-21\", \"text\": \"Launch.\", \"source\": \"wire\"}", 1);
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_ingest_line(&fx->ig, &l, &r, NULL), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(r.status, VG_STORED);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries WHERE source = 'wire'"), 1);
}

static void test_bad_line_rejected_and_kept(void **state) {
  fixture *fx = *state;
  vg_counts c = {0};
  vg_result r;
  vg_line l = line_of("Octember 5, 2023: the month that never was", 12);
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_ingest_line(&fx->ig, &l, &r, &c), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(r.status, VG_REJECTED);
  assert_contains(r.reason, "Octember");
  assert_int_equal(c.rejected, 1);
  assert_int_equal(c.stored, 0);
  assert_int_equal(entries_in(fx->st), 0);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects WHERE line = 12 AND"
                                     " source = 'desk' AND reason LIKE '%Octember%'"),
                   1);
}

/* A reason that quotes the line (here a JSON date string holding escaped
 * newlines) stays one line: a client reading replies line by line, or a
 * .err file, must not find a false "ok 5" in it. */
static void test_reason_quoting_the_line_is_one_line(void **state) {
  fixture *fx = *state;
  vg_result r;
  vg_line l = line_of("{\"date\":\"2023-11-21\\nok 5\\rok 6\\u001b[2J\",\"text\":\"x\"}", 3);
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_ingest_line(&fx->ig, &l, &r, NULL), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(r.status, VG_REJECTED);
  for (const char *p = r.reason; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) fail_msg("control character in \"%s\"", r.reason);
  assert_contains(r.reason, "\\x0aok 5\\x0dok 6\\x1b[2J");
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects WHERE line = 3 AND"
                                     " instr(reason, char(10)) = 0 AND reason LIKE '%\\x0aok 5%'"),
                   1);
}

/* vg_escape_line: control characters and DEL as \xHH, tabs and UTF-8 as
 * they are, and a cut that never splits an escape or a character. */
static void test_escape_line(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(vg_escape_line(out, sizeof out, "a\nb\r\tc\x7f\x01", 8), 20);
  assert_string_equal(out, "a\\x0ab\\x0d\tc\\x7f\\x01");
  /* Room for "ab" and a NUL only: the escape is left out whole. */
  assert_int_equal(vg_escape_line(out, 5, "ab\ncd", 5), 2);
  assert_string_equal(out, "ab");
  /* "é" is two bytes: cut before it, not between them. */
  assert_int_equal(vg_escape_line(out, 3, "a\xc3\xa9", 3), 1);
  assert_string_equal(out, "a");
  assert_int_equal(vg_escape_line(out, 4, "a\xc3\xa9", 3), 3);
  assert_string_equal(out, "a\xc3\xa9");
  assert_int_equal(vg_escape_line(out, 1, "abc", 3), 0);
  assert_string_equal(out, "");
}

static void test_overlong_line_rejected_naming_the_cap(void **state) {
  fixture *fx = *state;
  vg_counts c = {0};
  vg_result r;
  /* Even a line that would parse is refused once the framer cut it. */
  vg_line l = line_of("2023-11-21: the first bytes of a very long line", 4);
  l.flags = VG_LINE_TOO_LONG;
  l.total = 5000;
  l.max_line = 1024;
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_ingest_line(&fx->ig, &l, &r, &c), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(r.status, VG_REJECTED);
  assert_contains(r.reason, "1024");
  assert_contains(r.reason, "5000");
  assert_int_equal(c.rejected, 1);
  assert_int_equal(entries_in(fx->st), 0);
  assert_int_equal(sql_int(fx->path, "SELECT raw_length FROM rejects WHERE line = 4"), 5000);
}

static void test_line_work_undone_by_rollback(void **state) {
  fixture *fx = *state;
  vg_result r;
  vg_line good = line_of("2023-11-21: stored, then undone", 1);
  vg_line bad = line_of("no date here", 2);
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_ingest_line(&fx->ig, &good, &r, NULL), 0);
  assert_int_equal(vg_ingest_line(&fx->ig, &bad, &r, NULL), 0);
  vg_store_rollback(fx->st);
  assert_int_equal(entries_in(fx->st), 0);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 0);
}

/* What on_reject saw. */
typedef struct {
  size_t n;
  uint64_t line_no[16];
  char reason[16][VG_REASON_MAX];
  long long committed[16]; /* entries committed when the reject was reported */
  const char *path;        /* the database, to count committed entries; or NULL */
} rejects_seen;

static void on_reject(void *ud, const vg_line *line, const vg_result *res) {
  rejects_seen *s = ud;
  if (s->n == 16) return;
  s->line_no[s->n] = line->line_no;
  snprintf(s->reason[s->n], VG_REASON_MAX, "%s", res->reason);
  s->committed[s->n] = s->path ? sql_int(s->path, "SELECT count(*) FROM entries") : -1;
  s->n++;
}

/* Lines 2, 5, 6 and 8 are bad; 4 repeats 1; 9 has no newline. */
static const char mixed[] =
    "Nov. 21, 2023: North Korea puts a reconnaissance satellite into orbit.\n"
    "no date on this line\n"
    "Dec. 18, 2023: A Hwasong-18 is fired toward the East Sea.\n"
    "2023-11-21: North Korea puts a reconnaissance satellite into orbit.\n"
    "\n"
    "{\"date\": \"2023-12-01\", \"text\": }\n"
    "{\"date\": \"2023-12-02\", \"text\": \"A JSON record.\", \"source\": \"wire\"}\n"
    "Feb. 30, 2024: an impossible day\r\n"
    "early Jan. 2024: Artillery fire near the northern islands.";

static vg_file_opts opts_for(rejects_seen *seen, size_t batch) {
  vg_file_opts o = {0};
  o.format = VG_FORMAT_AUTO;
  o.source = "desk";
  o.max_line = 1024;
  o.batch = batch;
  o.on_reject = on_reject;
  o.ud = seen;
  return o;
}

static void assert_mixed_result(fixture *fx, const vg_counts *c, const rejects_seen *seen) {
  assert_int_equal(c->stored, 4);
  assert_int_equal(c->duplicates, 1);
  assert_int_equal(c->rejected, 4);
  assert_int_equal(seen->n, 4);
  assert_int_equal(seen->line_no[0], 2);
  assert_int_equal(seen->line_no[1], 5);
  assert_int_equal(seen->line_no[2], 6);
  assert_int_equal(seen->line_no[3], 8);
  assert_contains(seen->reason[0], "no date");
  assert_contains(seen->reason[1], "empty");
  assert_contains(seen->reason[2], "JSON");
  assert_contains(seen->reason[3], "impossible");
  assert_int_equal(entries_in(fx->st), 4);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 4); /* committed */
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 4);
  assert_int_equal(
      sql_int(fx->path, "SELECT count(*) FROM entries WHERE date = '2024-01-01/2024-01-10'"), 1);
}

/* Writes data to a new file in the fixture's directory and opens it for reading. */
static int temp_file(fixture *fx, const char *data, size_t n) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/input.txt", fx->dir);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
  int fd = open(p, O_RDONLY);
  assert_true(fd >= 0);
  return fd;
}

static void test_fd_file_with_mixed_lines(void **state) {
  fixture *fx = *state;
  rejects_seen seen = {0};
  vg_file_opts o = opts_for(&seen, 2);
  vg_counts c = {0};
  char err[256] = "";
  int fd = temp_file(fx, mixed, sizeof mixed - 1);
  int rc = vg_ingest_fd(&fx->ig, fd, &o, &c, err, sizeof err);
  close(fd);
  if (rc != 0) fail_msg("vg_ingest_fd returned %d: %s", rc, err);
  assert_mixed_result(fx, &c, &seen);
}

static void test_fd_pipe_with_mixed_lines(void **state) {
  fixture *fx = *state;
  rejects_seen seen = {0};
  vg_file_opts o = opts_for(&seen, 2);
  vg_counts c = {0};
  char err[256] = "";
  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], mixed, sizeof mixed - 1), (ssize_t)(sizeof mixed - 1));
  close(p[1]);
  int rc = vg_ingest_fd(&fx->ig, p[0], &o, &c, err, sizeof err);
  close(p[0]);
  if (rc != 0) fail_msg("vg_ingest_fd returned %d: %s", rc, err);
  assert_mixed_result(fx, &c, &seen);
}

/* A stop flag that the first commit raises, as a stop signal would between
 * two batches, and where the commits said the file was read to. */
typedef struct {
  atomic_int stop;
  int commits;
  uint64_t lines, offset;
} stop_after_first;

static int raise_stop(void *ud, uint64_t lines, uint64_t offset) {
  stop_after_first *s = ud;
  s->commits++;
  s->lines = lines;
  s->offset = offset;
  atomic_store(&s->stop, 1);
  return 0;
}

/* Once the stop flag is up, vg_ingest_fd takes no further line: it commits
 * what it read, says where the rest begins, and returns VG_INGEST_MORE; a
 * second call from there reads the rest, each line once. */
static void test_fd_stops_between_lines(void **state) {
  fixture *fx = *state;
  const char in[] = "2023-01-01: one\n2023-01-02: two\n2023-01-03: three\n"
                    "2023-01-04: four\n2023-01-05: five\n";
  stop_after_first s = {0};
  vg_ingest ig = fx->ig;
  ig.stop = &s.stop;
  vg_file_opts o = {.format = VG_FORMAT_AUTO, .source = "file", .max_line = 1024, .batch = 2,
                    .before_commit = raise_stop, .ud = &s};
  vg_counts c = {0};
  char err[256] = "";
  int fd = temp_file(fx, in, sizeof in - 1);
  int rc = vg_ingest_fd(&ig, fd, &o, &c, err, sizeof err);
  if (rc != VG_INGEST_MORE) fail_msg("vg_ingest_fd returned %d, not VG_INGEST_MORE: %s", rc, err);
  /* The batch of two, then the stop before line three: nothing more. */
  assert_int_equal(c.stored, 2);
  assert_int_equal(s.lines, 2);
  assert_int_equal(s.offset, 32);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 2);

  atomic_store(&s.stop, 0);
  ig.stop = NULL;
  o.before_commit = NULL;
  o.first_line = s.lines;
  o.offset = s.offset;
  assert_int_equal(lseek(fd, (off_t)s.offset, SEEK_SET), (off_t)s.offset);
  rc = vg_ingest_fd(&ig, fd, &o, &c, err, sizeof err);
  close(fd);
  if (rc != 0) fail_msg("vg_ingest_fd returned %d: %s", rc, err);
  assert_int_equal(c.stored, 5);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 5);
}

/* A write inside the commit that breaks a foreign key: the commit fails
 * with SQLite's own reason. */
static int break_commit(void *ud, uint64_t lines, uint64_t offset) {
  (void)lines;
  (void)offset;
  return vg_store_tag(ud, 999999, "no-such-entry", "test") ? VG_EDB : 0;
}

/* A commit that fails is reported with its reason (not with what SQLite
 * says after the rollback), and nothing of its batch is kept. */
static void test_fd_failed_commit_says_why(void **state) {
  fixture *fx = *state;
  const char in[] = "2023-01-01: one\n2023-01-02: two\n";
  vg_file_opts o = {.format = VG_FORMAT_AUTO, .source = "file", .max_line = 1024, .batch = 10,
                    .before_commit = break_commit, .ud = fx->ig.st};
  vg_counts c = {0};
  char err[256] = "";
  int fd = temp_file(fx, in, sizeof in - 1);
  int rc = vg_ingest_fd(&fx->ig, fd, &o, &c, err, sizeof err);
  close(fd);
  assert_int_equal(rc, VG_EDB);
  if (!strstr(err, "FOREIGN KEY")) fail_msg("the failure says \"%s\"", err);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 0);
}

static void test_fd_commits_every_batch(void **state) {
  fixture *fx = *state;
  /* Good, good, bad, good, good, bad: with batches of two lines, lines 1-2
   * and 3-4 are committed by the time line 6 is rejected. */
  const char in[] = "2023-01-01: one\n2023-01-02: two\nbad\n"
                    "2023-01-04: four\n2023-01-05: five\nbad again\n";
  rejects_seen seen = {0};
  seen.path = fx->path;
  vg_file_opts o = opts_for(&seen, 2);
  vg_counts c = {0};
  char err[256] = "";
  int fd = temp_file(fx, in, sizeof in - 1);
  int rc = vg_ingest_fd(&fx->ig, fd, &o, &c, err, sizeof err);
  close(fd);
  if (rc != 0) fail_msg("vg_ingest_fd returned %d: %s", rc, err);
  assert_int_equal(seen.n, 2);
  assert_int_equal(seen.line_no[0], 3);
  assert_int_equal(seen.line_no[1], 6);
  assert_int_equal(seen.committed[0], 2);
  assert_int_equal(seen.committed[1], 3);
  assert_int_equal(c.stored, 4);
  assert_int_equal(c.rejected, 2);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 4);
  /* No transaction is left open. */
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
}

static void test_fd_large_batch_commits_at_end(void **state) {
  fixture *fx = *state;
  const char in[] = "2023-01-01: one\n2023-01-02: two\nbad\n2023-01-04: four\n";
  rejects_seen seen = {0};
  seen.path = fx->path;
  vg_file_opts o = opts_for(&seen, 1000);
  vg_counts c = {0};
  char err[256] = "";
  int fd = temp_file(fx, in, sizeof in - 1);
  int rc = vg_ingest_fd(&fx->ig, fd, &o, &c, err, sizeof err);
  close(fd);
  if (rc != 0) fail_msg("vg_ingest_fd returned %d: %s", rc, err);
  assert_int_equal(seen.n, 1);
  assert_int_equal(seen.committed[0], 0); /* nothing committed mid-file */
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 3);
}

static void test_fd_empty_input(void **state) {
  fixture *fx = *state;
  rejects_seen seen = {0};
  vg_file_opts o = opts_for(&seen, 2);
  vg_counts c = {0};
  char err[256] = "";
  int fd = temp_file(fx, "", 0);
  int rc = vg_ingest_fd(&fx->ig, fd, &o, &c, err, sizeof err);
  close(fd);
  assert_int_equal(rc, 0);
  assert_int_equal(c.stored + c.duplicates + c.rejected, 0);
  assert_int_equal(seen.n, 0);
}

static void test_fd_read_error_is_reported(void **state) {
  fixture *fx = *state;
  rejects_seen seen = {0};
  vg_file_opts o = opts_for(&seen, 2);
  vg_counts c = {0};
  char err[256] = "";
  int fd = open(fx->dir, O_RDONLY | O_DIRECTORY); /* read(2) on it fails */
  assert_true(fd >= 0);
  int rc = vg_ingest_fd(&fx->ig, fd, &o, &c, err, sizeof err);
  close(fd);
  assert_int_equal(rc, VG_EIO);
  assert_contains(err, "read failed");
}

/* A file whose first line is `long_len` bytes of text, over a cap of 100. */
static void ingest_overlong(fixture *fx, size_t long_len, rejects_seen *seen, vg_counts *c) {
  const char next[] = "\n2023-11-21: the line after it\n";
  char *in = malloc(long_len + sizeof next);
  assert_non_null(in);
  memcpy(in, "2023-11-20: ", 12);
  memset(in + 12, 'x', long_len - 12);
  memcpy(in + long_len, next, sizeof next);
  vg_file_opts o = opts_for(seen, 2);
  o.max_line = 100;
  char err[256] = "";
  int fd = temp_file(fx, in, long_len + sizeof next - 1);
  free(in);
  int rc = vg_ingest_fd(&fx->ig, fd, &o, c, err, sizeof err);
  close(fd);
  if (rc != 0) fail_msg("vg_ingest_fd returned %d: %s", rc, err);
}

static void test_fd_overlong_line_rejected_and_next_stored(void **state) {
  fixture *fx = *state;
  rejects_seen seen = {0};
  vg_counts c = {0};
  ingest_overlong(fx, 700, &seen, &c);
  assert_int_equal(c.rejected, 1);
  assert_int_equal(c.stored, 1);
  assert_int_equal(seen.n, 1);
  assert_int_equal(seen.line_no[0], 1);
  assert_contains(seen.reason[0], "100-byte cap");
  assert_int_equal(sql_int(fx->path, "SELECT length(raw) FROM rejects"), 100);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries WHERE date = '2023-11-21'"), 1);
}

static void test_fd_overlong_line_records_full_length(void **state) {
  fixture *fx = *state;
  /* One line short enough to arrive in one read, one longer than a read. */
  const size_t lens[] = {700, 150000};
  char wrong[2][VG_REASON_MAX + 64] = {"", ""};
  for (size_t i = 0; i < 2; i++) {
    rejects_seen seen = {0};
    vg_counts c = {0};
    ingest_overlong(fx, lens[i], &seen, &c);
    assert_int_equal(seen.n, 1);
    long long kept = sql_int(fx->path, "SELECT raw_length FROM rejects ORDER BY id DESC");
    char want[32];
    snprintf(want, sizeof want, "line of %zu bytes", lens[i]);
    if (kept != (long long)lens[i] || !strstr(seen.reason[0], want))
      snprintf(wrong[i], sizeof wrong[i], "a %zu-byte line was kept as %lld bytes (\"%s\")",
               lens[i], kept, seen.reason[0]);
  }
  if (wrong[0][0] || wrong[1][0]) fail_msg("%s; %s", wrong[0], wrong[1]);
}

/* ---- feeds ---- */

static const vg_feed_conf feed_conf = {(char *)"http://feed.test/news.xml", (char *)"feed.test",
                                       (char *)"auto", 300, VG_REDIRECT_SAME_HOST};

/* One poll of the feed: body parsed with max_line as its cap on each part
 * of an item, then ingested in a transaction of its own. */
static void poll_body(fixture *fx, const char *body, size_t max_line, vg_counts *c,
                      vg_feed_counts *fc) {
  vg_feed_items items;
  vg_feed_limits lim = {max_line, 0, 0};
  char err[300];
  memset(c, 0, sizeof *c);
  memset(fc, 0, sizeof *fc);
  if (vg_feed_parse(body, strlen(body), NULL, VG_FEED_AUTO, &lim, &items, err, sizeof err))
    fail_msg("the feed does not parse: %s", err);
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_ingest_feed(&fx->ig, &feed_conf, &items, 1700000000, max_line, c, fc), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  vg_feed_items_free(&items);
}

/* An RSS body: a good item, one whose title is `title_len` bytes of `fill`,
 * and one whose record is over a 1024-byte cap though each part is under. */
static char *rss_body(size_t title_len, char fill) {
  char *title = malloc(title_len + 1), *body = malloc(title_len + 4096);
  assert_non_null(title);
  assert_non_null(body);
  memset(title, fill, title_len);
  title[title_len] = '\0';
  char wide[901];
  memset(wide, 'w', 900);
  wide[900] = '\0';
  snprintf(body, title_len + 4096,
           "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>\n"
           "<item><guid>good</guid><title>North Korea fires a missile</title>"
           "<pubDate>Tue, 21 Nov 2023 13:43:00 GMT</pubDate></item>\n"
           "<item><guid>long</guid><title>%s</title>"
           "<pubDate>Tue, 21 Nov 2023 13:43:00 GMT</pubDate></item>\n"
           "<item><guid>wide</guid><title>%s</title><link>https://news.test/%s</link>"
           "<pubDate>Tue, 21 Nov 2023 13:43:00 GMT</pubDate></item>\n"
           "</channel></rss>\n",
           title, wide, wide);
  free(title);
  return body;
}

static void test_feed_item_over_max_line_rejected_once(void **state) {
  fixture *fx = *state;
  vg_counts c;
  vg_feed_counts fc;
  char *body = rss_body(2000, 'x');
  poll_body(fx, body, 1024, &c, &fc);
  assert_int_equal(c.stored, 1);
  assert_int_equal(c.rejected, 2);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 1);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects WHERE line = 4"
                                     " AND origin = 'http://feed.test/news.xml'"
                                     " AND source = 'feed.test'"
                                     " AND reason = 'the item''s title is over the 1024-byte cap'"),
                   1);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects WHERE line = 5"
                                     " AND reason LIKE 'the item of % bytes is over the 1024-byte"
                                     " cap'"),
                   1);
  /* polled again, and again: nothing more is kept */
  for (int i = 0; i < 2; i++) {
    poll_body(fx, body, 1024, &c, &fc);
    assert_int_equal(c.stored + c.duplicates + c.rejected, 0);
    assert_int_equal(fc.unchanged, 3);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 2);
  }
  free(body);
  /* what it says changed, still over the cap: kept once more */
  body = rss_body(2000, 'y');
  poll_body(fx, body, 1024, &c, &fc);
  assert_int_equal(c.rejected, 1);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 3);
  poll_body(fx, body, 1024, &c, &fc);
  assert_int_equal(c.rejected, 0);
  free(body);
  /* now under the cap: stored */
  body = rss_body(200, 'z');
  poll_body(fx, body, 1024, &c, &fc);
  assert_int_equal(c.stored, 1);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 3);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries WHERE length(text) = 200"), 1);
  free(body);
}

/* An item the entry parser refuses (an impossible date) is kept once too. */
static void test_feed_bad_item_rejected_once(void **state) {
  fixture *fx = *state;
  static const char body[] =
      "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
      "<channel>\n<item><guid>bad-date</guid><title>A test-fire</title>"
      "<dc:date>2023-02-30</dc:date></item>\n</channel></rss>\n";
  vg_counts c;
  vg_feed_counts fc;
  poll_body(fx, body, 1024, &c, &fc);
  assert_int_equal(c.rejected, 1);
  poll_body(fx, body, 1024, &c, &fc);
  assert_int_equal(c.rejected, 0);
  assert_int_equal(fc.unchanged, 1);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects WHERE line = 3"
                                     " AND reason LIKE '%impossible date%'"),
                   1);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 1);
}

/* A bad line of a chronology feed is kept once, wherever it stands; a new
 * one is kept when it comes. */
static void test_feed_lines_rejected_once(void **state) {
  fixture *fx = *state;
  vg_counts c;
  vg_feed_counts fc;
  poll_body(fx, "2023-11-21: A satellite launch.\nno date here\nno date here\n", 1024, &c, &fc);
  assert_int_equal(c.stored, 1);
  assert_int_equal(c.rejected, 1);
  poll_body(fx, "2023-11-22: Seoul suspends part of the accord.\n2023-11-21: A satellite launch.\n"
                "no date here\nanother line without one\n",
            1024, &c, &fc);
  assert_int_equal(c.stored, 1);
  assert_int_equal(c.duplicates, 1);
  assert_int_equal(c.rejected, 1);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 2);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects WHERE line = 4 AND"
                                     " raw = CAST('another line without one' AS BLOB)"),
                   1);
}

int main(void) {
  vg_log_set_level(VG_LOG_WARN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_fd_failed_commit_says_why),
      T(test_line_stored_then_duplicate),
      T(test_json_source_names_the_entry),
      T(test_bad_line_rejected_and_kept),
      T(test_reason_quoting_the_line_is_one_line),
      cmocka_unit_test(test_escape_line),
      T(test_overlong_line_rejected_naming_the_cap),
      T(test_line_work_undone_by_rollback),
      T(test_fd_file_with_mixed_lines),
      T(test_fd_pipe_with_mixed_lines),
      T(test_fd_commits_every_batch),
      T(test_fd_stops_between_lines),
      T(test_fd_large_batch_commits_at_end),
      T(test_fd_empty_input),
      T(test_fd_read_error_is_reported),
      T(test_fd_overlong_line_rejected_and_next_stored),
      T(test_fd_overlong_line_records_full_length),
      T(test_feed_item_over_max_line_rejected_once),
      T(test_feed_bad_item_rejected_once),
      T(test_feed_lines_rejected_once),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
