/* paths.h — file-system helpers shared by the daemon and the CLI. */
#ifndef VIGIL_PATHS_H
#define VIGIL_PATHS_H

/* mkdir -p of the directory that holds path (of path itself when is_dir).
 * Errors are left for the caller's next open to report. */
void vg_make_dirs(const char *path, int is_dir);

#endif
