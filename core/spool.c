/* spool.c — a spool file ingested and moved; see spool.h. */
#include "spool.h"

#include "vigil.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The state of one file while it is read. */
typedef struct {
  const char *name;
  const vg_file_opts *caller; /* for its commit callback */
  char *errors;               /* "name:line: reason" lines for the .err file */
  size_t len, cap;
} job;

static void add_error(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_error(job *j, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  if (j->len + (size_t)n + 1 > j->cap) {
    size_t cap = (j->len + (size_t)n + 1) * 2;
    char *e = realloc(j->errors, cap);
    if (!e) return; /* the .err file lacks a line; the file still moves */
    j->errors = e;
    j->cap = cap;
  }
  memcpy(j->errors + j->len, line, (size_t)n);
  j->len += (size_t)n;
  j->errors[j->len] = '\0';
}

static void on_reject(void *ud, const vg_line *line, const vg_result *res) {
  job *j = ud;
  add_error(j, "%s:%llu: %s\n", j->name, (unsigned long long)line->line_no, res->reason);
}

static void on_commit(void *ud) {
  job *j = ud;
  if (j->caller->on_commit) j->caller->on_commit(j->caller->ud);
}

/* Renames dir/name to dir/sub/name, or dir/sub/name.N when that is taken. */
static int move_to(const char *dir, const char *sub, const char *name, char *dest, size_t cap) {
  char from[8192];
  if (snprintf(from, sizeof from, "%s/%s", dir, name) >= (int)sizeof from) return -ENAMETOOLONG;
  for (int k = 0; k < 1000; k++) {
    int n = k == 0 ? snprintf(dest, cap, "%s/%s/%s", dir, sub, name)
                   : snprintf(dest, cap, "%s/%s/%s.%d", dir, sub, name, k);
    if (n >= (int)cap) return -ENAMETOOLONG;
    if (access(dest, F_OK) != 0) return rename(from, dest) == 0 ? 0 : -errno;
  }
  return -EEXIST;
}

/* Writes dest.err whole (a temporary name, then renamed). */
static void write_err_file(const char *dest, const char *text, size_t len) {
  char path[8300], tmp[8400];
  if (snprintf(path, sizeof path, "%s.err", dest) >= (int)sizeof path ||
      snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return;
  FILE *f = fopen(tmp, "w");
  if (!f) {
    vg_error("spool: cannot write %s: %s", tmp, strerror(errno));
    return;
  }
  fwrite(text, 1, len, f);
  if (fclose(f) != 0 || rename(tmp, path) != 0)
    vg_error("spool: cannot write %s: %s", path, strerror(errno));
}

void vg_spool_ingest(const vg_ingest *ig, const char *dir, const char *name,
                     const vg_file_opts *o, vg_spool_result *r) {
  memset(r, 0, sizeof *r);
  job j = {name, o, NULL, 0, 0};
  char path[8192];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
    r->rc = VG_SPOOL_GONE;
    return;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r->rc = errno == ENOENT ? VG_SPOOL_GONE : VG_EIO;
    snprintf(r->why, sizeof r->why, "cannot open: %s", strerror(errno));
  } else {
    vg_file_opts mine = *o;
    mine.on_reject = on_reject;
    mine.on_commit = on_commit;
    mine.ud = &j;
    r->rc = vg_ingest_fd(ig, fd, &mine, &r->counts, r->why, sizeof r->why);
    close(fd);
  }
  if (r->rc == VG_ENOMEM) r->rc = VG_EDB; /* a batch rolled back: retry the file whole */
  if (r->rc == VG_SPOOL_GONE || r->rc == VG_EDB) {
    free(j.errors);
    return;
  }
  r->failed = r->rc != 0 || r->counts.rejected;
  if (r->rc) add_error(&j, "%s: %s\n", name, r->why);
  char dest[8200];
  int mv = move_to(dir, r->failed ? "failed" : "done", name, dest, sizeof dest);
  if (mv < 0)
    vg_error("spool: %s: cannot move it to %s/: %s", name, r->failed ? "failed" : "done",
             strerror(-mv));
  else if (r->failed)
    write_err_file(dest, j.errors ? j.errors : "", j.len);
  free(j.errors);
}
