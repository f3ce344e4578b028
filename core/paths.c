/* paths.c — file-system helpers; see paths.h. */
#include "paths.h"

#include "vigil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void vg_make_dirs(const char *path, int is_dir) {
  char p[4096];
  if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) return;
  if (!is_dir) {
    char *slash = strrchr(p, '/');
    if (!slash) return;
    *slash = '\0';
  }
  for (char *s = p + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      mkdir(p, 0755);
      *s = '/';
    }
  mkdir(p, 0755);
}

/* The database's path with every symbolic link resolved (of its directory
 * when it does not exist yet), so that two names of one file share a lock.
 * Falls back to the name as given. */
static void canonical(const char *db, char *out, size_t cap) {
  char *real = realpath(db, NULL);
  if (!real) {
    char dir[4096];
    const char *slash = strrchr(db, '/');
    int n = slash ? snprintf(dir, sizeof dir, "%.*s", (int)(slash - db), db)
                  : snprintf(dir, sizeof dir, ".");
    char *rdir = n > 0 && (size_t)n < sizeof dir ? realpath(slash == db ? "/" : dir, NULL) : NULL;
    if (rdir && snprintf(out, cap, "%s/%s", strcmp(rdir, "/") ? rdir : "", slash ? slash + 1 : db) <
                    (int)cap) {
      free(rdir);
      return;
    }
    free(rdir);
    snprintf(out, cap, "%s", db);
    return;
  }
  if (snprintf(out, cap, "%s", real) >= (int)cap) snprintf(out, cap, "%s", db);
  free(real);
}

int vg_lock_db(const char *db, char *err, size_t cap) {
  char path[4200], real[4100];
  canonical(db, real, sizeof real);
  if (snprintf(path, sizeof path, "%s.lock", real) >= (int)sizeof path) {
    snprintf(err, cap, "the database path is too long: %.64s...", db);
    return -1;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    snprintf(err, cap, "cannot write database %s: the lock file %s cannot be made beside it: %s",
             db, path, strerror(errno));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    char pid[32] = "";
    ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = '\0';
    pid[strcspn(pid, "\n")] = '\0';
    if (e == EWOULDBLOCK)
      snprintf(err, cap,
               "another vigil daemon (pid %s) runs on the database %s: it holds %s; stop it "
               "first, or give this one another --db",
               pid[0] ? pid : "unknown", db, path);
    else
      snprintf(err, cap, "cannot lock %s: %s", path, strerror(e));
    close(fd);
    return -1;
  }
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  /* Without the pid the lock still holds; only a second daemon's message
   * lacks it. */
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
    vg_warn("cannot write the process id into %s: %s", path, strerror(errno));
  return fd;
}
