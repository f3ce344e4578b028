/* term.h — what the one-shot commands print for a person at a terminal.
 *
 * The only module that decides whether output goes to a terminal, whether
 * it is coloured, how columns line up and how the progress line of a long
 * command is drawn; the cmd_*.c files describe their rows and this module
 * lays them out. When the stream is not a terminal, a table prints each row
 * at once, its cells joined by the separator and padded only to the
 * minimum widths the command set (as printf's "%-10s" would), so that the
 * plain formats scripts read do not change; with NO_COLOR set (and not
 * empty: https://no-color.org) or TERM=dumb a terminal gets no colour.
 *
 * Every cell is escaped as vg_cli_printf escapes (vg_term_escape): no
 * stored text can fake a row or drive the terminal. Main thread only. */
#ifndef VIGIL_TERM_H
#define VIGIL_TERM_H

#include <stdint.h>
#include <stdio.h>

typedef enum {
  VG_STYLE_NONE,
  VG_STYLE_BOLD,
  VG_STYLE_DIM,
  VG_STYLE_RED,
  VG_STYLE_YELLOW,
  VG_STYLE_GREEN,
  VG_STYLE_CYAN,
} vg_style;

/* Whether the stream is a terminal. */
int vg_term_tty(FILE *f);
/* Whether what is written to f may be coloured: a terminal, NO_COLOR unset
 * or empty, TERM not "dumb". */
int vg_term_color(FILE *f);
/* The escape sequence that starts style s and the one that ends it, or ""
 * for both when f gets no colour. */
const char *vg_term_on(FILE *f, vg_style s);
const char *vg_term_off(FILE *f, vg_style s);
/* The style of an alert's severity: error red, warn yellow, info cyan. */
vg_style vg_term_severity(const char *severity);

/* Writes n bytes of s to f with every control character as \xHH, a C1
 * control (U+0080 to U+009F) as \u00HH and a byte that is not UTF-8 as
 * \xHH. Returns the display columns written (one a character). */
size_t vg_term_escape(FILE *f, const char *s, size_t n);

/* Rows of cells laid out in columns. On a terminal rows are held until
 * vg_table_flush (or VG_TABLE_HOLD of them) so that each column is as wide
 * as its widest cell (up to VG_TABLE_MAX_PAD; a wider cell overflows); the
 * widths only grow from one flush to the next. The last cell of a row is
 * never padded. */
#define VG_TABLE_COLS 12
#define VG_TABLE_HOLD 500
#define VG_TABLE_MAX_PAD 48
typedef struct {
  FILE *out;
  const char *sep;             /* between two cells */
  int layout;                  /* out is a terminal: widths from the cells */
  size_t min[VG_TABLE_COLS];   /* widths set by the command, kept always */
  size_t width[VG_TABLE_COLS]; /* widths seen so far (layout only) */
  struct vg_table_cell {       /* the row being built, then the held ones */
    char *text;                /* escaped */
    size_t cols;               /* its display width */
    vg_style style;
  } * cells;
  size_t ncells, capcells;
  size_t *rows; /* held rows: the index of each one's first cell */
  size_t nrows, caprows;
  size_t row_start; /* the first cell of the row being built */
} vg_table;

/* Sets t up to print to out with cells joined by sep (which outlives t). */
void vg_table_init(vg_table *t, FILE *out, const char *sep);
/* Column col (0-based) is at least `width` columns wide wherever it goes. */
void vg_table_min(vg_table *t, int col, size_t width);
/* Adds a cell to the row being built. */
void vg_table_cell(vg_table *t, vg_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the row being built: printed now, or held for the layout. */
void vg_table_row(vg_table *t);
/* Prints the rows held. */
void vg_table_flush(vg_table *t);
/* Flushes and frees what t holds. */
void vg_table_free(vg_table *t);

/* A progress line on standard error, rewritten in place: what has been
 * done, its rate, the percent of `total` bytes and the time left when the
 * total is known (as minutes:seconds, and none past 100 days). Drawn only when standard error is a terminal and not
 * quiet, and at most a few times a second. */
typedef struct {
  int on;             /* standard error is a terminal, and progress is wanted */
  int drawn;          /* a line is on the screen */
  const char *label;  /* what is being done: a file's name, "replay" */
  const char *unit;   /* "lines", "entries" */
  uint64_t total;     /* bytes to read; 0: unknown */
  double start, last; /* monotonic seconds: when it began, when it was drawn */
} vg_progress;

void vg_progress_init(vg_progress *p, const char *label, const char *unit, uint64_t total,
                      int quiet);
/* Says that `done` units and `bytes` bytes are through. */
void vg_progress_show(vg_progress *p, uint64_t done, uint64_t bytes);
/* Takes the line off the screen (before other output, and at the end). */
void vg_progress_clear(vg_progress *p);

#endif
