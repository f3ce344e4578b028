/* test_tabular_fields.c — vg_tabular_row: a row's cells to an entry's fields.
 *
 * Covers that the fields are, byte for byte, what cJSON prints of an object
 * of the kept cells (every escape: quote, backslash, \b \f \n \r \t, other
 * control bytes as \u00XX; UTF-8 and DEL as they are; names escaped too),
 * that empty cells and the date's and source's are left out, that a row
 * with nothing to keep has no fields, and that a row of a format without
 * quoting (GDELT) is split at every delimiter as libcsv splits it: a
 * trailing delimiter makes one more, empty, cell, a leading one an empty
 * first cell, and a newline inside the row is still refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "tabular.h"
#include "vigil.h"

/* Reads rows[0..n) through one reader of format name; the last row's
 * outcome in *rc, its entry in e (cleared by the caller), why in why. */
static void read_rows(const char *name, const char *const *rows, size_t n, int *rc, vg_entry *e,
                      char why[VG_REASON_MAX]) {
  const vg_tabular_format *f = vg_tabular_find(name);
  assert_non_null(f);
  vg_tabular *t = vg_tabular_new(f);
  assert_non_null(t);
  for (size_t i = 0; i < n; i++) {
    if (i) vg_entry_clear(e);
    *rc = vg_tabular_row(t, rows[i], strlen(rows[i]), i + 1, "test", e, why);
  }
  vg_tabular_free(t);
}

static void test_fields_escaped_as_cjson_prints_them(void **state) {
  (void)state;
  const char *rows[] = {
      "event_date,event_type,notes,\"odd\"\"name\",back\\slash,source,blank,event_id_cnty\r",
      "2023-01-02,Protests,\"say \"\"no\"\", then\tgo \x01\x1f\x7f a\\b \b\f\r\nend "
      "\xc3\xa9\xed\x95\x9c\xf0\x9f\x98\x80\",\"v\"\"1\",x\\y,Yonhap,,KOR1\r"};
  int rc;
  vg_entry e;
  char why[VG_REASON_MAX];
  read_rows("acled", rows, 2, &rc, &e, why);
  assert_int_equal(rc, 0);
  assert_string_equal(e.source, "Yonhap");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "event_type", "Protests");
  cJSON_AddStringToObject(o, "notes",
                          "say \"no\", then\tgo \x01\x1f\x7f a\\b \b\f\r\nend "
                          "\xc3\xa9\xed\x95\x9c\xf0\x9f\x98\x80");
  cJSON_AddStringToObject(o, "odd\"name", "v\"1");
  cJSON_AddStringToObject(o, "back\\slash", "x\\y");
  cJSON_AddStringToObject(o, "event_id_cnty", "KOR1");
  char *want = cJSON_PrintUnformatted(o);
  assert_non_null(e.fields);
  assert_string_equal(e.fields, want);
  assert_non_null(strstr(e.fields, "\\u0001\\u001f\x7f"));
  free(want);
  cJSON_Delete(o);
  vg_entry_clear(&e);
}

static void test_no_kept_cell_no_fields(void **state) {
  (void)state;
  vg_tabular_format f = {.delim = ',', .quote = '"', .layout = VG_LAYOUT_ISO};
  f.name = strdup("plain");
  f.date = strdup("date");
  f.text = calloc(1, sizeof *f.text);
  f.text[0].column = strdup("text");
  f.ntext = 1;
  char err[200];
  assert_int_equal(vg_tabular_define(&f, err, sizeof err), 0);
  const char *rows[] = {"date,text,extra", "2023-05-06,a launch,"};
  int rc;
  vg_entry e;
  char why[VG_REASON_MAX];
  read_rows("plain", rows, 2, &rc, &e, why);
  assert_int_equal(rc, 0);
  assert_string_equal(e.text, "a launch");
  assert_null(e.fields); /* "text" is no field's name; extra is empty */
  vg_entry_clear(&e);
}

/* A GDELT 2.0 row of 61 cells: id, date, Actor1Name, EventCode; the rest
 * empty. */
static void gdelt_row(char *out, size_t cap, const char *actor) {
  const char *cells[61] = {0};
  cells[0] = "42";
  cells[1] = "20230102";
  cells[6] = actor;
  cells[26] = "190";
  size_t n = 0;
  for (size_t i = 0; i < 61; i++)
    n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "\t" : "", cells[i] ? cells[i] : "");
}

static void test_unquoted_rows_split_at_every_delimiter(void **state) {
  (void)state;
  char row[512], longer[600], lead[600];
  gdelt_row(row, sizeof row, "NORTH \"KOREA\"\r\x01");
  int rc;
  vg_entry e;
  char why[VG_REASON_MAX];
  const char *one[] = {row};
  read_rows("gdelt", one, 1, &rc, &e, why);
  assert_int_equal(rc, 0);
  assert_string_equal(e.fields, "{\"GLOBALEVENTID\":\"42\",\"Actor1Name\":\"NORTH \\\"KOREA\\\"\\r"
                                "\\u0001\",\"EventCode\":\"190\"}");
  assert_non_null(strstr(e.text, "Use conventional military force"));
  vg_entry_clear(&e);

  snprintf(longer, sizeof longer, "%s\t", row); /* a 62nd, empty, cell */
  const char *two[] = {longer};
  read_rows("gdelt", two, 1, &rc, &e, why);
  assert_int_equal(rc, VG_EPARSE);
  assert_string_equal(why, "row 1 has 62 cells, the format's rows 61 or 58");

  snprintf(lead, sizeof lead, "\t%s", strchr(row, '\t') + 1); /* an empty id */
  const char *three[] = {lead};
  read_rows("gdelt", three, 1, &rc, &e, why);
  assert_int_equal(rc, VG_EPARSE);
  assert_string_equal(why, "row 1: the id column 'GLOBALEVENTID' is empty");

  gdelt_row(row, sizeof row, "NORTH\nKOREA");
  const char *four[] = {row};
  read_rows("gdelt", four, 1, &rc, &e, why);
  assert_int_equal(rc, VG_EPARSE);
  assert_non_null(strstr(why, "a newline outside quotes"));
}

static int teardown(void **state) {
  (void)state;
  vg_tabulars_free();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fields_escaped_as_cjson_prints_them),
      cmocka_unit_test(test_no_kept_cell_no_fields),
      cmocka_unit_test(test_unquoted_rows_split_at_every_delimiter),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
