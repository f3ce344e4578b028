/* vigil.h — what every module of vigil shares: the error codes and the log.
 *
 * Functions that can fail return 0 or a negative VG_E* code; vg_strerror()
 * names the code. Constructors return NULL on failure and change nothing. */
#ifndef VIGIL_H
#define VIGIL_H

#include <stdarg.h>
#include <stddef.h>

#define VIGIL_VERSION "0.1.0"

enum {
  VG_OK = 0,
  VG_ENOMEM = -1,   /* out of memory */
  VG_EIO = -2,      /* a read or write on a file or socket failed */
  VG_EDB = -3,      /* SQLite said no; the store logged why */
  VG_EPARSE = -4,   /* input could not be parsed */
  VG_EVERSION = -5, /* the database is newer than this binary */
  VG_EINVAL = -6,   /* a bad argument or setting */
  VG_ESTOPPED = -7, /* the daemon is stopping: the work was left before it began */
};

/* Returns a static, human sentence for a VG_E* code. */
const char *vg_strerror(int code);

/* The levels, as syslog has them: notice is what a user asked to see (a
 * rule's print(), an alert) and shows where informational lines do not. */
enum { VG_LOG_DEBUG, VG_LOG_INFO, VG_LOG_NOTICE, VG_LOG_WARN, VG_LOG_ERROR };

/* Writes one line to stderr: UTC time, level, message; or, in the JSON
 * format, one object {"ts", "level", "msg"} (cJSON escapes the message and
 * bytes that are not UTF-8 become U+FFFD, so the line always parses).
 * Thread-safe: each line is written with a single write(2). Lines below the
 * level are dropped. */
void vg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The level from which lines are written, for every line from now on (the
 * daemon changes it on reload while other threads log). */
void vg_log_set_level(int level);
/* Parses "debug", "info", "notice", "warn" or "error"; returns -1 for
 * anything else. */
int vg_log_level_parse(const char *name);
enum { VG_LOG_TEXT, VG_LOG_JSON };
/* Parses "text" or "json" (the log_format setting); -1 for anything else. */
int vg_log_format_parse(const char *name);
/* VG_LOG_TEXT (the default) or VG_LOG_JSON, for every line from now on. */
void vg_log_set_format(int format);

/* Copies s[0..n) to out (cap bytes, at least 1) as one line of text: every
 * control character but tab (a newline, a carriage return, an escape) and
 * DEL become \xHH, so that what input says cannot end the line it is
 * quoted in, start a forged one or hide one. What does not fit is cut
 * between two characters, never inside an escape or a UTF-8 sequence.
 * out is NUL-terminated; returns its length. Every place that writes text
 * taken from input into a line (the log, replies to clients, .err files)
 * goes through it. */
size_t vg_escape_line(char *out, size_t cap, const char *s, size_t n);

#define vg_debug(...) vg_log(VG_LOG_DEBUG, __VA_ARGS__)
#define vg_info(...) vg_log(VG_LOG_INFO, __VA_ARGS__)
#define vg_notice(...) vg_log(VG_LOG_NOTICE, __VA_ARGS__)
#define vg_warn(...) vg_log(VG_LOG_WARN, __VA_ARGS__)
#define vg_error(...) vg_log(VG_LOG_ERROR, __VA_ARGS__)

#endif
