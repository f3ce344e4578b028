/* date.c — parsing and formatting of event dates; see date.h for the forms.
 *
 * The grammar is small enough that a hand-written scanner states it more
 * plainly than strptime(3), which neither knows "Sept." nor rejects Feb. 30. */
#include "date.h"

#include "vigil.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const month_names[12] = {"january", "february", "march",     "april",
                                            "may",     "june",     "july",      "august",
                                            "september", "october", "november", "december"};

int32_t vg_days_from_civil(int y, int m, int d) {
  /* Counts in 400-year eras starting on March 1st, so leap days come last. */
  y -= m <= 2;
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (int32_t)(era * 146097 + doe - 719468);
}

void vg_civil_from_days(int32_t days, int *y, int *m, int *d) {
  int32_t z = days + 719468;
  int32_t era = (z >= 0 ? z : z - 146096) / 146097;
  int32_t doe = z - era * 146097;
  int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int32_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

int vg_days_in_month(int y, int m) {
  static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return len[m - 1];
}

const char *vg_precision_name(vg_precision p) {
  static const char *const names[] = {"time", "day", "range", "month", "year"};
  return names[p];
}

void vg_day_format(int32_t day, char buf[11]) {
  int y, m, d;
  vg_civil_from_days(day, &y, &m, &d);
  snprintf(buf, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
           (unsigned)d % 100u);
}

size_t vg_date_format(const vg_date *dt, char buf[VG_DATE_TEXT_MAX]) {
  int y, m, d;
  vg_civil_from_days(dt->first, &y, &m, &d);
  y %= 10000;
  switch (dt->precision) {
  case VG_PREC_TIME:
    return (size_t)snprintf(buf, VG_DATE_TEXT_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
                            dt->second / 3600, dt->second / 60 % 60, dt->second % 60);
  case VG_PREC_DAY: return (size_t)snprintf(buf, VG_DATE_TEXT_MAX, "%04d-%02d-%02d", y, m, d);
  case VG_PREC_MONTH: return (size_t)snprintf(buf, VG_DATE_TEXT_MAX, "%04d-%02d", y, m);
  case VG_PREC_YEAR: return (size_t)snprintf(buf, VG_DATE_TEXT_MAX, "%04d", y);
  case VG_PREC_RANGE: {
    char a[11], b[11];
    vg_day_format(dt->first, a);
    vg_day_format(dt->last, b);
    return (size_t)snprintf(buf, VG_DATE_TEXT_MAX, "%s/%s", a, b);
  }
  }
  return 0;
}

/* A cursor over the text being parsed, and where to say what went wrong. */
typedef struct {
  const char *s; /* the text */
  size_t n;      /* its length */
  size_t i;      /* the next byte to read */
  char *err;     /* the caller's message buffer */
  size_t cap;    /* its size */
} scan;

static int fail(scan *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(scan *sc, const char *fmt, ...) {
  if (sc->cap) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sc->err, sc->cap, fmt, ap);
    va_end(ap);
  }
  return VG_EPARSE;
}

static int peek(const scan *sc) { return sc->i < sc->n ? (unsigned char)sc->s[sc->i] : -1; }

static void skip_blanks(scan *sc) {
  while (sc->i < sc->n && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t')) sc->i++;
}

/* Reads up to max digits; returns their count and the value in *v. */
static int digits(scan *sc, int max, int *v) {
  int k = 0, x = 0;
  while (k < max && isdigit(peek(sc))) {
    x = x * 10 + (sc->s[sc->i++] - '0');
    k++;
  }
  *v = x;
  return k;
}

static size_t word_len(const scan *sc) {
  size_t k = sc->i;
  while (k < sc->n && isalpha((unsigned char)sc->s[k])) k++;
  return k - sc->i;
}

/* Matches a month name, full or abbreviated to three letters (or "Sept"),
 * with an optional period. Returns 1-12 and advances, or 0. */
static int month_word(scan *sc) {
  size_t len = word_len(sc);
  if (len < 3) return 0;
  const char *w = sc->s + sc->i;
  for (int m = 0; m < 12; m++) {
    size_t full = strlen(month_names[m]);
    if ((len == full || len == 3 || (m == 8 && len == 4)) && len <= full &&
        strncasecmp(w, month_names[m], len) == 0) {
      sc->i += len;
      if (peek(sc) == '.') sc->i++;
      return m + 1;
    }
  }
  return 0;
}

static int check_year(scan *sc, int ndigits, int y) {
  if (ndigits != 4 || y < 1) return fail(sc, "a year must have four digits");
  return 0;
}

/* A month's name as a sentence writes it: "November". */
static const char *month_title(int m, char buf[12]) {
  snprintf(buf, 12, "%c%s", toupper((unsigned char)month_names[m - 1][0]), month_names[m - 1] + 1);
  return buf;
}

static int check_day(scan *sc, int y, int m, int d) {
  char name[12];
  if (d < 1) return fail(sc, "impossible date: there is no day %d of a month", d);
  if (d > vg_days_in_month(y, m))
    return fail(sc, "impossible date: day %d is past the end of %s %d (%d days)", d,
                month_title(m, name), y, vg_days_in_month(y, m));
  return 0;
}

static int check_month(scan *sc, int m) {
  if (m < 1 || m > 12) return fail(sc, "impossible date: there is no month %d (1 to 12)", m);
  return 0;
}

/* The suffix after a day of the month written as an ordinal ("1st", "22nd",
 * "13th"), which starts at `from`: consumed when it is the one the number
 * takes, refused (naming it) when it is another. Anything else is left. */
static int ordinal(scan *sc, size_t from, int d) {
  static const char *const suffix[] = {"th", "st", "nd", "rd"};
  if (word_len(sc) != 2) return 0;
  int want = d % 100 / 10 == 1 || d % 10 > 3 ? 0 : d % 10;
  for (int k = 0; k < 4; k++)
    if (strncasecmp(sc->s + sc->i, suffix[k], 2) == 0) {
      if (k != want)
        return fail(sc, "'%.*s' is no ordinal: %d is written %d%s", (int)(sc->i + 2 - from),
                    sc->s + from, d, d, suffix[want]);
      sc->i += 2;
      return 0;
    }
  return 0;
}

/* A day of the month after a month's name (1 or 2 digits, read into *d),
 * with its ordinal suffix if it has one; letters stuck to it are refused. */
static int month_day(scan *sc, size_t from, int *d) {
  if (ordinal(sc, from, *d)) return VG_EPARSE;
  size_t len = word_len(sc);
  if (len)
    return fail(sc, "'%.*s' is no day of the month", (int)(sc->i + (len > 20 ? 20 : len) - from),
                sc->s + from);
  return 0;
}

static void set_span(vg_date *out, vg_precision p, int32_t first, int32_t last) {
  out->precision = p;
  out->first = first;
  out->last = last;
  out->second = -1;
}

/* "+09:00", "-0530", "Z" after a time of day; returns the offset in seconds. */
static int zone(scan *sc, int *offset) {
  *offset = 0;
  int c = peek(sc);
  if (c == 'Z' || c == 'z') {
    sc->i++;
    return 0;
  }
  if (c != '+' && c != '-') return 0; /* no zone: taken as UTC */
  sc->i++;
  int hh, mm = 0;
  if (digits(sc, 2, &hh) != 2) return fail(sc, "bad time zone offset");
  if (peek(sc) == ':') sc->i++;
  if (isdigit(peek(sc)) && digits(sc, 2, &mm) != 2) return fail(sc, "bad time zone offset");
  if (hh > 23 || mm > 59) return fail(sc, "bad time zone offset");
  *offset = (c == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
  return 0;
}

/* YYYY/MM/DD and YYYY/MM (the month and the day of one or two digits),
 * after the year y and its slash. */
static int slashed(scan *sc, int y, vg_date *out) {
  int m, d;
  int k = digits(sc, 3, &m);
  if (k > 2) return fail(sc, "'%.*s' is no month: write one or two digits", k, sc->s + sc->i - k);
  if (check_month(sc, m)) return VG_EPARSE;
  if (peek(sc) != '/' || sc->i + 1 >= sc->n || !isdigit((unsigned char)sc->s[sc->i + 1])) {
    set_span(out, VG_PREC_MONTH, vg_days_from_civil(y, m, 1),
             vg_days_from_civil(y, m, vg_days_in_month(y, m)));
    return 0;
  }
  sc->i++;
  k = digits(sc, 3, &d);
  if (k > 2) return fail(sc, "'%.*s' is no day: write one or two digits", k, sc->s + sc->i - k);
  if (check_day(sc, y, m, d)) return VG_EPARSE;
  int32_t day = vg_days_from_civil(y, m, d);
  set_span(out, VG_PREC_DAY, day, day);
  return 0;
}

/* YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.frac]][zone], a range of
 * days YYYY-MM-DD/YYYY-MM-DD, and the slashed YYYY/MM/DD and YYYY/MM. */
static int iso(scan *sc, vg_date *out) {
  int y, m, d;
  int k = digits(sc, 5, &y);
  if (check_year(sc, k, y)) return VG_EPARSE;
  if (peek(sc) == '/' && sc->i + 1 < sc->n && isdigit((unsigned char)sc->s[sc->i + 1])) {
    sc->i++;
    return slashed(sc, y, out);
  }
  if (peek(sc) != '-' || sc->i + 1 >= sc->n || !isdigit((unsigned char)sc->s[sc->i + 1])) {
    set_span(out, VG_PREC_YEAR, vg_days_from_civil(y, 1, 1), vg_days_from_civil(y, 12, 31));
    return 0;
  }
  sc->i++;
  if (digits(sc, 3, &m) != 2) return fail(sc, "a month must have two digits");
  if (check_month(sc, m)) return VG_EPARSE;
  if (peek(sc) != '-' || sc->i + 1 >= sc->n || !isdigit((unsigned char)sc->s[sc->i + 1])) {
    set_span(out, VG_PREC_MONTH, vg_days_from_civil(y, m, 1),
             vg_days_from_civil(y, m, vg_days_in_month(y, m)));
    return 0;
  }
  sc->i++;
  if (digits(sc, 3, &d) != 2) return fail(sc, "a day must have two digits");
  if (check_day(sc, y, m, d)) return VG_EPARSE;
  int32_t day = vg_days_from_civil(y, m, d);
  set_span(out, VG_PREC_DAY, day, day);
  int c = peek(sc);
  if (c == '/' && sc->i + 1 < sc->n && isdigit((unsigned char)sc->s[sc->i + 1])) {
    /* 2023-12-11/2023-12-20: a range, as vg_date_format writes one */
    sc->i++;
    vg_date end;
    if (iso(sc, &end)) return VG_EPARSE;
    if (end.precision != VG_PREC_DAY) return fail(sc, "a range ends on a day");
    if (end.first < day) return fail(sc, "the range runs backwards");
    set_span(out, end.first == day ? VG_PREC_DAY : VG_PREC_RANGE, day, end.first);
    return 0;
  }
  if (c != 'T' && c != 't' && !(c == ' ' && sc->i + 1 < sc->n && isdigit((unsigned char)sc->s[sc->i + 1]) &&
                                sc->i + 3 < sc->n && sc->s[sc->i + 3] == ':'))
    return 0;
  sc->i++;
  int hh, mi, ss = 0, off;
  if (digits(sc, 2, &hh) != 2 || peek(sc) != ':') return fail(sc, "bad time of day");
  sc->i++;
  if (digits(sc, 2, &mi) != 2) return fail(sc, "bad time of day");
  if (peek(sc) == ':') {
    sc->i++;
    if (digits(sc, 2, &ss) != 2) return fail(sc, "bad time of day");
    if (peek(sc) == '.' || peek(sc) == ',') {
      sc->i++;
      while (isdigit(peek(sc))) sc->i++;
    }
  }
  if (hh > 23 || mi > 59 || ss > 60) return fail(sc, "impossible time of day %02d:%02d:%02d", hh, mi, ss);
  if (ss == 60) ss = 59; /* a leap second stays within its minute */
  if (zone(sc, &off)) return VG_EPARSE;
  int64_t t = (int64_t)day * 86400 + hh * 3600 + mi * 60 + ss - off;
  int32_t utc_day = (int32_t)((t >= 0 ? t : t - 86399) / 86400);
  /* An offset can carry the first or last hours of the years a date may
   * have across their edge; such an instant has no year to be stored in. */
  if (utc_day < vg_days_from_civil(1, 1, 1) || utc_day > vg_days_from_civil(9999, 12, 31))
    return fail(sc, "the instant falls outside the years 0001 to 9999 in UTC");
  set_span(out, VG_PREC_TIME, utc_day, utc_day);
  out->second = (int32_t)(t - (int64_t)utc_day * 86400);
  return 0;
}

/* The year after a month: ", 2023", " 2023", ",2023". */
static int year_after(scan *sc, int *y) {
  if (peek(sc) == ',') sc->i++;
  skip_blanks(sc);
  int k = digits(sc, 5, y);
  if (k == 0) return fail(sc, "no year in the date");
  return check_year(sc, k, *y);
}

/* A word where a month's name belongs. */
static int no_month(scan *sc, size_t at, size_t len) {
  return fail(sc, "'%.*s' is no month name", (int)(len > 20 ? 20 : len), sc->s + at);
}

/* [early|mid|late][-| ]Month[.] [D[st|nd|rd|th][-D[...]],] YYYY */
static int worded(scan *sc, vg_date *out) {
  static const char *const parts[] = {"early", "mid", "late"};
  int part = -1;
  size_t len = word_len(sc);
  for (int p = 0; p < 3; p++)
    if (len == strlen(parts[p]) && strncasecmp(sc->s + sc->i, parts[p], len) == 0) part = p;
  if (part >= 0) {
    sc->i += len;
    if (peek(sc) == '-') sc->i++;
    skip_blanks(sc);
  }
  size_t at = sc->i;
  int m = month_word(sc);
  if (!m) {
    len = word_len(sc);
    scan after = *sc;
    after.i += len;
    skip_blanks(&after);
    if (len && (part >= 0 || isdigit(peek(&after)))) return no_month(sc, at, len);
    return fail(sc, "no date at the start of the line");
  }
  skip_blanks(sc);
  int y, d1 = 0, d2 = 0;
  size_t before_num = sc->i;
  int k = digits(sc, 5, &d1);
  if (part < 0 && (k == 1 || k == 2) && peek(sc) != ':') {
    if (month_day(sc, before_num, &d1)) return VG_EPARSE;
    if (peek(sc) == '-' || peek(sc) == 0xe2) { /* 5-7 or 5–7 (en dash) */
      if (peek(sc) == 0xe2) {
        if (sc->i + 2 >= sc->n || memcmp(sc->s + sc->i, "\xe2\x80\x93", 3) != 0)
          return fail(sc, "bad day range");
        sc->i += 2;
      }
      sc->i++;
      size_t second = sc->i;
      if (digits(sc, 2, &d2) == 0) return fail(sc, "bad day range");
      if (month_day(sc, second, &d2)) return VG_EPARSE;
    }
    if (year_after(sc, &y)) return VG_EPARSE;
    if (check_day(sc, y, m, d1)) return VG_EPARSE;
    int32_t first = vg_days_from_civil(y, m, d1);
    if (d2) {
      if (check_day(sc, y, m, d2)) return VG_EPARSE;
      if (d2 < d1) return fail(sc, "day range runs backwards");
      set_span(out, d2 == d1 ? VG_PREC_DAY : VG_PREC_RANGE, first, vg_days_from_civil(y, m, d2));
    } else {
      set_span(out, VG_PREC_DAY, first, first);
    }
    return 0;
  }
  sc->i = before_num;
  if (year_after(sc, &y)) return VG_EPARSE;
  int last = vg_days_in_month(y, m);
  if (part < 0) {
    set_span(out, VG_PREC_MONTH, vg_days_from_civil(y, m, 1), vg_days_from_civil(y, m, last));
  } else {
    static const int from[] = {1, 11, 21};
    int to = part == 0 ? 10 : part == 1 ? 20 : last;
    set_span(out, VG_PREC_RANGE, vg_days_from_civil(y, m, from[part]), vg_days_from_civil(y, m, to));
  }
  return 0;
}

/* 13/12/2023, 12/13/2023, 03.04.2023: the day first in most of the world,
 * the month first in the United States. Neither is guessed: the reason
 * names the form to write, and the date it would be when only one reading
 * is a date. Called with the first number `a` read and the separator next. */
static int numeric(scan *sc, int a) {
  size_t from = 0; /* a date of this form starts the text */
  char sep = sc->s[sc->i++];
  int b, y = 0, kb = digits(sc, 3, &b), ky = 0;
  if (peek(sc) == sep) {
    sc->i++;
    ky = digits(sc, 5, &y);
  }
  char write[64] = "YYYY-MM-DD";
  if (kb >= 1 && kb <= 2 && ky == 4 && y >= 1) {
    int day_first = b >= 1 && b <= 12 && a >= 1 && a <= vg_days_in_month(y, b);
    int month_first = a >= 1 && a <= 12 && b >= 1 && b <= vg_days_in_month(y, a);
    if (day_first && month_first && a != b)
      snprintf(write, sizeof write, "%04d-%02d-%02d or %04d-%02d-%02d", y, b, a, y, a, b);
    else if (day_first)
      snprintf(write, sizeof write, "%04d-%02d-%02d", y, b, a);
    else if (month_first)
      snprintf(write, sizeof write, "%04d-%02d-%02d", y, a, b);
  }
  return fail(sc,
              "'%.*s' is ambiguous: day or month first? Write the year first, as %s, or the "
              "month's name",
              (int)(sc->i - from > 20 ? 20 : sc->i - from), sc->s + from, write);
}

/* Whether the number just read goes on as a numeric date: a slash and a
 * digit, or a dot or hyphen, digits and the same again (so that "5-7
 * December" is not taken for one). */
static int numeric_next(const scan *sc) {
  int c = peek(sc);
  size_t k = sc->i + 1;
  if ((c != '/' && c != '.' && c != '-') || k >= sc->n || !isdigit((unsigned char)sc->s[k]))
    return 0;
  if (c == '/') return 1;
  while (k < sc->n && isdigit((unsigned char)sc->s[k])) k++;
  return k < sc->n && sc->s[k] == c;
}

/* D[st|nd|rd|th] [of] Month[.][,] YYYY */
static int day_first(scan *sc, vg_date *out) {
  int d, y;
  digits(sc, 2, &d);
  if (numeric_next(sc)) return numeric(sc, d);
  if (ordinal(sc, 0, d)) return VG_EPARSE;
  skip_blanks(sc);
  if (word_len(sc) == 2 && strncasecmp(sc->s + sc->i, "of", 2) == 0) {
    sc->i += 2;
    skip_blanks(sc);
  }
  size_t at = sc->i;
  int m = month_word(sc);
  if (!m) {
    size_t len = word_len(sc);
    if (len) return no_month(sc, at, len);
    return fail(sc, "no date at the start of the line");
  }
  if (year_after(sc, &y) || check_day(sc, y, m, d)) return VG_EPARSE;
  int32_t day = vg_days_from_civil(y, m, d);
  set_span(out, VG_PREC_DAY, day, day);
  return 0;
}

int vg_date_parse_prefix(const char *s, size_t n, size_t *used, vg_date *out, char *err,
                         size_t cap) {
  scan sc = {s, n, 0, err, cap};
  int rc;
  if (n == 0) return fail(&sc, "no date at the start of the line");
  if (isdigit((unsigned char)s[0])) {
    size_t k = 0;
    while (k < n && isdigit((unsigned char)s[k])) k++;
    rc = k >= 4 ? iso(&sc, out) : day_first(&sc, out);
  } else if (isalpha((unsigned char)s[0])) {
    rc = worded(&sc, out);
  } else {
    rc = fail(&sc, "no date at the start of the line");
  }
  if (rc == 0) *used = sc.i;
  return rc;
}

int vg_date_parse(const char *s, size_t n, vg_date *out, char *err, size_t cap) {
  while (n && isspace((unsigned char)s[0])) s++, n--;
  while (n && isspace((unsigned char)s[n - 1])) n--;
  size_t used;
  int rc = vg_date_parse_prefix(s, n, &used, out, err, cap);
  if (rc) return rc;
  if (used != n) {
    if (cap) snprintf(err, cap, "unexpected '%.*s' after the date", (int)(n - used > 20 ? 20 : n - used), s + used);
    return VG_EPARSE;
  }
  return 0;
}

void vg_utc_iso(time_t t, char out[VG_UTC_ISO_MAX]) {
  struct tm tm;
  if (t == (time_t)-1) t = time(NULL);
  if (!gmtime_r(&t, &tm) || !strftime(out, VG_UTC_ISO_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm))
    out[0] = '\0';
}
