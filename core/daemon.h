/* daemon.h — the parts of `vigil run` and what they share; private to the
 * daemon's files:
 *   server.c        the loop and its wiring: the job runner, signals, reload, stop
 *   listen.c        the Unix and TCP listeners, clients and the line protocol
 *   source_lines.c  lines from clients, in batches, answered once committed
 *   source_spool.c  files moved into the spool directory
 *   source_feed.c   what the feed poller fetched
 *   source_http.c   entries posted to the HTTP API (POST /v1/entries)
 *   source_nats.c   messages of a NATS JetStream stream (nats_url)
 *   source_rules.c  the rules: reloads when their files change, and the clock tick
 *   source_outbox.c the alerts' deliveries from the outbox to the sinks
 *   api*.c          the HTTP API (api.h)
 * Everything here runs on the loop thread, but for a source's work(), which
 * runs on the worker while no other job runs, and alone touches the store,
 * the rules and srv->committed. */
#ifndef VIGIL_DAEMON_H
#define VIGIL_DAEMON_H

#include "batch.h"
#include "config.h"
#include "feed_store.h"
#include "feeds.h"
#include "framer.h"
#include "indexer.h"
#include "ingest.h"
#include "notify.h"
#include "scheduler.h"
#include "sinks.h"
#include "spool.h"

#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <uv.h>

#define READ_CHUNK 65536
#define MAX_CLIENTS 1024
#define FD_RESERVE 64                   /* descriptors kept for the store, listeners, sinks, feeds */
#define PENDING_BYTES_MAX (64u << 20)  /* stop reading past this many bytes waiting */
#define WRITE_QUEUE_MAX (1u << 20)      /* stop reading a client that does not read replies */
#define STOP_GRACE_MS 5000              /* how long a stop waits for clients to take replies */
#define DIR_CHECK_MS 2000               /* how often the spool and rules dirs are looked at */
#define AUTH_LINE_MAX 1024              /* bytes a first line may take while a token is due */
#define REFUSED_DRAIN_MAX (1u << 20)    /* bytes of a refused client dropped before it is cut off */
#define CLIENT_REFUSED 2                /* client_line stopped a refused client's input (not 1) */
#define SOCKET_SOURCE "socket"
#define SPOOL_SOURCE "spool"


#define VG_SPOOL_SUBS 16 /* format directories of the spool watched at most */

typedef struct server server;
typedef struct client client;
typedef struct vg_source vg_source;

/* What kick() makes of a source's take(): */
enum {
  SOURCE_NONE = 0,  /* nothing to do: the next source is asked */
  SOURCE_TAKEN = 1, /* it filled srv with a job: that job runs */
  SOURCE_WAIT = 2,  /* it has work that waits (a batch filling): nothing else starts */
};

/* An input of the daemon: where jobs come from. kick() asks each source in
 * the order of the table in server.c for a job while none runs; the job's
 * work runs off the loop, alone with the store, then its done() and, once
 * the next job is under way, its reply() run on the loop. */
struct vg_source {
  const char *name;
  int (*take)(server *srv);   /* on the loop: SOURCE_NONE, SOURCE_TAKEN or SOURCE_WAIT */
  void (*work)(server *srv);  /* on the worker: the job, through srv->txn or its own batch */
  void (*done)(server *srv);  /* on the loop, right after: what the job became */
  void (*reply)(server *srv); /* on the loop, once the next job started; may be NULL */
};

/* One line received from a client, waiting for or inside a job. */
typedef struct {
  client *from;     /* who sent it; kept alive while the line is not answered */
  char *data;       /* the line, owned */
  size_t len;       /* its length (capped) */
  uint64_t total;   /* its full length */
  uint64_t line_no; /* its number on that connection */
  unsigned flags;   /* VG_LINE_* */
  int parsed;       /* 1: e holds the line's entry (pointing into data) */
  int header;       /* a table format's header row: no entry, nothing to store */
  int status;       /* what the job made of it: VG_STORED, VG_DUPLICATE, VG_REJECTED, VG_E* */
  int64_t id;       /* the entry's id, when stored or a duplicate */
  char *reason;     /* why it is refused or was not stored (owned; NULL: said by status) */
  vg_entry e;       /* parsed on the loop as the line arrives; cleared there once answered */
  uint64_t arrived; /* uv_hrtime() when it arrived, for vigil_ack_latency_seconds */
} item;

typedef struct {
  item *v;
  size_t n, cap;
} item_vec;

struct client {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h;                  /* first, so a handle pointer is a client pointer */
  server *srv;          /* the daemon it belongs to */
  vg_framer framer;     /* cuts its bytes into lines */
  struct vg_tabular *table; /* a table format's rows: this connection's column map, or NULL */
  size_t inflight;      /* its lines not yet answered */
  char *out;            /* replies gathered for one write */
  size_t out_len, out_cap;
  int reading;          /* uv_read_start is in effect */
  int eof;              /* it finished sending; close once answered */
  int shutting;         /* uv_shutdown was called; it closes when done */
  int closing;          /* uv_close was called */
  int closed;           /* the close callback ran */
  int write_blocked;    /* too many replies unread: reading paused */
  int touched;          /* has replies in `out` this round */
  int gated;            /* TCP: its first line is looked at before any is taken */
  int refused;          /* its first line was refused: what it sends is dropped */
  uint64_t dropped;     /* bytes dropped since */
  uint64_t long_logged; /* the number of the last overlong line logged */
  char name[64];        /* for the log: unix#N or tcp#N */
  char peer[64];        /* TCP: the address it comes from, for the log */
  client *prev, *next;  /* in srv->clients */
};

/* What the daemon last saw of a directory it watches (the spool, the rules). */
typedef struct {
  dev_t dev;    /* the directory the watch is on */
  ino_t ino;
  int lost;     /* missing or not watched when last looked at; said once */
} dir_seen;

/* The watch on one rules path (a directory or a file), allocated alone and
 * freed by its close callback. */
typedef struct {
  uv_fs_event_t h;   /* h.data points back here */
  server *srv;
  char *path;        /* the path as configured */
  dir_seen seen;
} rules_watch;

/* The spool file a job is ingesting, and what became of it. A long file
 * takes several jobs, one batch each, so that lines from clients and other
 * work get their turn between them. */
typedef struct {
  char *name;         /* the file's name inside the spool directory */
  int more;           /* the last job stopped part-way: the next goes on with it */
  vg_spool_result result;
} spool_job;

/* Settings a job reads, copied at its start so a reload cannot race it. */
typedef struct {
  vg_format format;
  size_t max_line;
  size_t batch;
  size_t feed_max_archive; /* what an archive a gdelt feed names may hold */
  char spool[4096];
  char **rules;   /* the rules paths, NULL-ended (owned) */
  vg_rules_limits limits;
} job_settings;

/* Command-line settings, re-applied over the config file on reload. */
typedef struct {
  const char *db, *socket, *listen, *http_listen, *spool, *log_level, *format, *nats_url;
  char **rules;   /* --rules paths, in order */
  size_t nrules;
  char **feeds;   /* --feed URLs */
  size_t nfeeds;
} overrides;

struct server {
  uv_loop_t *loop;
  vg_config cfg;              /* settings in force */
  const char *config_path;    /* --config, or NULL */
  overrides flags;            /* what the command line set */
  vg_indexer *indexer;        /* keeps the text index up to date; may be NULL */
  vg_store *store;            /* used only by the running job */
  uv_pipe_t unix_srv;         /* the Unix socket listener */
  uv_tcp_t tcp_srv;           /* the TCP listener */
  int have_unix, have_tcp;
  int tcp_loopback;                 /* it listens on a loopback address */
  char tcp_token[VG_TOKEN_MAX + 1]; /* what a TCP client must send first; "" for nothing */
  size_t tcp_token_len;
  int lock_fd;               /* the database's daemon lock, held until exit */
  char *socket_path;          /* bound path, unlinked at exit */
  uv_signal_t sig_int, sig_term, sig_hup;
  uv_timer_t batch_timer;     /* lets a small batch wait batch_ms to fill */
  uv_timer_t http_timer;      /* the same for posted entries (source_http.c) */
  uv_timer_t stop_timer;      /* bounds how long a stop waits for slow clients */
  uv_timer_t tick_timer;      /* lets wall-clock absences fire without new entries */
  int tick_due;
  uv_fs_event_t spool_watch;  /* notices files moved into the spool */
  /* and into its format directories (spool/FORMAT/, a table format's name) */
  uv_fs_event_t spool_subs[VG_SPOOL_SUBS];
  char spool_sub_names[VG_SPOOL_SUBS][64];
  int nspool_subs;
  rules_watch **rules_watches; /* one per rules path: notice edits in them */
  size_t nrules_watches;
  uv_timer_t rules_timer;     /* lets a burst of edits settle */
  int have_rules_watch;       /* the watches are set up (and not yet closed) */
  int rules_dirty;            /* the rules must be loaded again */
  int reload_asked;           /* a SIGHUP came since a reload job was last taken */
  int reload_job_asked;       /* the reload job running is the one a SIGHUP asked for */
  uv_timer_t dirs_timer;      /* looks for a spool or rules directory that went away */
  dir_seen spool_dir;
  vg_rules *rules;            /* used only by the running job */
  vg_batch txn;               /* the transaction of a job on lines or the clock */
  vg_alert_list committed;    /* alerts whose transaction committed: for the sinks */
  vg_sinks *sinks;
  vg_outbox *outbox;          /* the alerts' deliveries (source_outbox.c); NULL before the start */
  vg_outbox_batch outbox_rows; /* the rows the running outbox job took */
  int outbox_rc;              /* what its step returned */
  int outbox_wanted;          /* rows may be due: an outbox job is asked for */
  int have_outbox;            /* the timers below are made */
  uv_timer_t outbox_timer;    /* the next row not taken falls due */
  uv_timer_t outbox_poke;     /* results came: a job records them */
  vg_scheduler *scheduler;    /* the digests' timers */
  vg_feeds *feeds;            /* the feed poller */
  vg_notify *notify;          /* tells a service manager how it fares; NULL: none */
  struct vg_http *http;       /* the HTTP API's server (api.c), or NULL */
  uint64_t alerts_raised;     /* alerts committed since the start, for the manager */
  vg_fetch **fetched;         /* fetches waiting to be stored, oldest first */
  size_t nfetched, fetched_cap;
  vg_fetch *feed_job;         /* the fetch the running job stores */
  vg_feed_result feed_result; /* and what became of it */
  uv_timer_t spool_timer;     /* debounces and retries spool scans */
  int have_spool;
  item_vec pending;           /* lines received, not yet in a job */
  size_t pending_bytes;
  item_vec batch;             /* lines of the running job */
  item_vec answering;         /* lines of the job just done, being answered */
  uint64_t pending_since;     /* loop time the oldest waiting line came */
  int lines_due;              /* the batch timer ran out: waiting lines go now */
  char **spool_queue;         /* spool files waiting, oldest first */
  size_t spool_n, spool_cap;
  spool_job spool;            /* the running spool job */
  uv_work_t work;             /* the running job's request */
  const vg_source *job;       /* the source whose job runs, or NULL */
  const vg_source *last_job;  /* the source of the job that ran last */
  job_settings js;            /* its settings */
  client *clients;            /* every open connection */
  size_t nclients;
  size_t max_clients;         /* more are refused: MAX_CLIENTS, or fewer when fds are short */
  unsigned long next_client;  /* numbers connections for the log */
  int throttled;              /* too much pending: no client is read */
  int stopping;               /* a stop signal came */
  atomic_int stop_now;        /* the same, for the running job: it ends before its next entry */
  uint64_t unstored;          /* lines answered "not stored" because of the stop */
  int done;                   /* listeners and timers are being closed */
  client **touched;           /* clients with replies this round */
  size_t ntouched, touched_cap;
  char readbuf[READ_CHUNK];   /* every read lands here; consumed at once */
};


/* server.c */
vg_ingest vg_daemon_ingest(server *srv);
void vg_daemon_kick(server *srv);
void vg_daemon_maybe_finish(server *srv);
int vg_daemon_watch_dir(uv_fs_event_t *h, uv_fs_event_cb cb, const char *path, dir_seen *d);
int vg_daemon_dir_back(server *srv, const char *what, const char *path, dir_seen *d, int file_ok,
                       int (*rewatch)(server *, void *), void *ud, const char *meanwhile,
                       const char *then);

/* listen.c */
int vg_listen_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n);
void vg_listen_update_read(client *c);
void vg_listen_client_free(client *c);
void vg_listen_client_close(client *c);
void vg_listen_client_finish(client *c);
void vg_listen_flush(client *c);
void vg_listen_touch(server *srv, client *c);
void vg_listen_throttle(server *srv, int on);
size_t vg_listen_client_cap(void);
int vg_listen_unix(server *srv);
int vg_listen_tcp(server *srv);
int vg_listen_token_load(server *srv, const char *when);

/* the sources, in the order kick() asks them */
extern const vg_source vg_source_reload, vg_source_outbox, vg_source_lines, vg_source_http,
    vg_source_nats, vg_source_feed, vg_source_tick, vg_source_spool;

/* source_outbox.c */
/* Makes the daemon's outbox (the sinks' routing) and its timers; its rows
 * go first. 0, or -1 (logged). */
int vg_source_outbox_start(server *srv);
/* Closes its timers (the stop). */
void vg_source_outbox_stop(server *srv);
/* After the loop: records the last results, says what is left, frees it. */
void vg_source_outbox_finish(server *srv);

/* source_http.c */
/* Whether a posted body waiting came before loop time `since` (the oldest
 * line from a client): it goes first. */
int vg_source_http_first(server *srv, uint64_t since);
/* Posted lines waiting for a job. */
size_t vg_source_http_waiting(void);
/* Frees what the source keeps; after the loop has ended. */
void vg_source_http_free(void);

/* source_nats.c */
/* Connects to nats_url (when set; a server not answering yet is waited
 * for in the background) and starts fetching from the stream; on the
 * loop, before any job. 0, or -1 (logged) when the URL is wrong or a
 * resource is missing: call vg_source_nats_stop then too. */
int vg_source_nats_start(server *srv);
/* Asks the fetching thread to end; the loop closes what is left once it
 * has. What was fetched and not stored is not acknowledged. */
void vg_source_nats_stop(server *srv);
/* Closes the connection and frees what the source keeps; after the loop
 * has ended. */
void vg_source_nats_free(void);
/* When the daemon consumes one partition (nats_url and nats_partition
 * set), warns in the log of each correlation rule of srv->rules that does
 * not group by nats_partition_by (vg_rules_partition_check): at the start
 * and after each reload. */
void vg_source_nats_check_rules(server *srv);

/* source_spool.c */
int vg_source_spool_start(server *srv);
void vg_source_spool_scan(server *srv);
void vg_source_spool_check(server *srv);

/* source_feed.c */
int vg_source_feed_start(server *srv);

/* source_rules.c */
void vg_source_rules_start(server *srv);
void vg_source_rules_check(server *srv);
/* Watches the rules paths of srv->cfg anew when they are not those watched. */
void vg_source_rules_rewatch(server *srv);
/* Closes the watches on the rules paths. */
void vg_source_rules_stop(server *srv);

#endif
