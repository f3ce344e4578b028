/* cron.c — cron expressions and their next and previous firing times. */
#include "cron.h"

#include "date.h"
#include "vigil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* One field: its range of values and, optionally, names for them. */
typedef struct {
  const char *what;
  int lo, hi;
  const char *const *names; /* names[i] is value i + name_base */
  int nnames, name_base;
} field;

static int value(const field *f, const char **p, int *v, char *err, size_t cap) {
  const char *s = *p;
  if (isdigit((unsigned char)*s)) {
    long x = strtol(s, (char **)p, 10);
    if (x < f->lo || x > f->hi) {
      snprintf(err, cap, "%s %ld is out of range %d-%d", f->what, x, f->lo, f->hi);
      return VG_EINVAL;
    }
    *v = (int)x;
    return 0;
  }
  for (int i = 0; i < f->nnames; i++)
    if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
      *v = i + f->name_base;
      *p = s + 3;
      return 0;
    }
  snprintf(err, cap, "bad %s '%.10s'", f->what, s);
  return VG_EINVAL;
}

/* Parses one field into a bit set; *any says it was '*'. */
static int parse_field(const field *f, const char *s, uint64_t *bits, int *any, char *err,
                       size_t cap) {
  *bits = 0;
  *any = s[0] == '*'; /* as in Vixie cron: a star, stepped or not, leaves the day free */
  const char *p = s;
  for (;;) {
    int a, b, step = 1;
    if (*p == '*') {
      a = f->lo;
      b = f->hi;
      p++;
    } else {
      if (value(f, &p, &a, err, cap)) return VG_EINVAL;
      b = a;
      if (*p == '-') {
        p++;
        if (value(f, &p, &b, err, cap)) return VG_EINVAL;
        if (b < a) {
          snprintf(err, cap, "%s range %d-%d runs backwards", f->what, a, b);
          return VG_EINVAL;
        }
      }
    }
    if (*p == '/') {
      char *end;
      long x = strtol(p + 1, &end, 10);
      if (end == p + 1 || x < 1 || x > f->hi) {
        snprintf(err, cap, "bad step in %s '%s'", f->what, s);
        return VG_EINVAL;
      }
      step = (int)x;
      p = end;
      if (a == b && p[-1] != '*') b = f->hi; /* 5/15: from 5 on */
    }
    for (int v = a; v <= b; v += step) *bits |= 1ull << v;
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p) {
      snprintf(err, cap, "unexpected '%s' in %s '%s'", p, f->what, s);
      return VG_EINVAL;
    }
    return 0;
  }
}

int vg_cron_parse(const char *spec, vg_cron *c, char *err, size_t cap) {
  static const field fields[5] = {
      {"minute", 0, 59, NULL, 0, 0},          {"hour", 0, 23, NULL, 0, 0},
      {"day of month", 1, 31, NULL, 0, 0},    {"month", 1, 12, month_names, 12, 1},
      {"day of week", 0, 7, day_names, 7, 0},
  };
  char copy[256], *parts[5], *save = NULL;
  int n = 0;
  snprintf(copy, sizeof copy, "%s", spec);
  for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
    if (n++ < 5) parts[n - 1] = t;
  if (n != 5) {
    snprintf(err, cap, "a schedule has five fields (minute hour day month weekday), not %d", n);
    return VG_EINVAL;
  }
  memset(c, 0, sizeof *c);
  uint64_t bits[5];
  int any[5];
  for (int i = 0; i < 5; i++)
    if (parse_field(&fields[i], parts[i], &bits[i], &any[i], err, cap)) return VG_EINVAL;
  c->minutes = bits[0];
  c->hours = (uint32_t)bits[1];
  c->mdays = (uint32_t)bits[2];
  c->months = (uint16_t)bits[3];
  c->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday too */
  c->mday_any = any[2];
  c->wday_any = any[4];
  /* Refuse what can never fire: only days that no chosen month has. */
  if (c->wday_any) {
    int possible = 0;
    for (int m = 1; m <= 12 && !possible; m++)
      if (c->months & (1u << m))
        for (int d = 1; d <= vg_days_in_month(2024, m) && !possible; d++)
          possible = (c->mdays >> d) & 1;
    if (!possible) {
      snprintf(err, cap, "'%s' never fires: no chosen month has such a day", spec);
      return VG_EINVAL;
    }
  }
  return 0;
}

static int day_matches(const vg_cron *c, const struct tm *t) {
  int md = (c->mdays >> t->tm_mday) & 1, wd = (c->wdays >> t->tm_wday) & 1;
  if (c->mday_any && c->wday_any) return 1;
  if (c->mday_any) return wd;
  if (c->wday_any) return md;
  return md || wd; /* both restricted: either, as cron does */
}


/* The time of a local calendar minute. A minute that a clock change skips
 * (02:30 when clocks jump from 02:00 to 03:00) comes out as the real time
 * mktime moves it to, just after the gap, so a run there is late, not lost,
 * as cron does; a minute that happens twice counts once. */
static time_t local_time(int y, int mon, int d, int h, int m) {
  struct tm tm = {0};
  tm.tm_year = y - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_isdst = -1;
  return mktime(&tm);
}

/* Walks the local calendar day by day, then the chosen hours and minutes of
 * a matching day, in direction dir (+1: the first run after `from`; -1: the
 * last at or before it). */
static time_t walk(const vg_cron *c, time_t from, int dir) {
  struct tm start;
  localtime_r(&from, &start);
  int32_t day = vg_days_from_civil(start.tm_year + 1900, start.tm_mon + 1, start.tm_mday);
  for (int i = 0; i <= 8 * 366 + 1; i++, day += dir) {
    int y, mon, d;
    vg_civil_from_days(day, &y, &mon, &d);
    struct tm probe = {0};
    probe.tm_year = y - 1900;
    probe.tm_mon = mon - 1;
    probe.tm_mday = d;
    probe.tm_hour = 12;
    probe.tm_isdst = -1;
    time_t noon = mktime(&probe); /* fills tm_wday */
    (void)noon;
    if (!((c->months >> mon) & 1) || !day_matches(c, &probe)) continue;
    for (int k = 0; k < 24 * 60; k++) {
      int minute_of_day = dir > 0 ? k : 24 * 60 - 1 - k;
      int h = minute_of_day / 60, m = minute_of_day % 60;
      if (!((c->hours >> h) & 1)) {
        k += dir > 0 ? 59 - m : m; /* skip the rest of the hour */
        continue;
      }
      if (!((c->minutes >> m) & 1)) continue;
      time_t t = local_time(y, mon, d, h, m);
      if (dir > 0 ? t > from : t <= from) return t;
    }
  }
  return (time_t)-1;
}

time_t vg_cron_next(const vg_cron *c, time_t after) { return walk(c, after, 1); }

time_t vg_cron_prev(const vg_cron *c, time_t at) { return walk(c, at, -1); }
