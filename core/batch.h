/* batch.h — one transaction of ingestion, from its begin to its commit or
 * rollback. It is the only code that opens and ends the store's
 * transactions for incoming work: the daemon's jobs (socket lines, spool
 * files, feed fetches, the clock tick), `vigil ingest`, `vigil poll` and
 * `vigil replay` all go through it, so the sequence is written once:
 *
 *   vg_batch_begin -> vg_ingest_line (through b->ig) ... -> vg_batch_end
 *
 * vg_batch_end flushes the rules (absences that waited for the whole
 * batch), writes the alerts' deliveries to the outbox (when ig.outbox is
 * set: outbox.h), lets the caller add its own rows inside the transaction (a spool
 * file's position, a feed's health), commits, and only then hands the alerts
 * raised in the transaction to the caller's list. When anything fails it
 * reads the store's message first (a rollback replaces it), rolls back and
 * drops those alerts: nobody sees an alert whose transaction did not commit.
 *
 * A batch is used by one thread at a time, the one that owns the store. */
#ifndef VIGIL_BATCH_H
#define VIGIL_BATCH_H

#include "ingest.h"

typedef struct {
  vg_ingest ig;          /* what work goes through; ig.alerts is &raised (or NULL) */
  vg_alert_list raised;  /* alerts of the open transaction, not yet anyone's */
  vg_alert_list *out;    /* where they go once committed; NULL: they are dropped */
  int open;              /* a transaction is open */
  char err[256];         /* why the last begin or end failed */
} vg_batch;

/* Sets b up to run through `from`'s store, rules and stop flag; the alerts
 * its transactions raise go to from->alerts after each commit (when that is
 * NULL, the rules are asked for none). */
void vg_batch_init(vg_batch *b, const vg_ingest *from);

/* Opens a transaction. 0, or VG_EDB (the reason in b->err). */
int vg_batch_begin(vg_batch *b);

/* Ends the open transaction. When rc is 0: flushes the rules, calls
 * before_commit(ud) (may be NULL) inside the transaction, commits and hands
 * the raised alerts to b->out. When rc is non-zero (the caller's work
 * failed, or vg_batch_begin did), or one of those steps fails: puts the
 * reason in b->err, rolls back what is open and drops the raised alerts.
 * Returns 0, or the failure (rc itself when it was non-zero). */
int vg_batch_end(vg_batch *b, int rc, int (*before_commit)(void *ud), void *ud);
/* What a client is told of its lines when vg_batch_end failed with rc:
 * "not stored: out of memory" or "not stored: database error: ...". */
void vg_batch_why(const vg_batch *b, int rc, char *why, size_t cap);

/* Frees what b holds; a transaction still open is rolled back. */
void vg_batch_free(vg_batch *b);

#endif
