/* spool.c — a spool file ingested and moved; see spool.h. */
#include "spool.h"

#include "store.h"
#include "vigil.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The state of one file while it is read. */
typedef struct {
  const char *name;
  const vg_file_opts *caller; /* for its commit callback */
  const vg_ingest *ig;
  vg_spool_mark mark;         /* how far it was read, as committed */
  vg_counts *counts;          /* what its lines became, all told */
  char origin[300];           /* "spool:NAME", kept with its rejects */
  char shown[1100];           /* the name as the .err file says it: one line */
  char *errors;               /* "name:line: reason" lines for the .err file */
  size_t len, cap;
} job;

static void add_error(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_error(job *j, const char *fmt, ...) {
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) { /* cut, but still a line of its own */
    n = sizeof line - 1;
    line[n - 1] = '\n';
  }
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

/* One line of the .err file, from a reject kept in the store: what the
 * name or the reason quote cannot break it in two. */
static int err_line(void *ud, uint64_t line, const char *reason) {
  job *j = ud;
  char said[4 * VG_REASON_MAX];
  vg_escape_line(said, sizeof said, reason, strlen(reason));
  add_error(j, "%s:%llu: %s\n", j->shown, (unsigned long long)line, said);
  return 0;
}

/* Marks how far the file was read, in the transaction of those lines. */
static int before_commit(void *ud, uint64_t lines, uint64_t offset) {
  job *j = ud;
  j->mark.line = lines;
  j->mark.offset = offset;
  j->mark.stored = j->counts->stored;
  j->mark.duplicates = j->counts->duplicates;
  j->mark.rejected = j->counts->rejected;
  return vg_store_spool_put(j->ig->st, j->name, &j->mark);
}

static void on_commit(void *ud) {
  job *j = ud;
  if (j->caller->on_commit) j->caller->on_commit(j->caller->ud);
}

/* Where dir/name moves to: dir/sub/name, or dir/sub/name.N when that is
 * taken; a file of a format's directory (FORMAT/name) goes to
 * dir/sub/FORMAT/, made when missing. 0 or -errno. */
static int pick_dest(const char *dir, const char *sub, const char *name, char *dest, size_t cap) {
  const char *slash = strchr(name, '/');
  if (slash) {
    if (snprintf(dest, cap, "%s/%s/%.*s", dir, sub, (int)(slash - name), name) >= (int)cap)
      return -ENAMETOOLONG;
    if (mkdir(dest, 0755) != 0 && errno != EEXIST) return -errno;
  }
  for (int k = 0; k < 1000; k++) {
    int n = k == 0 ? snprintf(dest, cap, "%s/%s/%s", dir, sub, name)
                   : snprintf(dest, cap, "%s/%s/%s.%d", dir, sub, name, k);
    if (n >= (int)cap) return -ENAMETOOLONG;
    if (access(dest, F_OK) != 0) return 0;
  }
  return -EEXIST;
}

/* Writes dest.err whole (a temporary name, then renamed). The temporary
 * file is made afresh, never opened through what stands at its name (a
 * link planted there would have the daemon write where it points). */
static void write_err_file(const char *dest, const char *text, size_t len) {
  char path[8300], tmp[8400];
  if (snprintf(path, sizeof path, "%s.err", dest) >= (int)sizeof path ||
      snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return;
  unlink(tmp); /* left by a crash, or planted */
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    vg_error("spool: cannot write %s: %s", tmp, strerror(errno));
    if (fd >= 0) close(fd);
    return;
  }
  fwrite(text, 1, len, f);
  if (fclose(f) != 0 || rename(tmp, path) != 0)
    vg_error("spool: cannot write %s: %s", path, strerror(errno));
}

/* What a file that is not a regular one is, for the reason it is refused. */
static const char *file_kind(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "of an unknown kind";
}

/* Opens the spool file at path for reading, if it is one the spool takes: a
 * regular file with a single link, owned by the daemon's user or by root.
 * The name was a regular file when the spool was scanned, but anyone who
 * may write in the directory can put something else in its place before it
 * is read: a FIFO (whose open or read would hold the job, and the daemon,
 * for ever), a symbolic link or a hard link to a file that is not theirs to
 * read (its lines would be stored, the rest kept verbatim in rejects). So
 * the open neither follows a link nor waits, and what was opened is looked
 * at before a byte of it is read. Returns the descriptor; or -1 with r->rc
 * VG_SPOOL_GONE, VG_SPOOL_REFUSED or VG_EIO and r->why saying why. */
static int open_file(const char *path, vg_spool_result *r) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  struct stat sb;
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT || lstat(path, &sb) != 0) {
      r->rc = e == ENOENT || errno == ENOENT ? VG_SPOOL_GONE : VG_EIO;
      snprintf(r->why, sizeof r->why, "cannot open: %s", strerror(e));
    } else if (!S_ISREG(sb.st_mode)) { /* a link (ELOOP), a socket (ENXIO)... */
      r->rc = VG_SPOOL_REFUSED;
      snprintf(r->why, sizeof r->why, "refused: %s, not a regular file", file_kind(sb.st_mode));
    } else {
      r->rc = VG_EIO;
      snprintf(r->why, sizeof r->why, "cannot open: %s", strerror(e));
    }
    return -1;
  }
  uid_t me = geteuid();
  r->rc = VG_SPOOL_REFUSED;
  if (fstat(fd, &sb) != 0) {
    r->rc = VG_EIO;
    snprintf(r->why, sizeof r->why, "cannot read: %s", strerror(errno));
  } else if (!S_ISREG(sb.st_mode)) {
    snprintf(r->why, sizeof r->why, "refused: %s, not a regular file", file_kind(sb.st_mode));
  } else if (sb.st_uid != me && sb.st_uid != 0) {
    snprintf(r->why, sizeof r->why,
             "refused: owned by uid %lu, not by the daemon's user (uid %lu) or root",
             (unsigned long)sb.st_uid, (unsigned long)me);
  } else if (sb.st_nlink != 1) {
    snprintf(r->why, sizeof r->why,
             "refused: it has %lu hard links; move a file into the spool, do not link it",
             (unsigned long)sb.st_nlink);
  } else {
    int fl = fcntl(fd, F_GETFL);
    if (fl != -1) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    r->rc = 0;
    return fd;
  }
  close(fd);
  return -1;
}

/* Where the file at fd was left: on its mark when the store has one for this
 * very file, else from its start. Positions fd there. 0, VG_EDB or VG_EIO. */
static int resume(job *j, int fd, int again, vg_spool_result *r) {
  struct stat sb;
  if (fstat(fd, &sb) != 0) return VG_EIO;
  char id[sizeof j->mark.identity];
  /* Not the device: its number may change across a reboot. */
  snprintf(id, sizeof id, "%llu:%lld:%lld.%09ld", (unsigned long long)sb.st_ino,
           (long long)sb.st_size, (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
  int found = vg_store_spool_get(j->ig->st, j->name, &j->mark);
  if (found < 0) return VG_EDB;
  if (found && strcmp(j->mark.identity, id) == 0 && (off_t)j->mark.offset <= sb.st_size &&
      lseek(fd, (off_t)j->mark.offset, SEEK_SET) == (off_t)j->mark.offset) {
    r->counts = (vg_counts){j->mark.stored, j->mark.duplicates, j->mark.rejected, 0};
    if (j->mark.line)
      vg_log(again ? VG_LOG_DEBUG : VG_LOG_INFO, "spool: %s: going on after line %llu", j->name,
             (unsigned long long)j->mark.line);
    return 0;
  }
  memset(&j->mark, 0, sizeof j->mark); /* new, or another file under the same name */
  snprintf(j->mark.identity, sizeof j->mark.identity, "%s", id);
  return vg_store_last_reject(j->ig->st, &j->mark.first_reject);
}

void vg_spool_ingest(const vg_ingest *ig, const char *dir, const char *name,
                     const vg_file_opts *o, int again, vg_spool_result *r) {
  memset(r, 0, sizeof *r);
  job j = {.name = name, .caller = o, .ig = ig, .counts = &r->counts};
  snprintf(j.origin, sizeof j.origin, "spool:%s", name);
  vg_escape_line(j.shown, sizeof j.shown, name, strlen(name));
  char path[8192];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
    r->rc = VG_SPOOL_GONE;
    return;
  }
  int fd = open_file(path, r);
  if (fd < 0) {
    /* r says why; a refused name is moved to failed/ below, never read */
  } else if ((r->rc = resume(&j, fd, again, r)) != 0) {
    snprintf(r->why, sizeof r->why, "%s",
             r->rc == VG_EDB ? vg_store_errmsg(ig->st) : strerror(errno));
    close(fd);
  } else {
    vg_file_opts mine = *o;
    mine.on_reject = NULL; /* the caller's callbacks would get our ud */
    mine.progress = NULL;
    mine.on_commit = on_commit;
    mine.before_commit = before_commit;
    mine.ud = &j;
    mine.origin = j.origin;
    mine.first_line = j.mark.line;
    mine.offset = j.mark.offset;
    r->rc = vg_ingest_fd(ig, fd, &mine, &r->counts, r->why, sizeof r->why);
    if (r->rc == VG_INGEST_MORE) r->rc = VG_SPOOL_MORE;
    close(fd);
  }
  if (r->rc == VG_ENOMEM) r->rc = VG_EDB; /* a batch rolled back: retry from the last commit */
  if (r->rc == VG_SPOOL_GONE && vg_store_spool_forget(ig->st, name) != 0)
    vg_warn("spool: %s: its progress was not cleared: %s", name, vg_store_errmsg(ig->st));
  if (r->rc == VG_SPOOL_GONE || r->rc == VG_SPOOL_MORE || r->rc == VG_EDB) return;
  r->failed = r->rc != 0 || r->counts.rejected;
  /* Only a file that was read has rejects to list (its mark is its own). */
  if (r->counts.rejected &&
      vg_store_rejects_of(ig->st, j.origin, j.mark.first_reject, err_line, &j) != 0)
    add_error(&j, "%s: the rejected lines could not be listed: %s\n", j.shown,
              vg_store_errmsg(ig->st));
  if (r->rc) {
    char why[sizeof r->why];
    vg_escape_line(why, sizeof why, r->why, strlen(r->why));
    add_error(&j, "%s: %s\n", j.shown, why);
  }
  /* The .err file first: a crash before the move leaves the file in the
   * spool, whose next attempt writes the .err again; a crash after it leaves
   * only the mark, which vg_spool_tidy drops. */
  char dest[8200];
  int mv = pick_dest(dir, r->failed ? "failed" : "done", name, dest, sizeof dest);
  if (mv == 0 && r->failed) write_err_file(dest, j.errors ? j.errors : "", j.len);
  if (mv == 0 && rename(path, dest) != 0) mv = -errno;
  if (mv < 0)
    vg_error("spool: %s: cannot move it to %s/: %s", name, r->failed ? "failed" : "done",
             strerror(-mv));
  else if (vg_store_spool_forget(ig->st, name) != 0)
    vg_warn("spool: %s: its progress was not cleared: %s", name, vg_store_errmsg(ig->st));
  free(j.errors);
}

/* Keeps the name of each mark, to look for its file. */
static int keep_name(void *ud, const char *name) {
  char ***names = ud;
  size_t n = 0;
  while ((*names)[n]) n++;
  char **grown = realloc(*names, (n + 2) * sizeof *grown);
  if (!grown || !(grown[n] = strdup(name))) {
    if (grown) *names = grown;
    return VG_ENOMEM;
  }
  grown[n + 1] = NULL;
  *names = grown;
  return 0;
}

int vg_spool_tidy(vg_store *st, const char *dir) {
  char **names = calloc(1, sizeof *names);
  if (!names) return VG_ENOMEM;
  int rc = vg_store_spool_names(st, keep_name, &names);
  for (size_t i = 0; rc == 0 && names[i]; i++) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (access(path, F_OK) == 0 || errno != ENOENT) continue;
    vg_debug("spool: %s has moved on; dropping its progress", names[i]);
    rc = vg_store_spool_forget(st, names[i]);
  }
  for (size_t i = 0; names[i]; i++) free(names[i]);
  free(names);
  return rc;
}
