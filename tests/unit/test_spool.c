/* test_spool.c — one spool file ingested and moved, and one cut short.
 *
 * A file of good and bad lines goes to failed/ with a NAME.err naming each
 * bad line; a clean one goes to done/. A file whose reading stops right after
 * a commit (a child process that exits there, as a crash would) is read on
 * from its last committed line by the next attempt: every line is stored
 * once, every bad line is kept once, and the .err file lists the bad lines
 * from both attempts. A name or a reason holding a newline leaves each line
 * of the .err file whole. A mark left by another file of the same name is not
 * trusted, a long file can be read a few lines a call, and the marks of
 * files that moved on are dropped by vg_spool_tidy. Each test has its own
 * database and spool directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest.h"
#include "spool.h"
#include "store.h"
#include "vigil.h"

#include "support.h"

typedef struct {
  char dir[64];   /* the spool directory, holding the database too */
  char path[128]; /* the database */
  vg_store *st;
  vg_ingest ig;
} fixture;

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  if (!fx) return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vigil-spool-XXXXXX");
  if (!mkdtemp(fx->dir)) {
    free(fx);
    return -1;
  }
  char sub[128];
  snprintf(sub, sizeof sub, "%s/done", fx->dir);
  mkdir(sub, 0700);
  snprintf(sub, sizeof sub, "%s/failed", fx->dir);
  mkdir(sub, 0700);
  snprintf(fx->path, sizeof fx->path, "%s/.vigil.db", fx->dir);
  char err[256] = "";
  fx->st = vg_store_open(fx->path, 0, err, sizeof err);
  if (!fx->st) {
    fprintf(stderr, "cannot open %s: %s\n", fx->path, err);
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
  char sub[128];
  snprintf(sub, sizeof sub, "%s/done", fx->dir);
  support_remove_dir(sub);
  snprintf(sub, sizeof sub, "%s/failed", fx->dir);
  support_remove_dir(sub);
  support_remove_dir(fx->dir);
  free(fx);
  return 0;
}

/* One integer from SQL, through a connection of its own. */
static long long sql_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  long long v = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

/* The text of dir/sub/name, or "" when it cannot be read. */
static const char *read_text(const fixture *fx, const char *sub, const char *name) {
  static char text[4096];
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s/%s", fx->dir, sub, name);
  text[0] = '\0';
  FILE *f = fopen(p, "r");
  if (!f) return text;
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  return text;
}

static int exists(const fixture *fx, const char *sub, const char *name) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s%s%s", fx->dir, sub, *sub ? "/" : "", name);
  return access(p, F_OK) == 0;
}

/* Ten lines, two of them bad (lines 2 and 9), the last without a newline. */
static const char ten_lines[] = "2023-03-09: Pyongyang fires a short-range missile\n"
                                "no date on this one\n"
                                "2023-03-12: A submarine launches two cruise missiles\n"
                                "2023-03-13: Freedom Shield begins\n"
                                "2023-03-14: Two short-range missiles fall into the sea\n"
                                "2023-03-16: A Hwasong-17 is fired before a summit in Tokyo\n"
                                "2023-03-19: A missile flies 800 km toward the east\n"
                                "2023-03-22: Cruise missiles are fired off the east coast\n"
                                "2023-99-99: a month that does not exist\n"
                                "2023-03-27: Two more short-range missiles are launched";

static vg_file_opts opts(size_t batch, void (*on_commit)(void *), void *ud) {
  return (vg_file_opts){.format = VG_FORMAT_AUTO, .source = "spool", .max_line = 4096,
                        .batch = batch, .on_commit = on_commit, .ud = ud};
}

static void test_clean_file_goes_to_done(void **state) {
  fixture *fx = *state;
  assert_int_equal(support_write_file(fx->dir, "a.txt", "2023-01-01: one\n2023-01-02: two\n"), 0);
  vg_file_opts o = opts(10, NULL, NULL);
  vg_spool_result r;
  vg_spool_ingest(&fx->ig, fx->dir, "a.txt", &o, 0, &r);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.failed, 0);
  assert_int_equal(r.counts.stored, 2);
  assert_true(exists(fx, "done", "a.txt"));
  assert_false(exists(fx, "", "a.txt"));
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM spool_files"), 0);
}

static void test_bad_lines_listed_in_err_file(void **state) {
  fixture *fx = *state;
  assert_int_equal(support_write_file(fx->dir, "b.txt", ten_lines), 0);
  vg_file_opts o = opts(4, NULL, NULL);
  vg_spool_result r;
  vg_spool_ingest(&fx->ig, fx->dir, "b.txt", &o, 0, &r);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.failed, 1);
  assert_int_equal(r.counts.stored, 8);
  assert_int_equal(r.counts.rejected, 2);
  assert_true(exists(fx, "failed", "b.txt"));
  const char *err = read_text(fx, "failed", "b.txt.err");
  assert_non_null(strstr(err, "b.txt:2: "));
  assert_non_null(strstr(err, "b.txt:9: "));
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects WHERE origin = 'spool:b.txt'"), 2);
}

/* A file whose name holds a newline, and a line whose reason quotes one:
 * the .err file still has one line per rejected line, and nothing else. */
static void test_err_file_lines_stay_whole(void **state) {
  fixture *fx = *state;
  const char *name = "two\nlines.txt";
  static const char text[] = "{\"date\":\"2023-01-01\\nspool.txt:7: forged\",\"text\":\"x\"}\n"
                             "2023-01-02: a good line\n";
  assert_int_equal(support_write_file(fx->dir, name, text), 0);
  vg_file_opts o = opts(10, NULL, NULL);
  vg_spool_result r;
  vg_spool_ingest(&fx->ig, fx->dir, name, &o, 0, &r);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.counts.rejected, 1);
  assert_true(exists(fx, "failed", name));
  char err_name[64];
  snprintf(err_name, sizeof err_name, "%s.err", name);
  const char *err = read_text(fx, "failed", err_name);
  const char *nl = strchr(err, '\n');
  if (!nl || nl[1]) fail_msg(".err is not one line: \"%s\"", err);
  if (strncmp(err, "two\\x0alines.txt:1: ", 20) != 0 || !strstr(err, "\\x0aspool.txt:7: forged"))
    fail_msg("unexpected .err line: \"%s\"", err);
}

/* ---- names that are not files the spool takes ---- */

/* In a child, since opening a FIFO the old way never returns: ingests the
 * name "swapped" and exits with the result's rc. */
static int ingest_swapped(void *ud) {
  const fixture *fx = ud;
  char err[256];
  vg_store *st = vg_store_open(fx->path, 0, err, sizeof err);
  if (!st) return 99;
  vg_ingest ig = {st, NULL, NULL, NULL, NULL};
  vg_file_opts o = opts(10, NULL, NULL);
  vg_spool_result r;
  vg_spool_ingest(&ig, fx->dir, "swapped", &o, 0, &r);
  vg_store_close(st);
  return r.rc;
}

/* Ingests "swapped" in a child and checks that it was refused unread: moved
 * to failed/ with a .err naming what it was, nothing stored or kept. */
static void assert_swap_refused(fixture *fx, const char *what) {
  int rc = support_in_child(ingest_swapped, fx, 20);
  if (rc == -1) fail_msg("still reading the swapped name after 20 s");
  assert_int_equal(rc, VG_SPOOL_REFUSED);
  struct stat sb;
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/failed/swapped", fx->dir);
  assert_int_equal(lstat(p, &sb), 0);
  assert_false(exists(fx, "", "swapped"));
  const char *err = read_text(fx, "failed", "swapped.err");
  if (!strstr(err, "swapped: refused: ") || !strstr(err, what))
    fail_msg(".err does not say '%s': \"%s\"", what, err);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 0);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 0);
}

static void test_fifo_is_refused_without_waiting(void **state) {
  fixture *fx = *state;
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/swapped", fx->dir);
  assert_int_equal(mkfifo(p, 0600), 0);
  assert_swap_refused(fx, "a FIFO, not a regular file");
}

/* A file of someone else's, not for the daemon's eyes. */
static void write_secret(char *path, size_t cap) {
  snprintf(path, cap, "/tmp/vigil-secret-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  static const char secret[] = "2023-01-01: the one line that parses\n"
                               "root:$6$salt$not-a-real-hash:19000:0:99999:7:::\n"
                               "token=0123456789abcdef\n";
  assert_int_equal(write(fd, secret, sizeof secret - 1), (ssize_t)(sizeof secret - 1));
  assert_int_equal(fchmod(fd, 0600), 0);
  close(fd);
}

static void test_symlink_is_refused_unfollowed(void **state) {
  fixture *fx = *state;
  char secret[64], p[PATH_MAX];
  write_secret(secret, sizeof secret);
  snprintf(p, sizeof p, "%s/swapped", fx->dir);
  assert_int_equal(symlink(secret, p), 0);
  assert_swap_refused(fx, "a symbolic link, not a regular file");
  /* The link itself was moved; what it pointed to is where it was. */
  char to[PATH_MAX];
  snprintf(p, sizeof p, "%s/failed/swapped", fx->dir);
  ssize_t n = readlink(p, to, sizeof to - 1);
  assert_true(n > 0);
  to[n] = '\0';
  assert_string_equal(to, secret);
  assert_int_equal(access(secret, F_OK), 0);
  unlink(secret);
}

static void test_hard_link_is_refused(void **state) {
  fixture *fx = *state;
  char secret[64], p[PATH_MAX];
  write_secret(secret, sizeof secret);
  snprintf(p, sizeof p, "%s/swapped", fx->dir);
  if (link(secret, p) != 0) { /* /tmp on another file system than the spool */
    unlink(secret);
    skip();
  }
  assert_swap_refused(fx, "it has 2 hard links");
  unlink(secret);
}

static void test_directory_is_refused(void **state) {
  fixture *fx = *state;
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/swapped", fx->dir);
  assert_int_equal(mkdir(p, 0700), 0);
  assert_swap_refused(fx, "a directory, not a regular file");
  snprintf(p, sizeof p, "%s/failed/swapped", fx->dir);
  rmdir(p);
}

static void test_file_of_another_user_is_refused(void **state) {
  fixture *fx = *state;
  if (geteuid() != 0) skip(); /* only root can give a file away */
  char p[PATH_MAX];
  assert_int_equal(support_write_file(fx->dir, "swapped", "2023-01-01: whose line is it\n"), 0);
  snprintf(p, sizeof p, "%s/swapped", fx->dir);
  assert_int_equal(chown(p, 65534, 65534), 0);
  assert_swap_refused(fx, "owned by uid 65534, not by the daemon's user (uid 0) or root");
}

/* A link planted where the .err file is first written is replaced, not
 * written through. */
static void test_err_file_not_written_through_a_link(void **state) {
  fixture *fx = *state;
  char secret[64], p[PATH_MAX];
  write_secret(secret, sizeof secret);
  snprintf(p, sizeof p, "%s/failed/g.txt.err.tmp", fx->dir);
  assert_int_equal(symlink(secret, p), 0);
  struct stat before, after;
  assert_int_equal(stat(secret, &before), 0);
  assert_int_equal(support_write_file(fx->dir, "g.txt", "no date on this line\n"), 0);
  vg_file_opts o = opts(10, NULL, NULL);
  vg_spool_result r;
  vg_spool_ingest(&fx->ig, fx->dir, "g.txt", &o, 0, &r);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.failed, 1);
  assert_non_null(strstr(read_text(fx, "failed", "g.txt.err"), "g.txt:1: "));
  assert_int_equal(stat(secret, &after), 0);
  assert_int_equal(after.st_size, before.st_size);
  unlink(secret);
}

/* Exits the process after the second commit: a crash between two batches. */
static void exit_after_two(void *ud) {
  if (++*(int *)ud == 2) _exit(0);
}

/* In a child: reads c.txt three lines a batch, until the second commit. */
static int read_until_second_commit(void *ud) {
  const fixture *fx = ud;
  char err[256];
  vg_store *st = vg_store_open(fx->path, 0, err, sizeof err);
  if (!st) return 3;
  vg_ingest ig = {st, NULL, NULL, NULL, NULL};
  int commits = 0;
  vg_file_opts o = opts(3, exit_after_two, &commits);
  vg_spool_result r;
  vg_spool_ingest(&ig, fx->dir, "c.txt", &o, 0, &r);
  return 4; /* not reached: the second commit ends the process */
}

static void test_file_cut_short_goes_on_from_last_commit(void **state) {
  fixture *fx = *state;
  assert_int_equal(support_write_file(fx->dir, "c.txt", ten_lines), 0);
  assert_int_equal(support_in_child(read_until_second_commit, fx, 120), 0);
  /* Two batches of three were committed, with their mark; the file stayed. */
  assert_true(exists(fx, "", "c.txt"));
  assert_int_equal(sql_int(fx->path, "SELECT line FROM spool_files WHERE name = 'c.txt'"), 6);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 5);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 1);

  vg_file_opts o = opts(3, NULL, NULL);
  vg_spool_result r;
  vg_spool_ingest(&fx->ig, fx->dir, "c.txt", &o, 0, &r);
  assert_int_equal(r.rc, 0);
  /* The counts are those of the whole file, each line counted once. */
  assert_int_equal(r.counts.stored, 8);
  assert_int_equal(r.counts.duplicates, 0);
  assert_int_equal(r.counts.rejected, 2);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 8);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 2);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects WHERE origin = 'spool:c.txt'"
                                     " AND line IN (2, 9)"),
                   2);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM spool_files"), 0);
  const char *err = read_text(fx, "failed", "c.txt.err");
  assert_non_null(strstr(err, "c.txt:2: "));
  assert_non_null(strstr(err, "c.txt:9: "));
}

static void test_mark_of_another_file_is_not_trusted(void **state) {
  fixture *fx = *state;
  assert_int_equal(support_write_file(fx->dir, "d.txt", ten_lines), 0);
  /* A mark left by an earlier d.txt, long gone. */
  vg_spool_mark m = {.offset = 120, .line = 3, .stored = 2, .rejected = 1};
  snprintf(m.identity, sizeof m.identity, "1:2:3:4.000000000");
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_store_spool_put(fx->st, "d.txt", &m), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  vg_file_opts o = opts(100, NULL, NULL);
  vg_spool_result r;
  vg_spool_ingest(&fx->ig, fx->dir, "d.txt", &o, 0, &r);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.counts.stored, 8);
  assert_int_equal(r.counts.rejected, 2);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 8);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM spool_files"), 0);
}

static void test_long_file_in_several_calls(void **state) {
  fixture *fx = *state;
  assert_int_equal(support_write_file(fx->dir, "e.txt", ten_lines), 0);
  vg_file_opts o = opts(3, NULL, NULL);
  o.max_lines = 3;
  vg_spool_result r;
  int calls = 0;
  do {
    vg_spool_ingest(&fx->ig, fx->dir, "e.txt", &o, calls > 0, &r);
    calls++;
    if (r.rc == VG_SPOOL_MORE) {
      assert_true(exists(fx, "", "e.txt"));
      assert_int_equal(r.counts.stored + r.counts.rejected, 3 * (uint64_t)calls);
    }
  } while (r.rc == VG_SPOOL_MORE && calls < 10);
  /* Three calls of three lines, then the last line and the move. */
  assert_int_equal(calls, 4);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.counts.stored, 8);
  assert_int_equal(r.counts.rejected, 2);
  assert_true(exists(fx, "failed", "e.txt"));
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 8);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 2);
  const char *err = read_text(fx, "failed", "e.txt.err");
  assert_non_null(strstr(err, "e.txt:2: "));
  assert_non_null(strstr(err, "e.txt:9: "));
}

static void test_tidy_drops_marks_of_files_gone(void **state) {
  fixture *fx = *state;
  assert_int_equal(support_write_file(fx->dir, "still-here.txt", "2023-01-01: one\n"), 0);
  vg_spool_mark m = {.offset = 10, .line = 1};
  snprintf(m.identity, sizeof m.identity, "1:2:3:4.000000000");
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_store_spool_put(fx->st, "still-here.txt", &m), 0);
  assert_int_equal(vg_store_spool_put(fx->st, "moved-on.txt", &m), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
  assert_int_equal(vg_spool_tidy(fx->st, fx->dir), 0);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM spool_files"), 1);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM spool_files"
                                     " WHERE name = 'still-here.txt'"),
                   1);
}

int main(void) {
  vg_log_set_level(VG_LOG_ERROR);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_clean_file_goes_to_done),
      T(test_bad_lines_listed_in_err_file),
      T(test_err_file_lines_stay_whole),
      T(test_file_cut_short_goes_on_from_last_commit),
      T(test_mark_of_another_file_is_not_trusted),
      T(test_long_file_in_several_calls),
      T(test_tidy_drops_marks_of_files_gone),
      T(test_fifo_is_refused_without_waiting),
      T(test_symlink_is_refused_unfollowed),
      T(test_hard_link_is_refused),
      T(test_directory_is_refused),
      T(test_file_of_another_user_is_refused),
      T(test_err_file_not_written_through_a_link),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
