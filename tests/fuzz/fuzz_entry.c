/* fuzz_entry.c — libFuzzer harness for the entry parser (core/entry.c).
 *
 * The input, cut at its first newline as the framer would, is parsed as a
 * chronology or JSON line with VG_FORMAT_AUTO; a parsed entry's text must
 * lie within its reported length and be valid UTF-8, and is then released
 * with vg_entry_clear (twice, which the header allows). */
#include "entry.h"
#include "vigil.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *line = (const char *)data;
  const char *nl = memchr(line, '\n', size);
  size_t len = nl ? (size_t)(nl - line) : size;

  vg_entry e;
  char why[VG_REASON_MAX];
  memset(&e, 0, sizeof e);
  if (vg_entry_parse(line, len, VG_FORMAT_AUTO, "fuzz", &e, why) == 0) {
    if (!e.source || (e.text_len && !e.text)) __builtin_trap();
    if (e.text_len && vg_utf8_check(e.text, e.text_len) != -1) __builtin_trap();
    if (e.date.first > e.date.last) __builtin_trap();
    (void)strlen(e.source);
    if (e.fields) (void)strlen(e.fields);
    vg_entry_clear(&e);
    vg_entry_clear(&e);
  } else {
    why[VG_REASON_MAX - 1] = '\0';
    (void)strlen(why);
  }
  return 0;
}
