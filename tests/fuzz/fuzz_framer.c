/* fuzz_framer.c — libFuzzer harness for the line framer (core/framer.c).
 *
 * Input layout: byte 0 picks where the stream is split into two feeds,
 * byte 1 the line cap, the rest is the stream. The stream is framed twice,
 * once in two pieces and once whole, and the lines both give must agree
 * (same count, lengths, totals, flags and bytes); every line must respect
 * the cap. */
#include "framer.h"
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

typedef struct {
  size_t max;
  uint64_t lines;
  uint64_t digest; /* FNV-1a over each line's bytes, length, total and flags */
} run;

static void mix(uint64_t *h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) {
    *h ^= b[i];
    *h *= 1099511628211ULL;
  }
}

static int on_line(void *ud, const char *line, size_t len, uint64_t total, uint64_t line_no,
                   unsigned flags) {
  run *r = ud;
  if (len > r->max || total < len) __builtin_trap();
  if ((flags & VG_LINE_TOO_LONG) ? total <= r->max : total != len) __builtin_trap();
  if (len && memchr(line, '\n', len)) __builtin_trap();
  r->lines++;
  if (line_no != r->lines) __builtin_trap();
  mix(&r->digest, line, len);
  mix(&r->digest, &len, sizeof len);
  mix(&r->digest, &total, sizeof total);
  mix(&r->digest, &flags, sizeof flags);
  return 0;
}

static void frame(run *r, const char *s, size_t n, size_t split) {
  vg_framer f;
  vg_framer_init(&f, r->max);
  if (vg_framer_feed(&f, s, split, on_line, r)) __builtin_trap();
  if (vg_framer_feed(&f, s + split, n - split, on_line, r)) __builtin_trap();
  if (vg_framer_finish(&f, on_line, r)) __builtin_trap();
  if (vg_framer_pending(&f) != 0) __builtin_trap();
  vg_framer_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t max = data[1] ? (size_t)(data[1] % 64) + 1 : 4096;
  const char *s = (const char *)data + 2;
  size_t n = size - 2;
  size_t split = n ? data[0] % (n + 1) : 0;

  run a = {max, 0, 14695981039346656037ULL};
  run b = a;
  frame(&a, s, n, split);
  frame(&b, s, n, 0);
  if (a.lines != b.lines || a.digest != b.digest) __builtin_trap();
  return 0;
}
