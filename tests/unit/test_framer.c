/* test_framer.c — vg_framer_feed and vg_framer_finish cutting bytes into lines.
 *
 * Covers that the lines and their numbers do not depend on how the bytes
 * are split between feeds, that CR bytes are passed through untouched, the
 * handling of a line over the cap (reported once, cut to the cap, with its
 * real length, the next line unharmed), the last line without a newline,
 * empty lines, and a callback stopping the feed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "vigil.h"

#define MAX_SEEN 64

/* One line as the callback saw it. */
typedef struct {
  char *data; /* a copy, NUL-terminated */
  size_t len;
  uint64_t total;
  uint64_t line_no;
  unsigned flags;
} seen_line;

/* What a run of the framer delivered. */
typedef struct {
  seen_line line[MAX_SEEN];
  size_t n;
  size_t stop_at; /* return stop_rc on this line (1-based); 0 for never */
  int stop_rc;
} seen;

static int collect(void *ud, const char *line, size_t len, uint64_t total, uint64_t line_no,
                   unsigned flags) {
  seen *s = ud;
  if (s->n == MAX_SEEN) return -100;
  seen_line *l = &s->line[s->n++];
  l->data = malloc(len + 1);
  if (!l->data) return VG_ENOMEM;
  if (len) memcpy(l->data, line, len);
  l->data[len] = '\0';
  l->len = len;
  l->total = total;
  l->line_no = line_no;
  l->flags = flags;
  return s->stop_at && s->n == s->stop_at ? s->stop_rc : 0;
}

static void seen_free(seen *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->line[i].data);
  s->n = 0;
}

/* Feeds data in pieces of `step` bytes (all at once when 0), then finishes. */
static void run_framer(const char *data, size_t n, size_t max, size_t step, seen *out) {
  vg_framer f;
  vg_framer_init(&f, max);
  memset(out, 0, sizeof *out);
  if (step == 0) step = n ? n : 1;
  for (size_t at = 0; at < n; at += step) {
    size_t k = n - at < step ? n - at : step;
    int rc = vg_framer_feed(&f, data + at, k, collect, out);
    if (rc) {
      vg_framer_free(&f);
      fail_msg("feed returned %d", rc);
    }
  }
  int rc = vg_framer_finish(&f, collect, out);
  vg_framer_free(&f);
  if (rc) fail_msg("finish returned %d", rc);
}

static void assert_line(const seen *s, size_t i, const char *text, uint64_t line_no,
                        unsigned flags) {
  if (i >= s->n) fail_msg("line %zu was not delivered (only %zu)", i + 1, s->n);
  const seen_line *l = &s->line[i];
  if (l->len != strlen(text) || memcmp(l->data, text, l->len) != 0)
    fail_msg("line %zu is \"%s\", not \"%s\"", i + 1, l->data, text);
  assert_int_equal(l->line_no, line_no);
  assert_int_equal(l->flags, flags);
  if (!(flags & VG_LINE_TOO_LONG)) assert_int_equal(l->total, l->len);
}

static void test_lines_in_one_feed(void **state) {
  (void)state;
  seen s;
  const char in[] = "Nov. 21, 2023: launch\n2023-11-22: reaction\n";
  run_framer(in, sizeof in - 1, 1024, 0, &s);
  assert_int_equal(s.n, 2);
  assert_line(&s, 0, "Nov. 21, 2023: launch", 1, 0);
  assert_line(&s, 1, "2023-11-22: reaction", 2, 0);
  seen_free(&s);
}

static void test_split_feeds_give_same_lines(void **state) {
  (void)state;
  const char in[] = "first line\nsecond, a little longer line\n\nfourth\nlast without newline";
  seen whole, piece;
  run_framer(in, sizeof in - 1, 1024, 0, &whole);
  for (size_t step = 1; step <= 7; step++) {
    run_framer(in, sizeof in - 1, 1024, step, &piece);
    assert_int_equal(piece.n, whole.n);
    for (size_t i = 0; i < whole.n; i++) {
      assert_line(&piece, i, whole.line[i].data, whole.line[i].line_no, whole.line[i].flags);
      assert_int_equal(piece.line[i].total, whole.line[i].total);
    }
    seen_free(&piece);
  }
  assert_int_equal(whole.n, 5);
  assert_line(&whole, 4, "last without newline", 5, VG_LINE_NO_EOL);
  seen_free(&whole);
}

static void test_crlf_keeps_the_cr(void **state) {
  (void)state;
  seen s;
  const char in[] = "2023-09-07: one\r\n2023-09-08: two\r\n";
  run_framer(in, sizeof in - 1, 1024, 0, &s);
  assert_int_equal(s.n, 2);
  assert_line(&s, 0, "2023-09-07: one\r", 1, 0);
  assert_line(&s, 1, "2023-09-08: two\r", 2, 0);
  seen_free(&s);
}

static void test_empty_lines_have_length_zero(void **state) {
  (void)state;
  seen s;
  run_framer("\n\na\n\n", 5, 1024, 0, &s);
  assert_int_equal(s.n, 4);
  assert_line(&s, 0, "", 1, 0);
  assert_line(&s, 1, "", 2, 0);
  assert_line(&s, 2, "a", 3, 0);
  assert_line(&s, 3, "", 4, 0);
  seen_free(&s);
}

static void test_last_line_without_newline_comes_from_finish(void **state) {
  (void)state;
  seen s;
  vg_framer f;
  memset(&s, 0, sizeof s);
  vg_framer_init(&f, 1024);
  assert_int_equal(vg_framer_feed(&f, "one\ntwo", 7, collect, &s), 0);
  assert_int_equal(s.n, 1); /* "two" is still waiting */
  assert_int_equal(vg_framer_pending(&f), 3);
  assert_int_equal(vg_framer_finish(&f, collect, &s), 0);
  assert_int_equal(vg_framer_pending(&f), 0);
  vg_framer_free(&f);
  assert_int_equal(s.n, 2);
  assert_line(&s, 1, "two", 2, VG_LINE_NO_EOL);
  seen_free(&s);
}

static void test_finish_without_pending_line_delivers_nothing(void **state) {
  (void)state;
  seen s;
  run_framer("one\n", 4, 1024, 0, &s);
  assert_int_equal(s.n, 1);
  assert_line(&s, 0, "one", 1, 0);
  seen_free(&s);
}

static void test_line_at_the_cap_is_whole(void **state) {
  (void)state;
  seen s;
  run_framer("12345678\nnext\n", 14, 8, 0, &s);
  assert_int_equal(s.n, 2);
  assert_line(&s, 0, "12345678", 1, 0);
  assert_line(&s, 1, "next", 2, 0);
  seen_free(&s);
}

static void test_overlong_line_reported_once(void **state) {
  (void)state;
  seen s;
  const char in[] = "0123456789abcdefghij\nnext\n";
  run_framer(in, sizeof in - 1, 8, 0, &s);
  assert_int_equal(s.n, 2);
  assert_line(&s, 0, "01234567", 1, VG_LINE_TOO_LONG);
  assert_int_equal(s.line[0].len, 8);
  assert_line(&s, 1, "next", 2, 0);
  uint64_t total = s.line[0].total;
  seen_free(&s);
  assert_int_equal(total, 20); /* the real length, not the cap nor the cut */
}

static void test_overlong_line_in_pieces_reported_once(void **state) {
  (void)state;
  const char in[] = "0123456789abcdefghij\nnext\nlast";
  for (size_t step = 1; step <= 5; step++) {
    seen s;
    run_framer(in, sizeof in - 1, 8, step, &s);
    assert_int_equal(s.n, 3);
    assert_line(&s, 0, "01234567", 1, VG_LINE_TOO_LONG);
    assert_line(&s, 1, "next", 2, 0);
    assert_line(&s, 2, "last", 3, VG_LINE_NO_EOL);
    seen_free(&s);
  }
}

static void test_overlong_line_in_pieces_reports_real_length(void **state) {
  (void)state;
  const char in[] = "0123456789abcdefghij\nnext\n";
  uint64_t total[6] = {0};
  for (size_t step = 1; step <= 5; step++) {
    seen s;
    run_framer(in, sizeof in - 1, 8, step, &s);
    total[step] = s.n ? s.line[0].total : 0;
    seen_free(&s);
  }
  for (size_t step = 1; step <= 5; step++)
    if (total[step] != 20)
      fail_msg("fed %zu byte(s) at a time, the 20-byte line was reported with total %llu", step,
               (unsigned long long)total[step]);
}

static void test_overlong_line_after_a_partial_line(void **state) {
  (void)state;
  /* The cap counts bytes buffered from earlier feeds too. */
  seen s;
  vg_framer f;
  memset(&s, 0, sizeof s);
  vg_framer_init(&f, 8);
  assert_int_equal(vg_framer_feed(&f, "ok\n01234", 8, collect, &s), 0);
  assert_int_equal(vg_framer_feed(&f, "56789\nafter\n", 12, collect, &s), 0);
  assert_int_equal(vg_framer_finish(&f, collect, &s), 0);
  vg_framer_free(&f);
  assert_int_equal(s.n, 3);
  assert_line(&s, 0, "ok", 1, 0);
  assert_line(&s, 1, "01234567", 2, VG_LINE_TOO_LONG);
  assert_line(&s, 2, "after", 3, 0);
  uint64_t total = s.line[1].total;
  seen_free(&s);
  assert_int_equal(total, 10);
}

static void test_overlong_last_line_without_newline_reported_once(void **state) {
  (void)state;
  seen s;
  run_framer("ok\n0123456789abc", 16, 8, 3, &s);
  assert_int_equal(s.n, 2);
  assert_line(&s, 0, "ok", 1, 0);
  /* Cut at the cap and unterminated: both flags, and its whole length. */
  assert_line(&s, 1, "01234567", 2, VG_LINE_TOO_LONG | VG_LINE_NO_EOL);
  assert_int_equal(s.line[1].total, 13);
  seen_free(&s);
}

static void test_callback_stops_feed(void **state) {
  (void)state;
  seen s;
  vg_framer f;
  memset(&s, 0, sizeof s);
  s.stop_at = 2;
  s.stop_rc = 42;
  vg_framer_init(&f, 1024);
  assert_int_equal(vg_framer_feed(&f, "a\nb\nc\nd\n", 8, collect, &s), 42);
  vg_framer_free(&f);
  assert_int_equal(s.n, 2); /* c and d were not handed on */
  assert_line(&s, 1, "b", 2, 0);
  seen_free(&s);
}

static void test_callback_stops_feed_on_buffered_line(void **state) {
  (void)state;
  seen s;
  vg_framer f;
  memset(&s, 0, sizeof s);
  s.stop_at = 1;
  s.stop_rc = -7;
  vg_framer_init(&f, 1024);
  assert_int_equal(vg_framer_feed(&f, "par", 3, collect, &s), 0);
  assert_int_equal(vg_framer_feed(&f, "tial\nnext\n", 10, collect, &s), -7);
  vg_framer_free(&f);
  assert_int_equal(s.n, 1);
  assert_line(&s, 0, "partial", 1, 0);
  seen_free(&s);
}

static void test_callback_stops_finish(void **state) {
  (void)state;
  seen s;
  vg_framer f;
  memset(&s, 0, sizeof s);
  s.stop_at = 1;
  s.stop_rc = 9;
  vg_framer_init(&f, 1024);
  assert_int_equal(vg_framer_feed(&f, "tail", 4, collect, &s), 0);
  assert_int_equal(vg_framer_finish(&f, collect, &s), 9);
  vg_framer_free(&f);
  assert_int_equal(s.n, 1);
  seen_free(&s);
}

static void test_long_line_under_cap_grows_buffer(void **state) {
  (void)state;
  /* A line far longer than the first buffer, fed in pieces, arrives whole. */
  size_t n = 200000;
  char *in = malloc(n + 1);
  assert_non_null(in);
  for (size_t i = 0; i < n; i++)
    in[i] = (char)('a' + i % 26);
  in[n] = '\n';
  seen s;
  run_framer(in, n + 1, 1 << 20, 4093, &s);
  int same =
      s.n == 1 && s.line[0].len == n && memcmp(s.line[0].data, in, n) == 0 && s.line[0].flags == 0;
  seen_free(&s);
  free(in);
  assert_true(same);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lines_in_one_feed),
      cmocka_unit_test(test_split_feeds_give_same_lines),
      cmocka_unit_test(test_crlf_keeps_the_cr),
      cmocka_unit_test(test_empty_lines_have_length_zero),
      cmocka_unit_test(test_last_line_without_newline_comes_from_finish),
      cmocka_unit_test(test_finish_without_pending_line_delivers_nothing),
      cmocka_unit_test(test_line_at_the_cap_is_whole),
      cmocka_unit_test(test_overlong_line_reported_once),
      cmocka_unit_test(test_overlong_line_in_pieces_reported_once),
      cmocka_unit_test(test_overlong_line_in_pieces_reports_real_length),
      cmocka_unit_test(test_overlong_line_after_a_partial_line),
      cmocka_unit_test(test_overlong_last_line_without_newline_reported_once),
      cmocka_unit_test(test_callback_stops_feed),
      cmocka_unit_test(test_callback_stops_feed_on_buffered_line),
      cmocka_unit_test(test_callback_stops_finish),
      cmocka_unit_test(test_long_line_under_cap_grows_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
