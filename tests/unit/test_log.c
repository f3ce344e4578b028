/* test_log.c — the lines vg_log writes, in the text and JSON formats.
 *
 * Covers that whatever a message holds (a line break, an escape sequence,
 * a quote, a byte that is not UTF-8) each event is one line: in the text
 * format with the control characters as \xHH, in the JSON format as one
 * object that parses, its msg the message itself (bytes that are not UTF-8
 * as U+FFFD), with ts and level beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil.h"

static const char hostile[] = "line one\nforged \"x\" \x1b[2J \xff\xc3\xa9";

/* Logs hostile at warn in `format` and returns what went to stderr. */
static char *log_once(int format) {
  int p[2], saved = dup(STDERR_FILENO);
  assert_int_equal(pipe(p), 0);
  assert_true(dup2(p[1], STDERR_FILENO) >= 0);
  vg_log_set_format(format);
  vg_warn("said: %s", hostile);
  vg_log_set_format(VG_LOG_TEXT);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(p[1]);
  char *buf = calloc(1, 8192);
  ssize_t n, got = 0;
  while ((n = read(p[0], buf + got, 8191 - (size_t)got)) > 0)
    got += n;
  close(p[0]);
  return buf;
}

static void test_text_line_is_one_line(void **state) {
  (void)state;
  char *line = log_once(VG_LOG_TEXT);
  assert_non_null(strstr(line, " warn  said: line one\\x0aforged \"x\" \\x1b[2J"));
  assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
  free(line);
}

static void test_json_line_parses_to_the_message(void **state) {
  (void)state;
  char *line = log_once(VG_LOG_JSON);
  assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
  assert_null(strchr(line, '\x1b'));
  cJSON *o = cJSON_Parse(line);
  assert_non_null(o);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "level")), "warn");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "msg")),
                      "said: line one\nforged \"x\" \x1b[2J \xef\xbf\xbd\xc3\xa9");
  const char *ts = cJSON_GetStringValue(cJSON_GetObjectItem(o, "ts"));
  assert_non_null(ts);
  assert_int_equal(strlen(ts), strlen("2024-01-01T00:00:00.000Z"));
  cJSON_Delete(o);
  free(line);
}

static void test_format_names(void **state) {
  (void)state;
  assert_int_equal(vg_log_format_parse("text"), VG_LOG_TEXT);
  assert_int_equal(vg_log_format_parse("json"), VG_LOG_JSON);
  assert_int_equal(vg_log_format_parse("JSON"), -1);
  assert_int_equal(vg_log_format_parse(""), -1);
}

int main(void) {
  vg_log_set_level(VG_LOG_DEBUG);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text_line_is_one_line),
      cmocka_unit_test(test_json_line_parses_to_the_message),
      cmocka_unit_test(test_format_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
