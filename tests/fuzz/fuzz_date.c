/* fuzz_date.c — libFuzzer harness for the date parser (core/date.c).
 *
 * The whole input goes to vg_date_parse and to vg_date_parse_prefix; on
 * success the result is formatted back, and the invariants the header
 * promises (used <= n, first <= last, a formatted text that fits) are
 * checked so a logic slip shows up as a crash, not only memory errors. */
#include "date.h"
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

static void check(const vg_date *d) {
  char buf[VG_DATE_TEXT_MAX];
  if (d->first > d->last) __builtin_trap();
  size_t len = vg_date_format(d, buf);
  if (len >= VG_DATE_TEXT_MAX || strlen(buf) != len) __builtin_trap();
  char day[11];
  vg_day_format(d->first, day);
  (void)vg_precision_name(d->precision);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  char err[160];
  vg_date d;

  if (vg_date_parse(s, size, &d, err, sizeof err) == 0) check(&d);

  size_t used = (size_t)-1;
  if (vg_date_parse_prefix(s, size, &used, &d, err, sizeof err) == 0) {
    if (used > size) __builtin_trap();
    check(&d);
  }
  return 0;
}
