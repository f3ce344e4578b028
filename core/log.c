/* log.c — the one place vigil writes diagnostics: stderr, one line per event. */
#include "vigil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int min_level = VG_LOG_INFO;
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

void vg_log_set_level(int level) { min_level = level; }

int vg_log_level_parse(const char *name) {
  for (int i = 0; i < 5; i++)
    if (strcmp(name, level_names[i]) == 0) return i;
  return -1;
}

void vg_log(int level, const char *fmt, ...) {
  if (level < min_level) return;
  char line[2048];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
  n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %-5s ", ts.tv_nsec / 1000000,
                level_names[level]);
  char msg[sizeof line];
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (m < 0) m = 0;
  if (m > (int)sizeof msg - 1) m = (int)sizeof msg - 1;
  /* One event, one line: no input can forge a log line or hide one. */
  n += (int)vg_escape_line(line + n, sizeof line - (size_t)n - 1, msg, (size_t)m);
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, (size_t)n);
  (void)w;
}
