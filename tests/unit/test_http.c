/* test_http.c — what http.h offers handlers besides the server itself:
 * query parameters (percent-decoding, '+' as a space, absent and
 * badly-encoded values, values too long for the caller's buffer), the
 * parameters an endpoint does not know, and the reason phrases. The server
 * is tested end to end (tests/e2e/test_http.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "http.h"

static void finds_and_decodes_parameters(void **state) {
  (void)state;
  char v[64];
  const char *q = "since=2023-11-01&text=Hwasong%2D18+ICBM&tag=launch&empty=&flag";
  assert_int_equal(vg_http_query(q, "since", v, sizeof v), 1);
  assert_string_equal(v, "2023-11-01");
  assert_int_equal(vg_http_query(q, "text", v, sizeof v), 1);
  assert_string_equal(v, "Hwasong-18 ICBM");
  assert_int_equal(vg_http_query(q, "empty", v, sizeof v), 1);
  assert_string_equal(v, "");
  assert_int_equal(vg_http_query(q, "flag", v, sizeof v), 1);
  assert_string_equal(v, "");
  assert_int_equal(vg_http_query(q, "until", v, sizeof v), 0);
  assert_int_equal(vg_http_query(q, "tex", v, sizeof v), 0); /* a prefix is no match */
  assert_int_equal(vg_http_query("", "since", v, sizeof v), 0);
  assert_int_equal(vg_http_query("a=1&a=2", "a", v, sizeof v), 1);
  assert_string_equal(v, "1"); /* the first wins */
}

static void refuses_bad_encodings_and_long_values(void **state) {
  (void)state;
  char v[8];
  assert_int_equal(vg_http_query("a=%zz", "a", v, sizeof v), -1);
  assert_int_equal(vg_http_query("a=%4", "a", v, sizeof v), -1);
  assert_int_equal(vg_http_query("a=%", "a", v, sizeof v), -1);
  assert_int_equal(vg_http_query("a=x%00y", "a", v, sizeof v), -1); /* no NUL inside */
  assert_int_equal(vg_http_query("a=12345678", "a", v, sizeof v), -1);
  assert_int_equal(vg_http_query("a=1234567", "a", v, sizeof v), 1);
  assert_string_equal(v, "1234567");
}

static void names_an_unknown_parameter(void **state) {
  (void)state;
  static const char *const names[] = {"since", "until", "limit", NULL};
  char bad[32];
  assert_int_equal(vg_http_query_unknown("since=1&limit=2", names, bad, sizeof bad), 0);
  assert_int_equal(vg_http_query_unknown("since=1&lmit=2", names, bad, sizeof bad), 1);
  assert_string_equal(bad, "lmit");
  assert_int_equal(vg_http_query_unknown("sinc", names, bad, sizeof bad), 1);
  assert_string_equal(bad, "sinc");
  assert_int_equal(vg_http_query_unknown("", names, bad, sizeof bad), 0);
  assert_int_equal(vg_http_query_unknown("&&", names, bad, sizeof bad), 0);
}

static void says_reason_phrases(void **state) {
  (void)state;
  assert_string_equal(vg_http_status_text(200), "OK");
  assert_string_equal(vg_http_status_text(404), "Not Found");
  assert_string_equal(vg_http_status_text(413), "Content Too Large");
  assert_string_equal(vg_http_status_text(503), "Service Unavailable");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(finds_and_decodes_parameters),
      cmocka_unit_test(refuses_bad_encodings_and_long_values),
      cmocka_unit_test(names_an_unknown_parameter),
      cmocka_unit_test(says_reason_phrases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
