/* paths.c — file-system helpers; see paths.h. */
#include "paths.h"

#include "vigil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
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

static char data_dir[PATH_MAX];      /* "" when not installed */
static char default_rules[PATH_MAX]; /* data_dir/rules, or "rules" */
static pthread_once_t data_once = PTHREAD_ONCE_INIT;

/* Fills data_dir and default_rules; see vg_data_dir. */
static void find_data_dir(void) {
  snprintf(default_rules, sizeof default_rules, "rules");
  char exe[PATH_MAX], share[PATH_MAX + 32];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return;
  *slash = '\0';
  snprintf(share, sizeof share, "%s/../share/vigil", exe);
  char *real = realpath(share, NULL);
  struct stat sb;
  char rules[PATH_MAX + 8];
  if (real && snprintf(rules, sizeof rules, "%s/rules", real) < (int)sizeof rules &&
      stat(rules, &sb) == 0 && S_ISDIR(sb.st_mode) && strlen(real) < sizeof data_dir - 8) {
    snprintf(data_dir, sizeof data_dir, "%s", real);
    snprintf(default_rules, sizeof default_rules, "%s/rules", real);
  }
  free(real);
}

const char *vg_data_dir(void) {
  pthread_once(&data_once, find_data_dir);
  return data_dir[0] ? data_dir : NULL;
}

const char *vg_default_rules(void) {
  pthread_once(&data_once, find_data_dir);
  return default_rules;
}
