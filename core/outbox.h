/* outbox.h — alerts' deliveries to their sinks, through the outbox table
 * (db/016_outbox.sql), so that none is lost to a crash, a full queue or a
 * stop.
 *
 * Writing: vg_batch_end calls vg_outbox_write inside the transaction that
 * raises or amends alerts: one row per (sink, alert change), for the
 * default sinks and those the alert's rule names, silenced alerts
 * excepted (they are not sent). The routing (sink names, which are
 * defaults, the links' base) is handed in by sinks.c (vg_sinks_outbox),
 * which owns it; this module only writes what it is given.
 *
 * Delivering: vg_outbox_step, run by whoever owns the store (a daemon's
 * job on the worker, a one-shot command on its only thread), records the
 * results the sinks reported (a delivered row is deleted; a failed one
 * kept, with one more attempt and a later due time: vg_outbox_backoff_ms,
 * tried again without a bound on the count) and takes the next rows due,
 * which the caller hands to the sinks on its loop (vg_sinks_deliver).
 * Results come back through vg_outbox_result, on the loop thread.
 *
 * Who delivers a row, so that two processes never deliver the same row at
 * once: the daemon (owner NULL) delivers the rows without an owner. A
 * one-shot command writes its rows with an owner of its own (unique to
 * the process) and a lease of VG_OUTBOX_LEASE_MS, renewed at each of its
 * steps (vg_sinks_drain steps at least every third of it); it delivers
 * only those, and gives back what is left when it exits (owner NULL: the
 * daemon's). The daemon takes over the rows of an owner whose lease ran
 * out (a one-shot that was killed); a result the one-shot records after
 * that changes nothing. A row a process
 * has handed to a sink is marked taken and not handed out again until
 * its result is recorded; the daemon clears its marks when it starts.
 *
 * Threading: vg_outbox_write and vg_outbox_step run on the store's thread;
 * vg_outbox_result on the loop thread (any thread is safe). */
#ifndef VIGIL_OUTBOX_H
#define VIGIL_OUTBOX_H

#include "rules.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define VG_OUTBOX_FIRST_MS 1000            /* the wait after a first failed try */
#define VG_OUTBOX_MAX_MS (5 * 60 * 1000)   /* the longest wait between two tries */
#define VG_OUTBOX_LEASE_MS (5 * 60 * 1000) /* how long a one-shot's claim on its rows lasts */
#define VG_OUTBOX_BUSY_MS 1000             /* the wait of a row its sink had no room for */
#define VG_OUTBOX_INFLIGHT 256             /* rows handed to sinks at once, at most */

/* What became of one delivery. */
enum {
  VG_OUTBOX_OK = 0,     /* the sink took it: the row is deleted */
  VG_OUTBOX_FAILED = 1, /* the try failed: tried again after a backoff */
  VG_OUTBOX_LATER = 2,  /* not tried (the sink was full or closing): waits, no attempt counted */
};

typedef struct vg_outbox vg_outbox;

/* A row taken for delivery, owning its strings. */
typedef struct {
  int64_t id;
  char *sink, *rule, *payload;
  int64_t alert_id;
  int version;
  unsigned attempts; /* tries that failed before this one */
} vg_outbox_item;

/* What one step took, and what it saw of the outbox. */
typedef struct {
  vg_outbox_item *v; /* the rows to hand to the sinks (owned) */
  size_t n, cap;
  int64_t next_due; /* unix ms the next row not taken is due, -1 for none */
  int64_t pending;  /* the rows of the outbox, every owner's */
} vg_outbox_batch;

/* The wait before the next try of a row whose try number `attempts`
 * (1 for the first) failed: VG_OUTBOX_FIRST_MS doubled at each failure,
 * at most VG_OUTBOX_MAX_MS. */
int64_t vg_outbox_backoff_ms(unsigned attempts);
/* Unix time in milliseconds. */
int64_t vg_outbox_now_ms(void);

/* A new outbox for the sinks `names` (n of them; is_default[i]: sink i
 * takes every alert), whose payloads carry links under base ("" or NULL:
 * none). one_shot: the rows written and delivered are this process's own
 * (a lease-holding owner), else the daemon's. NULL when out of memory. */
vg_outbox *vg_outbox_new(const char *const *names, const int *is_default, size_t n,
                         const char *base, int one_shot);
/* Frees it (NULL does nothing); results not recorded are lost (their rows
 * stay taken; see vg_outbox_finish). */
void vg_outbox_free(vg_outbox *o);
/* Its owner name, or NULL for the daemon's. */
const char *vg_outbox_owner(const vg_outbox *o);
/* Calls fn(ud) on the loop after each result (the daemon kicks its jobs). */
void vg_outbox_on_result(vg_outbox *o, void (*fn)(void *ud), void *ud);

/* Whether name is one of the ','-joined names of list (an alert's sinks);
 * NULL is none. */
int vg_outbox_named(const char *list, const char *name);
/* Whether alert `a` goes to sink i of the outbox's routing: i is a
 * default sink, or is named in a->sinks; silenced alerts go nowhere. */
int vg_outbox_routes(const vg_outbox *o, size_t i, const vg_alert *a);
/* Whether any alert of l goes to any sink of o (rows were written for it). */
int vg_outbox_routed(const vg_outbox *o, const vg_alert_list *l);
/* Writes the rows of the alerts of l, inside the caller's transaction.
 * 0, or VG_EDB / VG_ENOMEM (the caller rolls back). */
int vg_outbox_write(vg_outbox *o, vg_store *st, const vg_alert_list *l);

/* A sink reports the result of the delivery of item (VG_OUTBOX_*, with why
 * it failed, or NULL). Any thread; the on_result hook runs on the caller's. */
void vg_outbox_result(vg_outbox *o, const vg_outbox_item *item, int result, const char *error);
/* Whether results wait to be recorded. */
int vg_outbox_has_results(vg_outbox *o);
/* Rows handed out whose result has not been recorded. */
size_t vg_outbox_in_flight(const vg_outbox *o);

/* On the store's thread, outside a transaction: records the results
 * reported so far, then, when take is set, takes the rows due (up to
 * VG_OUTBOX_INFLIGHT in flight) into out (emptied first). The daemon's
 * first step clears its rows' taken marks; each of its steps takes over
 * the rows of owners whose lease ran out. 0, or VG_EDB / VG_ENOMEM. */
int vg_outbox_step(vg_outbox *o, vg_store *st, int take, vg_outbox_batch *out);
/* Frees the items of b and empties it (keeps its array). */
void vg_outbox_batch_clear(vg_outbox_batch *b);
void vg_outbox_batch_free(vg_outbox_batch *b);

/* The end of a process's deliveries, after its loop has ended: records the
 * last results; a one-shot gives its rows back to the daemon. Returns the
 * rows still in the outbox that this process leaves (a one-shot's own, or
 * every daemon row), or VG_EDB. */
int64_t vg_outbox_finish(vg_outbox *o, vg_store *st);

#endif
