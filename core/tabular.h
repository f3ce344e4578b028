/* tabular.h — CSV and TSV rows to entries, by a column map.
 *
 * A table format says how one row of a CSV or TSV document becomes an
 * entry: which column holds the date and how it is written, which columns
 * make the text, which holds the row's stable id, which its source, and
 * which its last-edit mark (a row read again with a newer mark corrects the
 * entry its id made). Every non-empty cell but the date's and the source's
 * is kept in the entry's fields as text, exactly as given, under its
 * column's name: the text's columns too, so that a rule can compare a
 * category exactly (e.fields.sub_event_type), and the id. The formats
 * live in one process-wide registry: the shipped presets `acled` and
 * `gdelt`, and those the configuration's `formats` table declares
 * (vg_tabular_define). A format is never freed before vg_tabulars_free, so a
 * pointer to one stays good on any thread, across reloads.
 *
 * Cells are split by libcsv (RFC 4180 quoting, doubled quotes, quoted
 * newlines); a row reaches vg_tabular_row whole, cut out of the byte stream
 * by a framer that keeps quoted newlines inside their row (framer.h,
 * vg_framer_quote). Each input (a file, a connection, a request body, a
 * message) reads its rows through a vg_tabular of its own, which holds the
 * column map its header row gave. */
#ifndef VIGIL_TABULAR_H
#define VIGIL_TABULAR_H

#include "entry.h"

#include <stddef.h>

/* How a date cell is written. */
typedef enum {
  VG_LAYOUT_ANY,  /* any date a chronology line may start with ("2024-03-12", "12 March 2024") */
  VG_LAYOUT_ISO,  /* YYYY-MM-DD */
  VG_LAYOUT_YMD,  /* YYYYMMDD */
  VG_LAYOUT_UNIX, /* Unix seconds, taken as a UTC day */
} vg_date_layout;

/* "any", "YYYY-MM-DD", "YYYYMMDD" or "unix" to a layout; 0 or VG_EINVAL. */
int vg_date_layout_parse(const char *name, vg_date_layout *out);
const char *vg_date_layout_name(vg_date_layout l);

/* How the text of an entry is made: the cells of `text` joined by " — "
 * (empty ones left out); a part may be looked up in a code table first. */
typedef struct {
  char *column;
  int cameo; /* the cell is a CAMEO event code: its description takes its place */
} vg_text_part;

typedef struct {
  char *name;             /* what --format, the spool and feeds call it by */
  char delim;             /* ',' or '\t' (or any one byte) */
  char quote;             /* '"', or 0: cells are never quoted (TSV as GDELT writes it) */
  /* The columns in order when a row comes without a header, or NULL: then
   * an input must begin with a header. An input's first row is its header
   * when one of its cells names the date column. */
  char **columns;
  size_t ncolumns;
  char **columns_alt;     /* a second layout told apart by its count (GDELT 1.0), or NULL */
  size_t nalt;
  char *date;             /* the date column */
  vg_date_layout layout;  /* how it is written */
  vg_text_part *text;     /* the columns that make the text, in order */
  size_t ntext;
  char *id;               /* the stable id column, or NULL */
  char *source;           /* the source column, or NULL */
  char *source_name;      /* the source every row gets when it has no source cell, or NULL
                             (the input's own) */
  char *edited;           /* the last-edit column (a newer value corrects), or NULL */
  char *suffix;           /* spool files whose names end so are read in this format, or NULL */
  int preset;             /* shipped with vigil */
} vg_tabular_format;

/* The format named name, or NULL. */
const vg_tabular_format *vg_tabular_find(const char *name);
/* The format of a vg_format number (entry.h: VG_FORMAT_TABLE + its index),
 * or NULL for a line format. */
const vg_tabular_format *vg_tabular_of(vg_format fmt);
/* The number vg_format_parse gives the format named name, or -1. */
int vg_tabular_number(const char *name);
/* The vg_format number of f, a format of the registry (VG_FORMAT_TABLE + its
 * index): its own, even when a newer definition has its name. */
vg_format vg_tabular_fmt(const vg_tabular_format *f);
/* The format whose suffix ends name (a spool file), the longest such suffix
 * when several do, or NULL. */
const vg_tabular_format *vg_tabular_by_suffix(const char *name);

/* Checks f (taken over, whatever the outcome) and adds it to the registry,
 * in place of a format the configuration declared before under its name.
 * Returns 0, or VG_EINVAL with why in err: a preset's or line format's
 * name, a name that cannot be a directory of the spool (done, failed, over
 * 63 bytes, with a '/', starting with '.'), no date or text column, no columns and no header, a column the map
 * names that the declared columns lack. */
int vg_tabular_define(vg_tabular_format *f, char *err, size_t cap);
/* Where the registry stands, for vg_tabular_withdraw. */
size_t vg_tabular_mark(void);
/* Withdraws the definitions added since mark (a configuration that was
 * refused after declaring them): their names find the definitions before
 * them again. A withdrawn format is not freed before vg_tabulars_free, so a
 * pointer to it stays good. */
void vg_tabular_withdraw(size_t mark);
/* Withdraws every format but the presets and those named in names
 * (NULL-ended, or NULL for none): the ones a configuration read again no
 * longer declares. */
void vg_tabular_retain(char *const *names);
/* Frees what a format owns (not f itself). */
void vg_tabular_format_clear(vg_tabular_format *f);
/* Frees the registry; no format may be used after. */
void vg_tabulars_free(void);

/* One input's reading of a format: its column map, from its header row or
 * from the declared columns. */
typedef struct vg_tabular vg_tabular;

/* A reader of fmt's rows; NULL when out of memory. */
vg_tabular *vg_tabular_new(const vg_tabular_format *fmt);
void vg_tabular_free(vg_tabular *t);
const vg_tabular_format *vg_tabular_format_of(const vg_tabular *t);

/* What vg_tabular_row made of a row, beside 0 (an entry) and VG_EPARSE. */
enum { VG_TABULAR_HEADER = 1 };

/* Reads row row_no (1-based in its input) of t's input, row[0..len) (a
 * trailing CR is ignored; a UTF-8 BOM before t's first row too), into e as
 * vg_entry_parse would (e then points into nothing of row: it owns its
 * text, source and fields). Returns 0; VG_TABULAR_HEADER when the row named
 * the columns (the map of the rows after it; e holds nothing); or VG_EPARSE
 * with why (VG_REASON_MAX bytes) naming the row, the column and the cause:
 * bad quoting, a cell count other than the header's, a date that does not
 * read, no text, invalid UTF-8. e->key is set when the format has an id
 * column (the id's format scope is fmt->name), e->edited when it has a
 * last-edit column. */
int vg_tabular_row(vg_tabular *t, const char *row, size_t len, uint64_t row_no, const char *source,
                 vg_entry *e, char why[VG_REASON_MAX]);

/* The description of a CAMEO event code ("190"), or NULL. */
const char *vg_cameo(const char *code);

#endif
