/* sinks.h — where alerts go once their transaction has committed.
 *
 * Three kinds, each a `vg_sink_kind` table of callbacks: "log" (stderr),
 * "file" (an append-only JSON Lines file) and "command" (an external
 * program that gets the alert as one JSON line on stdin, spawned through
 * libuv so the loop never waits; killed after its timeout; a failure is
 * logged and retried with backoff a bounded number of times). Every alert
 * goes to the default sinks and to the sinks its rule names, once; what is
 * still queued when the sinks close is logged and dropped (the store keeps
 * every alert). Used from the loop thread only. */
#ifndef VIGIL_SINKS_H
#define VIGIL_SINKS_H

#include "config.h"
#include "rules.h"

#include <uv.h>

typedef struct vg_sinks vg_sinks;

/* Opens the sinks the configuration describes, on loop. Returns NULL with
 * the reason in err when one cannot be opened. The alerts they get carry
 * their link (url) under the configuration's vg_config_link_base, when it
 * has one. */
vg_sinks *vg_sinks_new(uv_loop_t *loop, const vg_config *cfg, char *err, size_t cap);
/* Sets the base URL of the alerts' links ("" for none). NULL s does nothing. */
void vg_sinks_links(vg_sinks *s, const char *base);
/* Hands an alert to its sinks; a silenced one (silence_id) is only logged,
 * at info: "alert N silenced by silence S". */
void vg_sinks_send(vg_sinks *s, const vg_alert *a);
/* Sends each alert of the list, then empties it. */
void vg_sinks_send_all(vg_sinks *s, vg_alert_list *l);
/* Reopens the files (after log rotation). */
void vg_sinks_reopen(vg_sinks *s);
/* Closes the sinks: commands still running are left to finish (run the
 * loop until it is empty), retries not yet started are dropped and logged.
 * NULL does nothing. */
void vg_sinks_close(vg_sinks *s);

/* The alert as one line of JSON, without the newline (malloc'd), with its
 * link (url: BASE/v1/alerts/ID) when base is not NULL or "". */
char *vg_alert_json(const vg_alert *a, const char *base);

#endif
