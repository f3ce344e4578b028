/* http.c — the daemon's HTTP/1.1 server (see http.h): the listener, one
 * `conn` per connection with its llhttp parser, the checks, and replies.
 *
 * A connection is READING (bytes go through the parser), HANDLING (a whole
 * request is with the handler: nothing more is read, the parser is paused
 * on what came after it), or STREAMING (its reply is a stream: what the
 * client sends is read and dropped, to notice when it leaves). The handles
 * (the TCP stream and the timer) close together; the conn is freed once
 * both closed and no handler holds its request. */
#include "http.h"
#include "config.h"
#include "vigil.h"

#include <llhttp.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { READING, HANDLING, STREAMING };

/* Replies a client has not taken, in bytes, past which its next pipelined
 * request waits. */
#define WRITE_HIGH (1u << 20)

typedef struct conn conn;

/* A growable byte buffer. */
typedef struct {
  char *p;
  size_t len, cap;
} buf;

struct vg_http {
  uv_loop_t *loop;
  uv_tcp_t listener;       /* listener.data points back here */
  vg_http_handler handler;
  void *ud;
  char host[256];          /* the listen address's host, without brackets */
  char port[8];
  int loopback;            /* listening on a loopback address */
  char token[VG_TOKEN_MAX + 1];
  size_t token_len;
  char **hosts, **origins; /* owned copies, NULL-ended */
  size_t max_body, max_conns;
  unsigned request_timeout_ms, idle_timeout_ms;
  conn *conns;             /* every open connection */
  size_t nconns;
  unsigned long next_id;
  int stopping;
  int listener_closed;
};

struct conn {
  uv_tcp_t tcp;            /* first: the handle's pointer is the conn's */
  uv_timer_t timer;        /* the request or idle deadline */
  vg_http *srv;
  llhttp_t parser;
  int state;
  int handles;             /* handles not yet closed */
  int closing;             /* uv_close was called */
  int held;                /* a handler holds the request */
  int keep_alive;          /* the reply leaves the connection open */
  int header_is_value;     /* the last header piece was a value */
  size_t head_bytes;       /* bytes of the head so far */
  int too_large;           /* the body went over max_body */
  buf in;                  /* bytes read and not yet parsed (paused) */
  buf url, field, value;   /* pieces of the request being parsed */
  buf body;
  char *hdr[6];            /* host, origin, content-type, authorization, last-event-id, expect */
  char *path, *query;
  size_t queued;           /* bytes written and not yet taken */
  int waits_drain;         /* reading waits for queued to fall under WRITE_HIGH / 2 */
  int paused;              /* the parser stopped after a whole request: nothing is parsed
                              until the reply to it lets it go on (conn_read_more) */
  int timing;              /* the request timer runs for the request coming in */
  int refusal;             /* the checks refused the request at its head: this status */
  const char *refusal_why, *refusal_headers;
  int dup_host;            /* Host was given twice */
  int finishing;           /* closes once what was written is sent (or the timer runs out) */
  vg_http_req req;
  void (*gone)(vg_http_req *, void *);
  void *gone_ud;
  char peer[64];
  conn *prev, *next;
};

#define NHDR 6
static const char *const hdr_names[NHDR] = {"host",          "origin",       "content-type",
                                            "authorization", "last-event-id", "expect"};

static int buf_add(buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static void buf_free(buf *b) {
  free(b->p);
  *b = (buf){0};
}

const char *vg_http_status_text(int status) {
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 413: return "Content Too Large";
  case 415: return "Unsupported Media Type";
  case 422: return "Unprocessable Content";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  default: return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

/* ---- connections: closing and freeing ---- */

static void conn_reset(conn *c) {
  buf_free(&c->url);
  buf_free(&c->field);
  buf_free(&c->value);
  buf_free(&c->body);
  for (size_t i = 0; i < NHDR; i++) {
    free(c->hdr[i]);
    c->hdr[i] = NULL;
  }
  free(c->path);
  free(c->query);
  c->path = c->query = NULL;
  c->head_bytes = 0;
  c->too_large = 0;
  c->timing = 0;
  c->refusal = 0;
  c->dup_host = 0;
  c->header_is_value = 0;
  c->req = (vg_http_req){0};
}

static void maybe_free_server(vg_http *s);

static void conn_free(conn *c) {
  vg_http *s = c->srv;
  conn_reset(c);
  buf_free(&c->in);
  if (c->prev) c->prev->next = c->next;
  else s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nconns--;
  free(c);
  maybe_free_server(s);
}

static void on_handle_closed(uv_handle_t *h) {
  conn *c = h->data;
  if (--c->handles == 0 && !c->held) conn_free(c);
}

/* Tells a stream's owner that it is over; the request is the owner's no more. */
static void stream_gone(conn *c) {
  if (c->state != STREAMING || !c->gone) return;
  void (*gone)(vg_http_req *, void *) = c->gone;
  c->gone = NULL;
  gone(&c->req, c->gone_ud);
  c->held = 0;
}

static void conn_close(conn *c) {
  if (c->closing) return;
  c->closing = 1;
  stream_gone(c);
  uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* ---- writing ---- */

typedef struct {
  uv_write_t w;
  conn *c;
  size_t len;
  char data[];
} wreq;

static void on_idle_timer(uv_timer_t *t);
static void resume_soon(conn *c);

static void on_written(uv_write_t *w, int status) {
  wreq *q = (wreq *)w;
  conn *c = q->c;
  c->queued -= q->len;
  free(q);
  if (status < 0) {
    conn_close(c);
    return;
  }
  if (c->closing || c->finishing || c->state != READING) return;
  if (c->waits_drain && c->queued <= WRITE_HIGH / 2) resume_soon(c);
}

/* Queues n bytes (copied) on c; -1 when that failed (c is then closing). */
static int conn_write(conn *c, const char *data, size_t n) {
  if (c->closing) return -1;
  wreq *q = malloc(sizeof *q + n);
  if (!q) {
    conn_close(c);
    return -1;
  }
  memcpy(q->data, data, n);
  q->c = c;
  q->len = n;
  uv_buf_t b = uv_buf_init(q->data, (unsigned)n);
  if (uv_write(&q->w, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
    free(q);
    conn_close(c);
    return -1;
  }
  c->queued += n;
  return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  conn *c = req->data;
  (void)status;
  free(req);
  conn_close(c);
}

static void on_finish_timer(uv_timer_t *t) {
  conn *c = t->data;
  vg_info("http %s: did not take the end of its reply within %u ms; closed", c->peer,
          c->srv->idle_timeout_ms);
  conn_close(c);
}

/* Closes c once what was written to it is sent, or after idle_timeout_ms
 * when the client does not take it. */
static void conn_finish(conn *c) {
  if (c->closing || c->finishing) return;
  c->finishing = 1;
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_timer_start(&c->timer, on_finish_timer, c->srv->idle_timeout_ms, 0);
  uv_shutdown_t *req = malloc(sizeof *req);
  if (req) {
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) == 0) return;
    free(req);
  }
  conn_close(c);
}

/* Writes the status line and the headers every reply has. */
static int head(conn *c, char *out, size_t cap, int status, const char *ctype, long long len,
                const char *headers) {
  vg_http *s = c->srv;
  const char *origin = c->hdr[1] ? c->hdr[1] : "";
  int cors = 0;
  for (char **o = s->origins; *origin && o && *o; o++) cors |= strcmp(*o, origin) == 0;
  char length[48] = "";
  if (len >= 0) snprintf(length, sizeof length, "Content-Length: %lld\r\n", len);
  int n = snprintf(out, cap,
                   "HTTP/1.1 %d %s\r\n%s%s%s%s%s%s%s%s"
                   "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n%s\r\n",
                   status, vg_http_status_text(status), ctype ? "Content-Type: " : "",
                   ctype ? ctype : "", ctype ? "\r\n" : "", length,
                   cors ? "Access-Control-Allow-Origin: " : "", cors ? origin : "",
                   cors ? "\r\nVary: Origin\r\n" : "", headers ? headers : "",
                   c->keep_alive ? "" : "Connection: close\r\n");
  return n < 0 || (size_t)n >= cap ? -1 : n;
}

static void conn_read_more(conn *c);

void vg_http_reply(vg_http_req *r, int status, const char *ctype, const char *body, size_t len,
                   const char *headers) {
  conn *c = (conn *)((char *)r - offsetof(conn, req));
  c->held = 0;
  if (c->closing) {
    if (c->handles == 0) conn_free(c);
    return;
  }
  if (c->srv->stopping) c->keep_alive = 0;
  int bodiless = status < 200 || status == 204 || status == 304; /* no body, no length */
  if (bodiless) len = 0;
  char h[4096];
  int n = head(c, h, sizeof h, status, bodiless ? NULL : ctype, bodiless ? -1 : (long long)len,
               headers);
  uint64_t took = uv_now(c->srv->loop) - r->received_ms;
  vg_debug("http %s: %s %s: %d (%llu ms)", c->peer, r->method, r->path ? r->path : "?", status,
           (unsigned long long)took);
  if (n < 0) { /* the headers do not fit: nothing can be said */
    vg_error("http %s: %s %s: the reply's headers are too long; closed", c->peer, r->method,
             r->path ? r->path : "?");
    conn_close(c);
    return;
  }
  if (conn_write(c, h, (size_t)n) || (!r->head && len && conn_write(c, body, len))) return;
  conn_reset(c);
  if (!c->keep_alive) {
    conn_finish(c);
    return;
  }
  c->state = READING;
  resume_soon(c);
}

void vg_http_release_body(vg_http_req *r) {
  conn *c = (conn *)((char *)r - offsetof(conn, req));
  buf_free(&c->body);
  r->body = "";
  r->body_len = 0;
}

int vg_http_gone(const vg_http_req *r) {
  const conn *c = (const conn *)((const char *)r - offsetof(conn, req));
  return c->closing;
}

void vg_http_stream_start(vg_http_req *r, const char *ctype, const char *headers,
                          void (*gone)(vg_http_req *, void *), void *ud) {
  conn *c = (conn *)((char *)r - offsetof(conn, req));
  c->keep_alive = 0;
  c->gone = gone;
  c->gone_ud = ud;
  c->state = STREAMING;
  if (c->closing) { /* the client left before: gone at once */
    stream_gone(c);
    if (c->handles == 0) conn_free(c);
    return;
  }
  char h[2048];
  int n = head(c, h, sizeof h, 200, ctype, -1, headers);
  vg_debug("http %s: %s %s: stream", c->peer, r->method, r->path);
  if (n < 0) {
    conn_close(c);
    return;
  }
  if (conn_write(c, h, (size_t)n)) return;
  uv_timer_stop(&c->timer);
  llhttp_resume(&c->parser);
  c->paused = 0;
  conn_read_more(c); /* read and dropped: a close is noticed */
}

int vg_http_stream_write(vg_http_req *r, const char *data, size_t len, size_t max_queued) {
  conn *c = (conn *)((char *)r - offsetof(conn, req));
  if (c->closing) return -1;
  if (c->queued + len > max_queued) {
    vg_warn("http %s: %s %s: the client does not keep up (%zu bytes not taken); cut off",
            c->peer, r->method, r->path, c->queued);
    conn_close(c);
    return -1;
  }
  return conn_write(c, data, len);
}

size_t vg_http_stream_queued(const vg_http_req *r) {
  const conn *c = (const conn *)((const char *)r - offsetof(conn, req));
  return c->queued;
}

void vg_http_stream_end(vg_http_req *r) {
  conn *c = (conn *)((char *)r - offsetof(conn, req));
  stream_gone(c);
  conn_finish(c);
}

void vg_http_stream_cut(vg_http_req *r) {
  conn_close((conn *)((char *)r - offsetof(conn, req)));
}

/* Answers an error before any handler saw the request, as JSON, and closes
 * the connection after it when close is set. */
static void refuse(conn *c, int status, const char *why, const char *headers, int close) {
  char body[512];
  char shown[256];
  vg_escape_line(shown, sizeof shown, why, strlen(why));
  int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"status\":%d}\n", shown, status);
  if (n < 0 || (size_t)n >= sizeof body) n = 0;
  if (close) c->keep_alive = 0;
  c->held = 1; /* vg_http_reply lets go of it */
  c->req.method = c->req.method ? c->req.method : "?";
  c->req.received_ms = uv_now(c->srv->loop);
  vg_http_reply(&c->req, status, "application/json", body, (size_t)n, headers);
}

/* ---- reading and parsing ---- */

static conn *of(llhttp_t *p) {
  return (conn *)((char *)p - offsetof(conn, parser));
}

static int head_add(conn *c, buf *b, const char *at, size_t n) {
  c->head_bytes += n;
  if (c->head_bytes > VG_HTTP_HEAD_MAX) return HPE_USER;
  return buf_add(b, at, n) ? HPE_USER : 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n) {
  return head_add(of(p), &of(p)->url, at, n);
}

static void header_done(conn *c) {
  if (!c->field.p) return;
  for (size_t i = 0; i < NHDR; i++)
    if (strcasecmp(c->field.p, hdr_names[i]) == 0) {
      if (!c->hdr[i]) c->hdr[i] = strdup(c->value.p ? c->value.p : "");
      else if (i == 0) c->dup_host = 1;
    }
  c->field.len = c->value.len = 0;
  if (c->field.p) c->field.p[0] = '\0';
  if (c->value.p) c->value.p[0] = '\0';
}

static int on_header_field(llhttp_t *p, const char *at, size_t n) {
  conn *c = of(p);
  if (c->header_is_value) header_done(c);
  c->header_is_value = 0;
  return head_add(c, &c->field, at, n);
}

static int on_header_value(llhttp_t *p, const char *at, size_t n) {
  conn *c = of(p);
  c->header_is_value = 1;
  return head_add(c, &c->value, at, n);
}

static int check(conn *c);

/* The head is in: the checks run now, so that the body of a request they
 * refuse is never read. */
static int on_headers_complete(llhttp_t *p) {
  conn *c = of(p);
  if (c->header_is_value) header_done(c);
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->srv->max_body) {
    c->too_large = 1;
    return HPE_USER;
  }
  p->upgrade = 0; /* nothing is upgraded here: the next request is HTTP/1.1 as ever */
  if (check(c)) return HPE_USER;
  int body = ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0) || (p->flags & F_CHUNKED);
  if (body && !c->srv->stopping && p->http_major == 1 && p->http_minor >= 1 && c->hdr[5] &&
      strcasecmp(c->hdr[5], "100-continue") == 0) /* curl waits for it */
    conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n) {
  conn *c = of(p);
  if (c->body.len + n > c->srv->max_body) {
    c->too_large = 1;
    return HPE_USER;
  }
  return buf_add(&c->body, at, n) ? HPE_USER : 0;
}

static int on_message_complete(llhttp_t *p) {
  (void)p;
  return HPE_PAUSED; /* one request at a time */
}

static const llhttp_settings_t settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Percent-decodes n bytes of s into a new string; NULL when badly encoded
 * or when it would hold a NUL. */
static char *decode(const char *s, size_t n, int plus) {
  char *out = malloc(n + 1), *o = out;
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
          !isxdigit((unsigned char)s[i + 2]))
        goto bad;
      char hex[3] = {s[i + 1], s[i + 2], 0};
      char v = (char)strtol(hex, NULL, 16);
      if (!v) goto bad;
      *o++ = v;
      i += 2;
    } else {
      *o++ = plus && s[i] == '+' ? ' ' : s[i];
    }
  }
  *o = '\0';
  return out;
bad:
  free(out);
  return NULL;
}

int vg_http_query(const char *query, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  for (const char *p = query; p && *p;) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len;
    if (klen == nl && memcmp(p, name, nl) == 0) {
      const char *v = eq ? eq + 1 : p + len;
      size_t vlen = eq ? len - klen - 1 : 0;
      char *d = decode(v, vlen, 1);
      if (!d) return -1;
      size_t dl = strlen(d);
      if (dl >= cap) {
        free(d);
        return -1;
      }
      memcpy(out, d, dl + 1);
      free(d);
      return 1;
    }
    p = amp ? amp + 1 : NULL;
  }
  return 0;
}

int vg_http_query_unknown(const char *query, const char *const *names, char *out, size_t cap) {
  for (const char *p = query; p && *p;) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len;
    int known = klen == 0;
    for (size_t i = 0; !known && names[i]; i++)
      known = strlen(names[i]) == klen && memcmp(names[i], p, klen) == 0;
    if (!known) {
      vg_escape_line(out, cap, p, klen);
      return 1;
    }
    p = amp ? amp + 1 : NULL;
  }
  return 0;
}

/* The host part of a Host header or listen address, lower-cased, without
 * the port and brackets. */
static void host_part(const char *h, char *out, size_t cap) {
  size_t n = strlen(h);
  if (h[0] == '[') {
    const char *end = strchr(h, ']');
    n = end ? (size_t)(end - h - 1) : n - 1;
    h++;
  } else {
    const char *colon = strchr(h, ':');
    if (colon) n = (size_t)(colon - h);
  }
  if (n >= cap) n = cap - 1;
  for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)h[i]);
  out[n] = '\0';
}

static int host_allowed(const vg_http *s, const char *host) {
  char h[256];
  host_part(host, h, sizeof h);
  if (!h[0]) return 0;
  if (strcmp(h, "localhost") == 0 || strcmp(h, s->host) == 0) return 1;
  for (char **n = s->hosts; n && *n; n++)
    if (strcasecmp(*n, h) == 0) return 1;
  return 0;
}

static int origin_allowed(const vg_http *s, const char *origin) {
  for (char **o = s->origins; o && *o; o++)
    if (strcmp(*o, origin) == 0) return 1;
  return 0;
}

/* Whether origin is the server's own as the request names it
 * ("http://" + Host, which passed host_allowed): a page the server itself
 * served (the dashboard), whose writes are its own. */
static int origin_same(const char *origin, const char *host) {
  size_t skip = strncasecmp(origin, "http://", 7) == 0    ? 7
                : strncasecmp(origin, "https://", 8) == 0 ? 8 /* behind a TLS proxy */
                                                          : 0;
  return skip && host[0] && strcasecmp(origin + skip, host) == 0;
}

/* Whether a page may send this content type without a preflight: form
 * encodings and text/plain (parameters after ';' do not matter). */
static int simple_type(const char *ct) {
  static const char *const simple[] = {"application/x-www-form-urlencoded", "multipart/form-data",
                                       "text/plain"};
  while (*ct == ' ' || *ct == '\t') ct++;
  size_t n = strcspn(ct, "; \t");
  for (size_t i = 0; i < 3; i++)
    if (strlen(simple[i]) == n && strncasecmp(ct, simple[i], n) == 0) return 1;
  return 0;
}

static int same_token(const char *got, size_t n, const char *want, size_t m) {
  volatile unsigned char diff = n != m;
  for (size_t i = 0; i < m; i++) diff |= (unsigned char)(want[i] ^ (i < n ? got[i] : 0));
  return diff == 0;
}

static void log_refusal(conn *c, int status, const char *why) {
  char path[160];
  vg_escape_line(path, sizeof path, c->req.path ? c->req.path : "", strlen(c->req.path ? c->req.path : ""));
  vg_warn("http %s: %s %s refused (%d): %s", c->peer, c->req.method, path, status, why);
}

/* Refuses the request at its head: it is answered once the parser stops. */
static int refuse_head(conn *c, int status, const char *log, const char *why,
                       const char *headers) {
  if (log) log_refusal(c, status, log);
  c->refusal = status;
  c->refusal_why = why;
  c->refusal_headers = headers;
  return -1;
}

/* Fills the request from its head, then the checks (see http.h): 0 when
 * it may go to the handler, -1 when refused (c->refusal says how). */
static int check(conn *c) {
  vg_http *s = c->srv;
  llhttp_t *p = &c->parser;
  vg_http_req *r = &c->req;
  r->method = llhttp_method_name((llhttp_method_t)p->method);
  r->head = p->method == HTTP_HEAD;
  r->peer = c->peer;
  for (size_t i = 0; i < NHDR; i++)
    if (!c->hdr[i] && !(c->hdr[i] = strdup(""))) return refuse_head(c, 500, NULL, "out of memory", NULL);
  r->host = c->hdr[0];
  r->origin = c->hdr[1];
  r->content_type = c->hdr[2];
  r->authorization = c->hdr[3];
  r->last_event_id = c->hdr[4];
  const char *url = c->url.p ? c->url.p : "";
  size_t plen = strcspn(url, "?#");
  c->path = decode(url, plen, 0);
  const char *q = url[plen] == '?' ? url + plen + 1 : "";
  if (!(c->query = strndup(q, strcspn(q, "#"))))
    return refuse_head(c, 500, NULL, "out of memory", NULL);
  r->path = c->path ? c->path : "";
  r->query = c->query;
  if (!c->path || c->path[0] != '/')
    return refuse_head(c, 400, "the target is not a path",
                       "the request target is not an absolute path, or is badly encoded", NULL);
  if (c->dup_host)
    return refuse_head(c, 400, "Host given twice", "Host is given more than once", NULL);
  if (!host_allowed(s, r->host))
    return refuse_head(c, 403, "Host names no address of this server (http_hosts lists more)",
                       "Host is not a name of this server (see http_hosts)", NULL);
  int write = !(p->method == HTTP_GET || p->method == HTTP_HEAD || p->method == HTTP_OPTIONS);
  int body = ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0) ||
             (p->flags & (F_CHUNKED | F_TRANSFER_ENCODING));
  if (p->method != HTTP_GET && p->method != HTTP_HEAD && p->method != HTTP_POST &&
      p->method != HTTP_DELETE && p->method != HTTP_OPTIONS) /* no endpoint takes it */
    return refuse_head(c, 405, NULL, "this method is not served here",
                       "Allow: GET, HEAD, POST, DELETE, OPTIONS\r\n");
  if (body && p->method != HTTP_POST) /* only POST takes one: no read buffers a body */
    return refuse_head(c, 400, "a body on a request that takes none",
                       "this method takes no body", NULL);
  if (p->method == HTTP_OPTIONS) {
    c->keep_alive = llhttp_should_keep_alive(p) && !s->stopping;
    if (r->origin[0] && origin_allowed(s, r->origin)) /* a preflight from an origin allowed */
      return refuse_head(c, 204, NULL, "",
                         "Access-Control-Allow-Methods: GET, POST, DELETE\r\n"
                         "Access-Control-Allow-Headers: Authorization, Content-Type,"
                         " Last-Event-ID\r\n"
                         "Access-Control-Max-Age: 600\r\n");
    return refuse_head(c, 204, NULL, "", "Allow: GET, HEAD, POST, DELETE, OPTIONS\r\n");
  }
  if (write && r->origin[0] && !origin_allowed(s, r->origin) && !origin_same(r->origin, r->host))
    return refuse_head(c, 403, "a write from an Origin not allowed (http_origins)",
                       "writes from this Origin are not allowed (see http_origins)", NULL);
  if (write && body && (!r->content_type[0] || simple_type(r->content_type)))
    return refuse_head(c, 415, "a write with a content type a web page may send unasked",
                       r->content_type[0]
                           ? "this Content-Type is not taken for writes: send application/json,"
                             " application/x-ndjson or text/x-chronology"
                           : "a body needs a Content-Type",
                       NULL);
  if (write && s->token_len) {
    const char *a = r->authorization;
    int ok = strncasecmp(a, "Bearer ", 7) == 0;
    const char *t = ok ? a + 7 : "";
    while (*t == ' ') t++;
    if (!same_token(t, strlen(t), s->token, s->token_len) || !ok)
      return refuse_head(c, 401, a[0] ? "a wrong token" : "no token",
                         "this needs 'Authorization: Bearer TOKEN' (http_token_file)",
                         "WWW-Authenticate: Bearer realm=\"vigil\"\r\n");
  }
  return 0;
}

/* A whole request passed the checks: the handler's now. */
static void dispatch(conn *c) {
  vg_http *s = c->srv;
  c->state = HANDLING;
  c->held = 1;
  c->timing = 0;
  uv_timer_stop(&c->timer);
  c->keep_alive = llhttp_should_keep_alive(&c->parser) && !s->stopping;
  vg_http_req *r = &c->req;
  r->received_ms = uv_now(s->loop);
  if (!c->body.p && buf_add(&c->body, "", 0)) {
    vg_error("http %s: out of memory", c->peer);
    c->held = 0;
    conn_close(c);
    return;
  }
  r->body = c->body.p;
  r->body_len = c->body.len;
  if (s->stopping) { /* pipelined behind a request answered as the stop came */
    refuse(c, 503, "the daemon is stopping", "Retry-After: 1\r\n", 1);
    return;
  }
  s->handler(r, s->ud);
}

static void on_request_timer(uv_timer_t *t);

/* Parses what c holds; dispatches a whole request; answers a bad one. */
static void parse(conn *c) {
  if (c->state != READING || c->closing || c->paused || !c->in.len) return;
  if (!c->timing) { /* its first byte (a blank line before it counts) starts its clock */
    c->timing = 1;
    uv_timer_start(&c->timer, on_request_timer, c->srv->request_timeout_ms, 0);
  }
  llhttp_errno_t e = llhttp_execute(&c->parser, c->in.p, c->in.len);
  if (e == HPE_OK) {
    c->in.len = 0;
    return;
  }
  if (e == HPE_PAUSED) { /* a whole request; what follows it waits in c->in */
    const char *at = llhttp_get_error_pos(&c->parser);
    size_t used = at && at >= c->in.p && at <= c->in.p + c->in.len ? (size_t)(at - c->in.p)
                                                                   : c->in.len;
    memmove(c->in.p, c->in.p + used, c->in.len - used);
    c->in.len -= used;
    c->paused = 1;
    uv_read_stop((uv_stream_t *)&c->tcp);
    dispatch(c);
    return;
  }
  int keep = c->refusal == 204 && c->keep_alive; /* a preflight's answer (no body): it goes on */
  const char *at = keep ? llhttp_get_error_pos(&c->parser) : NULL;
  size_t used = at && at >= c->in.p && at <= c->in.p + c->in.len ? (size_t)(at - c->in.p)
                                                                 : c->in.len;
  memmove(c->in.p, c->in.p + used, c->in.len - used);
  c->in.len -= used;
  uv_read_stop((uv_stream_t *)&c->tcp);
  if (!c->req.path) c->req.path = "";
  if (c->refusal) {
    if (keep) llhttp_init(&c->parser, HTTP_REQUEST, &settings); /* stopped: a fresh one */
    refuse(c, c->refusal, c->refusal_why, c->refusal_headers, !keep);
  } else if (c->too_large) {
    vg_warn("http %s: a request body over %zu bytes refused", c->peer, c->srv->max_body);
    refuse(c, 413, "the body is larger than http_max_body", NULL, 1);
  } else if (c->head_bytes > VG_HTTP_HEAD_MAX) {
    vg_warn("http %s: a request head over %d bytes refused", c->peer, VG_HTTP_HEAD_MAX);
    refuse(c, 431, "the request line and headers are too long", NULL, 1);
  } else {
    char why[160];
    snprintf(why, sizeof why, "not HTTP/1.1: %s", llhttp_get_error_reason(&c->parser));
    vg_info("http %s: a bad request: %s", c->peer, why);
    refuse(c, 400, why, NULL, 1);
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  conn *c = h->data;
  (void)suggested;
  if (c->in.cap - c->in.len < 65536 + 1) {
    size_t cap = c->in.len + 65536 + 1;
    char *p = realloc(c->in.p, cap);
    if (!p) {
      *b = uv_buf_init(NULL, 0);
      return;
    }
    c->in.p = p;
    c->in.cap = cap;
  }
  *b = uv_buf_init(c->in.p + c->in.len, 65536);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  conn *c = (conn *)st;
  (void)b;
  if (n < 0) { /* the client is done sending: what it is owed still goes out */
    if (n == UV_EOF && c->state != STREAMING && c->queued) conn_finish(c);
    else conn_close(c);
    return;
  }
  if (c->state == STREAMING) return; /* read and dropped */
  c->in.len += (size_t)n;
  parse(c);
  if (c->paused && c->in.len >= WRITE_HIGH) uv_read_stop(st); /* enough read ahead */
}

/* Reads on with what is buffered first (a pipelined request). */
static void conn_read_more(conn *c) {
  if (c->closing || c->finishing) return;
  if (c->state == READING) {
    if (c->paused) {
      llhttp_resume(&c->parser);
      c->paused = 0;
    }
    c->timing = 0;
    uv_timer_start(&c->timer, on_idle_timer, c->srv->idle_timeout_ms, 0);
    parse(c);
    if (c->state != READING || c->closing || c->paused) return;
  }
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_resume_timer(uv_timer_t *t) {
  conn_read_more(t->data);
}

/* Reads on from the loop's next turn, not from inside the reply (a burst of
 * pipelined requests answered at once would nest deeply), and only once
 * the client has taken most of what it was sent. */
static void resume_soon(conn *c) {
  c->waits_drain = c->queued > WRITE_HIGH;
  if (c->waits_drain) {
    uv_timer_start(&c->timer, on_idle_timer, c->srv->idle_timeout_ms, 0);
    return;
  }
  uv_timer_start(&c->timer, on_resume_timer, 0, 0);
}

static void on_request_timer(uv_timer_t *t) {
  conn *c = t->data;
  if (c->state != READING) return;
  uv_read_stop((uv_stream_t *)&c->tcp);
  vg_info("http %s: the request did not arrive whole within %u ms; closed", c->peer,
          c->srv->request_timeout_ms);
  refuse(c, 408, "the request did not arrive in time", NULL, 1);
}

static void on_idle_timer(uv_timer_t *t) {
  conn *c = t->data;
  if (c->state != READING) return;
  c->waits_drain = 0;
  if (c->queued) vg_info("http %s: did not take its reply within %u ms; closed", c->peer,
                         c->srv->idle_timeout_ms);
  conn_close(c);
}

/* ---- the listener ---- */

static void on_connection(uv_stream_t *l, int status) {
  vg_http *s = l->data;
  if (status < 0) {
    vg_warn("http: accept: %s", uv_strerror(status));
    return;
  }
  conn *c = calloc(1, sizeof *c);
  if (!c) return;
  c->srv = s;
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->handles = 2;
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  struct sockaddr_storage a;
  int alen = sizeof a;
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&a, &alen) == 0) {
    if (a.ss_family == AF_INET) {
      uv_ip4_name((struct sockaddr_in *)&a, ip, sizeof ip);
      port = ntohs(((struct sockaddr_in *)&a)->sin_port);
    } else {
      uv_ip6_name((struct sockaddr_in6 *)&a, ip, sizeof ip);
      port = ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
    }
  }
  snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
  llhttp_init(&c->parser, HTTP_REQUEST, &settings);
  uv_tcp_nodelay(&c->tcp, 1);
  if (s->nconns > s->max_conns) {
    vg_warn("http %s: %zu connections open already (http_max_connections); refused", c->peer,
            s->max_conns);
    c->state = HANDLING;
    refuse(c, 503, "too many connections; try again later", "Retry-After: 1\r\n", 1);
    return;
  }
  c->state = READING;
  conn_read_more(c);
}

static void on_listener_closed(uv_handle_t *h) {
  vg_http *s = h->data;
  s->listener_closed = 1;
  maybe_free_server(s);
}

static void free_list(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

static char **copy_list(char *const *v) {
  size_t n = 0;
  while (v && v[n]) n++;
  char **out = calloc(n + 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++)
    if (!(out[i] = strdup(v[i]))) {
      free_list(out);
      return NULL;
    }
  return out;
}

static void maybe_free_server(vg_http *s) {
  if (!s->stopping || !s->listener_closed || s->conns) return;
  free_list(s->hosts);
  free_list(s->origins);
  memset(s->token, 0, sizeof s->token);
  free(s);
}

int vg_http_addr_loopback(const struct sockaddr *addr) {
  if (addr->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr) >> 24) == 127;
  const struct in6_addr *a = &((const struct sockaddr_in6 *)addr)->sin6_addr;
  return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

vg_http *vg_http_start(uv_loop_t *loop, const vg_http_conf *c, vg_http_handler h, void *ud,
                       char *err, size_t cap) {
  const char *spec = c->listen;
  const char *colon = strrchr(spec, ':');
  char *end;
  long port = colon ? strtol(colon + 1, &end, 10) : -1;
  char host[256];
  if (!colon || colon == spec || *end || colon[1] == '\0' || port < 0 || port > 65535 ||
      (size_t)(colon - spec) >= sizeof host) {
    snprintf(err, cap, "http_listen '%s' is not HOST:PORT", spec);
    return NULL;
  }
  snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
  if (host[0] == '[' && host[strlen(host) - 1] == ']') {
    host[strlen(host) - 1] = '\0';
    memmove(host, host + 1, strlen(host));
  }
  struct sockaddr_storage addr;
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&addr) &&
      uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&addr)) {
    snprintf(err, cap, "http_listen '%s': '%s' is not an IP address", spec, host);
    return NULL;
  }
  vg_http *s = calloc(1, sizeof *s);
  if (!s || !(s->hosts = copy_list(c->hosts)) || !(s->origins = copy_list(c->origins))) {
    if (s) free_list(s->hosts);
    free(s);
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  s->loop = loop;
  s->handler = h;
  s->ud = ud;
  for (size_t i = 0; host[i] && i < sizeof s->host - 1; i++)
    s->host[i] = (char)tolower((unsigned char)host[i]);
  snprintf(s->port, sizeof s->port, "%ld", port);
  s->loopback = vg_http_addr_loopback((struct sockaddr *)&addr);
  s->max_body = c->max_body;
  s->max_conns = c->max_conns ? c->max_conns : 1;
  s->request_timeout_ms = c->request_timeout_ms;
  s->idle_timeout_ms = c->idle_timeout_ms;
  vg_http_set_token(s, c->token ? c->token : "");
  uv_tcp_init(loop, &s->listener);
  s->listener.data = s;
  int rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
  if (rc) {
    snprintf(err, cap, "cannot listen on http:%s: %s", spec, uv_strerror(rc));
    s->stopping = 1;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    return NULL;
  }
  return s;
}

void vg_http_set_token(vg_http *s, const char *token) {
  size_t n = strlen(token);
  if (n > VG_TOKEN_MAX) n = VG_TOKEN_MAX;
  memset(s->token, 0, sizeof s->token);
  memcpy(s->token, token, n);
  s->token_len = n;
}

int vg_http_port(const vg_http *s) {
  struct sockaddr_storage a;
  int len = sizeof a;
  if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&a, &len) != 0) return -1;
  return a.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&a)->sin_port)
                                : ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
}

int vg_http_loopback(const vg_http *s) {
  return s->loopback;
}

size_t vg_http_connections(const vg_http *s) {
  return s ? s->nconns : 0;
}

void vg_http_stop(vg_http *s) {
  if (!s || s->stopping) return;
  s->stopping = 1;
  uv_close((uv_handle_t *)&s->listener, on_listener_closed);
  /* Streams first: their `gone` callbacks run code of their owners, which
   * may answer requests of other connections; the walk starts over after
   * each. What a stream's client has not taken is dropped: it resumes. */
  for (conn *c = s->conns; c;) {
    if (c->state == STREAMING && !c->closing) {
      stream_gone(c);
      conn_close(c);
      c = s->conns;
    } else {
      c = c->next;
    }
  }
  for (conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    if (c->closing || c->finishing || c->state == STREAMING) continue; /* on their way out */
    else if (c->state == READING && !c->queued) conn_close(c);
    else if (c->state == READING) { /* once its reply is sent; nothing more is read */
      uv_timer_stop(&c->timer);
      uv_read_stop((uv_stream_t *)&c->tcp);
      conn_finish(c);
    }
    else c->keep_alive = 0; /* answered, then closed */
  }
}
