/* listen.c — the daemon's doors: the Unix socket and the TCP listener, each
 * connection (its reads, the first line of a TCP one, its replies) and the
 * line protocol's framing. Lines are cut here, on the loop, and queued in
 * srv->pending for source_lines.c; replies are gathered per client and
 * written once a batch is answered. See daemon.h. */
#include "daemon.h"
#include "http.h"
#include "paths.h"
#include "tabular.h"
#include "vigil.h"

#include <assert.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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

int vg_listen_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
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

void vg_listen_update_read(client *c) {
  int want = wants_read(c);
  if (want && !c->reading) {
    if (uv_read_start(&c->h.stream, on_alloc, on_read) == 0) c->reading = 1;
  } else if (!want && c->reading) {
    uv_read_stop(&c->h.stream);
    c->reading = 0;
  }
}

void vg_listen_client_free(client *c) {
  server *srv = c->srv;
  if (c->prev) c->prev->next = c->next;
  else srv->clients = c->next;
  if (c->next) c->next->prev = c->prev;
  srv->nclients--;
  vg_framer_free(&c->framer);
  vg_tabular_free(c->table);
  free(c->out);
  free(c);
}

static void on_client_closed(uv_handle_t *h) {
  client *c = (client *)h;
  server *srv = c->srv;
  c->closed = 1;
  vg_debug("%s: closed", c->name);
  if (c->inflight == 0) vg_listen_client_free(c);
  vg_daemon_maybe_finish(srv);
}

void vg_listen_client_close(client *c) {
  if (c->closing) return;
  c->closing = 1;
  c->reading = 0;
  uv_close(&c->h.handle, on_client_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)status;
  vg_listen_client_close(req->data);
  free(req);
}

/* Closes a client once everything it sent is answered and written: the
 * shutdown waits for queued replies, then its callback closes. */
void vg_listen_client_finish(client *c) {
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
  vg_listen_client_close(c);
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
    vg_listen_client_close(c);
  }
  free(w);
  if (c->write_blocked && !c->closing &&
      uv_stream_get_write_queue_size(&c->h.stream) < WRITE_QUEUE_MAX / 2) {
    c->write_blocked = 0;
    vg_listen_update_read(c);
  }
}

void vg_listen_flush(client *c) {
  c->touched = 0;
  if (!c->out_len) return;
  size_t n = c->out_len;
  c->out_len = 0;
  if (c->closing) return;
  write_req *w = malloc(sizeof *w + n);
  if (!w) {
    vg_error("%s: out of memory for replies; closing it", c->name);
    vg_listen_client_close(c);
    return;
  }
  w->c = c;
  memcpy(w->data, c->out, n);
  uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
  if (uv_write(&w->req, &c->h.stream, &b, 1, on_write) < 0) {
    free(w);
    vg_listen_client_close(c);
    return;
  }
  if (uv_stream_get_write_queue_size(&c->h.stream) > WRITE_QUEUE_MAX) {
    if (!c->write_blocked) vg_info("%s: not reading its replies; pausing its input", c->name);
    c->write_blocked = 1;
    vg_listen_update_read(c);
  }
}

void vg_listen_throttle(server *srv, int on) {
  if (srv->throttled == on) return;
  srv->throttled = on;
  if (on) vg_info("backlog of %zu lines: pausing input until it drains", srv->pending.n);
  for (client *c = srv->clients; c; c = c->next) vg_listen_update_read(c);
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
  vg_listen_append(&c->out, &c->out_len, &c->out_cap, text, strlen(text));
  vg_listen_flush(c);
}

static void on_refused_shutdown(uv_shutdown_t *req, int status) {
  client *c = req->data;
  if (status < 0) vg_listen_client_close(c);
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
    vg_listen_client_close(c);
    return CLIENT_REFUSED;
  }
  req->data = c;
  if (uv_shutdown(req, &c->h.stream, on_refused_shutdown) == 0) {
    c->shutting = 1;
  } else {
    free(req);
    vg_listen_client_close(c);
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
    char body[256];
    if (srv->http)
      snprintf(body, sizeof body,
               "This port speaks vigil's line protocol (one dated entry a line), not HTTP."
               " Nothing was stored. The HTTP API is at http://%s/\n", srv->cfg.http_listen);
    else
      snprintf(body, sizeof body,
               "This port speaks vigil's line protocol (one dated entry a line), not HTTP."
               " Nothing was stored. The HTTP API is off (http_listen).\n");
    char answer[512];
    snprintf(answer, sizeof answer,
             "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             strlen(body), body);
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
  item it = {.from = c, .data = malloc(len ? len : 1), .len = len, .total = total,
             .line_no = line_no, .flags = flags, .arrived = uv_hrtime()};
  if (!it.data) return VG_ENOMEM;
  memcpy(it.data, data, len);
  /* Parsed here, so that the worker only stores: the loop reads and parses
   * the next lines while the worker stores a batch. */
  vg_line line = {it.data,         len, total, line_no, flags, srv->cfg.format, SOCKET_SOURCE,
                  srv->cfg.max_line, c->name, c->table};
  vg_result res;
  it.parsed = vg_ingest_parse(&line, &it.e, &res) == 0;
  it.header = !it.parsed && res.status == VG_HEADER;
  if (!it.parsed && !(it.reason = strdup(res.reason))) {
    free(it.data);
    return VG_ENOMEM;
  }
  if (!srv->pending.n) srv->pending_since = uv_now(srv->loop); /* a batch starts waiting */
  if (vec_push(&srv->pending, &it)) {
    if (it.parsed) vg_entry_clear(&it.e);
    free(it.reason);
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
    if (nread < 0 || (c->dropped += (uint64_t)nread) > REFUSED_DRAIN_MAX) vg_listen_client_close(c);
    return;
  }
  if (nread > 0) {
    int rc = vg_framer_feed(&c->framer, buf->base, (size_t)nread, client_line, c);
    if (rc == CLIENT_REFUSED) return; /* answered; it closes once the answer is out */
    if (rc) {
      vg_error("%s: out of memory reading input; closing it", c->name);
      vg_listen_client_close(c);
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
      vg_listen_throttle(srv, 1);
    vg_daemon_kick(srv);
  } else if (nread == UV_EOF) {
    uint64_t partial = vg_framer_pending(&c->framer);
    if (partial)
      vg_warn("%s: closed mid-line; %llu bytes without a newline discarded, not stored",
              c->name, (unsigned long long)partial);
    c->eof = 1;
    vg_listen_update_read(c);
    if (c->inflight == 0) vg_listen_client_finish(c);
  } else if (nread < 0) {
    uint64_t partial = vg_framer_pending(&c->framer);
    vg_info("%s: connection lost: %s%s", c->name, uv_strerror((int)nread),
            partial ? "; a partial line was discarded" : "");
    vg_listen_client_close(c);
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
  const vg_tabular_format *tf = vg_tabular_of(srv->cfg.format);
  if (tf) { /* the rows of a table format: this connection's own column map */
    vg_framer_quote(&c->framer, tf->quote, tf->delim);
    c->table = vg_tabular_new(tf); /* NULL (no memory): each row read by the declared columns */
  }
  snprintf(c->name, sizeof c->name, "%s#%lu", is_tcp ? "tcp" : "unix", ++srv->next_client);
  c->next = srv->clients;
  if (c->next) c->next->prev = c;
  srv->clients = c;
  srv->nclients++;
  if (uv_accept(listener, &c->h.stream) < 0) {
    vg_listen_client_close(c);
    return;
  }
  if (srv->nclients > srv->max_clients || srv->stopping) {
    if (srv->stopping) vg_warn("%s: refused: stopping", c->name);
    else vg_warn("%s: refused: too many connections (%zu at most)", c->name, srv->max_clients);
    vg_listen_client_close(c);
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
  vg_listen_update_read(c);
}

/* Remembers that c has replies in this round. The list has room for every
 * client (it grows as clients connect), so this cannot fail. */
void vg_listen_touch(server *srv, client *c) {
  if (c->touched) return;
  assert(srv->ntouched < srv->touched_cap);
  c->touched = 1;
  srv->touched[srv->ntouched++] = c;
}

/* ---- listeners ---- */

/* How many connections the daemon serves at once: MAX_CLIENTS, raising the
 * open-files limit up to its hard limit to make room for them. When even
 * that is too low, fewer: a connection over the cap is then accepted and
 * refused with a log line, where a failing accept() would have it dropped
 * by libuv unseen. */
size_t vg_listen_client_cap(void) {
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

int vg_listen_unix(server *srv) {
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

/* Takes the TCP token the settings name (see vg_config_tcp_token). At a
 * reload (`when` is "reload: "), a token that cannot be read, or none for a
 * listener that needs one, leaves the token in force. 0, or -1 (logged). */
int vg_listen_token_load(server *srv, const char *when) {
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

int vg_listen_tcp(server *srv) {
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
  srv->tcp_loopback = vg_http_addr_loopback((struct sockaddr *)&addr);
  if (vg_listen_token_load(srv, "") != 0) return -1;
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

