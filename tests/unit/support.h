/* support.h — helpers shared by the unit tests: removing a test's scratch
 * directory (made with mkdtemp), writing a text file into one, keeping
 * what vg_rules_load reports, and running a function in a child process.
 *
 * Everything here is `static inline`, so a test file that uses only some of
 * it gets no warning for the rest. Nothing here asserts: the helpers also
 * run in the child processes some tests fork, and a caller that wants the
 * test to fail checks the result itself. */
#ifndef VG_TESTS_UNIT_SUPPORT_H
#define VG_TESTS_UNIT_SUPPORT_H

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Removes the files in dir, then dir itself. Subdirectories are not
 * descended into; what cannot be removed is left, silently. */
static inline void support_remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d))) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      char p[PATH_MAX];
      snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* Writes text to dir/name, replacing what was there. 0, or -1 when the file
 * cannot be opened, written or closed. */
static inline int support_write_file(const char *dir, const char *name, const char *text) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  if (!f) return -1;
  int bad = fputs(text, f) < 0;
  return fclose(f) || bad ? -1 : 0;
}

/* The problems vg_rules_load reported. */
typedef struct {
  int n;
  char text[8192]; /* every message, one per line */
} support_reports;

/* A report callback for vg_rules_load: appends msg (and a newline) to the
 * support_reports ud points to, and counts it. The file is not kept. */
static inline void support_collect_report(void *ud, const char *file, const char *msg) {
  (void)file;
  support_reports *rep = ud;
  size_t used = strlen(rep->text);
  snprintf(rep->text + used, sizeof rep->text - used, "%s\n", msg);
  rep->n++;
}

/* Runs fn(ud) in a child process, for work that may crash or run away.
 * Returns its exit status, 128 + the signal that ended it, -1 when it was
 * still running after `seconds` (it is then killed), or -2 when fork
 * failed. */
static inline int support_in_child(int (*fn)(void *ud), void *ud, int seconds) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -2;
  if (pid == 0) {
    /* cmocka's handlers would resume the test run in the child. */
    static const int sigs[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGSYS, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
    alarm((unsigned)seconds + 5); /* a last guard, should the parent be gone */
    int rc = fn(ud);
    fflush(stderr);
    _exit(rc);
  }
  int status = 0;
  struct timespec nap = {0, 10 * 1000 * 1000};
  for (long waited = 0; waited < seconds * 100L; waited++) {
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    nanosleep(&nap, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

#endif
