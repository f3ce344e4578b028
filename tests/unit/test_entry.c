/* test_entry.c — vg_entry_parse on chronology lines and JSON records.
 *
 * Covers what a parsed entry holds (trimmed text, the default or the
 * record's own source, extra JSON members kept as JSON fields), format
 * detection, every way a line is refused together with the reason given,
 * the deduplication hash: equal for the same date, source and text
 * however the date was written, different when any of them differs; and
 * the event key: equal for the same span of days and the same words
 * whatever the case, spacing and punctuation, different otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "entry.h"
#include "vigil.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

static const char *const analyst = "analyst-desk";

/* Parses line[0..len) expecting success; the caller clears e. */
static void parse_ok_n(const char *line, size_t len, vg_format fmt, vg_entry *e) {
  char why[VG_REASON_MAX] = "";
  int rc = vg_entry_parse(line, len, fmt, analyst, e, why);
  if (rc != 0) fail_msg("\"%.*s\" was refused: %s", (int)len, line, why);
}

static void parse_ok(const char *line, vg_format fmt, vg_entry *e) {
  parse_ok_n(line, strlen(line), fmt, e);
}

/* Parses line[0..len) expecting VG_EPARSE; returns the reason in why. */
static void parse_bad_n(const char *line, size_t len, vg_format fmt, char why[VG_REASON_MAX]) {
  vg_entry e;
  why[0] = '\0';
  int rc = vg_entry_parse(line, len, fmt, analyst, &e, why);
  if (rc != VG_EPARSE) {
    if (rc == 0) vg_entry_clear(&e);
    fail_msg("\"%.*s\" gave %d, not VG_EPARSE", (int)len, line, rc);
  }
  if (why[0] == '\0') fail_msg("\"%.*s\" was refused without a reason", (int)len, line);
  /* A refused entry holds nothing to release. */
  assert_null(e.owned);
  assert_null(e.fields);
}

static void parse_bad(const char *line, vg_format fmt, char why[VG_REASON_MAX]) {
  parse_bad_n(line, strlen(line), fmt, why);
}

/* Compares an entry's text (not NUL-terminated) with s. */
static void assert_text(const vg_entry *e, const char *s) {
  if (e->text_len != strlen(s) || memcmp(e->text, s, e->text_len) != 0)
    fail_msg("text is \"%.*s\", not \"%s\"", (int)e->text_len, e->text, s);
}

static void assert_date(const vg_entry *e, const char *iso) {
  char text[VG_DATE_TEXT_MAX];
  vg_date_format(&e->date, text);
  assert_string_equal(text, iso);
}

/* The hash of a line parsed with source src. */
static void hash_of(const char *line, const char *src, uint8_t out[16]) {
  vg_entry e;
  char why[VG_REASON_MAX] = "";
  if (vg_entry_parse(line, strlen(line), VG_FORMAT_AUTO, src, &e, why) != 0)
    fail_msg("\"%s\" was refused: %s", line, why);
  memcpy(out, e.hash, 16);
  vg_entry_clear(&e);
}

static void test_chrono_text_is_trimmed(void **state) {
  (void)state;
  vg_entry e;
  parse_ok("Nov. 21, 2023:   North Korea puts a reconnaissance satellite into orbit. \t ",
           VG_FORMAT_CHRONO, &e);
  assert_date(&e, "2023-11-21");
  assert_text(&e, "North Korea puts a reconnaissance satellite into orbit.");
  assert_int_equal(e.date.precision, VG_PREC_DAY);
  vg_entry_clear(&e);
}

static void test_chrono_source_is_the_callers(void **state) {
  (void)state;
  vg_entry e;
  parse_ok("2023-07-12: North Korea tests a Hwasong-18 solid-fuel ICBM.", VG_FORMAT_CHRONO, &e);
  assert_ptr_equal(e.source, analyst);
  assert_null(e.fields);
  vg_entry_clear(&e);
}

static void test_leading_blanks_before_date_are_skipped(void **state) {
  (void)state;
  vg_entry e;
  parse_ok("  \tmid-December 2023: Joint drills continue south of the DMZ.", VG_FORMAT_AUTO, &e);
  assert_date(&e, "2023-12-11/2023-12-20");
  assert_text(&e, "Joint drills continue south of the DMZ.");
  vg_entry_clear(&e);
}

static void test_trailing_cr_is_ignored(void **state) {
  (void)state;
  vg_entry e;
  parse_ok("Dec. 18, 2023: Pyongyang fires a long-range missile.\r", VG_FORMAT_CHRONO, &e);
  assert_text(&e, "Pyongyang fires a long-range missile.");
  vg_entry_clear(&e);
  parse_ok("{\"date\": \"2023-12-18\", \"text\": \"A launch at dawn.\"}\r", VG_FORMAT_JSON, &e);
  assert_text(&e, "A launch at dawn.");
  vg_entry_clear(&e);
}

static void test_text_may_contain_colons_and_utf8(void **state) {
  (void)state;
  vg_entry e;
  parse_ok("2023-11-22: Seoul: the 9.19 military agreement is partly suspended — 남북 합의",
           VG_FORMAT_CHRONO, &e);
  assert_text(&e, "Seoul: the 9.19 military agreement is partly suspended — 남북 합의");
  vg_entry_clear(&e);
}

static void test_json_record(void **state) {
  (void)state;
  vg_entry e;
  parse_ok("{\"date\": \"Nov. 21, 2023\", \"text\": \"  A satellite reaches orbit.  \"}",
           VG_FORMAT_JSON, &e);
  assert_date(&e, "2023-11-21");
  assert_text(&e, "A satellite reaches orbit.");
  assert_ptr_equal(e.source, analyst);
  assert_null(e.fields);
  vg_entry_clear(&e);
}

static void test_json_source_overrides_default(void **state) {
  (void)state;
  vg_entry e;
  parse_ok("{\"date\": \"2023-11-21\", \"text\": \"Launch reported.\", \"source\": \"kcna-watch\"}",
           VG_FORMAT_JSON, &e);
  assert_string_equal(e.source, "kcna-watch");
  assert_null(e.fields); /* source is not an extra member */
  vg_entry_clear(&e);
}

static void test_json_extra_members_become_fields(void **state) {
  (void)state;
  vg_entry e;
  parse_ok("{\"date\": \"2023-11-21\", \"text\": \"Launch reported.\", \"source\": \"desk-2\","
           " \"url\": \"https://example.org/a/1\", \"casualties\": 0, \"tags\": [\"space\"]}",
           VG_FORMAT_AUTO, &e);
  assert_non_null(e.fields);
  cJSON *f = cJSON_Parse(e.fields);
  assert_non_null(f);
  const cJSON *url = cJSON_GetObjectItemCaseSensitive(f, "url");
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(f, "casualties");
  const cJSON *tags = cJSON_GetObjectItemCaseSensitive(f, "tags");
  int ok = cJSON_IsObject(f) && cJSON_IsString(url) &&
           strcmp(url->valuestring, "https://example.org/a/1") == 0 && cJSON_IsNumber(n) &&
           n->valueint == 0 && cJSON_IsArray(tags) && cJSON_GetArraySize(tags) == 1;
  /* The members the entry itself holds are not repeated among the fields. */
  int repeated = cJSON_HasObjectItem(f, "date") || cJSON_HasObjectItem(f, "text") ||
                 cJSON_HasObjectItem(f, "source");
  cJSON_Delete(f);
  vg_entry_clear(&e);
  assert_true(ok);
  assert_false(repeated);
}

static void test_json_fields_keep_each_value_as_written(void **state) {
  (void)state;
  vg_entry e;
  /* A 64-bit id past a double's precision, a number past a double's range,
   * trailing zeros, blanks inside a value, an escape, and a member named
   * "date" through an escape (the entry's own, not a field). */
  parse_ok("{\"id\": 1729382256910270465, \"date\": \"2023-11-21\", \"big\" :1e999,"
           " \"text\": \"Launch reported.\", \"list\": [1, 2.50, \"x\"], \"city\": \"Wons\\u00e1n\","
           " \"da\\u0074e\x20\x20\": null,\t\"n\": {\"a\": -0.0}}  ",
           VG_FORMAT_JSON, &e);
  assert_string_equal(e.fields, "{\"id\":1729382256910270465,\"big\":1e999,"
                                "\"list\":[1,2.50,\"x\"],\"city\":\"Wons\\u00e1n\","
                                "\"da\\u0074e  \":null,\"n\":{\"a\":-0.0}}");
  vg_entry_clear(&e);
  /* A raw control character in a string (JSON forbids it; cJSON takes it) is
   * kept escaped, so that the fields are valid JSON and print safely; blanks
   * and escapes inside strings stay as they were. */
  parse_ok("{\"date\": \"2023-11-21\", \"text\": \"t\", \"x\": \"a\x1b[31m\tb \\\" c\"}",
           VG_FORMAT_JSON, &e);
  assert_string_equal(e.fields, "{\"x\":\"a\\u001b[31m\\u0009b \\\" c\"}");
  vg_entry_clear(&e);
  /* No member but the entry's own: no fields. */
  parse_ok("{\"d\\u0061te\": \"2023-11-21\", \"text\": \"Only the entry.\"}", VG_FORMAT_JSON, &e);
  assert_null(e.fields);
  vg_entry_clear(&e);
}

static void test_json_member_given_twice_is_refused(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("{\"date\": \"2023-11-21\", \"text\": \"a\", \"id\": 1, \"id\": 2}", VG_FORMAT_JSON, why);
  assert_string_equal(why, "the member \"id\" is given twice");
  parse_bad("{\"date\": \"2023-11-21\", \"text\": \"a\", \"date\": \"2023-11-22\"}", VG_FORMAT_JSON,
            why);
  assert_string_equal(why, "the member \"date\" is given twice");
  parse_bad("{\"date\": \"2023-11-21\", \"text\": \"a\", \"n\": [{\"k\": 1, \"k\": 1}]}",
            VG_FORMAT_JSON, why);
  assert_string_equal(why, "the member \"k\" is given twice");
}

static void test_auto_detects_json_and_chrono(void **state) {
  (void)state;
  vg_entry e;
  parse_ok("  {\"date\": \"2023-09-07\", \"text\": \"From JSON.\"}", VG_FORMAT_AUTO, &e);
  assert_text(&e, "From JSON.");
  vg_entry_clear(&e);
  parse_ok("Sept. 7, 2023: From a chronology.", VG_FORMAT_AUTO, &e);
  assert_text(&e, "From a chronology.");
  vg_entry_clear(&e);
}

static void test_chrono_format_does_not_read_json(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("{\"date\": \"2023-09-07\", \"text\": \"x\"}", VG_FORMAT_CHRONO, why);
  assert_contains(why, "no date");
}

static void test_clear_twice_is_safe(void **state) {
  (void)state;
  vg_entry e;
  parse_ok("{\"date\": \"2023-09-07\", \"text\": \"x\", \"extra\": true}", VG_FORMAT_JSON, &e);
  vg_entry_clear(&e);
  vg_entry_clear(&e);
  assert_null(e.owned);
  assert_null(e.fields);
}

static void test_empty_line_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("", VG_FORMAT_AUTO, why);
  assert_contains(why, "empty");
}

static void test_blank_line_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("  \t  \r", VG_FORMAT_AUTO, why);
  assert_contains(why, "empty");
}

static void test_line_without_date_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("North Korea launches a cruise missile toward the Yellow Sea.", VG_FORMAT_CHRONO, why);
  assert_contains(why, "no date");
}

static void test_impossible_date_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("Feb. 30, 2023: A day that never was.", VG_FORMAT_CHRONO, why);
  assert_contains(why, "impossible");
  assert_contains(why, "28");
  parse_bad("{\"date\": \"2023-02-30\", \"text\": \"x\"}", VG_FORMAT_JSON, why);
  assert_contains(why, "impossible");
}

static void test_unknown_month_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("Octember 5, 2023: A month that never was.", VG_FORMAT_CHRONO, why);
  assert_contains(why, "Octember");
}

static void test_missing_colon_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("2023-09-07 North Korea holds a parade.", VG_FORMAT_CHRONO, why);
  assert_contains(why, "':'");
}

static void test_no_text_after_date_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("2023-09-07:   \t", VG_FORMAT_CHRONO, why);
  assert_contains(why, "no text");
  parse_bad("Sept. 7, 2023:", VG_FORMAT_CHRONO, why);
  assert_contains(why, "no text");
}

static void test_json_without_text_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("{\"date\": \"2023-09-07\", \"body\": \"x\"}", VG_FORMAT_JSON, why);
  assert_contains(why, "\"text\"");
  parse_bad("{\"date\": \"2023-09-07\", \"text\": \"   \"}", VG_FORMAT_JSON, why);
  assert_contains(why, "\"text\"");
}

static void test_json_without_date_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("{\"when\": \"2023-09-07\", \"text\": \"x\"}", VG_FORMAT_JSON, why);
  assert_contains(why, "\"date\"");
}

static void test_json_array_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("[{\"date\": \"2023-09-07\", \"text\": \"x\"}]", VG_FORMAT_AUTO, why);
  assert_contains(why, "object");
}

static void test_json_number_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("42", VG_FORMAT_JSON, why);
  assert_contains(why, "object");
}

static void test_invalid_json_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("{\"date\": \"2023-09-07\", \"text\": }", VG_FORMAT_AUTO, why);
  assert_contains(why, "invalid JSON");
  parse_bad("{\"date\": \"2023-09-07\", \"text\": \"unterminated", VG_FORMAT_AUTO, why);
  assert_contains(why, "invalid JSON");
}

static void test_trailing_garbage_after_json_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("{\"date\": \"2023-09-07\", \"text\": \"x\"} and more", VG_FORMAT_JSON, why);
  assert_contains(why, "after the JSON");
  /* Blanks after the object are fine. */
  vg_entry e;
  parse_ok("{\"date\": \"2023-09-07\", \"text\": \"x\"}  \t", VG_FORMAT_JSON, &e);
  vg_entry_clear(&e);
}

static void test_json_date_not_a_string_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("{\"date\": 20230907, \"text\": \"x\"}", VG_FORMAT_JSON, why);
  assert_contains(why, "\"date\" must be a string");
  parse_bad("{\"date\": \"2023-09-07\", \"text\": 7}", VG_FORMAT_JSON, why);
  assert_contains(why, "\"text\" must be a string");
}

static void test_json_date_with_trailing_junk_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("{\"date\": \"2023-09-07 evening\", \"text\": \"x\"}", VG_FORMAT_JSON, why);
  assert_contains(why, "evening");
}

static void test_json_empty_source_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("{\"date\": \"2023-09-07\", \"text\": \"x\", \"source\": \"\"}", VG_FORMAT_JSON, why);
  assert_contains(why, "\"source\"");
}

static void test_invalid_utf8_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  parse_bad("2023-09-07: caf\xff", VG_FORMAT_CHRONO, why);
  assert_contains(why, "UTF-8");
  assert_contains(why, "byte 16"); /* where the bad byte is, counted from 1 */
  parse_bad("2023-09-07: stray \x80 continuation", VG_FORMAT_CHRONO, why);
  assert_contains(why, "UTF-8");
  parse_bad("2023-09-07: cut short \xe2\x80", VG_FORMAT_CHRONO, why);
  assert_contains(why, "UTF-8");
}

static void test_overlong_utf8_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  /* '/' written in two, three and four bytes, and a surrogate half. */
  parse_bad("2023-09-07: a\xc0\xaf", VG_FORMAT_CHRONO, why);
  assert_contains(why, "UTF-8");
  parse_bad("2023-09-07: a\xe0\x80\xaf", VG_FORMAT_CHRONO, why);
  assert_contains(why, "UTF-8");
  parse_bad("2023-09-07: a\xf0\x80\x80\xaf", VG_FORMAT_CHRONO, why);
  assert_contains(why, "UTF-8");
  parse_bad("2023-09-07: a\xed\xa0\x80", VG_FORMAT_CHRONO, why);
  assert_contains(why, "UTF-8");
}

static void test_nul_byte_in_line_rejected(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  static const char line[] = "2023-09-07: before\0after";
  parse_bad_n(line, sizeof line - 1, VG_FORMAT_CHRONO, why);
  assert_contains(why, "NUL");
  static const char json[] = "{\"date\": \"2023-09-07\", \"text\": \"a\0b\"}";
  parse_bad_n(json, sizeof json - 1, VG_FORMAT_JSON, why);
  assert_contains(why, "NUL");
}

static void test_json_escaped_nul_does_not_cut_text(void **state) {
  (void)state;
  /* "\u0000" decodes to a NUL inside the text: the record must be refused
   * rather than stored with its text silently cut at that point. */
  vg_entry e;
  char why[VG_REASON_MAX] = "";
  const char *line = "{\"date\": \"2023-09-07\", \"text\": \"kept\\u0000lost\"}";
  int rc = vg_entry_parse(line, strlen(line), VG_FORMAT_JSON, analyst, &e, why);
  size_t len = rc == 0 ? e.text_len : 0;
  if (rc == 0) vg_entry_clear(&e);
  if (rc == 0) fail_msg("accepted with text of %zu bytes instead of refusing the NUL", len);
  assert_int_equal(rc, VG_EPARSE);
}

static void test_same_entry_same_hash(void **state) {
  (void)state;
  uint8_t a[16], b[16];
  hash_of("2023-11-21: A satellite reaches orbit.", "desk", a);
  hash_of("2023-11-21: A satellite reaches orbit.", "desk", b);
  assert_memory_equal(a, b, 16);
}

static void test_different_source_different_hash(void **state) {
  (void)state;
  uint8_t a[16], b[16];
  hash_of("2023-11-21: A satellite reaches orbit.", "desk", a);
  hash_of("2023-11-21: A satellite reaches orbit.", "desk-2", b);
  assert_memory_not_equal(a, b, 16);
}

static void test_different_text_different_hash(void **state) {
  (void)state;
  uint8_t a[16], b[16];
  hash_of("2023-11-21: A satellite reaches orbit.", "desk", a);
  hash_of("2023-11-21: A satellite fails to reach orbit.", "desk", b);
  assert_memory_not_equal(a, b, 16);
}

static void test_different_date_different_hash(void **state) {
  (void)state;
  uint8_t a[16], b[16], c[16];
  hash_of("2023-11-21: A satellite reaches orbit.", "desk", a);
  hash_of("2023-11-22: A satellite reaches orbit.", "desk", b);
  hash_of("2023-11: A satellite reaches orbit.", "desk", c);
  assert_memory_not_equal(a, b, 16);
  assert_memory_not_equal(a, c, 16); /* a month is not its first day */
}

static void test_same_date_written_differently_same_hash(void **state) {
  (void)state;
  uint8_t a[16], b[16], c[16], d[16];
  hash_of("Sept. 7, 2023: x", "desk", a);
  hash_of("2023-09-07: x", "desk", b);
  hash_of("{\"date\": \"7 September 2023\", \"text\": \" x \"}", "desk", c);
  hash_of("2023-09-07:   x  ", "desk", d);
  assert_memory_equal(a, b, 16);
  assert_memory_equal(a, c, 16);
  assert_memory_equal(a, d, 16);
}

static void test_source_and_text_boundary_in_hash(void **state) {
  (void)state;
  /* Moving bytes between source and text must not give the same hash. */
  uint8_t a[16], b[16];
  hash_of("2023-09-07: bc", "a", a);
  hash_of("2023-09-07: c", "ab", b);
  assert_memory_not_equal(a, b, 16);
}

/* The event key of a line, as vg_entry_event makes it from the parsed entry. */
static int64_t event_of(const char *line) {
  vg_entry e;
  parse_ok(line, VG_FORMAT_AUTO, &e);
  int64_t k = vg_entry_event(e.text, e.text_len, e.date.first, e.date.last);
  vg_entry_clear(&e);
  return k;
}

static void test_event_ignores_case_spacing_and_punctuation(void **state) {
  (void)state;
  int64_t k = event_of("2023-11-21: North Korea launches a satellite.");
  assert_true(k == event_of("Nov. 21, 2023: north korea LAUNCHES a satellite"));
  assert_true(k == event_of("2023-11-21:   North  Korea, launches a satellite!!"));
  assert_true(k == event_of("{\"date\": \"2023-11-21T22:43:00Z\", \"text\": \"North Korea"
                            " launches a satellite\"}"));
  assert_true(k == event_of("{\"date\": \"2023-11-21\", \"text\": \"\u201cNorth Korea\u201d"
                            " launches\u00a0a satellite \u2014\", \"source\": \"wire\"}"));
  int64_t h = event_of("2023-07-12: North Korea fires a Hwasong-18.");
  assert_true(h == event_of("2023-07-12: North Korea fires a Hwasong 18"));
  /* Letters outside ASCII are kept as they are. */
  int64_t u = event_of("2023-07-12: Ch\xc3\xb6llima launches");
  assert_true(u == event_of("2023-07-12: ch\xc3\xb6llima   launches."));
  assert_true(u != event_of("2023-07-12: Chollima launches"));
}

static void test_event_differs_by_day_span_and_words(void **state) {
  (void)state;
  int64_t k = event_of("2023-11-21: North Korea launches a satellite.");
  assert_true(k != event_of("2023-11-22: North Korea launches a satellite."));
  assert_true(k != event_of("2023-11: North Korea launches a satellite."));
  assert_true(k != event_of("2023-11-21: North Korea launches a second satellite."));
  assert_true(k != event_of("2023-11-21: North Korea launches satellite."));
  /* Words run together are another word. */
  assert_true(event_of("2023-11-21: a b") != event_of("2023-11-21: ab"));
}

/* Stores deduplicate against hashes and event keys written by earlier
 * versions: these values, made by the parser as it first shipped, must
 * never change. The lines cover every precision, a record's own source,
 * escapes in the text, and a text longer than any buffer of the hash. */
static void test_hash_and_event_values_are_pinned(void **state) {
  (void)state;
  static char long_line[2200];
  char text[2101];
  for (int i = 0; i < 2100; i++) text[i] = "abcdefghij klmnopqrstuvwxyz, ABC."[i % 33];
  text[2100] = '\0';
  snprintf(long_line, sizeof long_line, "1999-02-03: %s", text);
  static const struct {
    const char *line, *hash;
    long long event;
  } pins[] = {
      {"2023-11-21: A satellite reaches orbit.", "b8cdf1896dd6fc0293e97fbf9829cf34",
       4990708756504825971LL},
      {"{\"date\":\"2023-11-21T10:30:00+09:00\",\"text\":\" Caf\\u00e9 \\\"quoted\\\"\\tend "
       "\\ud83d\\ude00\",\"source\":\"wire\",\"k\":[1,{\"a\":\"b\"}]}",
       "98353f58935ccf7bcf1c573b7053d93e", 646521489555318291LL},
      {"{\"date\": \"Dec. 5-7, 2023\", \"text\": \"Drills \xeb\x82\xa8\xeb\xb6\x81\"}",
       "c5696eec5efcab228ad82ab4dc7a5e58", 7434026247056134658LL},
      {"December 2023: a month", "c8ee3ea6677f730921d9e54e3a760d1c", -514311963841897795LL},
      {"2023: a year", "e610bfc973b9c4579dd85ba11f4783ea", 619734031860757816LL},
      {"mid-December 2023: part of a month", "508be2deccddf078bc111c826694bd2e",
       1435089504003569517LL},
      {"{\"date\":\"2000-01-01\",\"text\":\"The weather service issues a storm warning (report "
       "a-0000000)\",\"region\":\"r41\"}",
       "33ca402419d07e718eb451ae32141a39", -1613464381855077166LL},
      {long_line, "59df055fd8f7bc1293d9045296d3118d", 4166422500599914843LL},
  };
  for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
    vg_entry e;
    char why[VG_REASON_MAX] = "";
    if (vg_entry_parse(pins[i].line, strlen(pins[i].line), VG_FORMAT_AUTO, "desk", &e, why))
      fail_msg("\"%s\" was refused: %s", pins[i].line, why);
    char hex[33];
    for (int k = 0; k < 16; k++) snprintf(hex + 2 * k, 3, "%02x", e.hash[k]);
    long long event = vg_entry_event(e.text, e.text_len, e.date.first, e.date.last);
    vg_entry_clear(&e);
    assert_string_equal(hex, pins[i].hash);
    assert_true(event == pins[i].event);
  }
  /* Event keys of bare texts: separators outside ASCII, bytes that are not
   * UTF-8, no words at all, and a text longer than the key's buffer. */
  const char *curly = "\xe2\x80\x9cNorth Korea\xe2\x80\x9d launches\xc2\xa0"
                      "a satellite \xe2\x80\x94";
  const char *stray = "\xff\xfe abc \xe3\x80\x80 Ch\xc3\xb6llima";
  assert_true(vg_entry_event(curly, strlen(curly), 19682, 19684) == 5619065464877891077LL);
  assert_true(vg_entry_event(stray, strlen(stray), 19682, 19684) == -5374438902111750268LL);
  assert_true(vg_entry_event("", 0, 19682, 19684) == 3856027559863029337LL);
  assert_true(vg_entry_event(text, 2100, -5, 3) == 7482928792447796255LL);
}

/* ---- vg_text_similarity ---- */

static double sim(const char *a, const char *b) {
  return vg_text_similarity(a, strlen(a), b, strlen(b));
}

static void test_similarity_identical_texts_are_one(void **state) {
  (void)state;
  const char *t = "North Korea fired a ballistic missile toward the East Sea.";
  assert_true(sim(t, t) == 1.0);
  /* Case, punctuation, common words and word endings do not count. */
  assert_true(sim("NORTH KOREA FIRED BALLISTIC MISSILES; TOWARDS EAST SEA", t) == 1.0);
}

static void test_similarity_reworded_report_scores_between(void **state) {
  (void)state;
  /* Words, cut to five letters: north korea fired balli missi towar east
   * sea (8) against pyong launc balli missi east sea early monda (8): 4
   * shared of 12. */
  double s = sim("North Korea fired a ballistic missile toward the East Sea.",
                 "Pyongyang launched a ballistic missile into the East Sea early Monday.");
  assert_true(s > 4.0 / 12 - 1e-9 && s < 4.0 / 12 + 1e-9);
}

static void test_similarity_compares_numbers_whole(void **state) {
  (void)state;
  /* Cut to five characters, the serials would be one word. */
  assert_true(sim("launch (report a-0000123)", "launch (report a-0000145)") == 0.5);
  assert_true(sim("Hwasong-17 ICBM", "Hwasong-18 ICBM") == 0.5);
}

static void test_similarity_unrelated_texts_are_zero(void **state) {
  (void)state;
  assert_true(sim("North Korea fired a ballistic missile.",
                  "Allied warships held a drill near Busan on Tuesday.") == 0.0);
  /* Symmetric. */
  double a = sim("B-52 bombers flew over Osan", "Bombers flew near Osan and Gunsan"),
         b = sim("Bombers flew near Osan and Gunsan", "B-52 bombers flew over Osan");
  assert_true(a == b && a > 0.0 && a < 1.0);
}

static void test_similarity_of_texts_without_words_is_zero(void **state) {
  (void)state;
  assert_true(sim("", "") == 0.0);
  assert_true(sim("", "North Korea fired a missile") == 0.0);
  assert_true(sim("?!... -- ;;", "?!... -- ;;") == 0.0);
  assert_true(sim("the of and", "the of and") == 0.0); /* common words alone */
}

static void test_similarity_keeps_utf8_words_whole(void **state) {
  (void)state;
  /* A UTF-8 letter is part of its word, cut on a character boundary. */
  assert_true(sim("Пхеньян запустил ракету", "Пхеньян запустил ракеты") == 1.0);
  assert_true(sim("Пхеньян запустил ракету", "Сеул провел учения") == 0.0);
  assert_true(sim("Pyongyang\xc2\xa0" "fired", "Pyongyang fired") == 1.0); /* no-break space */
  assert_true(sim("北朝鮮", "北朝鮮 ") == 1.0);
}

/* ---- vg_entry_field_text: what `by = "FIELD"` and --partition-by read ---- */

static void test_field_text_of_members_and_source(void **state) {
  (void)state;
  vg_entry e;
  char out[VG_FIELD_MAX];
  parse_ok("{\"date\": \"2024-02-04\", \"text\": \"A tanker turns back.\", \"region\": "
           "\"black-sea\", \"ships\": 3, \"escorted\": false, \"route\": [\"Odesa\", "
           "\"Constanta\"], \"note\": null, \"port\": \"Constan\\u021ba\"}",
           VG_FORMAT_JSON, &e);
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "region", out), 9);
  assert_string_equal(out, "black-sea");
  /* Other values give their compact JSON text. */
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "ships", out), 1);
  assert_string_equal(out, "3");
  vg_entry_field_text(e.source, e.fields, "escorted", out);
  assert_string_equal(out, "false");
  vg_entry_field_text(e.source, e.fields, "route", out);
  assert_string_equal(out, "[\"Odesa\",\"Constanta\"]");
  /* A string's escapes are read: the text, not the JSON. */
  vg_entry_field_text(e.source, e.fields, "port", out);
  assert_string_equal(out, "Constan\xc8\x9b" "a");
  /* source is the default one when the record names none. */
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "source", out), (long)strlen(analyst));
  assert_string_equal(out, analyst);
  vg_entry_clear(&e);
  parse_ok("{\"date\": \"2024-02-04\", \"text\": \"x\", \"source\": \"wire\"}", VG_FORMAT_JSON, &e);
  vg_entry_field_text(e.source, e.fields, "source", out);
  assert_string_equal(out, "wire");
  vg_entry_clear(&e);
}

static void test_field_text_absent(void **state) {
  (void)state;
  vg_entry e;
  char out[VG_FIELD_MAX];
  parse_ok("{\"date\": \"2024-02-04\", \"text\": \"A tanker turns back.\", \"note\": null,"
           " \"Region\": \"north\"}", VG_FORMAT_JSON, &e);
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "region", out), -1); /* case counts */
  assert_string_equal(out, "");
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "note", out), -1);   /* null */
  /* date and text are no fields, nor is the empty name. */
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "date", out), -1);
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "text", out), -1);
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "", out), -1);
  assert_false(vg_entry_field_name_ok("date"));
  assert_false(vg_entry_field_name_ok(""));
  assert_true(vg_entry_field_name_ok("source"));
  assert_true(vg_entry_field_name_ok("region"));
  vg_entry_clear(&e);
  /* A chronology line has no members; its source is still a field. */
  parse_ok("Feb. 4, 2024: A tanker turns back.", VG_FORMAT_AUTO, &e);
  assert_null(e.fields);
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "region", out), -1);
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "source", out), (long)strlen(analyst));
  vg_entry_clear(&e);
}

static void test_field_text_is_cut_between_characters(void **state) {
  (void)state;
  char line[2048], value[1024], out[VG_FIELD_MAX];
  /* "é" is two bytes: 254 bytes of a, then é, would cut it in two at 255. */
  memset(value, 'a', 254);
  strcpy(value + 254, "\xc3\xa9\xc3\xa9");
  snprintf(line, sizeof line, "{\"date\": \"2024-02-04\", \"text\": \"x\", \"k\": \"%s\"}", value);
  vg_entry e;
  parse_ok(line, VG_FORMAT_JSON, &e);
  assert_int_equal(vg_entry_field_text(e.source, e.fields, "k", out), 254);
  assert_int_equal(strlen(out), 254);
  vg_entry_clear(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chrono_text_is_trimmed),
      cmocka_unit_test(test_chrono_source_is_the_callers),
      cmocka_unit_test(test_leading_blanks_before_date_are_skipped),
      cmocka_unit_test(test_trailing_cr_is_ignored),
      cmocka_unit_test(test_text_may_contain_colons_and_utf8),
      cmocka_unit_test(test_json_record),
      cmocka_unit_test(test_field_text_of_members_and_source),
      cmocka_unit_test(test_field_text_absent),
      cmocka_unit_test(test_field_text_is_cut_between_characters),
      cmocka_unit_test(test_json_source_overrides_default),
      cmocka_unit_test(test_json_extra_members_become_fields),
      cmocka_unit_test(test_json_fields_keep_each_value_as_written),
      cmocka_unit_test(test_json_member_given_twice_is_refused),
      cmocka_unit_test(test_auto_detects_json_and_chrono),
      cmocka_unit_test(test_chrono_format_does_not_read_json),
      cmocka_unit_test(test_clear_twice_is_safe),
      cmocka_unit_test(test_empty_line_rejected),
      cmocka_unit_test(test_blank_line_rejected),
      cmocka_unit_test(test_line_without_date_rejected),
      cmocka_unit_test(test_impossible_date_rejected),
      cmocka_unit_test(test_unknown_month_rejected),
      cmocka_unit_test(test_missing_colon_rejected),
      cmocka_unit_test(test_no_text_after_date_rejected),
      cmocka_unit_test(test_json_without_text_rejected),
      cmocka_unit_test(test_json_without_date_rejected),
      cmocka_unit_test(test_json_array_rejected),
      cmocka_unit_test(test_json_number_rejected),
      cmocka_unit_test(test_invalid_json_rejected),
      cmocka_unit_test(test_trailing_garbage_after_json_rejected),
      cmocka_unit_test(test_json_date_not_a_string_rejected),
      cmocka_unit_test(test_json_date_with_trailing_junk_rejected),
      cmocka_unit_test(test_json_empty_source_rejected),
      cmocka_unit_test(test_invalid_utf8_rejected),
      cmocka_unit_test(test_overlong_utf8_rejected),
      cmocka_unit_test(test_nul_byte_in_line_rejected),
      cmocka_unit_test(test_json_escaped_nul_does_not_cut_text),
      cmocka_unit_test(test_same_entry_same_hash),
      cmocka_unit_test(test_different_source_different_hash),
      cmocka_unit_test(test_different_text_different_hash),
      cmocka_unit_test(test_different_date_different_hash),
      cmocka_unit_test(test_same_date_written_differently_same_hash),
      cmocka_unit_test(test_source_and_text_boundary_in_hash),
      cmocka_unit_test(test_event_ignores_case_spacing_and_punctuation),
      cmocka_unit_test(test_event_differs_by_day_span_and_words),
      cmocka_unit_test(test_hash_and_event_values_are_pinned),
      cmocka_unit_test(test_similarity_identical_texts_are_one),
      cmocka_unit_test(test_similarity_reworded_report_scores_between),
      cmocka_unit_test(test_similarity_unrelated_texts_are_zero),
      cmocka_unit_test(test_similarity_compares_numbers_whole),
      cmocka_unit_test(test_similarity_of_texts_without_words_is_zero),
      cmocka_unit_test(test_similarity_keeps_utf8_words_whole),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
