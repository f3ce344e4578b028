/* migrations.h — the schema files of db/, embedded at build time by
 * scripts/embed-sql.sh. Applied in order by store.c under user_version. */
#ifndef VIGIL_MIGRATIONS_H
#define VIGIL_MIGRATIONS_H

typedef struct {
  int version;      /* NNN of db/NNN_name.sql; user_version after it */
  const char *name; /* the file name without .sql */
  const char *sql;  /* its text */
} vg_migration;

extern const vg_migration vg_migrations[];
extern const int vg_migrations_count;

#endif
