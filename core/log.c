/* log.c — the one place vigil writes diagnostics: stderr, one line per event. */
#include "vigil.h"

#include "entry.h"

#include <cJSON.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Both are set on reload while other threads log. */
static atomic_int min_level = VG_LOG_INFO;
static atomic_int log_format = VG_LOG_TEXT;
static const char *const level_names[] = {"debug", "info", "notice", "warn", "error"};

const char *vg_strerror(int code) {
  switch (code) {
  case VG_OK: return "success";
  case VG_ENOMEM: return "out of memory";
  case VG_EIO: return "input/output error";
  case VG_EDB: return "database error";
  case VG_EPARSE: return "parse error";
  case VG_EVERSION: return "database is newer than this vigil";
  case VG_EINVAL: return "invalid argument";
  case VG_ESTOPPED: return "the daemon is stopping";
  default: return "unknown error";
  }
}

size_t vg_escape_line(char *out, size_t cap, const char *s, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      if (o + 4 >= cap) break;
      snprintf(out + o, 5, "\\x%02x", c);
      o += 4;
      continue;
    }
    if (o + 1 >= cap) {
      if ((c & 0xc0) == 0x80) { /* the cut falls inside a character: drop its first bytes */
        while (o && ((unsigned char)out[o - 1] & 0xc0) == 0x80) o--;
        if (o && (unsigned char)out[o - 1] >= 0xc0) o--;
      }
      break;
    }
    out[o++] = (char)c;
  }
  out[o] = '\0';
  return o;
}

void vg_log_set_level(int level) { atomic_store(&min_level, level); }

int vg_log_level_parse(const char *name) {
  for (int i = 0; i < 5; i++)
    if (strcmp(name, level_names[i]) == 0) return i;
  return -1;
}

int vg_log_format_parse(const char *name) {
  return strcmp(name, "text") == 0 ? VG_LOG_TEXT : strcmp(name, "json") == 0 ? VG_LOG_JSON : -1;
}

void vg_log_set_format(int format) { atomic_store(&log_format, format); }

/* Copies s[0..n) to out (room for 3n+1 bytes) with every byte that is not
 * part of a UTF-8 character replaced by U+FFFD, for a JSON string. */
static void to_utf8(char *out, const char *s, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t len = vg_utf8_char(s + i, n - i);
    if (len) {
      memcpy(out + o, s + i, len);
      o += len, i += len;
    } else {
      memcpy(out + o, "\xef\xbf\xbd", 3);
      o += 3, i++;
    }
  }
  out[o] = '\0';
}

/* The line of one event in the JSON format, or NULL when memory is short. */
static char *json_line(const char *ts, int level, const char *msg, size_t len) {
  char *utf8 = malloc(3 * len + 1);
  cJSON *o = cJSON_CreateObject();
  char *line = NULL;
  if (utf8 && o) {
    to_utf8(utf8, msg, len);
    cJSON_AddStringToObject(o, "ts", ts);
    cJSON_AddStringToObject(o, "level", level_names[level]);
    cJSON_AddStringToObject(o, "msg", utf8);
    line = cJSON_PrintUnformatted(o); /* escapes every control character */
  }
  cJSON_Delete(o);
  free(utf8);
  return line;
}

void vg_log(int level, const char *fmt, ...) {
  if (level < atomic_load(&min_level)) return;
  char line[2048], ts[40];
  struct timespec now;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  size_t t = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(ts + t, sizeof ts - t, ".%03ldZ", now.tv_nsec / 1000000);
  char msg[sizeof line];
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (m < 0) m = 0;
  if (m > (int)sizeof msg - 1) m = (int)sizeof msg - 1;
  if (atomic_load(&log_format) == VG_LOG_JSON) {
    char *json = json_line(ts, level, msg, (size_t)m);
    if (json) {
      size_t n = strlen(json);
      json[n] = '\n'; /* over its NUL: written by length */
      ssize_t w = write(STDERR_FILENO, json, n + 1);
      (void)w;
      cJSON_free(json);
      return;
    } /* no memory: the text line says it all the same */
  }
  int n = snprintf(line, sizeof line, "%s %-5s ", ts, level_names[level]);
  /* One event, one line: no input can forge a log line or hide one. */
  n += (int)vg_escape_line(line + n, sizeof line - (size_t)n - 1, msg, (size_t)m);
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, (size_t)n);
  (void)w;
}
