/* framer.c — bytes to capped lines; see framer.h. */
#include "framer.h"

#include "vigil.h"

#include <stdlib.h>
#include <string.h>

void vg_framer_init(vg_framer *f, size_t max) {
  memset(f, 0, sizeof *f);
  f->max = max;
}

void vg_framer_quote(vg_framer *f, char q, char delim) {
  f->quote = q;
  f->delim = delim;
}

/* Where a row's reading stands (f->quoted), as RFC 4180 has it: a quote
 * opens a quoted cell only at the cell's start; inside one, a quote closes
 * it, and a quote right after that is a doubled quote, which reopens it. */
enum { CELL_START = 0, CELL_PLAIN, CELL_QUOTED, CELL_CLOSED };

/* The newline that ends the line or row in data[0..n), or NULL when it goes
 * on past n; notes the quotes it passes. */
static const char *line_end(vg_framer *f, const char *data, size_t n) {
  if (!f->quote || f->skipping) return memchr(data, '\n', n);
  for (size_t i = 0; i < n; i++) {
    char c = data[i];
    if (f->quoted == CELL_QUOTED) {
      if (c == f->quote) f->quoted = CELL_CLOSED;
    } else if (c == '\n') {
      return data + i;
    } else if (c == f->quote && f->quoted != CELL_PLAIN) {
      f->quoted = CELL_QUOTED;
    } else {
      f->quoted = c == f->delim ? CELL_START : CELL_PLAIN;
    }
  }
  return NULL;
}

void vg_framer_free(vg_framer *f) {
  free(f->buf);
  f->buf = NULL;
  f->len = f->cap = 0;
}

static int append(vg_framer *f, const char *p, size_t n) {
  if (f->len + n > f->cap) {
    size_t cap = f->cap ? f->cap : 256;
    while (cap < f->len + n) cap *= 2;
    char *b = realloc(f->buf, cap);
    if (!b) return VG_ENOMEM;
    f->buf = b;
    f->cap = cap;
  }
  memcpy(f->buf + f->len, p, n);
  f->len += n;
  return 0;
}

/* Keeps a buffer that grew for one long line from staying large. */
static void shrink(vg_framer *f) {
  if (f->cap > 65536 && f->len == 0) {
    free(f->buf);
    f->buf = NULL;
    f->cap = 0;
  }
}

/* Hands on the line held in buf: whole, or its first `max` bytes when it
 * went over the cap, with its full length. */
static int deliver(vg_framer *f, unsigned flags, vg_line_fn fn, void *ud) {
  uint64_t total = f->skipping ? f->skipped : f->len;
  size_t len = f->len;
  if (f->skipping) flags |= VG_LINE_TOO_LONG;
  f->line_no++;
  f->len = 0;
  f->skipping = 0;
  f->skipped = 0;
  f->quoted = CELL_START;
  int rc = fn(ud, f->buf, len, total, f->line_no, flags);
  shrink(f);
  return rc;
}

int vg_framer_feed(vg_framer *f, const char *data, size_t n, vg_line_fn fn, void *ud) {
  while (n) {
    const char *nl = line_end(f, data, n);
    size_t piece = nl ? (size_t)(nl - data) : n;
    int rc;
    if (f->skipping) {
      f->skipped += piece;
    } else if (f->len + piece > f->max) {
      /* Over the cap: keep what fits, count the rest up to the newline. */
      size_t keep = f->max - f->len;
      if (f->quote) {
        /* Most likely a quote that never closes: the row ends at the first
         * newline past the cap, whatever the quotes, so that the rows after
         * it are read and not all taken into it. */
        nl = memchr(data + keep, '\n', n - keep);
        piece = nl ? (size_t)(nl - data) : n;
        f->quoted = CELL_START;
      }
      f->skipped = f->len + piece;
      if ((rc = append(f, data, keep))) return rc;
      f->skipping = 1;
    } else if (nl && f->len == 0) {
      f->line_no++; /* the common case: a whole line inside one read */
      f->quoted = CELL_START;
      if ((rc = fn(ud, data, piece, piece, f->line_no, 0))) return rc;
      goto next;
    } else if ((rc = append(f, data, piece))) {
      return rc;
    }
    if (!nl) break;
    if ((rc = deliver(f, 0, fn, ud))) return rc;
  next:
    data = nl + 1;
    n -= piece + 1;
  }
  return 0;
}

int vg_framer_finish(vg_framer *f, vg_line_fn fn, void *ud) {
  if (!f->len && !f->skipping) return 0;
  return deliver(f, VG_LINE_NO_EOL, fn, ud);
}
