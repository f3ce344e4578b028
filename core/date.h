/* date.h — event dates as analysts write them, and the day arithmetic on them.
 *
 * A date keeps its precision: "Nov. 21, 2023" is one day, "December 2023" a
 * month, "mid-December 2023" the days 11 to 20, "Dec. 5-7, 2023" a range, and
 * "2023-11-21T10:30:00+09:00" an instant (kept in UTC). Every date is a span
 * of whole days [first, last], counted from 1970-01-01, so windows compare
 * integers. A day may be an ordinal ("December 13th, 2023", "13th of
 * December 2023"); numbers alone put the year first ("2023/12/13",
 * "2023/12"), and "13/12/2023" or "03/04/2023", day or month first, are
 * refused as ambiguous. A refusal names the part that is wrong. Pure
 * functions; no allocation; safe from any thread. */
#ifndef VIGIL_DATE_H
#define VIGIL_DATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum {
  VG_PREC_TIME,  /* an instant: a day and `second` within it */
  VG_PREC_DAY,   /* one whole day */
  VG_PREC_RANGE, /* several days: a stated range or part of a month */
  VG_PREC_MONTH, /* a calendar month */
  VG_PREC_YEAR,  /* a calendar year */
} vg_precision;

typedef struct {
  int32_t first;          /* first day of the span, days since 1970-01-01 */
  int32_t last;           /* last day of the span, inclusive */
  int32_t second;         /* seconds into `first` (UTC) for TIME, else -1 */
  vg_precision precision; /* how much the source said */
} vg_date;

/* Enough for every form vg_date_format writes, with its NUL. */
#define VG_DATE_TEXT_MAX 32

/* Days since 1970-01-01 of a proleptic Gregorian date; no range check. */
int32_t vg_days_from_civil(int y, int m, int d);
/* The calendar date of a day number. */
void vg_civil_from_days(int32_t days, int *y, int *m, int *d);
/* Days in month m (1-12) of year y. */
int vg_days_in_month(int y, int m);

/* Parses a date at the start of s[0..n) in any accepted form and stores the
 * number of bytes it used in *used. Returns 0, or VG_EPARSE with a sentence
 * naming the problem in err (cap bytes). Whitespace after the date is not
 * consumed. */
int vg_date_parse_prefix(const char *s, size_t n, size_t *used, vg_date *out, char *err,
                         size_t cap);
/* Parses s[0..n), which must hold a date and nothing else (blanks aside). */
int vg_date_parse(const char *s, size_t n, vg_date *out, char *err, size_t cap);

/* Writes the normalised ISO 8601 text of d (2023-11-21, 2023-12,
 * 2023-12-11/2023-12-20, 2023, 2023-11-21T01:30:00Z) and returns its length. */
size_t vg_date_format(const vg_date *d, char buf[VG_DATE_TEXT_MAX]);
/* Writes one day number as YYYY-MM-DD (11 bytes with the NUL). */
void vg_day_format(int32_t day, char buf[11]);
/* "time", "day", "range", "month" or "year". */
const char *vg_precision_name(vg_precision p);

/* Bytes vg_utc_iso writes, with its NUL. */
#define VG_UTC_ISO_MAX 32
/* t, or the wall clock now when t is (time_t)-1, as ISO 8601 UTC to the
 * second ("2026-12-03T19:45:25Z"): how vigil writes every time it keeps. */
void vg_utc_iso(time_t t, char out[VG_UTC_ISO_MAX]);

#endif
