/* test_term.c — what term.c prints: escaping, tables and colour.
 *
 * Covers that vg_term_escape passes UTF-8 through and writes every control
 * character, C1 control and stray byte as an escape, counting display
 * columns; that a table not bound to a terminal prints each row as the
 * command's printf would (cells joined, padded only to the set minimum);
 * that a table laid out for a terminal pads every column but the last to
 * its widest cell, capped, and keeps the minimums; and that NO_COLOR and a
 * stream that is no terminal mean no escape sequence; that the progress
 * line gives the time left as minutes and seconds, and none when the
 * estimate is past any sense (a huge sparse file barely begun). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "term.h"

#include <unistd.h>

/* A stream into memory and what it holds. */
typedef struct {
  FILE *f;
  char *text;
  size_t len;
} sink;

static void sink_open(sink *s) {
  s->text = NULL;
  s->len = 0;
  s->f = open_memstream(&s->text, &s->len);
  assert_non_null(s->f);
}

/* Closes the stream; the caller frees s->text. */
static const char *sink_close(sink *s) {
  fclose(s->f);
  return s->text;
}

static void test_escape_keeps_utf8_and_escapes_the_rest(void **state) {
  (void)state;
  sink s;
  sink_open(&s);
  const char in[] = "Caf\xc3\xa9 \xe2\x80\x94 a\nb\x1b[2J\xc2\x9b\xff\x7f";
  size_t cols = vg_term_escape(s.f, in, sizeof in - 1);
  assert_string_equal(sink_close(&s), "Caf\xc3\xa9 \xe2\x80\x94 a\\x0ab\\x1b[2J\\u009b\\xff\\x7f");
  /* "Café — a" is 8 characters, then 4+1+4+3+6+4+4 escaped */
  assert_int_equal(cols, 8 + 4 + 1 + 4 + 3 + 6 + 4 + 4);
  free(s.text);
}

static void test_plain_table_is_the_printf_format(void **state) {
  (void)state;
  sink s;
  sink_open(&s);
  vg_table t;
  vg_table_init(&t, s.f, "  ");
  vg_table_min(&t, 1, 4);
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "2023-01-01");
  vg_table_cell(&t, VG_STYLE_RED, "%s", "crit");
  vg_table_cell(&t, VG_STYLE_BOLD, "%s", "a-rule");
  vg_table_row(&t);
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "2023-01-02/2023-01-09");
  vg_table_cell(&t, VG_STYLE_YELLOW, "%s", "info");
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "x\ty");
  vg_table_row(&t);
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "2023");
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "ok");
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "last");
  vg_table_row(&t);
  vg_table_free(&t);
  assert_string_equal(sink_close(&s), "2023-01-01  crit  a-rule\n"
                                      "2023-01-02/2023-01-09  info  x\\x09y\n"
                                      "2023  ok    last\n");
  free(s.text);
}

static void test_laid_out_table_aligns_columns(void **state) {
  (void)state;
  sink s;
  sink_open(&s);
  vg_table t;
  vg_table_init(&t, s.f, " ");
  t.layout = 1; /* as on a terminal */
  char wide[VG_TABLE_MAX_PAD + 11];
  memset(wide, 'w', sizeof wide - 1);
  wide[sizeof wide - 1] = '\0';
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "a");
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "\xc3\xa9t\xc3\xa9");
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "end");
  vg_table_row(&t);
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "abc");
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "x");
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "a much longer last cell");
  vg_table_row(&t);
  vg_table_cell(&t, VG_STYLE_NONE, "%s", wide);
  vg_table_cell(&t, VG_STYLE_NONE, "%s", "y");
  vg_table_row(&t);
  assert_int_equal(s.len, 0); /* held until the flush */
  vg_table_free(&t);
  char want[512];
  /* "été" is three columns wide; the wide cell overflows the capped width */
  snprintf(want, sizeof want,
           "a%*s \xc3\xa9t\xc3\xa9 end\n"
           "abc%*s x   a much longer last cell\n"
           "%s y\n",
           VG_TABLE_MAX_PAD - 1, "", VG_TABLE_MAX_PAD - 3, "", wide);
  assert_string_equal(sink_close(&s), want);
  free(s.text);
}

static void test_no_colour_off_a_terminal_or_with_no_color(void **state) {
  (void)state;
  sink s;
  sink_open(&s);
  assert_string_equal(vg_term_on(s.f, VG_STYLE_RED), "");
  assert_string_equal(vg_term_off(s.f, VG_STYLE_RED), "");
  assert_false(vg_term_color(s.f));
  sink_close(&s);
  free(s.text);
  setenv("NO_COLOR", "1", 1);
  assert_false(vg_term_color(stdout)); /* whatever stdout is */
  unsetenv("NO_COLOR");
  assert_int_equal(vg_term_severity("crit"), VG_STYLE_RED);
  assert_int_equal(vg_term_severity("warn"), VG_STYLE_YELLOW);
  assert_int_equal(vg_term_severity("info"), VG_STYLE_CYAN);
  assert_int_equal(vg_term_severity("whatever"), VG_STYLE_NONE);
}

/* What vg_progress_show draws for `done` lines and `bytes` of `total`,
 * `spent` seconds after it began (standard error caught in a file). */
static char *progress_line(uint64_t total, uint64_t bytes, double spent) {
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  dup2(fileno(tmp), STDERR_FILENO);
  vg_progress p;
  vg_progress_init(&p, "big.txt", "lines", total, 0);
  p.on = 1; /* as on a terminal */
  p.start -= spent;
  p.last -= spent;
  vg_progress_show(&p, 1000, bytes);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  long n = ftell(tmp);
  char *out = calloc(1, (size_t)n + 1);
  assert_non_null(out);
  rewind(tmp);
  assert_int_equal(fread(out, 1, (size_t)n, tmp), (size_t)n);
  fclose(tmp);
  return out;
}

static void test_progress_time_left(void **state) {
  (void)state;
  char *line = progress_line(4000, 1000, 10.0); /* a quarter in 10 s: 30 s left */
  assert_non_null(strstr(line, ", 25%, ETA 0:30"));
  free(line);
  line = progress_line(UINT64_MAX, 1, 10.0);
  assert_non_null(strstr(line, "big.txt: 1000 lines"));
  assert_null(strstr(line, "ETA"));
  assert_null(strstr(line, "-"));
  free(line);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escape_keeps_utf8_and_escapes_the_rest),
      cmocka_unit_test(test_plain_table_is_the_printf_format),
      cmocka_unit_test(test_laid_out_table_aligns_columns),
      cmocka_unit_test(test_no_colour_off_a_terminal_or_with_no_color),
      cmocka_unit_test(test_progress_time_left),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
