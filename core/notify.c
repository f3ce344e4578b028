/* notify.c — systemd's notify protocol through libsystemd; see notify.h. */
#include "notify.h"

#include "vigil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

struct vg_notify {
  uv_timer_t timer;        /* says STATUS= and WATCHDOG=1; closed by vg_notify_close */
  uint64_t watchdog_ms;    /* half the manager's watchdog interval; 0: none */
  vg_notify_counts counts; /* the latest counts */
  vg_notify_counts said;   /* those of the last STATUS= */
  int reloading;           /* RELOADING=1 said, READY=1 not yet */
  int stopping;            /* STOPPING=1 said */
};

/* Sends what, a few newline-separated assignments; a failure is logged at
 * debug level (the manager may be gone: nothing else is to be done). */
static void say(const char *what) {
  int rc = sd_notify(0, what);
  if (rc < 0) vg_debug("notify: cannot tell the service manager: %s", strerror(-rc));
}

/* Writes "STATUS=..." for the counts into buf. */
static void status_line(const vg_notify *n, char *buf, size_t cap) {
  const vg_notify_counts *c = &n->counts;
  snprintf(buf, cap,
           "STATUS=%s%zu rule%s loaded; since start %" PRIu64 " entr%s stored, %" PRIu64
           " alert%s raised",
           n->stopping ? "stopping; " : "", c->rules, c->rules == 1 ? "" : "s", c->stored,
           c->stored == 1 ? "y" : "ies", c->alerts, c->alerts == 1 ? "" : "s");
}

static int counts_changed(const vg_notify *n) {
  const vg_notify_counts *a = &n->counts, *b = &n->said;
  return a->stored != b->stored || a->alerts != b->alerts || a->rules != b->rules;
}

/* Says `first` (may be ""), the status when it changed or always, and the
 * watchdog's ping when due. */
static void tell(vg_notify *n, const char *first, int status, int ping) {
  char buf[512];
  size_t len = (size_t)snprintf(buf, sizeof buf, "%s", first);
  if (status || counts_changed(n)) {
    if (len && len < sizeof buf - 1) buf[len++] = '\n';
    status_line(n, buf + len, sizeof buf - len);
    len = strlen(buf);
    n->said = n->counts;
  }
  if (ping && n->watchdog_ms && len < sizeof buf - 12)
    len += (size_t)snprintf(buf + len, sizeof buf - len, "%sWATCHDOG=1", len ? "\n" : "");
  if (len) say(buf);
}

static void on_timer(uv_timer_t *t) {
  vg_notify *n = t->data;
  tell(n, "", 0, 1);
}

vg_notify *vg_notify_start(uv_loop_t *loop) {
  const char *socket = getenv("NOTIFY_SOCKET");
  if (!socket || !socket[0]) return NULL;
  vg_notify *n = calloc(1, sizeof *n);
  if (!n) {
    vg_error("notify: out of memory; the service manager is not told how the daemon fares");
    return NULL;
  }
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) n->watchdog_ms = usec / 2000 ? usec / 2000 : 1;
  uint64_t every = VG_NOTIFY_STATUS_MS;
  if (n->watchdog_ms && n->watchdog_ms < every) every = n->watchdog_ms;
  uv_timer_init(loop, &n->timer);
  n->timer.data = n;
  uv_timer_start(&n->timer, on_timer, every, every);
  if (n->watchdog_ms)
    vg_info("notify: telling the service manager; watchdog pinged every %" PRIu64 " ms",
            n->watchdog_ms);
  else
    vg_debug("notify: telling the service manager");
  return n;
}

void vg_notify_counts_set(vg_notify *n, const vg_notify_counts *c) {
  if (n) n->counts = *c;
}

void vg_notify_ready(vg_notify *n) {
  if (n) tell(n, "READY=1", 1, 1);
}

void vg_notify_reloading(vg_notify *n) {
  if (!n || n->reloading || n->stopping) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char buf[128];
  snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=reloading",
           (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
  say(buf);
  n->reloading = 1;
}

void vg_notify_reloaded(vg_notify *n) {
  if (!n || !n->reloading) return;
  n->reloading = 0;
  tell(n, "READY=1", 1, 1);
}

void vg_notify_stopping(vg_notify *n) {
  if (!n || n->stopping) return;
  n->stopping = 1;
  n->reloading = 0;
  tell(n, "STOPPING=1", 1, 1);
}

static void on_close(uv_handle_t *h) { free(h->data); }

void vg_notify_close(vg_notify *n) {
  if (!n || uv_is_closing((uv_handle_t *)&n->timer)) return;
  uv_close((uv_handle_t *)&n->timer, on_close);
}
