/* entry.h — one dated entry, and the parsers that make it from a line.
 *
 * A line is a chronology line ("Sept. 7, 2023: text", "2023-09-07: text") or
 * a JSON object with at least "date" and "text"; any other members are kept
 * verbatim as the entry's fields, and a "source" member names its source. */
#ifndef VIGIL_ENTRY_H
#define VIGIL_ENTRY_H

#include "date.h"

#include <stddef.h>
#include <stdint.h>

/* How an input is read: by lines (chronology, JSON, or either), or as rows
 * of a table format (tabular.h), numbered VG_FORMAT_TABLE and up. */
typedef enum { VG_FORMAT_AUTO, VG_FORMAT_CHRONO, VG_FORMAT_JSON, VG_FORMAT_TABLE } vg_format;

/* "auto", "chrono", "json" or a table format's name (tabular.h) to a format;
 * returns 0 or VG_EINVAL. */
int vg_format_parse(const char *name, vg_format *out);

typedef struct {
  vg_date date;       /* the event date, with its precision */
  char date_text[VG_DATE_TEXT_MAX]; /* its normalised ISO text, made once by the parser */
  const char *text;   /* the text; points into the line, or into `owned` */
  size_t text_len;    /* its length in bytes (valid UTF-8, no NUL) */
  const char *source; /* NUL-terminated; the caller's, or in `owned` */
  char *fields;       /* extra JSON members as compact JSON text, or NULL */
  char *owned;        /* what the JSON parser copied out; freed by clear */
  uint8_t hash[16];   /* of date, source and text (and a row's id): equal hashes, one entry */
  /* A JSON record that corrects or retracts a stored entry (correct.h):
   * {"amends": ID, ...the new version..., "reason": "..."} or
   * {"retracts": ID, "reason": "..."}. A correction that leaves out its
   * date or text (partial) takes them, and any member it does not name,
   * from the entry as it is; the store completes it (ingest.c). */
  int64_t amends, retracts;
  int partial;
  const char *reason; /* in `owned`, or NULL */
  /* A row of a table format with an id column: its id (in `owned`), the
   * scope the id is unique in (the format's name, which lives as long as
   * the process), and its last-edit mark (in `owned`), or NULL. */
  const char *key, *scope, *edited;
} vg_entry;

/* Largest reason a parser writes, with its NUL. */
#define VG_REASON_MAX 160

/* Parses line[0..len) (no newline; a trailing CR is ignored) in format fmt.
 * `source` is the default source and must outlive the entry. On success
 * returns 0 and fills e, which the caller releases with vg_entry_clear; the
 * entry may point into `line`, which must outlive it too. On failure returns
 * VG_EPARSE with the reason in `why` (VG_REASON_MAX bytes) and e holds
 * nothing to release. */
int vg_entry_parse(const char *line, size_t len, vg_format fmt, const char *source, vg_entry *e,
                   char why[VG_REASON_MAX]);

/* Completes an entry a parser filled (date, text, source): its date's text
 * and its hash. */
void vg_entry_finish(vg_entry *e);

/* Releases what an entry owns; a cleared entry may be cleared again. */
void vg_entry_clear(vg_entry *e);

/* The event an entry reports: a hash of the span of its date (first and
 * last day) and of its text compared word by word, so that reports of one
 * event from several sources, worded alike but for case, spacing and
 * punctuation, have the same key. A word is a run of ASCII letters and
 * digits or of other characters (a UTF-8 letter is kept whole), ASCII
 * letters taken in lower case; everything else (ASCII punctuation and
 * spaces, Latin-1 and general punctuation, no-break and wide spaces) only
 * separates words. Works on any bytes; equal keys, one event. */
int64_t vg_entry_event(const char *text, size_t len, int32_t first, int32_t last);

/* How alike two texts are, from 0 to 1: the Jaccard index of their sets of
 * normalised words (shared words over words in either). Words are split as
 * vg_entry_event splits them and lower-cased; common words that say nothing
 * of an event (articles, prepositions, "is", "said"...) are dropped; a word
 * is compared on its first VG_SIMILAR_PREFIX characters, so that "launched"
 * and "launches" or "missile" and "missiles" agree (a stemmer in a line),
 * but a word with a digit (a number, KN-23's "23") is compared whole.
 * A text counts its first VG_SIMILAR_WORDS words. 0 when either text has no
 * word left (empty, only punctuation or only common words); 1 for texts that
 * differ only in case, punctuation, common words and word endings. */
#define VG_SIMILAR_PREFIX 5
#define VG_SIMILAR_WORDS 256
double vg_text_similarity(const char *a, size_t alen, const char *b, size_t blen);
/* The same in two steps, for a text compared with many: the normalised
 * words of a text as sorted distinct 64-bit hashes (XXH3 of each word's
 * compared part) in v, which has room for VG_SIMILAR_WORDS; returns how
 * many. Then the similarity of two such sets. */
size_t vg_text_words(const char *text, size_t len, uint64_t *v);
double vg_words_similarity(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);

/* Longest field text vg_entry_field_text gives, with its NUL: the same cap
 * as a correlation key's. */
#define VG_FIELD_MAX 256

/* The text of the field `name` of a parsed entry, as a correlation rule's
 * `by = "NAME"` and `vigil publish --partition-by NAME` read it, so that
 * both agree: "source" names the entry's source (`source`: its "source"
 * member, or the default source of its input); any other name a top-level
 * member of its JSON record other than date, text and source (`fields`, as
 * vg_entry_parse keeps them; NULL for none). A string member gives its
 * text; a number, true, false, an array or an object gives its compact JSON
 * text (as cJSON prints it); null counts as absent. "date" and "text" are no
 * fields. Writes the text into out (VG_FIELD_MAX bytes), cut to
 * VG_FIELD_MAX - 1 bytes at a character boundary, and returns its length
 * there; -1 when the entry has no such field (out is then ""). */
long vg_entry_field_text(const char *source, const char *fields, const char *name,
                         char out[VG_FIELD_MAX]);
/* Whether name can name a field at all: not empty, not "date" nor "text". */
int vg_entry_field_name_ok(const char *name);

/* Checks that s[0..n) is UTF-8 without NUL bytes. Returns -1 when it is, or
 * the offset of the first bad byte. */
long vg_utf8_check(const char *s, size_t n);
/* The length of the UTF-8 character that starts s (n bytes there), or 0
 * when s[0] starts none (a NUL, a stray or cut-short sequence). */
size_t vg_utf8_char(const char *s, size_t n);

#endif
