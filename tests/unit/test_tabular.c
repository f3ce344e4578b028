/* test_tabular.c — CSV and TSV rows to entries (tabular.h), and the framer
 * that cuts rows with quoted newlines (vg_framer_quote).
 *
 * Covers the header (after a BOM, in any column order, named twice), cell
 * counts against the header and against the declared layouts, RFC 4180
 * quoting (commas, doubled quotes, newlines inside quotes, bad quoting),
 * cells kept exactly (spaces, leading zeros, empty cells left out), the date
 * layouts, the text joined from its columns with CAMEO descriptions, ids and
 * last-edit marks, formats the configuration declares and those it refuses,
 * and rows cut the same however the bytes are split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "tabular.h"
#include "vigil.h"

/* A format declared as the configuration would: name, date, text. */
static vg_tabular_format *declare(const char *name, const char *date, const char *text,
                                  vg_date_layout layout) {
  static vg_tabular_format f;
  memset(&f, 0, sizeof f);
  f.name = strdup(name);
  f.delim = ',';
  f.quote = '"';
  f.date = strdup(date);
  f.layout = layout;
  f.text = calloc(1, sizeof *f.text);
  f.text[0].column = strdup(text);
  f.ntext = 1;
  return &f;
}

/* Reads row into e with t; the status vg_tabular_row returned. */
static int row(vg_tabular *t, const char *text, uint64_t n, vg_entry *e, char *why) {
  return vg_tabular_row(t, text, strlen(text), n, "test", e, why);
}

static const char *field(const vg_entry *e, const char *name, char out[VG_FIELD_MAX]) {
  return vg_entry_field_text(e->source, e->fields, name, out) < 0 ? NULL : out;
}

static void test_header_then_rows(void **state) {
  (void)state;
  char err[256], why[VG_REASON_MAX], v[VG_FIELD_MAX];
  vg_tabular_format *f = declare("desk", "day", "note", VG_LAYOUT_ISO);
  f->id = strdup("ref");
  assert_int_equal(vg_tabular_define(f, err, sizeof err), 0);
  vg_tabular *t = vg_tabular_new(vg_tabular_find("desk"));
  assert_non_null(t);
  vg_entry e;
  assert_int_equal(row(t, "\xEF\xBB\xBFref,note,day,code\r", 1, &e, why), VG_TABULAR_HEADER);
  assert_int_equal(row(t, "R1,\"Drill, then a launch\",2024-01-05,0045\r", 2, &e, why), 0);
  assert_string_equal(e.date_text, "2024-01-05");
  assert_int_equal((int)e.text_len, (int)strlen("Drill, then a launch"));
  assert_memory_equal(e.text, "Drill, then a launch", e.text_len);
  assert_string_equal(e.key, "R1");
  assert_string_equal(e.scope, "desk");
  assert_string_equal(field(&e, "code", v), "0045");
  assert_string_equal(field(&e, "ref", v), "R1");
  assert_null(field(&e, "day", v)); /* the date is the entry's */
  vg_entry_clear(&e);
  /* a doubled quote, a quoted newline, an empty cell left out */
  assert_int_equal(row(t, "R2,\"He said \"\"no\"\"\nthen left\",2024-01-06,", 3, &e, why), 0);
  assert_memory_equal(e.text, "He said \"no\"\nthen left", e.text_len);
  assert_null(field(&e, "code", v));
  vg_entry_clear(&e);
  /* spaces around cells are kept */
  assert_int_equal(row(t, "R3, padded ,2024-01-07, 7 ", 4, &e, why), 0);
  assert_memory_equal(e.text, " padded ", e.text_len);
  assert_string_equal(field(&e, "code", v), " 7 ");
  vg_entry_clear(&e);
  assert_int_equal(row(t, "R4,short,2024-01-08", 5, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 5 has 3 cells, the header 4");
  assert_int_equal(row(t, "R5,x,2024-01-08,1,2", 6, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 6 has 5 cells, the header 4");
  assert_int_equal(row(t, "R6,bad \"quote,2024-01-08,1", 7, &e, why), VG_EPARSE);
  assert_non_null(strstr(why, "row 7: bad quoting at byte"));
  assert_int_equal(row(t, "R7,\"never closed,2024-01-08,1", 8, &e, why), VG_EPARSE);
  assert_non_null(strstr(why, "row 8: bad quoting: a quoted cell is not closed"));
  /* the parser recovers after a bad row */
  assert_int_equal(row(t, "R8,fine,2024-01-09,2", 9, &e, why), 0);
  vg_entry_clear(&e);
  assert_int_equal(row(t, "R9,x,08/01/2024,1", 10, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 10: column 'day': '08/01/2024' is no date (YYYY-MM-DD)");
  assert_int_equal(row(t, ",x,2024-01-08,1", 11, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 11: the id column 'ref' is empty");
  assert_int_equal(row(t, "R10,,2024-01-08,1", 12, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 12: no text: the text columns are empty");
  assert_int_equal(row(t, "R11,caf\xC3,2024-01-08,1", 13, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 13: invalid UTF-8 at byte 8");
  assert_int_equal(row(t, "", 14, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 14 is empty");
  /* only the first row may be the header */
  assert_int_equal(row(t, "ref,note,day,code", 15, &e, why), VG_EPARSE);
  assert_non_null(strstr(why, "is no date"));
  vg_tabular_free(t);
}

static void test_header_problems(void **state) {
  (void)state;
  char err[256], why[VG_REASON_MAX];
  assert_int_equal(vg_tabular_define(declare("hdr", "day", "note", VG_LAYOUT_ANY), err, sizeof err),
                   0);
  vg_tabular *t = vg_tabular_new(vg_tabular_find("hdr"));
  vg_entry e;
  assert_int_equal(row(t, "day,note,note", 1, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 1: the header names column 'note' twice");
  assert_int_equal(row(t, "2024-01-05,a,b", 2, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 2: the header of this input was refused");
  vg_tabular_free(t);
  t = vg_tabular_new(vg_tabular_find("hdr"));
  assert_int_equal(row(t, "day,what", 1, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 1: the header has no column 'note'");
  vg_tabular_free(t);
  t = vg_tabular_new(vg_tabular_find("hdr"));
  assert_int_equal(row(t, "2024-01-05,a", 1, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 1: no header row naming the date column 'day' came first");
  vg_tabular_free(t);
}

static void test_layouts(void **state) {
  (void)state;
  char err[256], why[VG_REASON_MAX];
  vg_tabular_format *f = declare("unixy", "t", "x", VG_LAYOUT_UNIX);
  f->columns = calloc(3, sizeof *f->columns);
  f->columns[0] = strdup("t");
  f->columns[1] = strdup("x");
  f->ncolumns = 2;
  assert_int_equal(vg_tabular_define(f, err, sizeof err), 0);
  vg_tabular *t = vg_tabular_new(vg_tabular_find("unixy"));
  vg_entry e;
  assert_int_equal(row(t, "1704412800,a", 1, &e, why), 0); /* 2024-01-05T00:00:00Z */
  assert_string_equal(e.date_text, "2024-01-05");
  vg_entry_clear(&e);
  assert_int_equal(row(t, "1704499199,a", 2, &e, why), 0); /* its last second */
  assert_string_equal(e.date_text, "2024-01-05");
  vg_entry_clear(&e);
  assert_int_equal(row(t, "-1,a", 3, &e, why), 0);
  assert_string_equal(e.date_text, "1969-12-31");
  vg_entry_clear(&e);
  assert_int_equal(row(t, "17e8,a", 4, &e, why), VG_EPARSE);
  assert_int_equal(row(t, "99999999999999,a", 5, &e, why), VG_EPARSE);
  vg_tabular_free(t);

  const vg_tabular_format *g = vg_tabular_find("gdelt");
  assert_non_null(g);
  assert_int_equal(g->layout, VG_LAYOUT_YMD);
  vg_date_layout l;
  assert_int_equal(vg_date_layout_parse("YYYYMMDD", &l), 0);
  assert_int_equal(l, VG_LAYOUT_YMD);
  assert_int_equal(vg_date_layout_parse("DD/MM/YYYY", &l), VG_EINVAL);
}

/* A GDELT 2.0 row: 61 tab-separated cells, these set. */
static char *gdelt_row(int v2, const char *code) {
  const vg_tabular_format *g = vg_tabular_find("gdelt");
  size_t n = v2 ? g->ncolumns : g->nalt;
  char *const *cols = v2 ? g->columns : g->columns_alt;
  char *s = calloc(1, 4096);
  for (size_t i = 0; i < n; i++) {
    const char *v = "";
    if (!strcmp(cols[i], "GLOBALEVENTID")) v = "1130000002";
    else if (!strcmp(cols[i], "SQLDATE")) v = "20231123";
    else if (!strcmp(cols[i], "Actor1Name")) v = "NORTH KOREA";
    else if (!strcmp(cols[i], "Actor1CountryCode")) v = "PRK";
    else if (!strcmp(cols[i], "EventCode")) v = code;
    else if (!strcmp(cols[i], "QuadClass")) v = "4";
    else if (!strcmp(cols[i], "ActionGeo_FullName")) v = "Panmunjom, South Korea";
    strcat(s, v);
    if (i + 1 < n) strcat(s, "\t");
  }
  return s;
}

static void test_gdelt(void **state) {
  (void)state;
  char why[VG_REASON_MAX], v[VG_FIELD_MAX], want[256];
  const vg_tabular_format *g = vg_tabular_find("gdelt");
  assert_int_equal((int)g->ncolumns, 61);
  assert_int_equal((int)g->nalt, 58);
  vg_tabular *t = vg_tabular_new(g);
  vg_entry e;
  for (int v2 = 1; v2 >= 0; v2--) {
    char *r = gdelt_row(v2, "190");
    assert_int_equal(row(t, r, 1, &e, why), 0);
    const char *d = vg_cameo("190");
    assert_non_null(d);
    snprintf(want, sizeof want, "NORTH KOREA \u2014 %s \u2014 Panmunjom, South Korea", d);
    assert_int_equal((int)e.text_len, (int)strlen(want));
    assert_memory_equal(e.text, want, e.text_len);
    assert_string_equal(e.source, "gdelt");
    assert_string_equal(e.date_text, "2023-11-23");
    assert_string_equal(field(&e, "EventCode", v), "190");
    assert_string_equal(field(&e, "Actor1CountryCode", v), "PRK");
    assert_string_equal(e.key, "1130000002");
    vg_entry_clear(&e);
    free(r);
  }
  char *r = gdelt_row(1, "9999");
  assert_int_equal(row(t, r, 2, &e, why), 0); /* a code the table lacks: named as it is */
  assert_non_null(memmem(e.text, e.text_len, "CAMEO 9999", 10));
  vg_entry_clear(&e);
  free(r);
  assert_int_equal(row(t, "1\t2\t3", 3, &e, why), VG_EPARSE);
  assert_string_equal(why, "row 3 has 3 cells, the format's rows 61 or 58");
  /* a quote in a TSV cell is a character like any other */
  r = gdelt_row(1, "0874");
  char *at = strstr(r, "NORTH KOREA");
  memcpy(at, "\"NORTH\"", 7);
  assert_int_equal(row(t, r, 4, &e, why), 0);
  assert_non_null(memmem(e.text, e.text_len, "\"NORTH\"OREA", 11));
  vg_entry_clear(&e);
  free(r);
  vg_tabular_free(t);
  assert_string_equal(vg_cameo("0874") ? "found" : "missing", "found");
  assert_null(vg_cameo("not a code"));
}

static void test_acled_preset(void **state) {
  (void)state;
  const vg_tabular_format *a = vg_tabular_find("acled");
  assert_non_null(a);
  assert_int_equal((int)a->ncolumns, 31);
  assert_string_equal(a->id, "event_id_cnty");
  assert_string_equal(a->edited, "timestamp");
  assert_ptr_equal(vg_tabular_by_suffix("2024-korea.acled.csv"), a);
  assert_ptr_equal(vg_tabular_by_suffix("20240101000000.export.CSV"), vg_tabular_find("gdelt"));
  assert_null(vg_tabular_by_suffix("notes.csv"));
  vg_format fmt;
  assert_int_equal(vg_format_parse("acled", &fmt), 0);
  assert_ptr_equal(vg_tabular_of(fmt), a);
  assert_int_equal(vg_format_parse("json", &fmt), 0);
  assert_null(vg_tabular_of(fmt));
}

static void test_refused_definitions(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(vg_tabular_define(declare("acled", "d", "t", VG_LAYOUT_ANY), err, sizeof err),
                   VG_EINVAL);
  assert_string_equal(err, "format 'acled': a shipped format has that name; choose another");
  assert_int_equal(vg_tabular_define(declare("json", "d", "t", VG_LAYOUT_ANY), err, sizeof err),
                   VG_EINVAL);
  assert_string_equal(err, "format 'json': that name is a line format's");
  vg_tabular_format *f = declare("nodate", "", "t", VG_LAYOUT_ANY);
  assert_int_equal(vg_tabular_define(f, err, sizeof err), VG_EINVAL);
  f = declare("samechar", "d", "t", VG_LAYOUT_ANY);
  f->quote = ',';
  assert_int_equal(vg_tabular_define(f, err, sizeof err), VG_EINVAL);
  /* a name is a spool directory's: not done/ or failed/, one path part, 63 bytes at most */
  assert_int_equal(vg_tabular_define(declare("done", "d", "t", VG_LAYOUT_ANY), err, sizeof err),
                   VG_EINVAL);
  assert_string_equal(err, "format 'done': the name is the spool's own directory; choose another");
  assert_int_equal(vg_tabular_define(declare("failed", "d", "t", VG_LAYOUT_ANY), err, sizeof err),
                   VG_EINVAL);
  assert_int_equal(vg_tabular_define(declare("a/b", "d", "t", VG_LAYOUT_ANY), err, sizeof err),
                   VG_EINVAL);
  assert_int_equal(vg_tabular_define(declare(".hidden", "d", "t", VG_LAYOUT_ANY), err, sizeof err),
                   VG_EINVAL);
  char longname[80];
  memset(longname, 'x', 64);
  longname[64] = '\0';
  assert_int_equal(vg_tabular_define(declare(longname, "d", "t", VG_LAYOUT_ANY), err, sizeof err),
                   VG_EINVAL);
  assert_null(vg_tabular_find(longname));
  longname[63] = '\0';
  assert_int_equal(vg_tabular_define(declare(longname, "d", "t", VG_LAYOUT_ANY), err, sizeof err), 0);
  /* defined again as it was: the one in force is kept */
  assert_int_equal(vg_tabular_define(declare("twice", "d", "t", VG_LAYOUT_ANY), err, sizeof err), 0);
  const vg_tabular_format *first = vg_tabular_find("twice");
  assert_int_equal(vg_tabular_define(declare("twice", "d", "t", VG_LAYOUT_ANY), err, sizeof err), 0);
  assert_ptr_equal(vg_tabular_find("twice"), first);
  /* changed: the new one is in force, the old one still good */
  assert_int_equal(vg_tabular_define(declare("twice", "d", "u", VG_LAYOUT_ANY), err, sizeof err), 0);
  assert_ptr_not_equal(vg_tabular_find("twice"), first);
  assert_string_equal(first->text[0].column, "t");
}

/* A definition's number is its own, after a newer one took its name, and
 * after one a refused configuration declared was withdrawn. */
static void test_numbers_and_withdrawal(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(vg_tabular_define(declare("kept", "d", "t", VG_LAYOUT_ANY), err, sizeof err), 0);
  const vg_tabular_format *old = vg_tabular_find("kept");
  size_t mark = vg_tabular_mark();
  assert_int_equal(vg_tabular_define(declare("kept", "d", "u", VG_LAYOUT_ANY), err, sizeof err), 0);
  assert_int_equal(vg_tabular_define(declare("fresh", "d", "t", VG_LAYOUT_ANY), err, sizeof err), 0);
  const vg_tabular_format *newer = vg_tabular_find("kept"), *fresh = vg_tabular_find("fresh");
  assert_ptr_not_equal(newer, old);
  assert_ptr_equal(vg_tabular_of(vg_tabular_fmt(old)), old);
  assert_ptr_equal(vg_tabular_of(vg_tabular_fmt(newer)), newer);
  vg_tabular_withdraw(mark);
  assert_ptr_equal(vg_tabular_find("kept"), old);
  assert_null(vg_tabular_find("fresh"));
  assert_ptr_equal(vg_tabular_of(vg_tabular_fmt(fresh)), fresh); /* still good */
  assert_string_equal(newer->text[0].column, "u");
}

/* A connection's first row may come after its "auth TOKEN" line: its BOM
 * is still no part of the header's first name. */
static void test_bom_after_a_line(void **state) {
  (void)state;
  char why[VG_REASON_MAX];
  vg_tabular *t = vg_tabular_new(vg_tabular_find("desk"));
  assert_non_null(t);
  vg_entry e;
  assert_int_equal(row(t, "\xEF\xBB\xBFref,note,day", 2, &e, why), VG_TABULAR_HEADER);
  assert_int_equal(row(t, "R9,A row after the header,2024-01-07", 3, &e, why), 0);
  assert_string_equal(e.key, "R9");
  vg_entry_clear(&e);
  vg_tabular_free(t);
}

/* The rows a framer in quote mode cut, joined by '|'. */
static int collect(void *ud, const char *data, size_t len, uint64_t total, uint64_t line_no,
                   unsigned flags) {
  (void)total, (void)line_no, (void)flags;
  char *out = ud;
  strncat(out, data, len);
  strcat(out, "|");
  return 0;
}

static void test_framer_quotes(void **state) {
  (void)state;
  const char *in = "a,\"b\nc\",d\ne,\"f\"\"\ng\"\nh\n\"i\"\n";
  const char *want = "a,\"b\nc\",d|e,\"f\"\"\ng\"|h|\"i\"|";
  for (size_t split = 0; split <= strlen(in); split++) {
    char out[256] = "";
    vg_framer f;
    vg_framer_init(&f, 1024);
    vg_framer_quote(&f, '"', ',');
    assert_int_equal(vg_framer_feed(&f, in, split, collect, out), 0);
    assert_int_equal(vg_framer_feed(&f, in + split, strlen(in) - split, collect, out), 0);
    assert_int_equal(vg_framer_finish(&f, collect, out), 0);
    assert_string_equal(out, want);
    assert_int_equal((int)f.line_no, 4);
    vg_framer_free(&f);
  }
  /* A quote inside an unquoted cell quotes nothing (RFC 4180): its row is
   * refused alone, and the rows after it are cut as they are. */
  const char *stray = "1,5\" of rain\n2,\"a,\"\"b\"\"\nc\"\n3,x\"\"\n4,ok\n";
  const char *rows = "1,5\" of rain|2,\"a,\"\"b\"\"\nc\"|3,x\"\"|4,ok|";
  for (size_t split = 0; split <= strlen(stray); split++) {
    char got[256] = "";
    vg_framer f;
    vg_framer_init(&f, 1024);
    vg_framer_quote(&f, '"', ',');
    assert_int_equal(vg_framer_feed(&f, stray, split, collect, got), 0);
    assert_int_equal(vg_framer_feed(&f, stray + split, strlen(stray) - split, collect, got), 0);
    assert_int_equal(vg_framer_finish(&f, collect, got), 0);
    assert_string_equal(got, rows);
    vg_framer_free(&f);
  }
  /* without quote mode, lines as before */
  char out[256] = "";
  vg_framer f;
  vg_framer_init(&f, 1024);
  assert_int_equal(vg_framer_feed(&f, "a\"\nb\n", 5, collect, out), 0);
  assert_string_equal(out, "a\"|b|");
  vg_framer_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_then_rows), cmocka_unit_test(test_header_problems),
      cmocka_unit_test(test_layouts),          cmocka_unit_test(test_gdelt),
      cmocka_unit_test(test_acled_preset),     cmocka_unit_test(test_refused_definitions),
      cmocka_unit_test(test_framer_quotes),    cmocka_unit_test(test_numbers_and_withdrawal),
      cmocka_unit_test(test_bom_after_a_line),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  vg_tabulars_free();
  return rc;
}
