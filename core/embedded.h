/* embedded.h — text files built into the binary by scripts/embed.sh: the
 * schema migrations of db/ (in order), the Lua of scripts/ and the web
 * pages the HTTP API serves (scripts/dashboard.html). */
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
extern const vg_embedded vg_pages[];      /* the web pages: dashboard.html */
extern const int vg_pages_count;
/* The dashboard's Content-Security-Policy, with the SHA-256 of its inline
 * script and style (scripts/csp.sh). */
extern const char vg_dashboard_csp[];

#endif
