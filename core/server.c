/* server.c — `vigil run`: the daemon. One libuv loop does all I/O: the Unix
 * and TCP listeners, the client streams, the spool directory watch, signals
 * and timers. Parsing and storing run off the loop in the thread pool
 * (uv_queue_work), one job at a time, so that job alone touches the store.
 *
 * A line from a client is answered only after the transaction holding it
 * commits: "ok ID", "duplicate ID", or "error line N: reason". Lines wait in
 * `pending` while a job runs, which is what groups them into one commit.
 * The rules run inside that transaction; the alerts they raise go to the
 * sinks from the loop once it has committed. Rule files are reloaded by a
 * job of their own, between batches, when the rules directory changes or
 * on SIGHUP. A spool or rules directory that goes away is looked for every
 * DIR_CHECK_MS and watched again when it is back; the rules in force stay
 * meanwhile. */
#include "cli.h"
#include "framer.h"
#include "indexer.h"
#include "ingest.h"
#include "feed_store.h"
#include "paths.h"
#include "scheduler.h"
#include "spool.h"
#include "sinks.h"
#include "vigil.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
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

typedef struct server server;
typedef struct client client;

/* One line received from a client, waiting for or inside a job. */
typedef struct {
  client *from;     /* who sent it; kept alive while the line is not answered */
  char *data;       /* the line, owned */
  size_t len;       /* its length (capped) */
  uint64_t total;   /* its full length */
  uint64_t line_no; /* its number on that connection */
  unsigned flags;   /* VG_LINE_* */
  vg_result res;    /* filled by the job */
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

/* The spool file a job is ingesting, and what became of it. A long file
 * takes several jobs, one batch each, so that lines from clients and other
 * work get their turn between them. */
typedef struct {
  char *name;         /* the file's name inside the spool directory */
  int more;           /* the last job stopped part-way: the next goes on with it */
  vg_spool_result result;
} spool_job;

typedef enum { JOB_NONE, JOB_LINES, JOB_SPOOL, JOB_RELOAD, JOB_TICK, JOB_FEED } job_kind;

/* Settings a job reads, copied at its start so a reload cannot race it. */
typedef struct {
  vg_format format;
  size_t max_line;
  size_t batch;
  char spool[4096];
  char rules[4096];
  vg_rules_limits limits;
} job_settings;

/* Command-line settings, re-applied over the config file on reload. */
typedef struct {
  const char *db, *socket, *listen, *spool, *rules, *log_level, *format;
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
  uv_timer_t stop_timer;      /* bounds how long a stop waits for slow clients */
  uv_timer_t tick_timer;      /* lets wall-clock absences fire without new entries */
  int tick_due;
  uv_fs_event_t spool_watch;  /* notices files moved into the spool */
  uv_fs_event_t rules_watch;  /* notices edits in the rules directory */
  uv_timer_t rules_timer;     /* lets a burst of edits settle */
  int have_rules_watch;
  int rules_dirty;            /* the rules must be loaded again */
  uv_timer_t dirs_timer;      /* looks for a spool or rules directory that went away */
  dir_seen spool_dir, rules_dir;
  vg_rules *rules;            /* used only by the running job */
  vg_alert_list raised;       /* alerts of the job's open transaction */
  vg_alert_list committed;    /* alerts whose transaction committed: for the sinks */
  vg_sinks *sinks;
  vg_scheduler *scheduler;    /* the digests' timers */
  vg_feeds *feeds;            /* the feed poller */
  vg_fetch **fetched;         /* fetches waiting to be stored, oldest first */
  size_t nfetched, fetched_cap;
  vg_fetch *feed_job;         /* the fetch the running job stores */
  vg_feed_result feed_result; /* and what became of it */
  uv_timer_t spool_timer;     /* debounces and retries spool scans */
  int have_spool;
  item_vec pending;           /* lines received, not yet in a job */
  size_t pending_bytes;
  item_vec batch;             /* lines of the running job */
  char **spool_queue;         /* spool files waiting, oldest first */
  size_t spool_n, spool_cap;
  spool_job spool;            /* the running spool job */
  uv_work_t work;             /* the running job's request */
  job_kind job;               /* what runs, or JOB_NONE */
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

/* ---- small helpers ---- */

static int vec_push(item_vec *v, const item *it) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 256;
    item *nv = realloc(v->v, cap * sizeof *nv);
    if (!nv) return VG_ENOMEM;
    v->v = nv;
    v->cap = cap;
  }
  v->v[v->n++] = *it;
  return 0;
}

static int buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
  if (*len + n + 1 > *cap) {
    size_t c = *cap ? *cap : 256;
    while (c < *len + n + 1) c *= 2;
    char *b = realloc(*buf, c);
    if (!b) return VG_ENOMEM;
    *buf = b;
    *cap = c;
  }
  memcpy(*buf + *len, s, n);
  *len += n;
  (*buf)[*len] = '\0';
  return 0;
}

static void kick(server *srv);
static void maybe_finish(server *srv);

/* ---- clients ---- */

static int wants_read(const client *c) {
  const server *srv = c->srv;
  if (c->refused) return !c->closing && !srv->stopping; /* what it sends is read, and dropped */
  return !c->closing && !c->shutting && !c->eof && !c->write_blocked && !srv->throttled &&
         !srv->stopping;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  client *c = (client *)h;
  *buf = uv_buf_init(c->srv->readbuf, sizeof c->srv->readbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void update_read(client *c) {
  int want = wants_read(c);
  if (want && !c->reading) {
    if (uv_read_start(&c->h.stream, on_alloc, on_read) == 0) c->reading = 1;
  } else if (!want && c->reading) {
    uv_read_stop(&c->h.stream);
    c->reading = 0;
  }
}

static void client_free(client *c) {
  server *srv = c->srv;
  if (c->prev) c->prev->next = c->next;
  else srv->clients = c->next;
  if (c->next) c->next->prev = c->prev;
  srv->nclients--;
  vg_framer_free(&c->framer);
  free(c->out);
  free(c);
}

static void on_client_closed(uv_handle_t *h) {
  client *c = (client *)h;
  server *srv = c->srv;
  c->closed = 1;
  vg_debug("%s: closed", c->name);
  if (c->inflight == 0) client_free(c);
  maybe_finish(srv);
}

static void client_close(client *c) {
  if (c->closing) return;
  c->closing = 1;
  c->reading = 0;
  uv_close(&c->h.handle, on_client_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)status;
  client_close(req->data);
  free(req);
}

/* Closes a client once everything it sent is answered and written: the
 * shutdown waits for queued replies, then its callback closes. */
static void client_finish(client *c) {
  if (c->closing || c->shutting) return;
  uv_shutdown_t *req = malloc(sizeof *req);
  if (req) {
    req->data = c;
    if (uv_shutdown(req, &c->h.stream, on_shutdown) == 0) {
      c->shutting = 1;
      if (c->reading) uv_read_stop(&c->h.stream);
      c->reading = 0;
      return;
    }
    free(req);
  }
  client_close(c);
}

typedef struct {
  uv_write_t req;
  client *c;
  char data[];
} write_req;

static void on_write(uv_write_t *req, int status) {
  write_req *w = (write_req *)req;
  client *c = w->c;
  if (status < 0 && status != UV_ECANCELED) {
    vg_info("%s: reply not delivered: %s", c->name, uv_strerror(status));
    client_close(c);
  }
  free(w);
  if (c->write_blocked && !c->closing &&
      uv_stream_get_write_queue_size(&c->h.stream) < WRITE_QUEUE_MAX / 2) {
    c->write_blocked = 0;
    update_read(c);
  }
}

static void flush_replies(client *c) {
  c->touched = 0;
  if (!c->out_len) return;
  size_t n = c->out_len;
  c->out_len = 0;
  if (c->closing) return;
  write_req *w = malloc(sizeof *w + n);
  if (!w) {
    vg_error("%s: out of memory for replies; closing it", c->name);
    client_close(c);
    return;
  }
  w->c = c;
  memcpy(w->data, c->out, n);
  uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
  if (uv_write(&w->req, &c->h.stream, &b, 1, on_write) < 0) {
    free(w);
    client_close(c);
    return;
  }
  if (uv_stream_get_write_queue_size(&c->h.stream) > WRITE_QUEUE_MAX) {
    if (!c->write_blocked) vg_info("%s: not reading its replies; pausing its input", c->name);
    c->write_blocked = 1;
    update_read(c);
  }
}

static void set_throttle(server *srv, int on) {
  if (srv->throttled == on) return;
  srv->throttled = on;
  if (on) vg_info("backlog of %zu lines: pausing input until it drains", srv->pending.n);
  for (client *c = srv->clients; c; c = c->next) update_read(c);
}

/* ---- the first line of a TCP connection ---- */

/* Whether a first line is an HTTP request line ("POST / HTTP/1.1", "GET /"):
 * a browser, or a page it shows, reaching the port. No entry starts with a
 * method name, so nothing of the line protocol is lost. */
static int looks_like_http(const char *s, size_t n) {
  static const char *const methods[] = {"GET ",     "HEAD ",    "POST ",  "PUT ",
                                        "DELETE ",  "CONNECT ", "OPTIONS ", "TRACE ",
                                        "PATCH ",   "PRI "};
  for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
    size_t m = strlen(methods[i]);
    if (n >= m && memcmp(s, methods[i], m) == 0) return 1;
  }
  while (n && s[n - 1] == '\r') n--;
  return n >= 9 && memcmp(s + n - 9, " HTTP/", 6) == 0 && s[n - 3] >= '0' && s[n - 3] <= '9' &&
         s[n - 2] == '.' && s[n - 1] >= '0' && s[n - 1] <= '9';
}

/* Compares a token sent with the one expected, in a time that depends only
 * on the length of the expected one, so that how long a wrong guess takes
 * says nothing of how much of it was right. */
static int same_token(const char *got, size_t n, const char *want, size_t m) {
  volatile unsigned char diff = n != m;
  for (size_t i = 0; i < m; i++) diff |= (unsigned char)(want[i] ^ (i < n ? got[i] : 0));
  return diff == 0;
}

/* Sends text to c at once, outside of any batch (c has no line in one). */
static void say_now(client *c, const char *text) {
  buf_append(&c->out, &c->out_len, &c->out_cap, text, strlen(text));
  flush_replies(c);
}

static void on_refused_shutdown(uv_shutdown_t *req, int status) {
  client *c = req->data;
  if (status < 0) client_close(c);
  free(req);
}

/* Refuses c on its first line: answers it, and ends its side of the
 * connection once the answer is written. What it still sends is read and
 * dropped until it closes (up to REFUSED_DRAIN_MAX bytes): closing on
 * unread input would reset the connection, and the client might lose the
 * answer. Returns CLIENT_REFUSED, which ends the feed of what it sent. */
static int refuse(client *c, const char *answer) {
  c->refused = 1;
  say_now(c, answer);
  uv_shutdown_t *req = malloc(sizeof *req);
  if (!req) {
    client_close(c);
    return CLIENT_REFUSED;
  }
  req->data = c;
  if (uv_shutdown(req, &c->h.stream, on_refused_shutdown) == 0) {
    c->shutting = 1;
  } else {
    free(req);
    client_close(c);
  }
  return CLIENT_REFUSED;
}

/* The first line of a TCP connection: an HTTP request is answered with an
 * HTTP error and the connection closed; when a token is due, the line must
 * be "auth TOKEN", answered "ok auth", or the connection is closed. 0 when
 * the line is an entry to take, 1 when it was used up here, or
 * CLIENT_REFUSED. */
static int first_line(client *c, const char *data, size_t len, unsigned flags) {
  server *srv = c->srv;
  c->gated = 0;
  if (looks_like_http(data, len)) {
    char shown[128];
    while (len && data[len - 1] == '\r') len--;
    vg_escape_line(shown, sizeof shown, data, len < 80 ? len : 80);
    vg_warn("%s (%s): an HTTP request (%s): this port speaks the line protocol; refused,"
            " nothing stored", c->name, c->peer, shown);
    static const char body[] = "This port speaks vigil's line protocol (one dated entry a"
                               " line), not HTTP. Nothing was stored.\n";
    char answer[512];
    snprintf(answer, sizeof answer,
             "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             sizeof body - 1, body);
    return refuse(c, answer);
  }
  if (!srv->tcp_token_len) return 0;
  while (len && data[len - 1] == '\r') len--;
  if ((flags & VG_LINE_TOO_LONG) || len < 5 || memcmp(data, "auth ", 5) != 0) {
    vg_warn("%s (%s): no 'auth TOKEN' first; closed, nothing stored", c->name, c->peer);
    return refuse(c, "error line 1: this port needs 'auth TOKEN' as the first line\n");
  }
  if (!same_token(data + 5, len - 5, srv->tcp_token, srv->tcp_token_len)) {
    vg_warn("%s (%s): authentication failed; closed, nothing stored", c->name, c->peer);
    return refuse(c, "error line 1: authentication failed\n");
  }
  vg_debug("%s (%s): authenticated", c->name, c->peer);
  say_now(c, "ok auth\n");
  return 1;
}

static int client_line(void *ud, const char *data, size_t len, uint64_t total, uint64_t line_no,
                       unsigned flags) {
  client *c = ud;
  server *srv = c->srv;
  if (c->gated) {
    int rc = first_line(c, data, len, flags);
    if (rc) return rc == 1 ? 0 : rc;
  }
  /* An `auth` line sent again is no entry: it is refused as any such line,
   * but what it holds (a token) is not kept in the rejects. */
  static const char hidden[] = "auth (the rest of this line is not kept)";
  if (srv->tcp_token_len && len >= 5 && memcmp(data, "auth ", 5) == 0) {
    data = hidden;
    len = total = sizeof hidden - 1;
  }
  item it = {c, malloc(len ? len : 1), len, total, line_no, flags, {0}};
  if (!it.data) return VG_ENOMEM;
  memcpy(it.data, data, len);
  if (vec_push(&srv->pending, &it)) {
    free(it.data);
    return VG_ENOMEM;
  }
  srv->pending_bytes += len;
  c->inflight++;
  return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  client *c = (client *)s;
  server *srv = c->srv;
  if (c->refused) { /* dropped, up to a point */
    if (nread < 0 || (c->dropped += (uint64_t)nread) > REFUSED_DRAIN_MAX) client_close(c);
    return;
  }
  if (nread > 0) {
    int rc = vg_framer_feed(&c->framer, buf->base, (size_t)nread, client_line, c);
    if (rc == CLIENT_REFUSED) return; /* answered; it closes once the answer is out */
    if (rc) {
      vg_error("%s: out of memory reading input; closing it", c->name);
      client_close(c);
    }
    /* A token is a short line: who sends more without a newline is refused
     * now, not after max_line bytes. */
    if (c->gated && srv->tcp_token_len && !c->closing &&
        vg_framer_pending(&c->framer) > AUTH_LINE_MAX) {
      vg_warn("%s (%s): no 'auth TOKEN' first; closed, nothing stored", c->name, c->peer);
      refuse(c, "error line 1: this port needs 'auth TOKEN' as the first line\n");
      return;
    }
    /* Said now, not once the line ends: its newline may never come. */
    if (c->framer.skipping && c->long_logged != c->framer.line_no + 1) {
      c->long_logged = c->framer.line_no + 1;
      vg_warn("%s: line %llu is over the %zu-byte cap; skipping it up to its newline", c->name,
              (unsigned long long)c->long_logged, c->framer.max);
    }
    if (srv->pending.n >= srv->cfg.max_pending || srv->pending_bytes >= PENDING_BYTES_MAX)
      set_throttle(srv, 1);
    kick(srv);
  } else if (nread == UV_EOF) {
    uint64_t partial = vg_framer_pending(&c->framer);
    if (partial)
      vg_warn("%s: closed mid-line; %llu bytes without a newline discarded, not stored",
              c->name, (unsigned long long)partial);
    c->eof = 1;
    update_read(c);
    if (c->inflight == 0) client_finish(c);
  } else if (nread < 0) {
    uint64_t partial = vg_framer_pending(&c->framer);
    vg_info("%s: connection lost: %s%s", c->name, uv_strerror((int)nread),
            partial ? "; a partial line was discarded" : "");
    client_close(c);
  }
}

static void on_connection(uv_stream_t *listener, int status) {
  server *srv = listener->data;
  if (status < 0) {
    vg_warn("accepting a connection failed: %s", uv_strerror(status));
    return;
  }
  client *c = calloc(1, sizeof *c);
  if (!c) return;
  int is_tcp = listener == (uv_stream_t *)&srv->tcp_srv;
  int rc = is_tcp ? uv_tcp_init(srv->loop, &c->h.tcp) : uv_pipe_init(srv->loop, &c->h.pipe, 0);
  if (rc) {
    free(c);
    return;
  }
  if (srv->touched_cap <= srv->nclients) {
    size_t cap = srv->touched_cap ? srv->touched_cap * 2 : 64;
    client **t = realloc(srv->touched, cap * sizeof *t);
    if (!t) {
      uv_close(&c->h.handle, (uv_close_cb)free);
      return;
    }
    srv->touched = t;
    srv->touched_cap = cap;
  }
  c->srv = srv;
  vg_framer_init(&c->framer, srv->cfg.max_line);
  snprintf(c->name, sizeof c->name, "%s#%lu", is_tcp ? "tcp" : "unix", ++srv->next_client);
  c->next = srv->clients;
  if (c->next) c->next->prev = c;
  srv->clients = c;
  srv->nclients++;
  if (uv_accept(listener, &c->h.stream) < 0) {
    client_close(c);
    return;
  }
  if (srv->nclients > srv->max_clients || srv->stopping) {
    if (srv->stopping) vg_warn("%s: refused: stopping", c->name);
    else vg_warn("%s: refused: too many connections (%zu at most)", c->name, srv->max_clients);
    client_close(c);
    return;
  }
  if (is_tcp) {
    struct sockaddr_storage sa;
    int salen = sizeof sa;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&sa, &salen) == 0) {
      if (sa.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&sa, host, sizeof host);
        port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
      } else {
        uv_ip4_name((struct sockaddr_in *)&sa, host, sizeof host);
        port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
      }
    }
    snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
    c->gated = 1;
  }
  vg_debug("%s: connected%s%s", c->name, is_tcp ? " from " : "", c->peer);
  update_read(c);
}

/* ---- jobs: lines from clients ---- */

/* The open transaction committed: its alerts may go to the sinks. */
static void committed(server *srv) {
  vg_alert_list *from = &srv->raised, *to = &srv->committed;
  for (size_t i = 0; i < from->n; i++) {
    if (to->n == to->cap) {
      size_t cap = to->cap ? to->cap * 2 : 16;
      vg_alert *v = realloc(to->v, cap * sizeof *v);
      if (!v) { /* stored all the same; only the sinks miss it */
        vg_error("alert %lld: out of memory for its sinks", (long long)from->v[i].id);
        continue;
      }
      to->v = v;
      to->cap = cap;
    }
    to->v[to->n++] = from->v[i];
    memset(&from->v[i], 0, sizeof from->v[i]);
  }
  vg_alert_list_clear(from);
}

static void on_file_commit(void *ud) { committed(ud); }

/* Marks a line that the daemon stops before storing. */
static void not_stored(item *it) {
  it->res.status = VG_ESTOPPED;
  snprintf(it->res.reason, sizeof it->res.reason, "not stored: %s", vg_strerror(VG_ESTOPPED));
}

static void work_lines(uv_work_t *req) {
  server *srv = req->data;
  item_vec *b = &srv->batch;
  vg_ingest ig = {srv->store, srv->rules, &srv->raised, &srv->stop_now};
  int rc = vg_store_begin(srv->store);
  size_t done = 0;
  /* A stop is honoured between two entries: those done are committed and
   * answered, the rest are answered "not stored" for their clients to send
   * again. */
  for (; rc == 0 && done < b->n && !vg_ingest_stopped(&ig); done++) {
    item *it = &b->v[done];
    vg_line line = {it->data,      it->len,       it->total,        it->line_no, it->flags,
                    srv->js.format, SOCKET_SOURCE, srv->js.max_line, it->from->name};
    rc = vg_ingest_line(&ig, &line, &it->res, NULL);
  }
  for (size_t k = done; rc == 0 && k < b->n; k++) not_stored(&b->v[k]);
  if (rc == 0) rc = vg_ingest_flush(&ig);
  if (rc == 0) rc = vg_store_commit(srv->store);
  if (rc == 0) committed(srv);
  else vg_alert_list_clear(&srv->raised);
  if (rc) {
    char why[VG_REASON_MAX];
    if (rc == VG_ENOMEM)
      snprintf(why, sizeof why, "not stored: out of memory");
    else
      snprintf(why, sizeof why, "not stored: database error: %s", vg_store_errmsg(srv->store));
    vg_store_rollback(srv->store);
    vg_error("a batch of %zu lines was not stored: %s", b->n, why + 12);
    for (size_t i = 0; i < b->n; i++) {
      b->v[i].res.status = VG_EDB;
      snprintf(b->v[i].res.reason, sizeof b->v[i].res.reason, "%s", why);
    }
  }
}

/* Remembers that c has replies in this round. The list has room for every
 * client (it grows as clients connect), so this cannot fail. */
static void touch(server *srv, client *c) {
  if (c->touched) return;
  assert(srv->ntouched < srv->touched_cap);
  c->touched = 1;
  srv->touched[srv->ntouched++] = c;
}

static void after_lines(server *srv) {
  item_vec *b = &srv->batch;
  uint64_t stored = 0, dups = 0, bad = 0, left = 0;
  for (size_t i = 0; i < b->n; i++) {
    item *it = &b->v[i];
    client *c = it->from;
    left += it->res.status == VG_ESTOPPED;
    char reason[4 * VG_REASON_MAX], reply[sizeof reason + 48];
    int n;
    /* One reply a line, whatever the reason quotes. */
    vg_escape_line(reason, sizeof reason, it->res.reason, strnlen(it->res.reason, VG_REASON_MAX));
    switch (it->res.status) {
    case VG_STORED: n = snprintf(reply, sizeof reply, "ok %lld\n", (long long)it->res.id); stored++; break;
    case VG_DUPLICATE: n = snprintf(reply, sizeof reply, "duplicate %lld\n", (long long)it->res.id); dups++; break;
    case VG_REJECTED:
      n = snprintf(reply, sizeof reply, "error line %llu: %s\n", (unsigned long long)it->line_no,
                   reason);
      vg_info("%s: line %llu rejected: %s", c->name, (unsigned long long)it->line_no, reason);
      bad++;
      break;
    default: n = snprintf(reply, sizeof reply, "error: %s\n", reason); bad++; break;
    }
    if (!c->closing) buf_append(&c->out, &c->out_len, &c->out_cap, reply, (size_t)n);
    touch(srv, c);
    free(it->data);
    c->inflight--;
  }
  vg_debug("batch of %zu lines: %llu stored, %llu duplicates, %llu not stored", b->n,
           (unsigned long long)stored, (unsigned long long)dups, (unsigned long long)bad);
  srv->unstored += left;
  /* Send the replies, then free or finish the clients that were waiting
   * only for this batch. */
  for (size_t i = 0; i < srv->ntouched; i++) {
    client *c = srv->touched[i];
    flush_replies(c);
    if (c->inflight) continue;
    if (c->closed) client_free(c);
    else if (c->eof) client_finish(c);
  }
  srv->ntouched = 0;
  b->n = 0;
}

/* Moves up to batch_max waiting lines into the job's batch; 0, or -1 when
 * out of memory (nothing moved, no job). */
static int start_lines(server *srv) {
  item_vec *p = &srv->pending, *b = &srv->batch;
  size_t take = p->n < srv->cfg.batch_max ? p->n : srv->cfg.batch_max;
  /* Swap buffers when taking everything; otherwise copy the front out. */
  if (take == p->n) {
    item_vec t = *b;
    *b = *p;
    *p = t;
    p->n = 0;
  } else {
    if (b->cap < take) {
      item *nv = realloc(b->v, take * sizeof *nv);
      if (!nv) return -1;
      b->v = nv;
      b->cap = take;
    }
    memcpy(b->v, p->v, take * sizeof *p->v);
    memmove(p->v, p->v + take, (p->n - take) * sizeof *p->v);
    b->n = take;
    p->n -= take;
  }
  for (size_t i = 0; i < b->n; i++) srv->pending_bytes -= b->v[i].len;
  srv->job = JOB_LINES;
  return 0;
}

/* ---- jobs: spool files ---- */

static void work_spool(uv_work_t *req) {
  server *srv = req->data;
  vg_file_opts o = {.format = srv->js.format, .source = SPOOL_SOURCE,
                    .max_line = srv->js.max_line, .batch = srv->js.batch,
                    .max_lines = srv->js.batch, .on_commit = on_file_commit, .ud = srv};
  vg_ingest ig = {srv->store, srv->rules, &srv->raised, &srv->stop_now};
  vg_spool_ingest(&ig, srv->js.spool, srv->spool.name, &o, srv->spool.more, &srv->spool.result);
  vg_alert_list_clear(&srv->raised); /* raised in a transaction that did not commit */
}

static void after_spool(server *srv) {
  spool_job *j = &srv->spool;
  const vg_spool_result *r = &j->result;
  j->more = r->rc == VG_SPOOL_MORE;
  if (j->more && srv->stopping) {
    vg_info("spool: %s: stopping after line %llu; it stays in the spool, and the next start"
            " goes on from there", j->name,
            (unsigned long long)(r->counts.stored + r->counts.duplicates + r->counts.rejected));
    return;
  }
  if (j->more) {
    vg_debug("spool: %s: %llu lines so far; the rest after what waits", j->name,
             (unsigned long long)(r->counts.stored + r->counts.duplicates + r->counts.rejected));
    return;
  }
  if (r->rc == VG_SPOOL_GONE) {
    vg_info("spool: %s: gone from the spool", j->name);
  } else if (r->rc == VG_SPOOL_REFUSED) {
    vg_warn("spool: %s: %s; not read -> failed/", j->name, r->why);
  } else if (r->rc == VG_EDB) {
    vg_error("spool: %s: not stored (%s); it stays in the spool and is retried", j->name, r->why);
  } else {
    vg_info("spool: %s: %llu stored, %llu duplicates, %llu rejected%s%s -> %s/", j->name,
            (unsigned long long)r->counts.stored, (unsigned long long)r->counts.duplicates,
            (unsigned long long)r->counts.rejected, r->rc ? "; " : "", r->rc ? r->why : "",
            r->failed ? "failed" : "done");
  }
  free(j->name);
  memset(j, 0, sizeof *j);
}

/* ---- the job machinery ---- */

/* Loads the rule files again; a broken file keeps its previous version. */
static void work_reload(uv_work_t *req) {
  server *srv = req->data;
  vg_config c = {.rules = srv->js.rules, .rule_memory = srv->js.limits.mem_max,
                 .rule_budget = srv->js.limits.budget, .rule_failures = srv->js.limits.max_failures};
  int errors;
  vg_rules *next = vg_cli_load_rules(&c, srv->rules, &errors);
  if (!next) {
    vg_error("rules: cannot reload; the rules in force stay");
    return;
  }
  vg_rules_free(srv->rules);
  srv->rules = next;
}

/* Lets absence rules on the wall clock fire when no entry comes. */
static void work_tick(uv_work_t *req) {
  server *srv = req->data;
  int32_t today = (int32_t)(time(NULL) / 86400);
  int rc = vg_store_begin(srv->store);
  if (rc == 0) rc = vg_rules_tick(srv->rules, srv->store, today, &srv->raised);
  if (rc == 0) rc = vg_store_commit(srv->store);
  if (rc == 0) {
    committed(srv);
  } else {
    vg_store_rollback(srv->store);
    vg_alert_list_clear(&srv->raised);
    vg_error("rules: the clock tick failed: %s", vg_store_errmsg(srv->store));
  }
}

/* Stores what a feed fetch brought, with the feed's health. */
static void work_feed(uv_work_t *req) {
  server *srv = req->data;
  vg_ingest ig = {srv->store, srv->rules, &srv->raised, &srv->stop_now};
  if (vg_feed_store(&ig, srv->feed_job, srv->js.max_line, &srv->feed_result) == 0) committed(srv);
  else vg_alert_list_clear(&srv->raised);
}

static void after_feed(server *srv) {
  vg_fetch *x = srv->feed_job;
  vg_feed_result *r = &srv->feed_result;
  if (!r->ok || r->error[0])
    vg_warn("feed %s: %s; next try in %u s", x->feed->url, r->error, r->delay);
  else if (x->status == 304)
    vg_debug("feed %s: not modified", x->feed->url);
  else
    vg_info("feed %s: %llu stored, %llu duplicates, %llu rejected, %llu updated", x->feed->url,
            (unsigned long long)r->counts.stored, (unsigned long long)r->counts.duplicates,
            (unsigned long long)r->counts.rejected, (unsigned long long)r->items.updated);
  if (srv->feeds) /* gone once stopping */
    vg_feeds_schedule(srv->feeds, x->feed, r->delay, r->ok ? x->etag : NULL,
                      r->ok ? x->last_modified : NULL, r->failures);
  vg_fetch_free(x);
  srv->feed_job = NULL;
}

static void on_work(uv_work_t *req) {
  server *srv = req->data;
  if (srv->job == JOB_FEED) work_feed(req);
  else if (srv->job == JOB_LINES) work_lines(req);
  else if (srv->job == JOB_SPOOL) work_spool(req);
  else if (srv->job == JOB_TICK) work_tick(req);
  else work_reload(req);
}

static void scan_spool(server *srv);
static void on_spool_timer(uv_timer_t *t);

static void on_work_done(uv_work_t *req, int status) {
  server *srv = req->data;
  (void)status;
  job_kind kind = srv->job;
  srv->job = JOB_NONE;
  int retry = 0;
  if (kind == JOB_LINES) {
    after_lines(srv);
  } else if (kind == JOB_SPOOL) {
    retry = srv->spool.result.rc == VG_EDB;
    after_spool(srv);
  } else if (kind == JOB_FEED) {
    after_feed(srv);
  }
  vg_sinks_send_all(srv->sinks, &srv->committed);
  if (retry && !srv->stopping) uv_timer_start(&srv->spool_timer, on_spool_timer, 5000, 0);
  if (vg_rules_exhausted(srv->rules) && !srv->rules_dirty) {
    vg_warn("rules: reloading them to get a fresh rule state");
    srv->rules_dirty = 1;
  }
  if (srv->throttled && srv->pending.n < srv->cfg.max_pending / 2 &&
      srv->pending_bytes < PENDING_BYTES_MAX / 2)
    set_throttle(srv, 0);
  kick(srv);
}

static void set_job_settings(server *srv) {
  srv->js.format = srv->cfg.format;
  srv->js.max_line = srv->cfg.max_line;
  srv->js.batch = srv->cfg.batch_max > 1000 ? srv->cfg.batch_max : 1000;
  snprintf(srv->js.spool, sizeof srv->js.spool, "%s", srv->cfg.spool);
  snprintf(srv->js.rules, sizeof srv->js.rules, "%s", srv->cfg.rules);
  srv->js.limits = vg_cli_rule_limits(&srv->cfg);
}

static void submit(server *srv) {
  set_job_settings(srv);
  srv->work.data = srv;
  int rc = uv_queue_work(srv->loop, &srv->work, on_work, on_work_done);
  if (rc) {
    vg_error("cannot queue work: %s", uv_strerror(rc));
    abort(); /* libuv only fails this for a bad argument */
  }
}

/* Stopping: the lines still waiting are answered "not stored" at once,
 * without a job, for their clients to send again. */
static void answer_stopped(server *srv) {
  while (srv->pending.n && start_lines(srv) == 0) {
    srv->job = JOB_NONE;
    for (size_t i = 0; i < srv->batch.n; i++) not_stored(&srv->batch.v[i]);
    after_lines(srv);
  }
}

static void on_batch_timer(uv_timer_t *t) {
  server *srv = t->data;
  if (srv->job != JOB_NONE || !srv->pending.n) return;
  if (srv->stopping) kick(srv);
  else if (start_lines(srv) == 0) submit(srv);
}

/* Starts the next job if none runs: a rules reload first, then waiting
 * lines, then spool files. */
static void kick(server *srv) {
  if (srv->job != JOB_NONE) return;
  if (srv->rules_dirty && !srv->stopping) {
    srv->rules_dirty = 0;
    srv->job = JOB_RELOAD;
    submit(srv);
    return;
  }
  if (srv->pending.n && srv->stopping) {
    answer_stopped(srv);
    if (srv->pending.n) uv_timer_start(&srv->batch_timer, on_batch_timer, 100, 0); /* no memory */
    return;
  }
  if (srv->pending.n) {
    if (srv->pending.n >= srv->cfg.batch_max || srv->cfg.batch_ms == 0 || srv->stopping) {
      uv_timer_stop(&srv->batch_timer);
      if (start_lines(srv) == 0) submit(srv);
      else uv_timer_start(&srv->batch_timer, on_batch_timer, 100, 0); /* try again soon */
    } else if (!uv_is_active((uv_handle_t *)&srv->batch_timer)) {
      uv_timer_start(&srv->batch_timer, on_batch_timer, srv->cfg.batch_ms, 0);
    }
    return;
  }
  if (srv->nfetched && !srv->stopping) {
    srv->feed_job = srv->fetched[0];
    memmove(srv->fetched, srv->fetched + 1, --srv->nfetched * sizeof *srv->fetched);
    srv->job = JOB_FEED;
    submit(srv);
    return;
  }
  if (srv->tick_due && !srv->stopping) {
    srv->tick_due = 0;
    srv->job = JOB_TICK;
    submit(srv);
    return;
  }
  if ((srv->spool.more || srv->spool_n) && !srv->stopping) {
    if (!srv->spool.more) {
      srv->spool.name = srv->spool_queue[0];
      memmove(srv->spool_queue, srv->spool_queue + 1, --srv->spool_n * sizeof *srv->spool_queue);
    }
    srv->job = JOB_SPOOL;
    submit(srv);
    return;
  }
  maybe_finish(srv);
}

/* ---- the spool directory ---- */

static int queued(const server *srv, const char *name) {
  if (srv->spool.name && strcmp(srv->spool.name, name) == 0) return 1;
  for (size_t i = 0; i < srv->spool_n; i++)
    if (strcmp(srv->spool_queue[i], name) == 0) return 1;
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_spool_dir(server *srv);

/* Whether a name of the spool that is not a regular file is queued all the
 * same, so that its turn refuses it with a reason (see spool.h) rather than
 * leave it there unsaid: anything but a directory or a link to one (done/
 * and failed/ may be links to elsewhere). */
static int refusable(const server *srv, const char *name) {
  if (strcmp(name, "done") == 0 || strcmp(name, "failed") == 0) return 0;
  char p[4200];
  struct stat sb;
  snprintf(p, sizeof p, "%s/%s", srv->cfg.spool, name);
  if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) return 0; /* stat: never opens */
  return lstat(p, &sb) == 0;
}

/* Queues every file of the spool that is not queued yet: regular files, and
 * what refusable() lets through to be refused. Names that start with a dot
 * are files still being written, by convention. */
static void scan_spool(server *srv) {
  if (!srv->have_spool || srv->stopping) return;
  uv_fs_t req;
  int n = uv_fs_scandir(srv->loop, &req, srv->cfg.spool, 0, NULL);
  if (n < 0) {
    if (n == UV_ENOENT || n == UV_ENOTDIR) check_spool_dir(srv); /* says it is gone, once */
    else vg_error("spool: cannot read %s: %s", srv->cfg.spool, uv_strerror(n));
    uv_fs_req_cleanup(&req);
    return;
  }
  size_t before = srv->spool_n;
  uv_dirent_t d;
  while (uv_fs_scandir_next(&req, &d) != UV_EOF) {
    if (d.name[0] == '.' || queued(srv, d.name)) continue;
    if (d.type != UV_DIRENT_FILE && !refusable(srv, d.name)) continue;
    if (srv->spool_n == srv->spool_cap) {
      size_t cap = srv->spool_cap ? srv->spool_cap * 2 : 16;
      char **q = realloc(srv->spool_queue, cap * sizeof *q);
      if (!q) break;
      srv->spool_queue = q;
      srv->spool_cap = cap;
    }
    char *name = strdup(d.name);
    if (!name) break;
    srv->spool_queue[srv->spool_n++] = name;
  }
  uv_fs_req_cleanup(&req);
  if (srv->spool_n > before)
    qsort(srv->spool_queue + before, srv->spool_n - before, sizeof *srv->spool_queue, by_name);
  if (srv->spool_n > before) vg_debug("spool: %zu new files", srv->spool_n - before);
  kick(srv);
}

static void on_spool_timer(uv_timer_t *t) {
  check_spool_dir(t->data); /* a directory put in its place gets done/, failed/ and a watch */
  scan_spool(t->data);
}

static void on_spool_event(uv_fs_event_t *h, const char *name, int events, int status) {
  server *srv = h->data;
  (void)name;
  (void)events;
  if (status < 0) {
    vg_warn("spool: watch failed: %s", uv_strerror(status));
    return;
  }
  /* Several events arrive per file: scan once they settle. */
  uv_timer_start(&srv->spool_timer, on_spool_timer, 20, 0);
}

/* Why path is no directory now, or NULL when it is one (then in *sb). */
static const char *dir_gone(const char *path, struct stat *sb) {
  if (stat(path, sb) != 0) return strerror(errno);
  return S_ISDIR(sb->st_mode) ? NULL : "not a directory";
}

/* Whether sb is the directory seen last. */
static int same_dir(const dir_seen *d, const struct stat *sb) {
  return d->dev == sb->st_dev && d->ino == sb->st_ino;
}

/* Watches the directory at path with h as it is now, afresh (a watch on a
 * removed directory hears nothing more), and notes in d which directory that
 * is. Returns 0 or a libuv error. */
static int watch_dir(uv_fs_event_t *h, uv_fs_event_cb cb, const char *path, dir_seen *d) {
  struct stat sb;
  if (stat(path, &sb) != 0) return -errno; /* libuv's errors are -errno */
  uv_fs_event_stop(h);
  d->dev = sb.st_dev;
  d->ino = sb.st_ino;
  return uv_fs_event_start(h, cb, path, 0);
}

/* Watches the spool directory as it is now, done/ and failed/ made in it,
 * and notes which directory that is. Returns 0 or a libuv error (the handle,
 * initialized by the caller, stays open either way). */
static int watch_spool(server *srv) {
  char sub[4200];
  snprintf(sub, sizeof sub, "%s/done", srv->cfg.spool);
  mkdir(sub, 0755);
  snprintf(sub, sizeof sub, "%s/failed", srv->cfg.spool);
  mkdir(sub, 0755);
  return watch_dir(&srv->spool_watch, on_spool_event, srv->cfg.spool, &srv->spool_dir);
}

/* Looks again at the directory `what` watches (the spool, the rules) at
 * path: when it is gone, says so once, with what goes on `meanwhile`; when
 * it is back, or another directory took its place, watches that one with
 * rewatch, says so and what it does `then`, and returns 1 (the caller then
 * does it); 0 otherwise. */
static int dir_back(server *srv, const char *what, const char *path, dir_seen *d,
                    int (*rewatch)(server *), const char *meanwhile, const char *then) {
  struct stat sb;
  const char *gone = dir_gone(path, &sb);
  if (gone) {
    if (!d->lost)
      vg_warn("%s: %s is gone (%s); %s (looked for every %d s)", what, path, gone, meanwhile,
              DIR_CHECK_MS / 1000);
    d->lost = 1;
    return 0;
  }
  if (!d->lost && same_dir(d, &sb)) return 0;
  int rc = rewatch(srv);
  if (rc) {
    if (!d->lost) vg_warn("%s: cannot watch %s: %s", what, path, uv_strerror(rc));
    d->lost = 1;
    return 0;
  }
  vg_info("%s: %s is there; watching it again%s", what, path, then);
  d->lost = 0;
  return 1;
}

static void check_spool_dir(server *srv) {
  if (!srv->have_spool || srv->stopping) return;
  if (dir_back(srv, "spool", srv->cfg.spool, &srv->spool_dir, watch_spool,
               "the sockets are still served, and files put in it are ingested once it is back",
               ""))
    scan_spool(srv);
}

/* The spool directory is made when missing; the daemon does not start
 * without a watch on it. */
static int start_spool(server *srv) {
  if (!srv->cfg.spool[0]) return 0;
  vg_make_dirs(srv->cfg.spool, 1);
  uv_fs_event_init(srv->loop, &srv->spool_watch);
  srv->spool_watch.data = srv;
  srv->have_spool = 1; /* the handle is closed on the way out */
  int rc = watch_spool(srv);
  if (rc) {
    vg_error("spool: cannot watch %s: %s", srv->cfg.spool, uv_strerror(rc));
    return -1;
  }
  vg_info("watching spool directory %s", srv->cfg.spool);
  if (vg_spool_tidy(srv->store, srv->cfg.spool) != 0) /* no job runs yet: the store is free */
    vg_warn("spool: the progress of files gone from it was not dropped: %s",
            vg_store_errmsg(srv->store));
  scan_spool(srv);
  return 0;
}

/* ---- feeds ---- */

static void on_fetch(void *ud, vg_fetch *x) {
  server *srv = ud;
  if (srv->nfetched == srv->fetched_cap) {
    size_t cap = srv->fetched_cap ? srv->fetched_cap * 2 : 8;
    vg_fetch **v = realloc(srv->fetched, cap * sizeof *v);
    if (!v) {
      vg_error("feed %s: out of memory; the fetch is dropped and retried", x->feed->url);
      vg_feeds_schedule(srv->feeds, x->feed, x->feed->interval, NULL, NULL, x->failures);
      vg_fetch_free(x);
      return;
    }
    srv->fetched = v;
    srv->fetched_cap = cap;
  }
  srv->fetched[srv->nfetched++] = x;
  kick(srv);
}

/* Starts polling. It reads the feeds' state from the store on the loop
 * thread, so it runs before anything can queue a job (the spool does). */
static int start_feeds(server *srv) {
  if (!srv->cfg.nfeeds) return 0;
  srv->feeds = vg_feeds_start(srv->loop, srv->cfg.feeds, srv->cfg.nfeeds, srv->cfg.feed_max_body,
                              0, on_fetch, srv);
  if (!srv->feeds) {
    vg_error("feeds: cannot set up HTTP; no feed is polled");
    return 0;
  }
  /* No job runs yet: the loop thread may read the store this once. */
  for (size_t i = 0; i < srv->cfg.nfeeds; i++) {
    char *etag, *modified;
    int failures;
    if (vg_store_feed_get(srv->store, srv->cfg.feeds[i].url, &etag, &modified, &failures) == 1)
      vg_feeds_restore(srv->feeds, &srv->cfg.feeds[i], etag, modified, failures);
    free(etag);
    free(modified);
  }
  vg_info("feeds: polling %zu", srv->cfg.nfeeds);
  return 0;
}

/* ---- the clock ---- */

static void on_tick(uv_timer_t *t) {
  server *srv = t->data;
  srv->tick_due = 1;
  kick(srv);
}

/* ---- the rules directory ---- */

static void check_rules_dir(server *srv);

static void on_rules_timer(uv_timer_t *t) {
  server *srv = t->data;
  check_rules_dir(srv); /* a directory that went away is not reloaded: its rules stay */
  if (srv->rules_dir.lost) return;
  srv->rules_dirty = 1;
  kick(srv);
}

static void on_rules_event(uv_fs_event_t *h, const char *name, int events, int status) {
  server *srv = h->data;
  (void)events;
  if (status < 0) {
    vg_warn("rules: watch failed: %s", uv_strerror(status));
    return;
  }
  if (name && name[0] == '.') return; /* editors' swap files */
  uv_timer_start(&srv->rules_timer, on_rules_timer, 100, 0);
}

/* Watches the rules directory as it is now and notes which directory that
 * is. Returns 0 or a libuv error; the handle stays open either way. */
static int watch_rules(server *srv) {
  return watch_dir(&srv->rules_watch, on_rules_event, srv->cfg.rules, &srv->rules_dir);
}

/* Also when a reload named another directory: its rules are loaded. */
static void check_rules_dir(server *srv) {
  if (!srv->have_rules_watch || srv->stopping) return;
  if (!dir_back(srv, "rules", srv->cfg.rules, &srv->rules_dir, watch_rules,
                "the rules in force stay until it is back", " and loading its rules"))
    return;
  srv->rules_dirty = 1;
  kick(srv);
}

static void start_rules_watch(server *srv) {
  uv_fs_event_init(srv->loop, &srv->rules_watch);
  srv->rules_watch.data = srv;
  srv->have_rules_watch = 1;
  int rc = watch_rules(srv);
  if (rc) {
    vg_warn("rules: cannot watch %s (%s); it is looked for every %d s, and SIGHUP reloads"
            " the rules", srv->cfg.rules, uv_strerror(rc), DIR_CHECK_MS / 1000);
    srv->rules_dir.lost = 1;
  }
}

static void on_dirs_timer(uv_timer_t *t) {
  check_spool_dir(t->data);
  check_rules_dir(t->data);
}

/* ---- listeners ---- */

/* How many connections the daemon serves at once: MAX_CLIENTS, raising the
 * open-files limit up to its hard limit to make room for them. When even
 * that is too low, fewer: a connection over the cap is then accepted and
 * refused with a log line, where a failing accept() would have it dropped
 * by libuv unseen. */
static size_t client_cap(void) {
  const rlim_t want = MAX_CLIENTS + FD_RESERVE;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
    return MAX_CLIENTS;
  rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = was;
  if (rl.rlim_cur >= want) {
    vg_debug("open-files limit raised from %llu to %llu", (unsigned long long)was,
             (unsigned long long)rl.rlim_cur);
    return MAX_CLIENTS;
  }
  size_t cap = rl.rlim_cur > 2 * FD_RESERVE ? (size_t)(rl.rlim_cur - FD_RESERVE)
                                            : (size_t)rl.rlim_cur / 2;
  vg_warn("the open-files limit is %llu: serving at most %zu connections at once, not %d",
          (unsigned long long)rl.rlim_cur, cap, MAX_CLIENTS);
  return cap;
}

/* Removes a socket file left by a daemon that is gone; refuses to when one
 * still answers on it. */
static int clear_stale_socket(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) != 0) return 0;
  if (!S_ISSOCK(sb.st_mode)) {
    vg_error("%s exists and is not a socket; not replacing it", path);
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  int live = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  if (fd >= 0) close(fd);
  if (live) {
    vg_error("another vigil is listening on %s", path);
    return -1;
  }
  unlink(path);
  return 0;
}

/* Opens the socket at path to the members of `group`: its group becomes
 * that one and its mode 0660. 0, or -1 when the group is unknown or the
 * change is not allowed (logged). */
static int share_socket(const char *path, const char *group) {
  struct group gr, *found = NULL;
  char *buf = NULL;
  int rc = ERANGE;
  for (size_t cap = 16384; rc == ERANGE && cap <= (16u << 20); cap *= 2) { /* large groups */
    char *more = realloc(buf, cap);
    if (!more) break;
    buf = more;
    rc = getgrnam_r(group, &gr, buf, cap, &found);
  }
  gid_t gid = found ? gr.gr_gid : 0;
  free(buf);
  if (!found) {
    int none = rc == 0 || rc == ENOENT || rc == ESRCH;
    vg_error("socket_group '%s': %s", group, none ? "no such group" : strerror(rc));
    return -1;
  }
  /* The path was just bound: lchown, and chmod only what is still a socket. */
  struct stat sb;
  errno = 0;
  if (lchown(path, (uid_t)-1, gid) != 0 || lstat(path, &sb) != 0 || !S_ISSOCK(sb.st_mode) ||
      chmod(path, 0660) != 0) {
    vg_error("cannot give %s to group %s: %s", path, group,
             errno ? strerror(errno) : "it is no longer a socket");
    return -1;
  }
  return 0;
}

static int start_unix(server *srv) {
  const char *path = srv->cfg.socket;
  if (!path[0]) return 0;
  if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    vg_error("socket path %s is too long", path);
    return -1;
  }
  vg_make_dirs(path, 0);
  if (clear_stale_socket(path)) return -1;
  uv_pipe_init(srv->loop, &srv->unix_srv, 0);
  srv->unix_srv.data = srv;
  srv->have_unix = 1;
  mode_t old = umask(0177); /* the socket is born 0600: only its owner may feed it */
  int rc = uv_pipe_bind(&srv->unix_srv, path);
  umask(old);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&srv->unix_srv, 128, on_connection);
  if (rc) {
    vg_error("cannot listen on %s: %s", path, uv_strerror(rc));
    return -1;
  }
  srv->socket_path = strdup(path);
  if (srv->cfg.socket_group[0] && share_socket(path, srv->cfg.socket_group)) return -1;
  vg_info("listening on unix:%s", path);
  return 0;
}

/* Whether addr is a loopback address (127.0.0.0/8, ::1, or ::ffff:127.x). */
static int is_loopback(const struct sockaddr *addr) {
  if (addr->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr) >> 24) == 127;
  const struct in6_addr *a = &((const struct sockaddr_in6 *)addr)->sin6_addr;
  return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* Takes the TCP token the settings name (see vg_config_tcp_token). At a
 * reload (`when` is "reload: "), a token that cannot be read, or none for a
 * listener that needs one, leaves the token in force. 0, or -1 (logged). */
static int tcp_token_load(server *srv, const char *when) {
  char token[VG_TOKEN_MAX + 1], err[512];
  const char *warn;
  int n = vg_config_tcp_token(&srv->cfg, token, &warn, err, sizeof err);
  if (n < 0 || (n == 0 && *when && srv->have_tcp && !srv->tcp_loopback)) {
    if (n < 0) vg_error("%s%s%s", when, err, *when ? "; the token in force stays" : "");
    else vg_error("%sa listener off loopback needs a token; the token in force stays", when);
    return -1;
  }
  if (warn) vg_warn("tcp_token_file %s: %s", srv->cfg.tcp_token_file, warn);
  memcpy(srv->tcp_token, token, sizeof token);
  srv->tcp_token_len = (size_t)n;
  memset(token, 0, sizeof token);
  return 0;
}

static int start_tcp(server *srv) {
  const char *spec = srv->cfg.listen;
  if (!spec[0]) return 0;
  char host[256];
  const char *colon = strrchr(spec, ':');
  char *end;
  long port = colon ? strtol(colon + 1, &end, 10) : -1;
  if (!colon || *end || port < 0 || port > 65535 || colon == spec ||
      (size_t)(colon - spec) >= sizeof host) {
    vg_error("listen address '%s' is not HOST:PORT", spec);
    return -1;
  }
  snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
  struct sockaddr_storage addr;
  if (host[0] == '[' && host[strlen(host) - 1] == ']') {
    host[strlen(host) - 1] = '\0';
    memmove(host, host + 1, strlen(host));
  }
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&addr) &&
      uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&addr)) {
    vg_error("listen address '%s': '%s' is not an IP address", spec, host);
    return -1;
  }
  srv->tcp_loopback = is_loopback((struct sockaddr *)&addr);
  if (tcp_token_load(srv, "") != 0) return -1;
  if (!srv->tcp_token_len && !srv->tcp_loopback) {
    vg_error("listen address '%s' is not loopback: set tcp_token or tcp_token_file, or anyone"
             " who can reach the port can feed the daemon", spec);
    return -1;
  }
  uv_tcp_init(srv->loop, &srv->tcp_srv);
  srv->tcp_srv.data = srv;
  srv->have_tcp = 1;
  int rc = uv_tcp_bind(&srv->tcp_srv, (struct sockaddr *)&addr, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&srv->tcp_srv, 128, on_connection);
  if (rc) {
    vg_error("cannot listen on tcp:%s: %s", spec, uv_strerror(rc));
    return -1;
  }
  if (srv->tcp_token_len)
    vg_info("listening on tcp:%s; a client sends 'auth TOKEN' first", spec);
  else
    vg_warn("listening on tcp:%s without a token: any local user can feed the daemon through"
            " it (set tcp_token to require one)", spec);
  return 0;
}

/* ---- signals, reload, stop ---- */

static void apply_overrides(vg_config *c, const overrides *o) {
  if (o->db) vg_config_set(&c->db, o->db);
  if (o->socket) vg_config_set(&c->socket, o->socket);
  if (o->listen) vg_config_set(&c->listen, o->listen);
  if (o->spool) vg_config_set(&c->spool, o->spool);
  if (o->rules) vg_config_set(&c->rules, o->rules);
  if (o->log_level) vg_config_set(&c->log_level, o->log_level);
  if (o->format) vg_format_parse(o->format, &c->format);
}

static void reload(server *srv) {
  vg_config next;
  vg_config_defaults(&next);
  char err[512];
  if (srv->config_path && vg_config_load(&next, srv->config_path, err, sizeof err)) {
    vg_error("reload: %s; keeping the settings in force", err);
    vg_config_free(&next);
    return;
  }
  apply_overrides(&next, &srv->flags);
  if (vg_config_check(&next, err, sizeof err)) {
    vg_error("reload: %s; keeping the settings in force", err);
    vg_config_free(&next);
    return;
  }
  /* Digests keep their schedule until a restart: their jobs read them. */
  vg_digest_conf *keep = srv->cfg.digests;
  size_t nkeep = srv->cfg.ndigests;
  srv->cfg.digests = next.digests;
  srv->cfg.ndigests = next.ndigests;
  next.digests = keep;
  next.ndigests = nkeep;
  vg_feed_conf *kept_feeds = srv->cfg.feeds; /* the poller holds them: restart to change */
  size_t nkept = srv->cfg.nfeeds;
  srv->cfg.feeds = next.feeds;
  srv->cfg.nfeeds = next.nfeeds;
  next.feeds = kept_feeds;
  next.nfeeds = nkept;
  static const char *const fixed[] = {"db", "socket", "socket_group", "listen", "spool"};
  const char *was[] = {srv->cfg.db, srv->cfg.socket, srv->cfg.socket_group, srv->cfg.listen,
                       srv->cfg.spool};
  char **now[] = {&next.db, &next.socket, &next.socket_group, &next.listen, &next.spool};
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
    if (strcmp(was[i], *now[i]) != 0) {
      vg_warn("reload: '%s' changes only on restart; still %s", fixed[i],
              was[i][0] ? was[i] : "(none)");
      vg_config_set(now[i], was[i]);
    }
  vg_config_free(&srv->cfg);
  srv->cfg = next;
  vg_log_set_level(vg_log_level_parse(srv->cfg.log_level));
  vg_info("reloaded configuration%s%s", srv->config_path ? " from " : "",
          srv->config_path ? srv->config_path : "");
  if (srv->have_tcp) tcp_token_load(srv, "reload: "); /* a new token for new connections */
  vg_sinks_reopen(srv->sinks);
  srv->rules_dirty = 1;
  scan_spool(srv);
  kick(srv);
}

static void close_if(uv_handle_t *h) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* Once stopping and idle: answer-less clients closed, listeners gone, the
 * loop's remaining handles closed so uv_run returns. */
static void maybe_finish(server *srv) {
  if (!srv->stopping || srv->job != JOB_NONE || srv->pending.n || srv->done) return;
  for (client *c = srv->clients, *next; c; c = next) {
    next = c->next;
    if (c->refused) client_close(c); /* answered already; no longer read */
    else if (!c->inflight) client_finish(c);
  }
  if (srv->clients) return; /* called again as each one closes */
  srv->done = 1;
  if (srv->unstored)
    vg_info("stopping: %llu lines received were not stored; their clients were told to send"
            " them again", (unsigned long long)srv->unstored);
  vg_sinks_close(srv->sinks); /* commands still running end before the loop does */
  srv->sinks = NULL;
  close_if((uv_handle_t *)&srv->stop_timer);
  close_if((uv_handle_t *)&srv->rules_timer);
  close_if((uv_handle_t *)&srv->tick_timer);
  close_if((uv_handle_t *)&srv->batch_timer);
  close_if((uv_handle_t *)&srv->spool_timer);
  close_if((uv_handle_t *)&srv->dirs_timer);
  close_if((uv_handle_t *)&srv->sig_int);
  close_if((uv_handle_t *)&srv->sig_term);
  close_if((uv_handle_t *)&srv->sig_hup);
}

/* The grace period is over: clients that have not taken their replies are
 * cut off. Everything they sent is stored already. */
static void on_stop_timer(uv_timer_t *t) {
  server *srv = t->data;
  for (client *c = srv->clients; c; c = c->next)
    if (!c->closing && !c->inflight) {
      vg_warn("%s: still not reading its replies; closing it", c->name);
      client_close(c);
    }
}

static void begin_stop(server *srv, const char *why) {
  if (srv->stopping) {
    vg_info("%s: already stopping", why);
    return;
  }
  srv->stopping = 1;
  atomic_store(&srv->stop_now, 1);
  vg_info("%s: stopping after the entry in hand; %zu lines waiting are not stored", why,
          srv->pending.n);
  if (srv->have_unix) close_if((uv_handle_t *)&srv->unix_srv);
  if (srv->have_tcp) close_if((uv_handle_t *)&srv->tcp_srv);
  if (srv->have_spool) close_if((uv_handle_t *)&srv->spool_watch);
  if (srv->have_rules_watch) close_if((uv_handle_t *)&srv->rules_watch);
  vg_scheduler_stop(srv->scheduler);
  srv->scheduler = NULL;
  vg_feeds_stop(srv->feeds); /* a fetch in flight is cut; its feed is polled next time */
  srv->feeds = NULL;
  uv_timer_stop(&srv->spool_timer);
  uv_timer_stop(&srv->rules_timer);
  uv_timer_stop(&srv->tick_timer);
  uv_timer_stop(&srv->dirs_timer);
  if (srv->socket_path) unlink(srv->socket_path);
  for (client *c = srv->clients; c; c = c->next) update_read(c);
  uv_timer_start(&srv->stop_timer, on_stop_timer, STOP_GRACE_MS, STOP_GRACE_MS);
  kick(srv);
}

static void on_signal(uv_signal_t *h, int signum) {
  server *srv = h->data;
  if (signum == SIGHUP) reload(srv);
  else begin_stop(srv, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* ---- the command ---- */

static const char help[] =
    "usage: vigil run [--socket PATH] [--listen HOST:PORT] [--spool DIR] [--rules DIR]\n"
    "                 [--feed URL]... [--format auto|chrono|json] [--log-level L]\n"
    "                 [--db PATH] [--config FILE]\n"
    "Runs the daemon in the foreground until SIGINT or SIGTERM: it stores what comes in,\n"
    "runs the rules, sends alerts to the sinks, polls feeds and writes scheduled digests.\n"
    "  --socket PATH       Unix socket for newline-delimited entries (default var/vigil.sock;\n"
    "                      '' for none). Each line is answered once stored: 'ok ID',\n"
    "                      'duplicate ID' or 'error line N: reason'.\n"
    "  --listen HOST:PORT  the same protocol over TCP (default: none). Off loopback it\n"
    "                      needs tcp_token (or tcp_token_file) in the configuration, and\n"
    "                      with a token a client sends 'auth TOKEN' first\n"
    "  --spool DIR         files moved into DIR are ingested, then moved to DIR/done/, or to\n"
    "                      DIR/failed/ with a .err file saying why (default var/spool)\n"
    "  --rules DIR         rule files (default rules/)\n"
    "  --log-level L       debug, info, warn or error (default info)\n"
    "  --feed URL          poll this feed (RSS, Atom, JSON Lines or chronology over HTTP)\n"
    "                      every feed_interval seconds (default 300); repeatable\n"
    "SIGHUP reloads the configuration file and the rules, reopens the alert files and\n"
    "rescans the spool. Rule files are also reloaded when they change.\n";

static int init_signal(server *srv, uv_signal_t *s, int signum) {
  uv_signal_init(srv->loop, s);
  s->data = srv;
  return uv_signal_start(s, on_signal, signum);
}

int vg_cmd_run(int argc, char **argv) {
  static server srv_storage;
  server *srv = &srv_storage;
  srv->lock_fd = -1;
  if (vg_cli_setup(&srv->cfg, argc, argv)) return VG_EXIT_USAGE;
  srv->config_path = vg_cli_config_path(argc, argv);
  static const struct option opts[] = {
      {"socket", required_argument, NULL, 'S'}, {"listen", required_argument, NULL, 'L'},
      {"spool", required_argument, NULL, 'P'}, {"rules", required_argument, NULL, 'R'},
      {"format", required_argument, NULL, 'f'}, {"log-level", required_argument, NULL, 'l'},
      {"feed", required_argument, NULL, 'F'},
      VG_CLI_GLOBAL_OPTIONS, {0}};
  int opt, status = VG_EXIT_OK;
  optind = 1;
  overrides *o = &srv->flags;
  while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (opt) {
    case 'D': o->db = optarg; break;
    case 'C': break;
    case 'S': o->socket = optarg; break;
    case 'L': o->listen = optarg; break;
    case 'P': o->spool = optarg; break;
    case 'R': o->rules = optarg; break;
    case 'f':
      if (vg_format_parse(optarg, &(vg_format){0})) {
        fprintf(stderr, "vigil run: --format must be auto, chrono or json\n");
        status = VG_EXIT_USAGE;
        goto done;
      }
      o->format = optarg;
      break;
    case 'l': o->log_level = optarg; break;
    case 'F': {
      char **v = realloc(o->feeds, (o->nfeeds + 1) * sizeof *v);
      if (!v) abort();
      o->feeds = v;
      o->feeds[o->nfeeds++] = optarg;
      break;
    }
    case 'h': fputs(help, stdout); goto done;
    default: fputs(help, stderr); status = VG_EXIT_USAGE; goto done;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "vigil run: unexpected argument '%s'\n", argv[optind]);
    status = VG_EXIT_USAGE;
    goto done;
  }
  apply_overrides(&srv->cfg, o);
  for (size_t i = 0; i < o->nfeeds; i++) vg_config_add_feed(&srv->cfg, o->feeds[i], NULL, NULL, 0);
  char err[512];
  if (vg_config_check(&srv->cfg, err, sizeof err)) {
    fprintf(stderr, "vigil run: %s\n", err);
    status = VG_EXIT_USAGE;
    goto done;
  }
  vg_log_set_level(vg_log_level_parse(srv->cfg.log_level));
  signal(SIGPIPE, SIG_IGN);
  if (srv->cfg.timezone[0]) { /* digests' schedules and periods are in this zone */
    setenv("TZ", srv->cfg.timezone, 1);
    tzset();
  }

  vg_make_dirs(srv->cfg.db, 0);
  if ((srv->lock_fd = vg_lock_db(srv->cfg.db, err, sizeof err)) < 0) {
    vg_error("%s", err);
    status = VG_EXIT_FAIL;
    goto done;
  }
  int sflags = strcmp(srv->cfg.durability, "normal") == 0 ? VG_STORE_SYNC_NORMAL : 0;
  if (!(srv->store = vg_store_open(srv->cfg.db, sflags, err, sizeof err))) {
    vg_error("%s", err);
    status = VG_EXIT_FAIL;
    goto done;
  }
  vg_store_busy_timeout(srv->store, srv->cfg.busy_timeout_ms);
  if (!(srv->indexer = vg_indexer_start(srv->cfg.db, err, sizeof err)))
    vg_warn("text index: %s; text searches index what they need", err);
  vg_store_on_commit(srv->store, srv->indexer ? vg_indexer_poke_fn : NULL, srv->indexer);
  vg_info("vigil %s: database %s (schema version %d)", VIGIL_VERSION, srv->cfg.db,
          vg_store_schema_version(srv->store));
  srv->loop = uv_default_loop();
  int rule_errors;
  srv->rules = vg_cli_load_rules(&srv->cfg, NULL, &rule_errors);
  if (!srv->rules || !(srv->sinks = vg_sinks_new(srv->loop, &srv->cfg, err, sizeof err))) {
    if (srv->rules) vg_error("%s", err);
    else vg_error("rules: cannot set up the rule engine");
    vg_rules_free(srv->rules);
    vg_indexer_stop(srv->indexer);
    vg_store_close(srv->store);
    status = VG_EXIT_FAIL;
    goto done;
  }
  srv->max_clients = client_cap();
  uv_timer_init(srv->loop, &srv->batch_timer);
  uv_timer_init(srv->loop, &srv->spool_timer);
  uv_timer_init(srv->loop, &srv->stop_timer);
  uv_timer_init(srv->loop, &srv->rules_timer);
  uv_timer_init(srv->loop, &srv->tick_timer);
  uv_timer_init(srv->loop, &srv->dirs_timer);
  srv->batch_timer.data = srv->spool_timer.data = srv->stop_timer.data = srv;
  srv->rules_timer.data = srv->tick_timer.data = srv->dirs_timer.data = srv;
  if (init_signal(srv, &srv->sig_int, SIGINT) || init_signal(srv, &srv->sig_term, SIGTERM) ||
      init_signal(srv, &srv->sig_hup, SIGHUP) || start_unix(srv) || start_tcp(srv) ||
      start_feeds(srv) || start_spool(srv)) {
    status = VG_EXIT_FAIL;
    srv->stopping = 1; /* close what was opened, then leave */
    if (srv->have_unix) close_if((uv_handle_t *)&srv->unix_srv);
    if (srv->have_tcp) close_if((uv_handle_t *)&srv->tcp_srv);
    if (srv->have_spool) close_if((uv_handle_t *)&srv->spool_watch);
    if (srv->socket_path) unlink(srv->socket_path);
    maybe_finish(srv);
  } else {
    start_rules_watch(srv);
    uv_timer_start(&srv->tick_timer, on_tick, 60000, 60000);
    uv_timer_start(&srv->dirs_timer, on_dirs_timer, DIR_CHECK_MS, DIR_CHECK_MS);
    srv->scheduler = vg_scheduler_start(srv->loop, &srv->cfg);
    vg_info("ready");
  }
  uv_run(srv->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(srv->loop) != 0) vg_warn("event loop closed with handles still open");
  vg_indexer_stop(srv->indexer);
  vg_store_close(srv->store);
  vg_rules_free(srv->rules);
  vg_alert_list_clear(&srv->raised);
  vg_alert_list_clear(&srv->committed);
  free(srv->raised.v);
  free(srv->committed.v);
  if (status == VG_EXIT_OK) vg_info("stopped cleanly");
  free(srv->spool.name); /* a file part-way through at the stop */
  for (size_t i = 0; i < srv->spool_n; i++) free(srv->spool_queue[i]);
  free(srv->spool_queue);
  free(srv->pending.v);
  free(srv->batch.v);
  free(srv->touched);
  free(srv->socket_path);
  for (size_t i = 0; i < srv->nfetched; i++) vg_fetch_free(srv->fetched[i]);
  free(srv->fetched);
done:
  memset(srv->tcp_token, 0, sizeof srv->tcp_token);
  if (srv->lock_fd >= 0) close(srv->lock_fd);
  free(o->feeds);
  vg_config_free(&srv->cfg);
  return status;
}
