/* silence.c — reading a silence's end time and writing a silence as JSON;
 * see silence.h. Called by cmd_silence.c and api_silences.c. */
#include "silence.h"
#include "date.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads exactly n digits at *p into *v. */
static int digits(const char **p, int n, int *v) {
  *v = 0;
  for (int i = 0; i < n; i++, (*p)++) {
    if (!isdigit((unsigned char)**p)) return -1;
    *v = *v * 10 + (**p - '0');
  }
  return 0;
}

int vg_silence_parse_time(const char *text, time_t *t, char *err, size_t cap) {
  const char *p = text;
  int y, mo, d, h, mi, s = 0, oh = 0, om = 0, sign = 0;
  const char *form = "give a UTC time such as 2026-12-04T08:00:00Z (or one with its offset, "
                     "+09:00)";
  if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d)) {
    snprintf(err, cap, "'%s' is no time: %s", text, form);
    return -1;
  }
  if (*p != 'T' && *p != 't' && *p != ' ') {
    snprintf(err, cap, "'%s' has no time of day: %s", text, form);
    return -1;
  }
  p++;
  if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) {
    snprintf(err, cap, "'%s' is no time: %s", text, form);
    return -1;
  }
  if (*p == ':') {
    p++;
    if (digits(&p, 2, &s)) {
      snprintf(err, cap, "'%s' is no time: %s", text, form);
      return -1;
    }
    if (*p == '.') /* fractions of a second: dropped */
      while (isdigit((unsigned char)*++p)) {
      }
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    sign = *p++ == '-' ? -1 : 1;
    int bad = digits(&p, 2, &oh);
    if (!bad && *p == ':') p++;
    if (bad || digits(&p, 2, &om) || oh > 23 || om > 59) {
      snprintf(err, cap, "'%s' has a bad offset from UTC: %s", text, form);
      return -1;
    }
  } else if (!*p) {
    snprintf(err, cap, "'%s' names no time zone: %s", text, form);
    return -1;
  }
  if (*p) {
    snprintf(err, cap, "'%s' is no time: %s", text, form);
    return -1;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    snprintf(err, cap, "'%s' is no time: a field is out of range", text);
    return -1;
  }
  struct tm tm = {
      .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
  time_t v = timegm(&tm);
  if (tm.tm_mday != d) { /* timegm carried 31 April into May */
    snprintf(err, cap, "'%s' is no time: there is no such day", text);
    return -1;
  }
  *t = v - (time_t)sign * (oh * 3600 + om * 60);
  return 0;
}

int vg_silence_parse_duration(const char *text, long long *secs, char *err, size_t cap) {
  const char *p = text;
  long long total = 0;
  if (!*p) {
    snprintf(err, cap, "an empty duration: give one such as 30m, 2h, 3d or 1w");
    return -1;
  }
  while (*p) {
    if (!isdigit((unsigned char)*p)) {
      snprintf(err, cap, "'%s' is no duration: give one such as 30m, 2h, 3d or 1w", text);
      return -1;
    }
    char *end;
    long long n = strtoll(p, &end, 10);
    long long unit = *end == 's'   ? 1
                     : *end == 'm' ? 60
                     : *end == 'h' ? 3600
                     : *end == 'd' ? 86400
                     : *end == 'w' ? 7 * 86400
                                   : 0;
    if (!unit) {
      snprintf(err, cap, "'%s': a number needs its unit (s, m, h, d or w), as in 2h", text);
      return -1;
    }
    if (n > VG_SILENCE_MAX_SECONDS / unit || total + n * unit > VG_SILENCE_MAX_SECONDS) {
      snprintf(err, cap, "'%s' is longer than a silence may last (ten years)", text);
      return -1;
    }
    total += n * unit;
    p = end + 1;
  }
  if (total <= 0) {
    snprintf(err, cap, "'%s' is no time at all: a silence must last", text);
    return -1;
  }
  *secs = total;
  return 0;
}

int vg_silence_until(const char *until_text, const char *for_text, time_t now,
                     char out[VG_SILENCE_TIME_MAX], char *err, size_t cap) {
  char why[256];
  time_t t;
  if (for_text) {
    long long secs;
    if (vg_silence_parse_duration(for_text, &secs, why, sizeof why)) {
      snprintf(err, cap, "for: %s", why);
      return -1;
    }
    t = now + (time_t)secs;
  } else {
    if (vg_silence_parse_time(until_text, &t, why, sizeof why)) {
      snprintf(err, cap, "until: %s", why);
      return -1;
    }
    char at[VG_SILENCE_TIME_MAX];
    vg_utc_iso(now, at);
    if (t <= now) {
      snprintf(err, cap, "until: '%s' is not in the future (it is %s now)", until_text, at);
      return -2;
    }
    if (t - now > VG_SILENCE_MAX_SECONDS) {
      snprintf(err, cap, "until: '%s' is further ahead than a silence may last (ten years)",
               until_text);
      return -2;
    }
  }
  vg_utc_iso(t, out);
  return 0;
}

cJSON *vg_silence_json(const vg_silence_row *s) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  int ok = cJSON_AddNumberToObject(o, "id", (double)s->id) &&
           cJSON_AddStringToObject(o, "rule", s->rule) &&
           (s->key ? cJSON_AddStringToObject(o, "key", s->key) != NULL
                   : cJSON_AddNullToObject(o, "key") != NULL) &&
           cJSON_AddStringToObject(o, "until", s->until) &&
           cJSON_AddStringToObject(o, "author", s->author) &&
           cJSON_AddStringToObject(o, "reason", s->reason) &&
           cJSON_AddStringToObject(o, "created_at", s->created_at) &&
           (s->expired_at ? cJSON_AddStringToObject(o, "expired_at", s->expired_at) != NULL
                          : cJSON_AddNullToObject(o, "expired_at") != NULL) &&
           cJSON_AddStringToObject(o, "state", s->active ? "active" : "expired");
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}
