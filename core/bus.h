/* bus.h — the connection to NATS JetStream, shared by everything of vigil
 * that speaks to it: the daemon's JetStream source (source_nats.c), the
 * JetStream alert sink, `vigil publish` and `vigil replay --nats`.
 *
 * A thin layer over libnats (Debian's libnats-dev): it connects with the
 * options every user wants (a name, reconnecting without end, connection
 * events in vigil's log), makes sure a stream exists, and says why a call
 * failed in one sentence. libnats is thread-safe: a vg_bus may be used from
 * several threads; its connection callbacks run on libnats's own threads
 * and only log. libnats's libuv adapter is not used: whoever waits on the
 * bus does it on a thread of its own and hands results to the loop. */
#ifndef VIGIL_BUS_H
#define VIGIL_BUS_H

#include <nats/nats.h>
#include <stddef.h>
#include <stdint.h>

/* The JetStream defaults (config.c's table says the same). */
#define VG_BUS_ENTRIES_STREAM "VIGIL_ENTRIES"
#define VG_BUS_ENTRIES_PREFIX "vigil.entries"
#define VG_BUS_ALERTS_STREAM "VIGIL_ALERTS"
#define VG_BUS_ALERTS_PREFIX "vigil.alerts"
/* The source of an entry of the stream whose line names none (a
 * chronology line, a JSON record without "source"). */
#define VG_BUS_SOURCE "nats"
/* How long the end of a process waits for libnats's own threads to let go
 * of the library (nats_CloseAndWait), so that nothing of it is left at exit. */
#define VG_BUS_CLOSE_WAIT_MS 2000
/* Partitions one stream of entries is split into, at most. */
#define VG_BUS_PARTITIONS_MAX 1000000
/* How long JetStream remembers a Nats-Msg-Id to drop a second publish. */
#define VG_BUS_DUPLICATE_WINDOW_MS (24LL * 3600 * 1000)

typedef struct {
  natsConnection *nc; /* the connection (libnats reconnects it by itself) */
  jsCtx *js;          /* its JetStream context */
  char url[512];      /* where it connects, for the log */
  char name[64];      /* what the server sees it as, and the log says */
} vg_bus;

/* Connects to url (one or several, comma-separated, as libnats takes
 * them) as `name`, waiting up to timeout_ms for the first connection;
 * after it, losing the server is logged ("nats: disconnected from ...",
 * "nats: reconnected to ...") and libnats reconnects without end, keeping
 * what is published meanwhile in its buffer. Returns the bus, or NULL with
 * why in err (nothing is left open). */
vg_bus *vg_bus_connect(const char *url, const char *name, int64_t timeout_ms, char *err,
                       size_t cap);
/* vg_bus_connect with flags: VG_BUS_RETRY_CONNECT returns the bus even
 * when no server answers yet (a bad URL is still an error): libnats goes on
 * trying in the background, logs "nats: connected to ..." once it gets
 * there, and calls on the bus fail meanwhile (vg_bus_connected says when
 * they may work). For a daemon that starts before its server. */
enum { VG_BUS_RETRY_CONNECT = 1 };
vg_bus *vg_bus_open(const char *url, const char *name, int64_t timeout_ms, unsigned flags,
                    char *err, size_t cap);
/* Whether the bus is connected now (not connecting, nor reconnecting). */
int vg_bus_connected(const vg_bus *b);
/* Closes and frees the bus (NULL does nothing). */
void vg_bus_close(vg_bus *b);

/* Makes sure the stream `name` exists, taking the subjects (NULL-ended)
 * with a duplicate window of dup_ms (<= 0: the server's default) when it
 * creates it; an existing stream is left as it is. 0, or -1 with why in
 * err. */
int vg_bus_stream(vg_bus *b, const char *name, const char *const *subjects, int64_t dup_ms,
                  char *err, size_t cap);

/* Writes into err a sentence for a failed libnats call: its status, the
 * JetStream error code when there is one, and libnats's own last error
 * text. `what` says what was being done ("fetching from VIGIL_ENTRIES"). */
void vg_bus_why(char *err, size_t cap, const char *what, natsStatus s, jsErrCode jerr);

/* A stable partition in [0, n) for a field's value: FNV-1a (32 bits) of
 * its bytes, modulo n. `vigil publish --partition-by` and the daemon's
 * checks use it; documented in the README so that other producers can
 * compute it too. */
unsigned vg_bus_partition(const char *value, size_t len, unsigned n);

#endif
