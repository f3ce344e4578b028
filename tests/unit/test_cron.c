/* test_cron.c — five-field cron schedules of cron.h.
 *
 * Parsing: stars, values, ranges, steps (every n, from a range, from a
 * value), lists, month and weekday names, 7 for Sunday, and the errors a
 * user reads for a wrong field count, values out of range, backwards ranges,
 * bad steps and garbage; schedules that can never fire are refused. Firing
 * times: every minute, hourly, weekly from a known instant, the ends of
 * months, leap days, a day of the month with a weekday (either matches, as
 * in cron), next strictly after and prev at or before the instant given.
 * Every test runs with TZ=UTC except the one that reads a schedule in
 * Asia/Seoul, whose firing times must fall on local hours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cron.h"
#include "vigil.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

static void use_zone(const char *tz) {
  setenv("TZ", tz, 1);
  tzset();
}

static int setup_utc(void **state) {
  (void)state;
  use_zone("UTC");
  return 0;
}

/* ---- helpers ---- */

/* Parses spec, failing the test with the parser's reason if it is refused. */
static vg_cron parse_ok(const char *spec) {
  vg_cron c;
  char err[256] = "";
  memset(&c, 0x5a, sizeof c);
  if (vg_cron_parse(spec, &c, err, sizeof err) != 0) fail_msg("\"%s\" was refused: %s", spec, err);
  return c;
}

/* Parses spec expecting VG_EINVAL; the reason is left in err. */
static void parse_bad(const char *spec, char *err, size_t cap) {
  vg_cron c;
  err[0] = '\0';
  int rc = vg_cron_parse(spec, &c, err, cap);
  if (rc != VG_EINVAL) fail_msg("\"%s\" was accepted (status %d)", spec, rc);
  if (!err[0]) fail_msg("\"%s\" was refused without a reason", spec);
}

/* The bit set of the listed values, ended by -1. */
static uint64_t bits_of(int first, ...) {
  uint64_t b = 0;
  va_list ap;
  va_start(ap, first);
  for (int v = first; v >= 0; v = va_arg(ap, int)) b |= 1ull << v;
  va_end(ap);
  return b;
}

/* Bits lo..hi set. */
static uint64_t span(int lo, int hi) {
  uint64_t b = 0;
  for (int v = lo; v <= hi; v++) b |= 1ull << v;
  return b;
}

/* A UTC instant. */
static time_t utc(int y, int mo, int d, int h, int mi, int s) {
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                  .tm_hour = h, .tm_min = mi, .tm_sec = s};
  return timegm(&tm);
}

/* t in local time as "YYYY-MM-DD HH:MM:SS Day", or "never"; four rotating
 * buffers, so a test may compare two at once. */
static const char *when(time_t t) {
  static char buf[4][40];
  static int next;
  char *b = buf[next++ % 4];
  if (t == (time_t)-1) return "never";
  struct tm tm;
  localtime_r(&t, &tm);
  strftime(b, 40, "%Y-%m-%d %H:%M:%S %a", &tm);
  return b;
}

#define assert_time(got, expected) assert_string_equal(when(got), when(expected))

/* ---- parsing ---- */

static void test_star_selects_every_value(void **state) {
  (void)state;
  vg_cron c = parse_ok("* * * * *");
  assert_true(c.minutes == span(0, 59));
  assert_true(c.hours == span(0, 23));
  assert_true(c.mdays == span(1, 31));
  assert_true(c.months == span(1, 12));
  assert_true(c.wdays == span(0, 6));
  assert_true(c.mday_any);
  assert_true(c.wday_any);
}

static void test_single_values(void **state) {
  (void)state;
  vg_cron c = parse_ok("5 7 1 12 3");
  assert_true(c.minutes == bits_of(5, -1));
  assert_true(c.hours == bits_of(7, -1));
  assert_true(c.mdays == bits_of(1, -1));
  assert_true(c.months == bits_of(12, -1));
  assert_true(c.wdays == bits_of(3, -1));
  assert_false(c.mday_any);
  assert_false(c.wday_any);
  c = parse_ok("59 23 31 1 0");
  assert_true(c.minutes == bits_of(59, -1));
  assert_true(c.hours == bits_of(23, -1));
  assert_true(c.mdays == bits_of(31, -1));
  assert_true(c.wdays == bits_of(0, -1));
}

static void test_blanks_between_fields(void **state) {
  (void)state;
  vg_cron c = parse_ok("  0\t8  *\t* mon ");
  assert_true(c.minutes == bits_of(0, -1));
  assert_true(c.hours == bits_of(8, -1));
  assert_true(c.wdays == bits_of(1, -1));
}

static void test_ranges(void **state) {
  (void)state;
  vg_cron c = parse_ok("10-12 9-17 1-3 6-8 1-5");
  assert_true(c.minutes == span(10, 12));
  assert_true(c.hours == span(9, 17));
  assert_true(c.mdays == span(1, 3));
  assert_true(c.months == span(6, 8));
  assert_true(c.wdays == span(1, 5));
  c = parse_ok("7-7 * * * *"); /* a range of one */
  assert_true(c.minutes == bits_of(7, -1));
}

static void test_steps(void **state) {
  (void)state;
  vg_cron c = parse_ok("*/15 */6 */10 */3 */2");
  assert_true(c.minutes == bits_of(0, 15, 30, 45, -1));
  assert_true(c.hours == bits_of(0, 6, 12, 18, -1));
  assert_true(c.mdays == bits_of(1, 11, 21, 31, -1));
  assert_true(c.months == bits_of(1, 4, 7, 10, -1));
  assert_true(c.wdays == bits_of(0, 2, 4, 6, -1));
  c = parse_ok("10-20/5 * * * *");
  assert_true(c.minutes == bits_of(10, 15, 20, -1));
  c = parse_ok("10-21/5 * * * *"); /* the step never passes the range's end */
  assert_true(c.minutes == bits_of(10, 15, 20, -1));
  c = parse_ok("5/15 * * * *"); /* from 5 to the end of the field */
  assert_true(c.minutes == bits_of(5, 20, 35, 50, -1));
  c = parse_ok("0 1/8 * * *");
  assert_true(c.hours == bits_of(1, 9, 17, -1));
  c = parse_ok("*/1 * * * *");
  assert_true(c.minutes == span(0, 59));
  c = parse_ok("*/59 * * * *");
  assert_true(c.minutes == bits_of(0, 59, -1));
}

static void test_lists(void **state) {
  (void)state;
  vg_cron c = parse_ok("0,30 8,12,18 1,15 * *");
  assert_true(c.minutes == bits_of(0, 30, -1));
  assert_true(c.hours == bits_of(8, 12, 18, -1));
  assert_true(c.mdays == bits_of(1, 15, -1));
  c = parse_ok("1,10-12,*/20,55/2 * * * *"); /* every kind of item in one list */
  assert_true(c.minutes == bits_of(0, 1, 10, 11, 12, 20, 40, 55, 57, 59, -1));
  c = parse_ok("0 0 * * 1,1,1"); /* repeats are harmless */
  assert_true(c.wdays == bits_of(1, -1));
}

static void test_month_and_weekday_names(void **state) {
  (void)state;
  vg_cron c = parse_ok("0 9 * jan,jul mon-fri");
  assert_true(c.months == bits_of(1, 7, -1));
  assert_true(c.wdays == span(1, 5));
  c = parse_ok("0 9 * JAN-Mar,Dec Sat,sun");
  assert_true(c.months == bits_of(1, 2, 3, 12, -1));
  assert_true(c.wdays == bits_of(0, 6, -1));
  c = parse_ok("0 0 * feb-dec/2 mon-fri/2");
  assert_true(c.months == bits_of(2, 4, 6, 8, 10, 12, -1));
  assert_true(c.wdays == bits_of(1, 3, 5, -1));
  c = parse_ok("0 0 * * sun-sat");
  assert_true(c.wdays == span(0, 6));
}

static void test_seven_is_sunday(void **state) {
  (void)state;
  vg_cron seven = parse_ok("0 0 * * 7"), zero = parse_ok("0 0 * * 0"), sun = parse_ok("0 0 * * sun");
  assert_true(seven.wdays == bits_of(0, -1));
  assert_true(zero.wdays == seven.wdays);
  assert_true(sun.wdays == seven.wdays);
  vg_cron c = parse_ok("0 0 * * 5-7");
  assert_true(c.wdays == bits_of(0, 5, 6, -1));
  c = parse_ok("0 0 * * 0,7");
  assert_true(c.wdays == bits_of(0, -1));
  /* and a schedule on 7 fires on Sundays: Dec. 24, 2023 was one */
  assert_time(vg_cron_next(&seven, utc(2023, 12, 20, 12, 0, 0)), utc(2023, 12, 24, 0, 0, 0));
}

static void test_day_fields_restricted_or_not(void **state) {
  (void)state;
  vg_cron c = parse_ok("0 0 13 * fri");
  assert_false(c.mday_any);
  assert_false(c.wday_any);
  c = parse_ok("0 0 * * fri");
  assert_true(c.mday_any);
  assert_false(c.wday_any);
  c = parse_ok("0 0 13 * *");
  assert_false(c.mday_any);
  assert_true(c.wday_any);
}

/* ---- errors ---- */

static void test_wrong_number_of_fields(void **state) {
  (void)state;
  char err[256];
  parse_bad("0 0 * * * *", err, sizeof err);
  assert_contains(err, "five fields");
  assert_contains(err, "not 6");
  parse_bad("0 0 * *", err, sizeof err);
  assert_contains(err, "five fields");
  assert_contains(err, "not 4");
  parse_bad("", err, sizeof err);
  assert_contains(err, "not 0");
  parse_bad("   ", err, sizeof err);
  assert_contains(err, "five fields");
}

static void test_seven_fields_are_counted_as_seven(void **state) {
  (void)state;
  char err[256];
  parse_bad("0 0 * * * * *", err, sizeof err);
  assert_contains(err, "five fields");
  assert_contains(err, "not 7");
}

static void test_values_out_of_range(void **state) {
  (void)state;
  char err[256];
  parse_bad("60 * * * *", err, sizeof err);
  assert_contains(err, "minute 60 is out of range 0-59");
  parse_bad("0 24 * * *", err, sizeof err);
  assert_contains(err, "hour 24 is out of range 0-23");
  parse_bad("0 0 0 * *", err, sizeof err);
  assert_contains(err, "day of month 0 is out of range 1-31");
  parse_bad("0 0 32 * *", err, sizeof err);
  assert_contains(err, "day of month 32");
  parse_bad("0 0 * 13 *", err, sizeof err);
  assert_contains(err, "month 13 is out of range 1-12");
  parse_bad("0 0 * 0 *", err, sizeof err);
  assert_contains(err, "month 0");
  parse_bad("0 0 * * 8", err, sizeof err);
  assert_contains(err, "day of week 8 is out of range 0-7");
  parse_bad("10-60 * * * *", err, sizeof err);
  assert_contains(err, "minute 60");
  parse_bad("99999999999999999999 * * * *", err, sizeof err);
  assert_contains(err, "out of range");
}

static void test_backwards_range(void **state) {
  (void)state;
  char err[256];
  parse_bad("0 20-10 * * *", err, sizeof err);
  assert_contains(err, "hour range 20-10 runs backwards");
  parse_bad("0 0 * * fri-mon", err, sizeof err);
  assert_contains(err, "runs backwards");
  parse_bad("0 0 * dec-jan *", err, sizeof err);
  assert_contains(err, "month range 12-1 runs backwards");
}

static void test_bad_steps(void **state) {
  (void)state;
  char err[256];
  parse_bad("*/0 * * * *", err, sizeof err);
  assert_contains(err, "bad step in minute '*/0'");
  parse_bad("*/ * * * *", err, sizeof err);
  assert_contains(err, "bad step");
  parse_bad("*/x * * * *", err, sizeof err);
  assert_contains(err, "bad step");
  parse_bad("*/60 * * * *", err, sizeof err);
  assert_contains(err, "bad step");
  parse_bad("0 1-5/-1 * * *", err, sizeof err);
  assert_contains(err, "bad step in hour");
  parse_bad("*/5/5 * * * *", err, sizeof err);
  assert_contains(err, "minute");
}

static void test_garbage(void **state) {
  (void)state;
  char err[256];
  parse_bad("x * * * *", err, sizeof err);
  assert_contains(err, "bad minute 'x");
  parse_bad("1x * * * *", err, sizeof err);
  assert_contains(err, "unexpected 'x' in minute '1x'");
  parse_bad("0 0 * foo *", err, sizeof err);
  assert_contains(err, "bad month 'foo");
  parse_bad("0 0 * * funday", err, sizeof err);
  assert_contains(err, "bad day of week 'funday");
  parse_bad("0 0 * * monday", err, sizeof err); /* three letters, as in cron */
  assert_contains(err, "day of week");
  parse_bad("0 0 * mon *", err, sizeof err); /* names are for their own field only */
  assert_contains(err, "bad month 'mon");
  parse_bad("0 0 * * jan", err, sizeof err);
  assert_contains(err, "bad day of week 'jan");
}

static void test_more_garbage(void **state) {
  (void)state;
  char err[256];
  parse_bad("-5 * * * *", err, sizeof err);
  assert_contains(err, "minute");
  parse_bad("1, * * * *", err, sizeof err);
  assert_contains(err, "minute");
  parse_bad("1,,2 * * * *", err, sizeof err);
  assert_contains(err, "minute");
  parse_bad("1- * * * *", err, sizeof err);
  assert_contains(err, "minute");
  parse_bad("0 mon * * *", err, sizeof err);
  assert_contains(err, "bad hour 'mon");
  parse_bad("0 0 jan * *", err, sizeof err);
  assert_contains(err, "bad day of month 'jan");
  parse_bad("** * * * *", err, sizeof err);
  assert_contains(err, "minute");
}

static void test_schedules_that_never_fire_are_refused(void **state) {
  (void)state;
  char err[256];
  parse_bad("0 0 30 2 *", err, sizeof err);
  assert_contains(err, "never fires");
  assert_contains(err, "0 0 30 2 *");
  parse_bad("0 0 31 4,6,9,11 *", err, sizeof err);
  assert_contains(err, "never fires");
  parse_bad("0 0 30,31 feb *", err, sizeof err);
  assert_contains(err, "never fires");
  /* what can fire is accepted */
  parse_ok("0 0 29 2 *");     /* leap years */
  parse_ok("0 0 31 * *");     /* months of 31 days */
  parse_ok("0 0 31 4,6,9,12 *");
  parse_ok("0 0 30 2 mon");   /* both days given: any Monday of February does */
}

/* ---- next and prev ---- */

static void test_every_minute(void **state) {
  (void)state;
  vg_cron c = parse_ok("* * * * *");
  time_t t = utc(2023, 12, 20, 12, 0, 0);
  assert_time(vg_cron_next(&c, t), t + 60);
  assert_time(vg_cron_next(&c, t + 30), t + 60);
  assert_time(vg_cron_next(&c, t + 59), t + 60);
  assert_time(vg_cron_prev(&c, t), t);
  assert_time(vg_cron_prev(&c, t + 59), t);
  time_t eoy = utc(2023, 12, 31, 23, 59, 0);
  assert_time(vg_cron_next(&c, eoy), utc(2024, 1, 1, 0, 0, 0));
}

static void test_hourly(void **state) {
  (void)state;
  vg_cron c = parse_ok("0 * * * *");
  assert_time(vg_cron_next(&c, utc(2023, 12, 20, 12, 0, 0)), utc(2023, 12, 20, 13, 0, 0));
  assert_time(vg_cron_next(&c, utc(2023, 12, 20, 12, 59, 59)), utc(2023, 12, 20, 13, 0, 0));
  assert_time(vg_cron_next(&c, utc(2023, 12, 20, 23, 30, 0)), utc(2023, 12, 21, 0, 0, 0));
  assert_time(vg_cron_prev(&c, utc(2023, 12, 20, 12, 59, 59)), utc(2023, 12, 20, 12, 0, 0));
  assert_time(vg_cron_prev(&c, utc(2024, 1, 1, 0, 30, 0)), utc(2024, 1, 1, 0, 0, 0));
  c = parse_ok("45 * * * *");
  assert_time(vg_cron_prev(&c, utc(2024, 1, 1, 0, 30, 0)), utc(2023, 12, 31, 23, 45, 0));
  c = parse_ok("*/15 9-10 * * *");
  assert_time(vg_cron_next(&c, utc(2023, 12, 20, 10, 50, 0)), utc(2023, 12, 21, 9, 0, 0));
  assert_time(vg_cron_prev(&c, utc(2023, 12, 21, 8, 59, 0)), utc(2023, 12, 20, 10, 45, 0));
}

static void test_weekly_on_monday_from_a_known_instant(void **state) {
  (void)state;
  vg_cron c = parse_ok("0 8 * * mon");
  time_t wed = utc(2023, 12, 20, 12, 0, 0); /* a Wednesday: 1703073600 */
  assert_int_equal((long long)wed, 1703073600LL);
  time_t next = vg_cron_next(&c, wed);
  assert_time(next, utc(2023, 12, 25, 8, 0, 0));
  assert_int_equal((long long)next, 1703491200LL);
  assert_time(vg_cron_next(&c, next), utc(2024, 1, 1, 8, 0, 0));
  assert_time(vg_cron_prev(&c, wed), utc(2023, 12, 18, 8, 0, 0));
  assert_time(vg_cron_prev(&c, utc(2023, 12, 18, 7, 59, 59)), utc(2023, 12, 11, 8, 0, 0));
  /* the shipped daily one */
  c = parse_ok("0 7 * * *");
  assert_time(vg_cron_next(&c, wed), utc(2023, 12, 21, 7, 0, 0));
  assert_time(vg_cron_prev(&c, wed), utc(2023, 12, 20, 7, 0, 0));
}

static void test_month_ends(void **state) {
  (void)state;
  vg_cron c = parse_ok("0 0 31 * *");
  time_t t = vg_cron_next(&c, utc(2024, 3, 31, 0, 0, 0));
  assert_time(t, utc(2024, 5, 31, 0, 0, 0)); /* April has 30 days */
  t = vg_cron_next(&c, t);
  assert_time(t, utc(2024, 7, 31, 0, 0, 0)); /* June too */
  t = vg_cron_next(&c, t);
  assert_time(t, utc(2024, 8, 31, 0, 0, 0));
  t = vg_cron_next(&c, t);
  assert_time(t, utc(2024, 10, 31, 0, 0, 0));
  assert_time(vg_cron_next(&c, utc(2024, 1, 31, 0, 0, 0)), utc(2024, 3, 31, 0, 0, 0));
  assert_time(vg_cron_prev(&c, utc(2024, 5, 30, 12, 0, 0)), utc(2024, 3, 31, 0, 0, 0));
  c = parse_ok("0 12 30 * *"); /* February has none */
  assert_time(vg_cron_next(&c, utc(2023, 1, 30, 12, 0, 0)), utc(2023, 3, 30, 12, 0, 0));
  assert_time(vg_cron_prev(&c, utc(2023, 3, 29, 0, 0, 0)), utc(2023, 1, 30, 12, 0, 0));
}

static void test_leap_days(void **state) {
  (void)state;
  vg_cron c = parse_ok("0 0 29 2 *");
  assert_time(vg_cron_next(&c, utc(2023, 1, 1, 0, 0, 0)), utc(2024, 2, 29, 0, 0, 0));
  assert_time(vg_cron_next(&c, utc(2024, 2, 29, 0, 0, 0)), utc(2028, 2, 29, 0, 0, 0));
  assert_time(vg_cron_prev(&c, utc(2027, 6, 1, 0, 0, 0)), utc(2024, 2, 29, 0, 0, 0));
  assert_time(vg_cron_prev(&c, utc(2024, 2, 29, 0, 0, 0)), utc(2024, 2, 29, 0, 0, 0));
  assert_time(vg_cron_prev(&c, utc(2024, 2, 28, 23, 59, 0)), utc(2020, 2, 29, 0, 0, 0));
  /* 2100 is no leap year: eight years from one Feb. 29 to the next */
  assert_time(vg_cron_next(&c, utc(2096, 3, 1, 0, 0, 0)), utc(2104, 2, 29, 0, 0, 0));
  c = parse_ok("0 0 28 2 *");
  assert_time(vg_cron_next(&c, utc(2024, 2, 28, 0, 0, 0)), utc(2025, 2, 28, 0, 0, 0));
}

static void test_day_of_month_or_weekday(void **state) {
  (void)state;
  vg_cron c = parse_ok("0 0 13 * fri");
  /* Dec. 2023: Fridays the 1st, 8th, 15th, 22nd, 29th; the 13th a Wednesday */
  time_t t = vg_cron_next(&c, utc(2023, 12, 2, 0, 0, 0));
  assert_time(t, utc(2023, 12, 8, 0, 0, 0));
  t = vg_cron_next(&c, t);
  assert_time(t, utc(2023, 12, 13, 0, 0, 0));
  t = vg_cron_next(&c, t);
  assert_time(t, utc(2023, 12, 15, 0, 0, 0));
  assert_time(vg_cron_prev(&c, utc(2023, 12, 14, 0, 0, 0)), utc(2023, 12, 13, 0, 0, 0));
  /* one field alone: only that one */
  vg_cron dom = parse_ok("0 0 13 * *"), dow = parse_ok("0 0 * * fri");
  assert_time(vg_cron_next(&dom, utc(2023, 12, 2, 0, 0, 0)), utc(2023, 12, 13, 0, 0, 0));
  assert_time(vg_cron_next(&dow, utc(2023, 12, 8, 0, 0, 0)), utc(2023, 12, 15, 0, 0, 0));
  /* a month restricts both: "13 * fri" in January only */
  c = parse_ok("0 0 13 jan fri");
  assert_time(vg_cron_next(&c, utc(2023, 12, 31, 0, 0, 0)), utc(2024, 1, 5, 0, 0, 0));
  assert_time(vg_cron_next(&c, utc(2024, 1, 26, 0, 0, 0)), utc(2025, 1, 3, 0, 0, 0));
}

static void test_next_is_strictly_after_prev_at_or_before(void **state) {
  (void)state;
  vg_cron c = parse_ok("30 9 * * *");
  time_t at = utc(2023, 12, 20, 9, 30, 0);
  assert_time(vg_cron_next(&c, at), at + 86400);
  assert_time(vg_cron_next(&c, at - 1), at);
  assert_time(vg_cron_next(&c, at + 1), at + 86400);
  assert_time(vg_cron_prev(&c, at), at);
  assert_time(vg_cron_prev(&c, at + 59), at);
  assert_time(vg_cron_prev(&c, at + 3600), at);
  assert_time(vg_cron_prev(&c, at - 1), at - 86400);
  /* results fall on whole minutes */
  time_t n = vg_cron_next(&c, at + 17);
  assert_int_equal(n % 60, 0);
  /* and a chain of next calls visits each firing once */
  c = parse_ok("*/20 * * * *");
  time_t t = utc(2023, 12, 20, 0, 0, 0);
  for (int i = 1; i <= 9; i++) {
    t = vg_cron_next(&c, t);
    assert_time(t, utc(2023, 12, 20, 0, 0, 0) + i * 1200);
    assert_time(vg_cron_prev(&c, t), t);
    assert_time(vg_cron_prev(&c, t - 1), t - 1200);
  }
}

static void test_local_hours_in_another_zone(void **state) {
  (void)state;
  /* Asia/Seoul is UTC+9 all year; the POSIX form serves where there is no tzdata */
  use_zone(access("/usr/share/zoneinfo/Asia/Seoul", R_OK) == 0 ? "Asia/Seoul" : "KST-9");
  vg_cron c = parse_ok("0 7 * * *");
  time_t from = utc(2023, 12, 20, 0, 0, 0); /* 09:00 in Seoul */
  time_t next = vg_cron_next(&c, from);
  struct tm tm;
  localtime_r(&next, &tm);
  assert_int_equal(tm.tm_hour, 7);
  assert_int_equal(tm.tm_min, 0);
  assert_int_equal(tm.tm_mday, 21);
  assert_int_equal((long long)next, (long long)utc(2023, 12, 20, 22, 0, 0));
  time_t prev = vg_cron_prev(&c, from);
  assert_int_equal((long long)prev, (long long)utc(2023, 12, 19, 22, 0, 0));
  localtime_r(&prev, &tm);
  assert_int_equal(tm.tm_hour, 7);
  /* the weekday is the local one: Monday 08:30 in Seoul is still Sunday in UTC */
  c = parse_ok("0 8 * * mon");
  time_t mon = utc(2023, 12, 24, 23, 30, 0);
  assert_int_equal((long long)vg_cron_prev(&c, mon), (long long)utc(2023, 12, 24, 23, 0, 0));
  next = vg_cron_next(&c, mon);
  assert_int_equal((long long)next, (long long)utc(2023, 12, 31, 23, 0, 0));
  localtime_r(&next, &tm);
  assert_int_equal(tm.tm_wday, 1);
  assert_int_equal(tm.tm_hour, 8);
  use_zone("UTC");
}

int main(void) {
#define T(f) cmocka_unit_test_setup(f, setup_utc)
  const struct CMUnitTest tests[] = {
      T(test_star_selects_every_value),
      T(test_single_values),
      T(test_blanks_between_fields),
      T(test_ranges),
      T(test_steps),
      T(test_lists),
      T(test_month_and_weekday_names),
      T(test_seven_is_sunday),
      T(test_day_fields_restricted_or_not),
      T(test_wrong_number_of_fields),
      T(test_seven_fields_are_counted_as_seven),
      T(test_values_out_of_range),
      T(test_backwards_range),
      T(test_bad_steps),
      T(test_garbage),
      T(test_more_garbage),
      T(test_schedules_that_never_fire_are_refused),
      T(test_every_minute),
      T(test_hourly),
      T(test_weekly_on_monday_from_a_known_instant),
      T(test_month_ends),
      T(test_leap_days),
      T(test_day_of_month_or_weekday),
      T(test_next_is_strictly_after_prev_at_or_before),
      T(test_local_hours_in_another_zone),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
