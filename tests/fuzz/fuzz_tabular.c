/* fuzz_tabular.c — libFuzzer harness for table rows (core/tabular.c) and
 * the framer's quote mode (core/framer.c).
 *
 * The first byte picks the format (acled: CSV with a header; gdelt: TSV
 * with declared columns); the rest is cut into rows by a framer in quote
 * mode, as a file is, each row read by one reader. A parsed entry's text
 * must lie within its length and be valid UTF-8, its fields valid JSON
 * text, its key set for these formats with ids; a header comes only as
 * the first row. */
#include "framer.h"
#include "tabular.h"
#include "vigil.h"

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  vg_log_set_level(VG_LOG_ERROR + 1);
  return 0;
}

static int on_row(void *ud, const char *row, size_t len, uint64_t total, uint64_t line_no,
                  unsigned flags) {
  vg_tabular *t = ud;
  (void)total;
  if (flags & VG_LINE_TOO_LONG) return 0;
  vg_entry e;
  char why[VG_REASON_MAX];
  int rc = vg_tabular_row(t, row, len, line_no, "fuzz", &e, why);
  if (rc == VG_TABULAR_HEADER && line_no != 1) __builtin_trap();
  if (rc == 0) {
    if (!e.text_len || !e.text || vg_utf8_check(e.text, e.text_len) != -1) __builtin_trap();
    if (!e.key || !e.source) __builtin_trap();
    if (e.date.first > e.date.last) __builtin_trap();
    if (e.fields) {
      cJSON *o = cJSON_Parse(e.fields);
      if (!cJSON_IsObject(o)) __builtin_trap();
      cJSON_Delete(o);
    }
    vg_entry_clear(&e);
  } else if (rc != VG_TABULAR_HEADER && (rc != VG_EPARSE || !why[0])) {
    __builtin_trap();
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const vg_tabular_format *f = vg_tabular_find(data[0] & 1 ? "gdelt" : "acled");
  vg_tabular *t = vg_tabular_new(f);
  if (!t) return 0;
  vg_framer fr;
  vg_framer_init(&fr, 4096);
  vg_framer_quote(&fr, f->quote, f->delim);
  vg_framer_feed(&fr, (const char *)data + 1, size - 1, on_row, t);
  vg_framer_finish(&fr, on_row, t);
  vg_framer_free(&fr);
  vg_tabular_free(t);
  return 0;
}
