/* cli_merge.h — several databases read as one, for `vigil query` and
 * `vigil alerts` given --db more than once (the daemons of a partitioned
 * deployment each keep their own).
 *
 * A k-way merge: one cursor per database reads its records a page at a
 * time (the store's own query, resumed after the last record it gave), and
 * the merge hands on the earliest head of all, so that memory holds a page
 * per database, never a whole result. The order is each command's order for
 * one database, the day first; records of the same day go by the order the
 * databases were named, then by id. The query's limit counts the merged
 * records; every other filter is each database's. With one database the
 * store's query runs as it is, without pages.
 *
 * Called by cmd_query.c and cmd_alerts.c, on the main thread. */
#ifndef VIGIL_CLI_MERGE_H
#define VIGIL_CLI_MERGE_H

#include "cli.h"
#include "store.h"

#include <stddef.h>

/* The databases the command line named: every --db (vg_cli.dbs), in order,
 * or cfg->db when there were fewer than two; each opened with flags as
 * vg_cli_open_store opens one. Returns the array (*n stores; free it with
 * vg_cli_close_stores), or NULL after saying on stderr which database
 * cannot be opened and why (nothing is left open). */
vg_store **vg_cli_open_stores(const char *cmd, const vg_config *cfg, int flags, size_t *n);
/* Closes the stores and frees the array; NULL does nothing. */
void vg_cli_close_stores(vg_store **sts, size_t n);
/* The path of database i of vg_cli_open_stores's array. */
const char *vg_cli_store_path(const vg_config *cfg, size_t i);

/* A record of database `db` (its index in the array); a non-zero return
 * stops the merge and is returned. */
typedef int (*vg_cli_entry_fn)(void *ud, size_t db, const vg_row *r);
typedef int (*vg_cli_alert_fn)(void *ud, size_t db, const vg_alert_row *a);

/* Calls fn for each entry that q selects in any of sts[0..n), in date
 * order (vg_store_query's: the first day, then the id), at most q->limit
 * in all. q->has_after must not be set. 0, fn's non-zero, or VG_ENOMEM /
 * VG_EDB with the index of the database that failed in *failed. */
int vg_cli_merge_entries(vg_store **sts, size_t n, const vg_query *q, vg_cli_entry_fn fn, void *ud,
                         size_t *failed);
/* The same for the alerts q selects (vg_store_alerts's order: the day,
 * then the id). q->has_after, newest_first, id and entry must not be set. */
int vg_cli_merge_alerts(vg_store **sts, size_t n, const vg_alert_query *q, vg_cli_alert_fn fn,
                        void *ud, size_t *failed);

#endif
