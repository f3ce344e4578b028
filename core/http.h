/* http.h — the daemon's HTTP/1.1 server: a listener on the daemon's own
 * libuv loop, its connections, and the checks every request passes before
 * a handler sees it. Requests are parsed by llhttp (Node's parser, built
 * from the C sources Debian's node-llhttp ships) fed from uv streams, so the
 * server shares the loop, its timers and its shutdown with the rest of the
 * daemon. It knows nothing of vigil's endpoints: one handler gets every
 * request that passed the checks (api.c routes them).
 *
 * A connection serves one request at a time (keep-alive; pipelined
 * requests wait in the kernel until the reply before them is queued). Its
 * head may take VG_HTTP_HEAD_MAX bytes, its body max_body; a request must
 * arrive whole within request_timeout_ms, and an idle connection, or one
 * that does not take its reply, is closed after idle_timeout_ms. Over
 * max_conns connections, a new one is answered 503 and closed.
 *
 * The checks, in order (each refusal is logged with the peer, method and
 * path, never a token, and answered with a JSON error):
 *   - Host must name the listen address, localhost, or one of `hosts`
 *     (a page reaching the port through DNS rebinding names its own host): 403;
 *   - an OPTIONS request from an Origin of `origins` is a CORS preflight,
 *     answered here; CORS headers go only to the origins listed;
 *   - a write (any method but GET, HEAD and OPTIONS) from an Origin not
 *     listed and not the server's own ("http://" + Host, the dashboard's
 *     pages): 403; with a body whose Content-Type a page may send without a
 *     preflight (form encodings, text/plain) or none: 415;
 *   - with a token set, a write without `Authorization: Bearer TOKEN`
 *     (compared in constant time): 401.
 * Used from the loop thread only. */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define VG_HTTP_HEAD_MAX 16384 /* bytes of a request line and headers */

typedef struct vg_http vg_http;
typedef struct vg_http_req vg_http_req;

typedef struct {
  const char *listen;          /* HOST:PORT (an IP address and a port) */
  const char *token;           /* what writes must bear; "" for none */
  char *const *hosts;          /* more names Host may give, NULL-ended; may be NULL */
  char *const *origins;        /* origins allowed CORS and writes, NULL-ended; may be NULL */
  size_t max_body;             /* bytes a request body may have */
  size_t max_conns;            /* connections served at once */
  unsigned request_timeout_ms; /* a request must arrive whole within this */
  unsigned idle_timeout_ms;    /* an idle or non-reading connection is closed after this */
} vg_http_conf;

/* One request that passed the checks. The strings are the connection's and
 * live until the request is answered; "" when a header is absent. */
struct vg_http_req {
  const char *method;        /* "GET", "POST", ... */
  const char *path;          /* the target's path, percent-decoded */
  const char *query;         /* the raw query after '?', or "" */
  const char *host, *origin, *content_type, *authorization, *last_event_id;
  const char *body;          /* NUL-terminated; may hold NULs of its own */
  size_t body_len;
  const char *peer;          /* the client's address, for the log */
  int head;                  /* a HEAD request: the reply's body is not sent */
  uint64_t received_ms;      /* loop time the request was complete */
  void *data;                /* the handler's */
};

/* Called for each request that passed the checks. The handler answers it
 * now or later, on the loop, with vg_http_reply or vg_http_stream_start;
 * until then the connection reads nothing more. */
typedef void (*vg_http_handler)(vg_http_req *r, void *ud);

/* Starts listening on c->listen (copies what it needs of c). Returns the
 * server, or NULL with why in err (a bad address, the port taken). */
vg_http *vg_http_start(uv_loop_t *loop, const vg_http_conf *c, vg_http_handler h, void *ud,
                       char *err, size_t cap);
/* Replaces the token writes must bear ("" for none): a reload. */
void vg_http_set_token(vg_http *s, const char *token);
/* The port the listener is bound to (the one the system chose for port 0). */
int vg_http_port(const vg_http *s);
/* Whether the listener is on a loopback address. */
int vg_http_loopback(const vg_http *s);
/* Whether addr is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x). */
int vg_http_addr_loopback(const struct sockaddr *addr);
/* Connections open now. */
size_t vg_http_connections(const vg_http *s);
/* Stops: the listener closes, idle connections close, streams end (their
 * `gone` callbacks run), requests being handled are answered first and
 * their connections close after. The server frees itself once all is
 * closed. NULL does nothing. */
void vg_http_stop(vg_http *s);

/* Answers r: status, a Content-Type (NULL for none), the body (copied),
 * and extra header lines ("Name: value\r\n"..., or NULL). r is gone after
 * this; when its client left meanwhile, nothing is sent. */
void vg_http_reply(vg_http_req *r, int status, const char *ctype, const char *body, size_t len,
                   const char *headers);
/* Frees r's body before the reply (its handler copied what it needs);
 * r->body is then "" and body_len 0. */
void vg_http_release_body(vg_http_req *r);
/* Whether r's client has gone (its reply would go nowhere). */
int vg_http_gone(const vg_http_req *r);

/* Answers r with a stream: the status line and headers now, no length, the
 * body written piece by piece with vg_http_stream_write until
 * vg_http_stream_end; the connection closes after it. `gone` is called
 * once when the client leaves or the server stops, and r is freed right
 * after it returns: the caller forgets r there. */
void vg_http_stream_start(vg_http_req *r, const char *ctype, const char *headers,
                          void (*gone)(vg_http_req *r, void *ud), void *ud);
/* Writes to a stream. 0, or -1 when the client has more than max_queued
 * bytes not taken yet: the stream is then cut (gone runs first). */
int vg_http_stream_write(vg_http_req *r, const char *data, size_t len, size_t max_queued);
/* Bytes written to a stream that its client has not taken yet. */
size_t vg_http_stream_queued(const vg_http_req *r);
/* Ends a stream from the server's side (gone runs). */
void vg_http_stream_end(vg_http_req *r);
/* Ends a stream at once, dropping what its client has not taken (gone runs). */
void vg_http_stream_cut(vg_http_req *r);

/* The value of parameter name in a raw query, percent-decoded (and '+' as
 * a space) into out. 1 when found, 0 when absent, -1 when it does not fit
 * in cap or is badly encoded. */
int vg_http_query(const char *query, const char *name, char *out, size_t cap);
/* The first parameter of query whose name is not in names (NULL-ended),
 * copied into out; 1 when there is one, else 0. */
int vg_http_query_unknown(const char *query, const char *const *names, char *out, size_t cap);
/* The reason phrase of a status code. */
const char *vg_http_status_text(int status);

#endif
