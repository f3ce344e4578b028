/* test_outbox.c — the outbox: its backoff, the rows vg_batch writes for an
 * alert (routed to the default sinks and those the rule names, none for a
 * silenced alert), and the store's functions that deliver them: a row
 * taken is not handed out again until its result is recorded; a delivered
 * row is deleted; a failed one keeps its error, one more attempt and a
 * later due time; a one-shot's rows are its own until it gives them back
 * or its lease ends; a new daemon takes again what an old one had taken.
 * Each test runs on a fresh database in its own temporary directory; rows
 * are read back with SQLite directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outbox.h"
#include "store.h"
#include "vigil.h"

#include "support.h"

typedef struct {
  char dir[64];
  char path[128];
  vg_store *st;
  sqlite3 *db; /* a second connection, to read rows back */
} fixture;

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  if (!fx) return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vigil-outbox-XXXXXX");
  if (!mkdtemp(fx->dir)) {
    free(fx);
    return -1;
  }
  snprintf(fx->path, sizeof fx->path, "%s/vigil.db", fx->dir);
  char err[256] = "";
  fx->st = vg_store_open(fx->path, 0, err, sizeof err);
  if (!fx->st || sqlite3_open(fx->path, &fx->db) != SQLITE_OK) {
    vg_store_close(fx->st);
    support_remove_dir(fx->dir);
    free(fx);
    return -1;
  }
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  sqlite3_close(fx->db);
  vg_store_close(fx->st);
  support_remove_dir(fx->dir);
  free(fx);
  return 0;
}

/* One integer that sql (with one %s-free statement) gives. */
static long long one(fixture *fx, const char *sql) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(fx->db, sql, -1, &s, NULL) != SQLITE_OK)
    fail_msg("%s: %s", sql, sqlite3_errmsg(fx->db));
  long long v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  return v;
}

static void exec(fixture *fx, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(fx->db, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("%s: %s", sql, err);
}

static vg_outbox *outbox(int one_shot) {
  static const char *const names[] = {"pager", "archive", "bus"};
  static const int defaults[] = {1, 0, 0};
  vg_outbox *o = vg_outbox_new(names, defaults, 3, "", one_shot);
  assert_non_null(o);
  return o;
}

/* An alert of rule "r" with the extra sinks (NULL for none). */
static vg_alert alert(int64_t id, int version, char *sinks, int64_t silence) {
  return (vg_alert){.id = id,
                    .rule = "r",
                    .key = "k",
                    .severity = "warn",
                    .message = "m",
                    .date = "2024-03-01",
                    .sinks = sinks,
                    .version = version,
                    .count = -1,
                    .silence_id = silence};
}

/* Writes the alerts' rows in one transaction. */
static void write_rows(fixture *fx, vg_outbox *o, vg_alert *v, size_t n) {
  vg_alert_list l = {.v = v, .n = n, .cap = n};
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_outbox_write(o, fx->st, &l), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
}

static void backoff_doubles_to_its_cap(void **state) {
  (void)state;
  assert_int_equal(vg_outbox_backoff_ms(0), 1000);
  assert_int_equal(vg_outbox_backoff_ms(1), 1000);
  assert_int_equal(vg_outbox_backoff_ms(2), 2000);
  assert_int_equal(vg_outbox_backoff_ms(3), 4000);
  assert_int_equal(vg_outbox_backoff_ms(9), 256000);
  assert_int_equal(vg_outbox_backoff_ms(10), 300000);
  assert_int_equal(vg_outbox_backoff_ms(11), 300000);
  assert_int_equal(vg_outbox_backoff_ms(4000000000u), 300000);
}

static void rows_are_routed_like_the_sinks(void **state) {
  fixture *fx = *state;
  vg_outbox *o = outbox(0);
  char named[] = "archive,nowhere";
  vg_alert v[] = {alert(1, 1, named, 0), alert(2, 1, NULL, 7), alert(3, 2, NULL, 0)};
  write_rows(fx, o, v, 3);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox"), 3);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE alert_id = 1 AND sink IN"
                           " ('pager', 'archive')"),
                   2);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE alert_id = 2"), 0); /* silenced */
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE alert_id = 3 AND sink = 'pager'"
                           " AND version = 2 AND owner IS NULL AND attempts = 0"),
                   1);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE json_extract(payload, '$.id') ="
                           " alert_id AND json_extract(payload, '$.version') = version"),
                   3);
  vg_outbox_free(o);
}

static void a_row_is_taken_once_then_done_or_backed_off(void **state) {
  fixture *fx = *state;
  vg_outbox *o = outbox(0);
  vg_alert v[] = {alert(1, 1, NULL, 0), alert(2, 1, NULL, 0)};
  write_rows(fx, o, v, 2);
  vg_outbox_batch b = {0};
  assert_int_equal(vg_outbox_step(o, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 2);
  assert_int_equal(b.pending, 2);
  assert_int_equal(b.next_due, -1); /* both taken: none waits */
  assert_int_equal(vg_outbox_in_flight(o), 2);
  assert_string_equal(b.v[0].sink, "pager");
  assert_int_equal(b.v[0].alert_id, 1);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE taken IS NOT NULL"), 2);
  vg_outbox_item first = b.v[0], second = b.v[1];
  first.sink = first.rule = first.payload = NULL; /* only the id and attempts are used */
  second.sink = second.rule = second.payload = NULL;
  vg_outbox_batch c = {0};
  assert_int_equal(vg_outbox_step(o, fx->st, 1, &c), 0);
  assert_int_equal(c.n, 0); /* in flight: not handed out again */

  vg_outbox_result(o, &first, VG_OUTBOX_OK, NULL);
  vg_outbox_result(o, &second, VG_OUTBOX_FAILED, "command exit status 1");
  assert_true(vg_outbox_has_results(o));
  int64_t before = vg_outbox_now_ms();
  assert_int_equal(vg_outbox_step(o, fx->st, 1, &c), 0);
  assert_false(vg_outbox_has_results(o));
  assert_int_equal(c.n, 0); /* the failed one is not due yet */
  assert_int_equal(vg_outbox_in_flight(o), 0);
  assert_int_equal(c.pending, 1);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE alert_id = 1"), 0);
  assert_int_equal(one(fx, "SELECT attempts FROM outbox WHERE alert_id = 2"), 1);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE alert_id = 2 AND taken IS NULL AND"
                           " error = 'command exit status 1'"),
                   1);
  long long due = one(fx, "SELECT due FROM outbox WHERE alert_id = 2");
  assert_true(due >= before + 1000 && due <= vg_outbox_now_ms() + 1000);
  assert_int_equal(c.next_due, due);

  /* Due now: taken again, and a second failure waits twice as long. */
  exec(fx, "UPDATE outbox SET due = 0");
  assert_int_equal(vg_outbox_step(o, fx->st, 1, &c), 0);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.v[0].attempts, 1);
  vg_outbox_item again = {.id = c.v[0].id, .attempts = c.v[0].attempts};
  vg_outbox_result(o, &again, VG_OUTBOX_FAILED, "still down");
  before = vg_outbox_now_ms();
  assert_int_equal(vg_outbox_step(o, fx->st, 0, &c), 0);
  assert_int_equal(one(fx, "SELECT attempts FROM outbox"), 2);
  assert_true(one(fx, "SELECT due FROM outbox") >= before + 2000);

  /* Not tried (its sink was full): due soon, no attempt counted. */
  exec(fx, "UPDATE outbox SET due = 0");
  assert_int_equal(vg_outbox_step(o, fx->st, 1, &c), 0);
  vg_outbox_item later = {.id = c.v[0].id, .attempts = c.v[0].attempts};
  vg_outbox_result(o, &later, VG_OUTBOX_LATER, NULL);
  assert_int_equal(vg_outbox_step(o, fx->st, 0, &c), 0);
  assert_int_equal(one(fx, "SELECT attempts FROM outbox"), 2);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE taken IS NULL"), 1);
  vg_outbox_batch_free(&b);
  vg_outbox_batch_free(&c);
  vg_outbox_free(o);
}

static void a_one_shot_keeps_its_rows_until_it_gives_them_back(void **state) {
  fixture *fx = *state;
  vg_outbox *mine = outbox(1), *daemon = outbox(0);
  assert_non_null(vg_outbox_owner(mine));
  assert_null(vg_outbox_owner(daemon));
  vg_alert v[] = {alert(1, 1, NULL, 0), alert(2, 1, NULL, 0)};
  write_rows(fx, mine, v, 2);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE owner IS NOT NULL AND"
                           " lease > 0"),
                   2);
  vg_outbox_batch b = {0};
  assert_int_equal(vg_outbox_step(daemon, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 0); /* not the daemon's while the lease lasts */
  assert_int_equal(vg_outbox_step(mine, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 2);
  vg_outbox_item it = {.id = b.v[0].id, .attempts = 0};
  vg_outbox_result(mine, &it, VG_OUTBOX_FAILED, "down");
  it.id = b.v[1].id;
  vg_outbox_result(mine, &it, VG_OUTBOX_OK, NULL);
  assert_int_equal(vg_outbox_finish(mine, fx->st), 1); /* one left, given back */
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE owner IS NULL AND taken IS NULL"
                           " AND attempts = 1"),
                   1);
  exec(fx, "UPDATE outbox SET due = 0");
  assert_int_equal(vg_outbox_step(daemon, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 1);
  vg_outbox_batch_free(&b);
  vg_outbox_free(mine);
  vg_outbox_free(daemon);
}

static void the_daemon_adopts_rows_whose_lease_ended(void **state) {
  fixture *fx = *state;
  vg_outbox *killed = outbox(1), *daemon = outbox(0);
  vg_alert v[] = {alert(1, 1, NULL, 0)};
  write_rows(fx, killed, v, 1);
  vg_outbox_batch b = {0};
  assert_int_equal(vg_outbox_step(killed, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 1); /* taken, then the process is gone */
  vg_outbox_free(killed);
  assert_int_equal(vg_outbox_step(daemon, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 0);
  exec(fx, "UPDATE outbox SET lease = 1");
  assert_int_equal(vg_outbox_step(daemon, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 1);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE owner IS NULL"), 1);
  vg_outbox_batch_free(&b);
  vg_outbox_free(daemon);
}

/* A one-shot whose delivery outlasts the lease it had when it took the
 * row: each of its steps renews the lease, so the daemon does not take the
 * row over; and once the daemon has (the one-shot was gone long enough),
 * a result the one-shot records late changes nothing. */
static void a_one_shot_at_work_keeps_its_lease_and_a_late_result_is_void(void **state) {
  fixture *fx = *state;
  vg_outbox *mine = outbox(1), *daemon = outbox(0);
  vg_alert v[] = {alert(1, 1, NULL, 0)};
  write_rows(fx, mine, v, 1);
  vg_outbox_batch b = {0};
  assert_int_equal(vg_outbox_step(mine, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 1);
  vg_outbox_item it = {.id = b.v[0].id, .attempts = 0};
  exec(fx, "UPDATE outbox SET lease = 1"); /* as if the delivery had taken long */
  assert_int_equal(vg_outbox_step(mine, fx->st, 1, &b), 0); /* still at work: renewed */
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE owner IS NOT NULL AND lease > 1"),
                   1);
  assert_int_equal(vg_outbox_step(daemon, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 0);
  exec(fx, "UPDATE outbox SET lease = 1"); /* now gone for a lease: the daemon's */
  assert_int_equal(vg_outbox_step(daemon, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 1);
  vg_outbox_result(mine, &it, VG_OUTBOX_OK, NULL); /* too late */
  assert_int_equal(vg_outbox_step(mine, fx->st, 0, NULL), 0);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox WHERE owner IS NULL AND taken IS NOT NULL"),
                   1); /* still the daemon's, in flight */
  vg_outbox_batch_free(&b);
  vg_outbox_free(mine);
  vg_outbox_free(daemon);
}

static void a_new_daemon_takes_again_what_the_last_had_taken(void **state) {
  fixture *fx = *state;
  vg_outbox *old = outbox(0);
  vg_alert v[] = {alert(1, 1, NULL, 0)};
  write_rows(fx, old, v, 1);
  vg_outbox_batch b = {0};
  assert_int_equal(vg_outbox_step(old, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 1);
  vg_outbox_free(old); /* killed: its result never came */
  vg_outbox *next = outbox(0);
  assert_int_equal(vg_outbox_step(next, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 1);
  assert_int_equal(vg_outbox_step(next, fx->st, 1, &b), 0);
  assert_int_equal(b.n, 0); /* its own marks hold */
  vg_outbox_batch_free(&b);
  vg_outbox_free(next);
}

static void a_rollback_keeps_no_row(void **state) {
  fixture *fx = *state;
  vg_outbox *o = outbox(0);
  vg_alert v[] = {alert(1, 1, NULL, 0)};
  vg_alert_list l = {.v = v, .n = 1, .cap = 1};
  assert_int_equal(vg_store_begin(fx->st), 0);
  assert_int_equal(vg_outbox_write(o, fx->st, &l), 0);
  vg_store_rollback(fx->st);
  assert_int_equal(one(fx, "SELECT count(*) FROM outbox"), 0);
  vg_outbox_free(o);
}

int main(void) {
  vg_log_set_level(VG_LOG_ERROR);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(backoff_doubles_to_its_cap),
      T(rows_are_routed_like_the_sinks),
      T(a_row_is_taken_once_then_done_or_backed_off),
      T(a_one_shot_keeps_its_rows_until_it_gives_them_back),
      T(the_daemon_adopts_rows_whose_lease_ended),
      T(a_one_shot_at_work_keeps_its_lease_and_a_late_result_is_void),
      T(a_new_daemon_takes_again_what_the_last_had_taken),
      T(a_rollback_keeps_no_row),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
