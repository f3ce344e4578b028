/* framer.c — bytes to capped lines; see framer.h. */
#include "framer.h"

#include "vigil.h"

#include <stdlib.h>
#include <string.h>

void vg_framer_init(vg_framer *f, size_t max) {
  memset(f, 0, sizeof *f);
  f->max = max;
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

int vg_framer_feed(vg_framer *f, const char *data, size_t n, vg_line_fn fn, void *ud) {
  while (n) {
    const char *nl = memchr(data, '\n', n);
    size_t piece = nl ? (size_t)(nl - data) : n;
    int rc = 0;
    if (f->skipping) {
      f->skipped += piece;
    } else if (f->len + piece > f->max) {
      /* Over the cap: hand on what fits, once, then skip to the newline. */
      size_t room = f->max - f->len;
      if ((rc = append(f, data, room))) return rc;
      f->line_no++;
      rc = fn(ud, f->buf, f->len, f->len + piece, f->line_no, VG_LINE_TOO_LONG);
      f->skipped = f->len + piece;
      f->len = 0;
      f->skipping = 1;
      shrink(f);
      if (rc) return rc;
    } else if (nl && f->len == 0) {
      f->line_no++; /* the common case: a whole line inside one read */
      rc = fn(ud, data, piece, piece, f->line_no, 0);
      if (rc) return rc;
    } else {
      if ((rc = append(f, data, piece))) return rc;
      if (nl) {
        size_t whole = f->len;
        f->line_no++;
        f->len = 0;
        rc = fn(ud, f->buf, whole, whole, f->line_no, 0);
        shrink(f);
        if (rc) return rc;
      }
    }
    if (!nl) break;
    if (f->skipping) {
      f->skipping = 0;
      f->skipped = 0;
    }
    data = nl + 1;
    n -= piece + 1;
  }
  return 0;
}

int vg_framer_finish(vg_framer *f, vg_line_fn fn, void *ud) {
  int rc = 0;
  if (f->len && !f->skipping) {
    f->line_no++;
    rc = fn(ud, f->buf, f->len, f->len, f->line_no, VG_LINE_NO_EOL);
  }
  f->len = 0;
  f->skipping = 0;
  f->skipped = 0;
  shrink(f);
  return rc;
}
