/* test_date.c — the date parser and day arithmetic of date.h.
 *
 * Covers every accepted written form (chronology style, day first, ordinal
 * days, ISO days, months and years, year-first slashed days and months,
 * parts of a month, day ranges, date-times with zones), the
 * normalised text vg_date_format writes for each, the errors for impossible
 * or unreadable dates with the reason a user would read, and the conversion
 * between calendar dates and day numbers over a wide range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "date.h"
#include "vigil.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

/* Parses the whole of s, failing the test with the parser's reason if it is refused. */
static vg_date parse_ok(const char *s) {
  vg_date d;
  char err[128] = "";
  memset(&d, 0x5a, sizeof d);
  int rc = vg_date_parse(s, strlen(s), &d, err, sizeof err);
  if (rc != 0) fail_msg("\"%s\" was refused: %s", s, err);
  return d;
}

/* Parses s expecting VG_EPARSE, and returns the reason in err. */
static void parse_bad(const char *s, char *err, size_t cap) {
  vg_date d;
  err[0] = '\0';
  int rc = vg_date_parse(s, strlen(s), &d, err, cap);
  if (rc != VG_EPARSE) fail_msg("\"%s\" gave %d, not VG_EPARSE", s, rc);
  if (err[0] == '\0') fail_msg("\"%s\" was refused without a reason", s);
}

/* The normalised text of the date parsed from s. */
static void format_of(const char *s, char out[VG_DATE_TEXT_MAX]) {
  vg_date d = parse_ok(s);
  size_t n = vg_date_format(&d, out);
  assert_int_equal(n, strlen(out));
}

/* s names exactly one day, whose normalised text is iso. */
static void assert_one_day(const char *s, const char *iso) {
  char text[VG_DATE_TEXT_MAX];
  vg_date d = parse_ok(s);
  assert_int_equal(d.precision, VG_PREC_DAY);
  assert_int_equal(d.first, d.last);
  assert_int_equal(d.second, -1);
  format_of(s, text);
  if (strcmp(text, iso) != 0) fail_msg("\"%s\" read as %s, not %s", s, text, iso);
}

/* My own leap-year rule, independent of the module's. */
static int leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_length(int y, int m) {
  static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : len[m - 1];
}

static void test_abbreviated_month_with_period(void **state) {
  (void)state;
  assert_one_day("Sept. 7, 2023", "2023-09-07");
  assert_one_day("Jan. 5, 2024", "2024-01-05");
  assert_one_day("Dec. 31, 2023", "2023-12-31");
}

static void test_abbreviated_month_without_punctuation(void **state) {
  (void)state;
  assert_one_day("Sep 7 2023", "2023-09-07");
  assert_one_day("Nov 21, 2023", "2023-11-21");
}

static void test_full_month_names(void **state) {
  (void)state;
  assert_one_day("September 7, 2023", "2023-09-07");
  assert_one_day("March 3, 2023", "2023-03-03");
  assert_one_day("June 1, 2023", "2023-06-01");
  assert_one_day("may 25, 2023", "2023-05-25");
}

static void test_day_before_month(void **state) {
  (void)state;
  assert_one_day("7 September 2023", "2023-09-07");
  assert_one_day("21 Nov. 2023", "2023-11-21");
}

static void test_iso_day(void **state) {
  (void)state;
  assert_one_day("2023-09-07", "2023-09-07");
  vg_date d = parse_ok("2023-09-07");
  assert_int_equal(d.first, 19607); /* days from 1970-01-01 */
}

static void test_month_precision_spans_the_month(void **state) {
  (void)state;
  const char *forms[] = {"December 2023", "Dec. 2023", "2023-12"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    vg_date d = parse_ok(forms[i]);
    char text[VG_DATE_TEXT_MAX];
    assert_int_equal(d.precision, VG_PREC_MONTH);
    assert_int_equal(d.first, vg_days_from_civil(2023, 12, 1));
    assert_int_equal(d.last, vg_days_from_civil(2023, 12, 31));
    assert_int_equal(d.last - d.first, 30);
    vg_date_format(&d, text);
    assert_string_equal(text, "2023-12");
  }
}

static void test_month_precision_of_leap_february(void **state) {
  (void)state;
  vg_date d = parse_ok("February 2024");
  assert_int_equal(d.precision, VG_PREC_MONTH);
  assert_int_equal(d.last - d.first, 28); /* 29 days */
}

static void test_year_precision_spans_the_year(void **state) {
  (void)state;
  char text[VG_DATE_TEXT_MAX];
  vg_date d = parse_ok("2023");
  assert_int_equal(d.precision, VG_PREC_YEAR);
  assert_int_equal(d.first, vg_days_from_civil(2023, 1, 1));
  assert_int_equal(d.last, vg_days_from_civil(2023, 12, 31));
  assert_int_equal(d.last - d.first, 364);
  vg_date_format(&d, text);
  assert_string_equal(text, "2023");
}

static void test_mid_month_is_days_11_to_20(void **state) {
  (void)state;
  char text[VG_DATE_TEXT_MAX];
  vg_date d = parse_ok("mid-December 2023");
  assert_int_equal(d.precision, VG_PREC_RANGE);
  assert_int_equal(d.first, vg_days_from_civil(2023, 12, 11));
  assert_int_equal(d.last, vg_days_from_civil(2023, 12, 20));
  vg_date_format(&d, text);
  assert_string_equal(text, "2023-12-11/2023-12-20");
}

static void test_early_month_is_days_1_to_10(void **state) {
  (void)state;
  char text[VG_DATE_TEXT_MAX];
  vg_date d = parse_ok("early Dec. 2023");
  assert_int_equal(d.precision, VG_PREC_RANGE);
  vg_date_format(&d, text);
  assert_string_equal(text, "2023-12-01/2023-12-10");
}

static void test_late_february_of_leap_year_ends_on_29th(void **state) {
  (void)state;
  char text[VG_DATE_TEXT_MAX];
  vg_date d = parse_ok("late February 2024");
  assert_int_equal(d.precision, VG_PREC_RANGE);
  vg_date_format(&d, text);
  assert_string_equal(text, "2024-02-21/2024-02-29");
  d = parse_ok("late February 2023");
  vg_date_format(&d, text);
  assert_string_equal(text, "2023-02-21/2023-02-28");
}

static void test_day_range(void **state) {
  (void)state;
  char text[VG_DATE_TEXT_MAX];
  vg_date d = parse_ok("Dec. 5-7, 2023");
  assert_int_equal(d.precision, VG_PREC_RANGE);
  assert_int_equal(d.last - d.first, 2);
  vg_date_format(&d, text);
  assert_string_equal(text, "2023-12-05/2023-12-07");
  d = parse_ok("Dec. 5\u20137, 2023"); /* with an en dash */
  vg_date_format(&d, text);
  assert_string_equal(text, "2023-12-05/2023-12-07");
}

static void test_backwards_day_range_rejected(void **state) {
  (void)state;
  char err[128];
  parse_bad("Dec. 7-5, 2023", err, sizeof err);
  assert_contains(err, "backwards");
}

static void test_datetime_in_utc(void **state) {
  (void)state;
  char text[VG_DATE_TEXT_MAX];
  vg_date d = parse_ok("2023-11-21T10:30:00Z");
  assert_int_equal(d.precision, VG_PREC_TIME);
  assert_int_equal(d.first, 19682);
  assert_int_equal(d.last, 19682);
  assert_int_equal(d.second, 10 * 3600 + 30 * 60);
  vg_date_format(&d, text);
  assert_string_equal(text, "2023-11-21T10:30:00Z");
}

static void test_datetime_offset_moves_to_previous_utc_day(void **state) {
  (void)state;
  char text[VG_DATE_TEXT_MAX];
  /* 05:15 in Seoul is 20:15 UTC the evening before. */
  vg_date d = parse_ok("2023-11-21T05:15:00+09:00");
  assert_int_equal(d.precision, VG_PREC_TIME);
  assert_int_equal(d.first, 19681);
  assert_int_equal(d.second, 20 * 3600 + 15 * 60);
  size_t n = vg_date_format(&d, text);
  assert_string_equal(text, "2023-11-20T20:15:00Z");
  assert_int_equal(text[n - 1], 'Z');
}

static void test_datetime_negative_offset_moves_to_next_utc_day(void **state) {
  (void)state;
  char text[VG_DATE_TEXT_MAX];
  vg_date d = parse_ok("2023-12-31T22:30:00-05:00");
  assert_int_equal(d.first, vg_days_from_civil(2024, 1, 1));
  vg_date_format(&d, text);
  assert_string_equal(text, "2024-01-01T03:30:00Z");
}

static void test_datetime_leaving_the_years_is_refused(void **state) {
  (void)state;
  char err[128], text[VG_DATE_TEXT_MAX];
  /* The last hours of 9999 west of Greenwich are in 10000 in UTC, and the
   * first of 0001 east of it in year 0: neither can be stored. */
  parse_bad("9999-12-31T23:00:00-05:00", err, sizeof err);
  assert_contains(err, "outside the years 0001 to 9999");
  parse_bad("0001-01-01T00:30:00+01:00", err, sizeof err);
  assert_contains(err, "outside the years 0001 to 9999");
  /* The edges themselves are kept. */
  vg_date d = parse_ok("9999-12-31T18:59:59-05:00");
  vg_date_format(&d, text);
  assert_string_equal(text, "9999-12-31T23:59:59Z");
  d = parse_ok("0001-01-01T01:00:00+01:00");
  vg_date_format(&d, text);
  assert_string_equal(text, "0001-01-01T00:00:00Z");
}

static void test_prefix_reports_bytes_used(void **state) {
  (void)state;
  struct {
    const char *line;
    size_t used;
  } cases[] = {
      {"Sept. 7, 2023: North Korea fires a ballistic missile.", 13},
      {"2023-09-07  : blanks before the colon", 10},
      {"mid-December 2023: exercises continue", 17},
      {"Dec. 5-7, 2023: talks in Seoul", 14},
      {"2023-11-21T10:30:00Z launch window", 20},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    vg_date d;
    size_t used = 0;
    char err[128] = "";
    int rc = vg_date_parse_prefix(cases[i].line, strlen(cases[i].line), &used, &d, err, sizeof err);
    if (rc != 0) fail_msg("\"%s\" was refused: %s", cases[i].line, err);
    if (used != cases[i].used)
      fail_msg("\"%s\": used %zu bytes, not %zu", cases[i].line, used, cases[i].used);
  }
}

static void test_impossible_day_names_month_length(void **state) {
  (void)state;
  char err[128];
  parse_bad("Feb. 30, 2023", err, sizeof err);
  assert_contains(err, "28");
  parse_bad("April 31, 2023", err, sizeof err);
  assert_contains(err, "30");
}

static void test_february_29_only_in_leap_years(void **state) {
  (void)state;
  char err[128];
  parse_bad("Feb. 29, 2023", err, sizeof err);
  assert_contains(err, "28");
  assert_one_day("Feb. 29, 2024", "2024-02-29");
  assert_one_day("2000-02-29", "2000-02-29");
  parse_bad("1900-02-29", err, sizeof err);
}

static void test_iso_month_13_rejected(void **state) {
  (void)state;
  char err[128];
  parse_bad("2023-13-01", err, sizeof err);
  assert_contains(err, "13");
  parse_bad("2023-00-10", err, sizeof err);
}

static void test_unknown_month_is_named(void **state) {
  (void)state;
  char err[128];
  parse_bad("Octember 5, 2023", err, sizeof err);
  assert_contains(err, "Octember");
  parse_bad("5 Octember 2023", err, sizeof err);
  assert_contains(err, "Octember");
}

static void test_ordinal_days(void **state) {
  (void)state;
  assert_one_day("December 13th, 2023", "2023-12-13");
  assert_one_day("Dec. 13th, 2023", "2023-12-13");
  assert_one_day("13th December 2023", "2023-12-13");
  assert_one_day("13th of December, 2023", "2023-12-13");
  assert_one_day("1st March 2024", "2024-03-01");
  assert_one_day("March 2nd, 2024", "2024-03-02");
  assert_one_day("3RD May 2024", "2024-05-03");
  assert_one_day("May 4th 2024", "2024-05-04");
  assert_one_day("Jan. 11th, 2024", "2024-01-11");
  assert_one_day("Jan. 12th, 2024", "2024-01-12");
  assert_one_day("21st June 2024", "2024-06-21");
  assert_one_day("June 22nd, 2024", "2024-06-22");
  assert_one_day("23rd June 2024", "2024-06-23");
  assert_one_day("Oct. 30th, 2024", "2024-10-30");
  assert_one_day("Oct. 31st, 2024", "2024-10-31");
  char text[VG_DATE_TEXT_MAX];
  format_of("Dec. 5th-7th, 2023", text);
  assert_string_equal(text, "2023-12-05/2023-12-07");
  /* A line of a chronology keeps its text after the ordinal's date. */
  const char *line = "December 13th, 2023: The assembly meets.";
  vg_date d;
  size_t used = 0;
  char err[160] = "";
  assert_int_equal(vg_date_parse_prefix(line, strlen(line), &used, &d, err, sizeof err), 0);
  assert_int_equal(used, strlen("December 13th, 2023"));
}

static void test_wrong_ordinal_is_named(void **state) {
  (void)state;
  char err[160];
  static const struct { const char *date, *named, *right; } cases[] = {
      {"December 13st, 2023", "'13st'", "13th"}, {"11st May 2024", "'11st'", "11th"},
      {"May 2th, 2024", "'2th'", "2nd"},         {"12nd May 2024", "'12nd'", "12th"},
      {"Dec. 23th, 2023", "'23th'", "23rd"},     {"Dec. 5th-7st, 2023", "'7st'", "7th"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    parse_bad(cases[i].date, err, sizeof err);
    assert_contains(err, cases[i].named);
    assert_contains(err, cases[i].right);
  }
  parse_bad("December 13xy, 2023", err, sizeof err);
  assert_contains(err, "'13xy' is no day of the month");
  parse_bad("December 31st, 2023x", err, sizeof err);
  assert_contains(err, "'x'");
}

static void test_slashed_year_first(void **state) {
  (void)state;
  assert_one_day("2023/12/13", "2023-12-13");
  assert_one_day("2024/2/9", "2024-02-09");
  char text[VG_DATE_TEXT_MAX];
  vg_date d = parse_ok("2023/12");
  assert_int_equal(d.precision, VG_PREC_MONTH);
  format_of("2023/12", text);
  assert_string_equal(text, "2023-12");
  const char *line = "2023/12/13: The assembly meets.";
  size_t used = 0;
  char err[160] = "";
  assert_int_equal(vg_date_parse_prefix(line, strlen(line), &used, &d, err, sizeof err), 0);
  assert_int_equal(used, 10);
  parse_bad("2023/11/31", err, sizeof err);
  assert_contains(err, "day 31 is past the end of November 2023");
  parse_bad("2023/13/01", err, sizeof err);
  assert_contains(err, "no month 13");
  parse_bad("2023/123/01", err, sizeof err);
  assert_contains(err, "'123' is no month");
}

static void test_day_or_month_first_is_ambiguous(void **state) {
  (void)state;
  char err[200];
  parse_bad("13/12/2023", err, sizeof err);
  assert_contains(err, "'13/12/2023' is ambiguous");
  assert_contains(err, "2023-12-13");
  parse_bad("12/13/2023", err, sizeof err);
  assert_contains(err, "'12/13/2023' is ambiguous");
  assert_contains(err, "2023-12-13");
  parse_bad("03/04/2023", err, sizeof err);
  assert_contains(err, "ambiguous");
  assert_contains(err, "2023-04-03 or 2023-03-04");
  parse_bad("03.04.2023", err, sizeof err);
  assert_contains(err, "ambiguous");
  parse_bad("13-12-2023", err, sizeof err);
  assert_contains(err, "2023-12-13");
  parse_bad("12/13", err, sizeof err);
  assert_contains(err, "ambiguous");
  assert_contains(err, "YYYY-MM-DD");
}

static void test_refusals_name_the_wrong_part(void **state) {
  (void)state;
  char err[160];
  parse_bad("November 31, 2023", err, sizeof err);
  assert_contains(err, "day 31 is past the end of November 2023");
  parse_bad("2023-11-31", err, sizeof err);
  assert_contains(err, "day 31 is past the end of November 2023");
  parse_bad("Decembr 13, 2023", err, sizeof err);
  assert_contains(err, "'Decembr' is no month name");
  parse_bad("13 Decembr 2023", err, sizeof err);
  assert_contains(err, "'Decembr' is no month name");
  parse_bad("0 December 2023", err, sizeof err);
  assert_contains(err, "no day 0");
}

static void test_line_without_a_date(void **state) {
  (void)state;
  char err[128];
  vg_date d;
  size_t used = 99;
  const char *line = "North Korea launches a solid-fuel missile into the East Sea.";
  err[0] = '\0';
  assert_int_equal(vg_date_parse_prefix(line, strlen(line), &used, &d, err, sizeof err), VG_EPARSE);
  assert_contains(err, "no date");
  assert_int_equal(used, 99); /* untouched on failure */
  parse_bad("", err, sizeof err);
  parse_bad(": nothing before the colon", err, sizeof err);
}

static void test_two_digit_year_rejected(void **state) {
  (void)state;
  char err[128];
  parse_bad("Sept. 7, 23", err, sizeof err);
  assert_contains(err, "four digits");
  parse_bad("Dec. 2, 23", err, sizeof err);
  assert_contains(err, "four digits");
  parse_bad("December 23", err, sizeof err); /* a day with no year at all */
  assert_contains(err, "year");
  parse_bad("7 September 23", err, sizeof err);
  assert_contains(err, "four digits");
}

static void test_trailing_junk_rejected_by_whole_parse(void **state) {
  (void)state;
  char err[128];
  parse_bad("2023-09-07 morning", err, sizeof err);
  assert_contains(err, "morning");
  parse_bad("Sept. 7, 2023: text", err, sizeof err);
  /* Blanks around the date are not junk. */
  assert_one_day("  2023-09-07 \t", "2023-09-07");
}

static void test_error_buffer_is_bounded(void **state) {
  (void)state;
  char err[16];
  memset(err, '#', sizeof err);
  vg_date d;
  assert_int_equal(vg_date_parse("Feb. 30, 2023", 13, &d, err, sizeof err), VG_EPARSE);
  assert_non_null(memchr(err, '\0', sizeof err));
}

static void test_normalised_text_reads_back(void **state) {
  (void)state;
  const char *forms[] = {"Sept. 7, 2023", "Dec. 2023", "2023", "2023-11-21T05:15:00+09:00",
                         "7 September 2023"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    char text[VG_DATE_TEXT_MAX];
    vg_date a = parse_ok(forms[i]);
    vg_date_format(&a, text);
    vg_date b = parse_ok(text);
    if (a.first != b.first || a.last != b.last || a.second != b.second ||
        a.precision != b.precision)
      fail_msg("\"%s\" normalised to %s, which reads back differently", forms[i], text);
  }
}

static void test_days_from_civil_known_days(void **state) {
  (void)state;
  assert_int_equal(vg_days_from_civil(1970, 1, 1), 0);
  assert_int_equal(vg_days_from_civil(1969, 12, 31), -1);
  assert_int_equal(vg_days_from_civil(2000, 2, 29), 11016);
  assert_int_equal(vg_days_from_civil(2000, 3, 1), 11017);
  assert_int_equal(vg_days_from_civil(1900, 3, 1), -25508);
  assert_int_equal(vg_days_from_civil(1600, 2, 29), -135081);
  assert_int_equal(vg_days_from_civil(1, 1, 1), -719162);
  assert_int_equal(vg_days_from_civil(9999, 12, 31), 2932896);
}

static void test_civil_from_days_known_days(void **state) {
  (void)state;
  int y, m, d;
  vg_civil_from_days(0, &y, &m, &d);
  assert_true(y == 1970 && m == 1 && d == 1);
  vg_civil_from_days(11016, &y, &m, &d);
  assert_true(y == 2000 && m == 2 && d == 29);
  vg_civil_from_days(-1, &y, &m, &d);
  assert_true(y == 1969 && m == 12 && d == 31);
  vg_civil_from_days(-719162, &y, &m, &d);
  assert_true(y == 1 && m == 1 && d == 1);
}

static void test_day_numbers_round_trip_and_advance_one_day(void **state) {
  (void)state;
  int py, pm, pd;
  vg_civil_from_days(-1000001, &py, &pm, &pd);
  for (int32_t day = -1000000; day <= 1000000; day++) {
    int y, m, d;
    vg_civil_from_days(day, &y, &m, &d);
    if (vg_days_from_civil(y, m, d) != day)
      fail_msg("day %d is %04d-%02d-%02d, which maps back to %d", day, y, m, d,
               vg_days_from_civil(y, m, d));
    /* The next calendar date after the previous day's. */
    int ny = py, nm = pm, nd = pd + 1;
    if (nd > month_length(py, pm)) nd = 1, nm++;
    if (nm > 12) nm = 1, ny++;
    if (y != ny || m != nm || d != nd)
      fail_msg("day %d is %d-%02d-%02d; after %d-%02d-%02d expected %d-%02d-%02d", day, y, m, d, py,
               pm, pd, ny, nm, nd);
    py = y, pm = m, pd = d;
  }
}

static void test_days_in_month(void **state) {
  (void)state;
  assert_int_equal(vg_days_in_month(2023, 2), 28);
  assert_int_equal(vg_days_in_month(2024, 2), 29);
  assert_int_equal(vg_days_in_month(1900, 2), 28);
  assert_int_equal(vg_days_in_month(2000, 2), 29);
  assert_int_equal(vg_days_in_month(2023, 4), 30);
  assert_int_equal(vg_days_in_month(2023, 12), 31);
}

/* The ISO range vg_date_format writes reads back as the same range. */
static void test_iso_range_round_trips(void **state) {
  (void)state;
  vg_date d, back;
  char err[128], text[VG_DATE_TEXT_MAX];
  assert_int_equal(vg_date_parse("mid-December 2023", 17, &d, err, sizeof err), 0);
  size_t n = vg_date_format(&d, text);
  assert_string_equal(text, "2023-12-11/2023-12-20");
  assert_int_equal(vg_date_parse(text, n, &back, err, sizeof err), 0);
  assert_int_equal(back.precision, VG_PREC_RANGE);
  assert_int_equal(back.first, d.first);
  assert_int_equal(back.last, d.last);
  assert_int_equal(vg_date_parse("2023-12-20/2023-12-11", 21, &back, err, sizeof err), VG_EPARSE);
  assert_non_null(strstr(err, "backwards"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_iso_range_round_trips),
      cmocka_unit_test(test_abbreviated_month_with_period),
      cmocka_unit_test(test_abbreviated_month_without_punctuation),
      cmocka_unit_test(test_full_month_names),
      cmocka_unit_test(test_day_before_month),
      cmocka_unit_test(test_iso_day),
      cmocka_unit_test(test_month_precision_spans_the_month),
      cmocka_unit_test(test_month_precision_of_leap_february),
      cmocka_unit_test(test_year_precision_spans_the_year),
      cmocka_unit_test(test_mid_month_is_days_11_to_20),
      cmocka_unit_test(test_early_month_is_days_1_to_10),
      cmocka_unit_test(test_late_february_of_leap_year_ends_on_29th),
      cmocka_unit_test(test_day_range),
      cmocka_unit_test(test_backwards_day_range_rejected),
      cmocka_unit_test(test_datetime_in_utc),
      cmocka_unit_test(test_datetime_offset_moves_to_previous_utc_day),
      cmocka_unit_test(test_datetime_negative_offset_moves_to_next_utc_day),
      cmocka_unit_test(test_datetime_leaving_the_years_is_refused),
      cmocka_unit_test(test_prefix_reports_bytes_used),
      cmocka_unit_test(test_impossible_day_names_month_length),
      cmocka_unit_test(test_february_29_only_in_leap_years),
      cmocka_unit_test(test_iso_month_13_rejected),
      cmocka_unit_test(test_unknown_month_is_named),
      cmocka_unit_test(test_line_without_a_date),
      cmocka_unit_test(test_two_digit_year_rejected),
      cmocka_unit_test(test_trailing_junk_rejected_by_whole_parse),
      cmocka_unit_test(test_error_buffer_is_bounded),
      cmocka_unit_test(test_normalised_text_reads_back),
      cmocka_unit_test(test_days_from_civil_known_days),
      cmocka_unit_test(test_civil_from_days_known_days),
      cmocka_unit_test(test_day_numbers_round_trip_and_advance_one_day),
      cmocka_unit_test(test_days_in_month),
      cmocka_unit_test(test_ordinal_days),
      cmocka_unit_test(test_wrong_ordinal_is_named),
      cmocka_unit_test(test_slashed_year_first),
      cmocka_unit_test(test_day_or_month_first_is_ambiguous),
      cmocka_unit_test(test_refusals_name_the_wrong_part),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
