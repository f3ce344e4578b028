/* term.c — terminals, colour, columns and progress; see term.h. */
#include "term.h"

#include "entry.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int vg_term_tty(FILE *f) { return isatty(fileno(f)); }

int vg_term_color(FILE *f) {
  const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
  if (no && *no) return 0;
  if (term && strcmp(term, "dumb") == 0) return 0;
  return vg_term_tty(f);
}

static const char *const style_on[] = {
    [VG_STYLE_NONE] = "",         [VG_STYLE_BOLD] = "\033[1m",    [VG_STYLE_DIM] = "\033[2m",
    [VG_STYLE_RED] = "\033[31m",  [VG_STYLE_YELLOW] = "\033[33m", [VG_STYLE_GREEN] = "\033[32m",
    [VG_STYLE_CYAN] = "\033[36m",
};

const char *vg_term_on(FILE *f, vg_style s) {
  return s != VG_STYLE_NONE && vg_term_color(f) ? style_on[s] : "";
}

const char *vg_term_off(FILE *f, vg_style s) {
  return s != VG_STYLE_NONE && vg_term_color(f) ? "\033[0m" : "";
}

vg_style vg_term_severity(const char *severity) {
  if (strcmp(severity, "error") == 0 || strcmp(severity, "crit") == 0) return VG_STYLE_RED;
  if (strcmp(severity, "warn") == 0) return VG_STYLE_YELLOW;
  if (strcmp(severity, "info") == 0) return VG_STYLE_CYAN;
  return VG_STYLE_NONE;
}

size_t vg_term_escape(FILE *f, const char *s, size_t n) {
  size_t cols = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    size_t len = c >= 0x80 ? vg_utf8_char(s + i, n - i) : 1;
    if (c < 0x20 || c == 0x7f) {
      cols += (size_t)fprintf(f, "\\x%02x", c);
    } else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
               (unsigned char)s[i + 1] <= 0x9f) {
      cols += (size_t)fprintf(f, "\\u00%02x", (unsigned char)s[i + 1]);
      i++;
    } else if (len == 0) {
      cols += (size_t)fprintf(f, "\\x%02x", c); /* starts no character (0x9b is a CSI) */
    } else {
      fwrite(s + i, 1, len, f);
      i += len - 1;
      cols++; /* one column a character */
    }
  }
  return cols;
}

/* ---- tables ---- */

void vg_table_init(vg_table *t, FILE *out, const char *sep) {
  memset(t, 0, sizeof *t);
  t->out = out;
  t->sep = sep;
  t->layout = vg_term_tty(out);
}

void vg_table_min(vg_table *t, int col, size_t width) {
  if (col >= 0 && col < VG_TABLE_COLS) t->min[col] = width;
}

/* The width column i of a row gets. */
static size_t col_width(const vg_table *t, size_t i) {
  if (i >= VG_TABLE_COLS) return 0;
  size_t w = t->layout ? t->width[i] : 0;
  if (w > VG_TABLE_MAX_PAD) w = VG_TABLE_MAX_PAD;
  return w > t->min[i] ? w : t->min[i];
}

static void print_row(vg_table *t, const struct vg_table_cell *c, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i) fputs(t->sep, t->out);
    fprintf(t->out, "%s%s%s", vg_term_on(t->out, c[i].style), c[i].text,
            vg_term_off(t->out, c[i].style));
    for (size_t w = c[i].cols; i + 1 < n && w < col_width(t, i); w++)
      putc(' ', t->out);
  }
  putc('\n', t->out);
}

static void drop_cells(vg_table *t, size_t from) {
  for (size_t i = from; i < t->ncells; i++)
    free(t->cells[i].text);
  t->ncells = from;
}

void vg_table_cell(vg_table *t, vg_style style, const char *fmt, ...) {
  char *raw = NULL, *text = NULL;
  size_t len = 0, cols = 0;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&raw, fmt, ap);
  va_end(ap);
  FILE *m = n >= 0 ? open_memstream(&text, &len) : NULL;
  if (m) {
    cols = vg_term_escape(m, raw, (size_t)n);
    fclose(m);
  }
  free(raw);
  if (t->ncells == t->capcells) {
    size_t cap = t->capcells ? t->capcells * 2 : 64;
    struct vg_table_cell *v = realloc(t->cells, cap * sizeof *v);
    if (!v) {
      free(text);
      return;
    }
    t->cells = v;
    t->capcells = cap;
  }
  t->cells[t->ncells++] = (struct vg_table_cell){text ? text : strdup(""), cols, style};
}

void vg_table_row(vg_table *t) {
  size_t n = t->ncells - t->row_start;
  for (size_t i = 0; t->layout && i + 1 < n && i < VG_TABLE_COLS; i++)
    if (t->cells[t->row_start + i].cols > t->width[i])
      t->width[i] = t->cells[t->row_start + i].cols;
  if (t->layout && t->nrows == t->caprows) {
    size_t cap = t->caprows ? t->caprows * 2 : 64;
    size_t *v = realloc(t->rows, cap * sizeof *v);
    if (v) t->rows = v, t->caprows = cap;
  }
  if (!t->layout || t->nrows == t->caprows) { /* not held: out at once */
    vg_table_flush(t);
    print_row(t, t->cells + t->row_start, n);
    drop_cells(t, t->row_start);
    return;
  }
  t->rows[t->nrows++] = t->row_start;
  t->row_start = t->ncells;
  if (t->nrows >= VG_TABLE_HOLD) vg_table_flush(t);
}

void vg_table_flush(vg_table *t) {
  for (size_t r = 0; r < t->nrows; r++) {
    size_t end = r + 1 < t->nrows ? t->rows[r + 1] : t->row_start;
    print_row(t, t->cells + t->rows[r], end - t->rows[r]);
  }
  /* the row being built moves to the front */
  size_t held = t->row_start;
  for (size_t i = 0; i < held; i++)
    free(t->cells[i].text);
  if (held) memmove(t->cells, t->cells + held, (t->ncells - held) * sizeof *t->cells);
  t->ncells -= held;
  t->row_start = 0;
  t->nrows = 0;
  if (t->layout) fflush(t->out);
}

void vg_table_free(vg_table *t) {
  vg_table_flush(t);
  drop_cells(t, 0);
  free(t->cells);
  free(t->rows);
  memset(t, 0, sizeof *t);
}

/* ---- progress ---- */

/* Draws no more often than this, in seconds. */
#define PROGRESS_EVERY 0.25
/* The longest time left shown, in seconds: 100 days. */
#define ETA_MAX (100 * 86400.0)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vg_progress_init(vg_progress *p, const char *label, const char *unit, uint64_t total,
                      int quiet) {
  memset(p, 0, sizeof *p);
  p->on = !quiet && vg_term_tty(stderr);
  p->label = label;
  p->unit = unit;
  p->total = total;
  p->start = p->last = now_s();
}

void vg_progress_show(vg_progress *p, uint64_t done, uint64_t bytes) {
  if (!p->on) return;
  double now = now_s(), spent = now - p->start;
  if (now - p->last < PROGRESS_EVERY) return;
  p->last = now;
  fputs("\r\033[K", stderr);
  vg_term_escape(stderr, p->label, strlen(p->label));
  fprintf(stderr, ": %llu %s, %.0f %s/s", (unsigned long long)done, p->unit,
          spent > 0 ? (double)done / spent : 0.0, p->unit);
  if (p->total && bytes <= p->total) {
    fprintf(stderr, ", %.0f%%", 100.0 * (double)bytes / (double)p->total);
    /* No estimate past ETA_MAX: it would say nothing, and a double that
     * large does not convert to a long (a huge sparse file barely begun). */
    double left = bytes ? spent * (double)(p->total - bytes) / (double)bytes : 0;
    if (bytes && spent > 0 && left < ETA_MAX) {
      long s = (long)(left + 0.5);
      fprintf(stderr, ", ETA %ld:%02ld", s / 60, s % 60);
    }
  }
  fflush(stderr);
  p->drawn = 1;
}

void vg_progress_clear(vg_progress *p) {
  if (!p->drawn) return;
  fputs("\r\033[K", stderr);
  fflush(stderr);
  p->drawn = 0;
}
