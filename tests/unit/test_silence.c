/* test_silence.c — what silence.h reads and writes: a silence's end as a
 * UTC time (with Z or an offset, seconds and fractions optional) and the
 * errors a user reads for a time without a zone, without a time of day,
 * with a field out of range or a day that does not exist; durations (one
 * unit or several, each of s, m, h, d, w) and their refusals (no unit, a
 * unit unknown, zero, longer than ten years); an end from a duration or a
 * time, refused when not after the instant given or too far ahead (-2),
 * apart from one that cannot be read (-1); and the JSON object of a
 * silence, with null for any key and for not expired. Every instant is
 * given, never read from the clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "silence.h"
#include "vigil.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

/* 2026-12-03T19:45:25Z */
#define INSTANT ((time_t)1796327125)

static void assert_time(const char *text, const char *want) {
  time_t t;
  char err[256] = "", got[VG_SILENCE_TIME_MAX];
  if (vg_silence_parse_time(text, &t, err, sizeof err)) fail_msg("'%s' refused: %s", text, err);
  vg_utc_iso(t, got);
  assert_string_equal(got, want);
}

static void assert_bad_time(const char *text, const char *why) {
  time_t t;
  char err[256] = "";
  assert_int_equal(vg_silence_parse_time(text, &t, err, sizeof err), -1);
  assert_contains(err, why);
}

static void test_times(void **state) {
  (void)state;
  char got[VG_SILENCE_TIME_MAX];
  vg_utc_iso(INSTANT, got);
  assert_string_equal(got, "2026-12-03T19:45:25Z");
  assert_time("2026-12-04T08:00:00Z", "2026-12-04T08:00:00Z");
  assert_time("2026-12-04T08:00Z", "2026-12-04T08:00:00Z");
  assert_time("2026-12-04t08:00:30.250z", "2026-12-04T08:00:30Z");
  assert_time("2026-12-04T17:00:00+09:00", "2026-12-04T08:00:00Z");
  assert_time("2026-12-04T02:30-0530", "2026-12-04T08:00:00Z");
  assert_time("2028-02-29T00:00:00Z", "2028-02-29T00:00:00Z");
  assert_bad_time("2026-12-04T08:00:00", "names no time zone");
  assert_bad_time("2026-12-04", "has no time of day");
  assert_bad_time("tomorrow", "is no time");
  assert_bad_time("2026-13-01T00:00Z", "out of range");
  assert_bad_time("2026-04-31T00:00Z", "no such day");
  assert_bad_time("2027-02-29T00:00Z", "no such day");
  assert_bad_time("2026-12-04T08:00:00+25:00", "bad offset");
  assert_bad_time("2026-12-04T08:00:00Z and more", "is no time");
}

static void assert_duration(const char *text, long long want) {
  long long secs = 0;
  char err[256] = "";
  if (vg_silence_parse_duration(text, &secs, err, sizeof err))
    fail_msg("'%s' refused: %s", text, err);
  assert_int_equal(secs, want);
}

static void assert_bad_duration(const char *text, const char *why) {
  long long secs;
  char err[256] = "";
  assert_int_equal(vg_silence_parse_duration(text, &secs, err, sizeof err), -1);
  assert_contains(err, why);
}

static void test_durations(void **state) {
  (void)state;
  assert_duration("90s", 90);
  assert_duration("30m", 1800);
  assert_duration("2h", 7200);
  assert_duration("3d", 3 * 86400);
  assert_duration("1w", 7 * 86400);
  assert_duration("1d12h", 86400 + 12 * 3600);
  assert_bad_duration("", "empty");
  assert_bad_duration("2", "needs its unit");
  assert_bad_duration("2y", "needs its unit");
  assert_bad_duration("2 h", "needs its unit");
  assert_bad_duration("h", "is no duration");
  assert_bad_duration("-2h", "is no duration");
  assert_bad_duration("0h", "no time at all");
  assert_bad_duration("600w", "ten years");
  assert_bad_duration("99999999999999999999d", "ten years");
}

static void test_until(void **state) {
  (void)state;
  char out[VG_SILENCE_TIME_MAX], err[256] = "";
  assert_int_equal(vg_silence_until(NULL, "2h", INSTANT, out, err, sizeof err), 0);
  assert_string_equal(out, "2026-12-03T21:45:25Z");
  assert_int_equal(vg_silence_until("2026-12-04T08:00Z", NULL, INSTANT, out, err, sizeof err), 0);
  assert_string_equal(out, "2026-12-04T08:00:00Z");
  assert_int_equal(vg_silence_until("2026-12-03T19:45:25Z", NULL, INSTANT, out, err, sizeof err),
                   -2);
  assert_contains(err, "until: '2026-12-03T19:45:25Z' is not in the future");
  assert_int_equal(vg_silence_until("2046-12-03T19:45Z", NULL, INSTANT, out, err, sizeof err), -2);
  assert_contains(err, "further ahead");
  assert_int_equal(vg_silence_until("tomorrow", NULL, INSTANT, out, err, sizeof err), -1);
  assert_contains(err, "until: 'tomorrow' is no time");
  assert_int_equal(vg_silence_until(NULL, "soon", INSTANT, out, err, sizeof err), -1);
  assert_contains(err, "for: ");
}

static void test_json(void **state) {
  (void)state;
  vg_silence_row r = {.id = 3,
                      .rule = "border-incident",
                      .key = NULL,
                      .until = "2026-12-04T08:00:00Z",
                      .author = "duty officer",
                      .reason = "a drill",
                      .created_at = "2026-12-03T19:45:25Z",
                      .expired_at = NULL,
                      .active = 1};
  cJSON *o = vg_silence_json(&r);
  char *s = cJSON_PrintUnformatted(o);
  assert_string_equal(s, "{\"id\":3,\"rule\":\"border-incident\",\"key\":null,"
                         "\"until\":\"2026-12-04T08:00:00Z\",\"author\":\"duty officer\","
                         "\"reason\":\"a drill\",\"created_at\":\"2026-12-03T19:45:25Z\","
                         "\"expired_at\":null,\"state\":\"active\"}");
  cJSON_free(s);
  cJSON_Delete(o);
  r.key = "Panmunjom";
  r.expired_at = "2026-12-03T20:00:00Z";
  r.active = 0;
  o = vg_silence_json(&r);
  s = cJSON_PrintUnformatted(o);
  assert_contains(s, "\"key\":\"Panmunjom\"");
  assert_contains(s, "\"expired_at\":\"2026-12-03T20:00:00Z\",\"state\":\"expired\"}");
  cJSON_free(s);
  cJSON_Delete(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_times),
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_until),
      cmocka_unit_test(test_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
