/* framer.h — cuts a byte stream into lines, each at most `max` bytes.
 *
 * Used for sockets (bytes arrive in arbitrary pieces) and files alike. A line
 * longer than the cap is not buffered whole: its first `max` bytes are kept,
 * the rest is counted and skipped up to its newline, and then the line is
 * handed on once with VG_LINE_TOO_LONG, so memory stays bounded whatever a
 * peer sends. */
#ifndef VIGIL_FRAMER_H
#define VIGIL_FRAMER_H

#include <stddef.h>
#include <stdint.h>

enum {
  VG_LINE_TOO_LONG = 1, /* the line was cut at the cap; `len` is what is kept */
  VG_LINE_NO_EOL = 2,   /* the last line of the input had no newline */
};

/* Called for each line, without its newline, once the line has ended.
 * `line` lives until the call returns. `total` is the line's full length
 * (larger than len when it was cut at the cap). A
 * non-zero return stops the feed and is returned by it. */
typedef int (*vg_line_fn)(void *ud, const char *line, size_t len, uint64_t total,
                          uint64_t line_no, unsigned flags);

typedef struct {
  char *buf;        /* the partial line carried between feeds */
  size_t len;       /* bytes in buf */
  size_t cap;       /* its allocated size */
  size_t max;       /* the line cap */
  uint64_t line_no; /* lines completed so far */
  uint64_t skipped; /* bytes of an overlong line seen so far, while skipping */
  int skipping;     /* inside an overlong line: buf holds its first max bytes */
  char quote;       /* CSV rows: a newline inside a cell quoted so is inside the row; 0: none */
  char delim;       /* CSV rows: the byte between two cells */
  int quoted;       /* where the row being cut stands: at a cell's start, in a quoted cell... */
} vg_framer;

void vg_framer_init(vg_framer *f, size_t max);
void vg_framer_free(vg_framer *f);
/* Makes f cut CSV rows instead of lines: a newline inside a cell quoted
 * by q (RFC 4180: a quote at a cell's start opens it, cells end at delim) is
 * part of the row; a doubled quote inside is an escaped one, and a quote
 * inside an unquoted cell quotes nothing. A row that goes over the cap
 * ends at the first newline past it, quoted or not: a quote that never
 * closes costs one overlong row, not the rest of the input. 0 for plain
 * lines again. Set before the first feed. */
void vg_framer_quote(vg_framer *f, char q, char delim);
/* Cuts data[0..n) into lines and calls fn for each complete one. Returns 0,
 * VG_ENOMEM, or what fn returned. */
int vg_framer_feed(vg_framer *f, const char *data, size_t n, vg_line_fn fn, void *ud);
/* Ends the input: a partial last line is handed on with VG_LINE_NO_EOL. */
int vg_framer_finish(vg_framer *f, vg_line_fn fn, void *ud);
/* Bytes of an unfinished line held right now. */
static inline uint64_t vg_framer_pending(const vg_framer *f) {
  return f->skipping ? f->skipped : f->len;
}

#endif
