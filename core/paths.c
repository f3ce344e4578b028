/* paths.c — file-system helpers; see paths.h. */
#include "paths.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
