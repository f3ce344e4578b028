/* notify.h — tells the service manager how the daemon fares, by systemd's
 * notify protocol (sd_notify(3)): READY=1 once it serves, STATUS= with what
 * it has done, RELOADING=1 then READY=1 around a reload, STOPPING=1, and
 * WATCHDOG=1 from a timer of the daemon's own loop, so that a loop that is
 * stuck stops the pings and the manager restarts the daemon.
 *
 * server.c calls it at those points; source_rules.c when a reload's rules
 * are in force. Without a manager to tell (NOTIFY_SOCKET unset)
 * vg_notify_start returns NULL, and every function takes NULL and does
 * nothing. Loop thread only. */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* How often STATUS= is said again when the counts changed (milliseconds). */
#define VG_NOTIFY_STATUS_MS 5000

typedef struct vg_notify vg_notify;

/* What STATUS= says: since the daemon started, and the rules in force. */
typedef struct {
  uint64_t stored; /* entries stored */
  uint64_t alerts; /* alerts raised */
  size_t rules;    /* rules loaded */
} vg_notify_counts;

/* Starts telling the manager, with a timer on loop that says STATUS= when
 * the counts changed, at most every VG_NOTIFY_STATUS_MS, and WATCHDOG=1 at
 * half the watchdog's interval when the manager keeps one
 * (sd_watchdog_enabled). Sends nothing yet. Returns NULL when there is no
 * manager, or when out of memory (then said in the log). */
vg_notify *vg_notify_start(uv_loop_t *loop);

/* Takes the counts STATUS= says from now on; said at the timer's next turn
 * when they changed (and with READY=1). Cheap: call it after every job. */
void vg_notify_counts_set(vg_notify *n, const vg_notify_counts *c);

/* READY=1, with the counts: call it once the database is open, the rules
 * loaded and the sockets bound. */
void vg_notify_ready(vg_notify *n);

/* RELOADING=1 (with MONOTONIC_USEC=, which systemd 253 and later want): a
 * reload began. vg_notify_reloaded then says READY=1 once it is done; a
 * second RELOADING=1 before that is not said again, nor one once stopping. */
void vg_notify_reloading(vg_notify *n);
/* READY=1 when a reload is under way (said by vg_notify_reloading); else
 * nothing. */
void vg_notify_reloaded(vg_notify *n);

/* STOPPING=1: the daemon began to stop. Pings go on until vg_notify_close. */
void vg_notify_stopping(vg_notify *n);

/* Stops the timer; n frees itself once its handle is closed: run the loop.
 * NULL does nothing. */
void vg_notify_close(vg_notify *n);

#endif
