/* paths.h — file-system helpers shared by the daemon and the CLI, and where
 * vigil's shipped files are. */
#ifndef VIGIL_PATHS_H
#define VIGIL_PATHS_H

#include <stddef.h>

/* mkdir -p of the directory that holds path (of path itself when is_dir).
 * Errors are left for the caller's next open to report. */
void vg_make_dirs(const char *path, int is_dir);

/* Takes the daemon's lock on the database at db: an exclusive flock(2) on
 * the file "db.lock" beside it (db with its symbolic links resolved, so that
 * another name of the same file meets the same lock), which holds the
 * owner's process id. The
 * kernel drops the lock when the process ends, however it ends, so a kill
 * never leaves a stale lock. Returns the lock's descriptor (close-on-exec;
 * the caller keeps it open for the daemon's life), or -1 with the reason in
 * err: another process holds it (naming its pid), or the file cannot be
 * opened. */
int vg_lock_db(const char *db, char *err, size_t cap);

/* The directory of the files vigil ships (rules/, scripts/, the example
 * configuration) when the binary runs installed: PREFIX/share/vigil, found
 * beside the executable as <its directory>/../share/vigil (through
 * /proc/self/exe, so an install moved elsewhere, or made under DESTDIR,
 * finds its own), with symbolic links resolved. It counts only when it holds
 * a rules/ directory. NULL when the binary is not installed (./vigil in a
 * checkout, a test build): its defaults are then relative to the working
 * directory. Worked out once; any thread may call it. */
const char *vg_data_dir(void);

/* Where the rules are unless the configuration or a flag says otherwise:
 * vg_data_dir()/rules when installed, "rules" (in the working directory)
 * otherwise. */
const char *vg_default_rules(void);

#endif
