/* embedded.h — text files built into the binary by scripts/embed.sh: the
 * schema migrations of db/ (in order) and the Lua of scripts/. */
#ifndef VIGIL_EMBEDDED_H
#define VIGIL_EMBEDDED_H

typedef struct {
  const char *name; /* the file's name, e.g. 001_init.sql or vigil.lua */
  const char *text; /* its contents */
} vg_embedded;

extern const vg_embedded vg_migrations[]; /* db/NNN_name.sql, by number */
extern const int vg_migrations_count;
extern const vg_embedded vg_scripts[];    /* the .lua files of scripts/ */
extern const int vg_scripts_count;

#endif
