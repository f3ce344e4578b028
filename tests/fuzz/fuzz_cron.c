/* fuzz_cron.c — libFuzzer harness for cron schedules (core/cron.c).
 *
 * The input (up to its first NUL) is parsed with vg_cron_parse; a schedule
 * that parses is run forward and back from a fixed instant in UTC, and the
 * answers must keep the header's promises: next is strictly after, prev at
 * or before, and the next fire after prev-1 second is prev again. */
#include "cron.h"
#include "vigil.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  setenv("TZ", "UTC", 1);
  tzset();
  vg_log_set_level(VG_LOG_ERROR + 1);
  return 0;
}

#define FIXED ((time_t)1700000000) /* 2023-11-14T22:13:20Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *spec = malloc(size + 1);
  if (!spec) return 0;
  memcpy(spec, data, size);
  spec[size] = '\0';

  vg_cron c;
  char err[160];
  if (vg_cron_parse(spec, &c, err, sizeof err) == 0) {
    time_t next = vg_cron_next(&c, FIXED);
    if (next != (time_t)-1 && (next <= FIXED || next % 60 != 0)) __builtin_trap();
    time_t prev = vg_cron_prev(&c, FIXED);
    if (prev != (time_t)-1) {
      if (prev > FIXED || prev % 60 != 0) __builtin_trap();
      if (vg_cron_next(&c, prev - 1) != prev) __builtin_trap();
    }
  }
  free(spec);
  return 0;
}
