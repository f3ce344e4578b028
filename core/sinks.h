/* sinks.h — where alerts go once their transaction has committed.
 *
 * Four kinds, each a `vg_sink_kind` table of callbacks: "log" (stderr),
 * "file" (an append-only JSON Lines file), "command" (an external program
 * that gets the alert as one JSON line on stdin, spawned through libuv so
 * the loop never waits; killed after its timeout; a failure is retried
 * `retries` times at once with short pauses) and "nats" (a JetStream
 * stream: each alert change published to PREFIX.RULE with the header
 * Nats-Msg-Id: DBID-ALERT-VERSION, on a thread of the sink's own, and
 * delivered once JetStream acked it).
 *
 * Every alert goes to the default sinks and to the sinks its rule names.
 * The log takes it at once (vg_sinks_send): it is the log, not a delivery.
 * The other sinks deliver from the outbox (outbox.h): their rows are
 * written in the alert's own transaction, handed to them here
 * (vg_sinks_deliver), and deleted only once delivered; a failure waits in
 * the outbox and is tried again with growing pauses, without a bound on
 * the count. So file and command sinks get every alert change at least
 * once (twice when a process dies between a delivery and the delete of
 * its row), and a JetStream stream holds it exactly once within its
 * duplicate window (VG_BUS_DUPLICATE_WINDOW_MS), which drops a second
 * publish of the same message id. What is still queued when the sinks
 * close stays in the outbox for the next start. Used from the loop thread
 * only. */
#ifndef VIGIL_SINKS_H
#define VIGIL_SINKS_H

#include "config.h"
#include "outbox.h"
#include "rules.h"
#include "store.h"

#include <uv.h>

typedef struct vg_sinks vg_sinks;

/* Opens the sinks the configuration describes, on loop, and ignores
 * SIGPIPE in the process (a command may exit without reading its alert:
 * the write fails instead of killing the process). Returns NULL with
 * the reason in err when one cannot be opened. The alerts they get carry
 * their link (url) under the configuration's vg_config_link_base, when it
 * has one. */
vg_sinks *vg_sinks_new(uv_loop_t *loop, const vg_config *cfg, char *err, size_t cap);
/* Sets the base URL of the alerts' links ("" for none). NULL s does nothing. */
void vg_sinks_links(vg_sinks *s, const char *base);
/* Hands an alert to the log sink (the others deliver from the outbox); a
 * silenced one (silence_id) is only logged, at info: "alert N silenced by
 * silence S". */
void vg_sinks_send(vg_sinks *s, const vg_alert *a);
/* Sends each alert of the list, then empties it. */
void vg_sinks_send_all(vg_sinks *s, vg_alert_list *l);
/* Reopens the files (after log rotation). */
void vg_sinks_reopen(vg_sinks *s);
/* Closes the sinks: commands still running are left to finish (run the
 * loop until it is empty); deliveries not started, or waiting for a retry,
 * are reported VG_OUTBOX_LATER (they stay in the outbox) and counted in one
 * log line a sink. A JetStream sink's thread ends once its publish in hand
 * is over. NULL does nothing. */
void vg_sinks_close(vg_sinks *s);

/* A new outbox (outbox.h) with the routing of s: every sink but the log,
 * which ones are defaults, the links' base. Reads the database's db_id
 * from st for the JetStream message ids. one_shot: a command's own rows
 * (a lease-holding owner), else the daemon's. The caller frees it, after
 * the sinks are closed and the loop has ended. NULL when out of memory. */
vg_outbox *vg_sinks_outbox(vg_sinks *s, vg_store *st, int one_shot);
/* Hands a row of the outbox to its sink, which reports the result to o
 * once (vg_outbox_result), maybe before this returns. A row for a sink not
 * configured here fails (it waits for a process that has it). */
void vg_sinks_deliver(vg_sinks *s, vg_outbox *o, const vg_outbox_item *it);
/* For a one-shot command, on its thread, outside a transaction: records
 * the results so far and hands the rows due to the sinks. 0 or VG_EDB. */
int vg_sinks_pump(vg_sinks *s, vg_outbox *o, vg_store *st);
/* For a one-shot command before it closes the store: delivers its rows
 * until none is due or in flight (running loop), then gives what is left
 * back to the daemon (logged). Returns the rows left, or VG_EDB. */
int64_t vg_sinks_drain(vg_sinks *s, vg_outbox *o, vg_store *st, uv_loop_t *loop);
/* The end of a one-shot command's deliveries, before it closes the store:
 * drains o (when st is not NULL and o is set; what fails is the daemon's
 * then), closes s, lets the commands still running finish, then closes the
 * loop and frees o. Any of s and o may be NULL. */
void vg_sinks_finish(vg_sinks *s, vg_outbox *o, vg_store *st, uv_loop_t *loop);

/* The alert as one line of JSON, without the newline (malloc'd), with its
 * link (url: BASE/v1/alerts/ID) when base is not NULL or "". */
char *vg_alert_json(const vg_alert *a, const char *base);

#endif
