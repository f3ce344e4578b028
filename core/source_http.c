/* source_http.c — entries sent by `POST /v1/entries` (the handler below,
 * routed by api.c), stored as the daemon's lines from clients are: each
 * body is cut into lines on the loop and each line parsed there
 * (vg_ingest_parse), the bodies wait in arrival order, and a job takes up to
 * batch_max of their lines (from one body or several; a long body spans
 * several jobs) once the oldest has waited batch_ms, stores them in one
 * transaction on the worker (vg_ingest_parsed), and a body is answered only
 * once the transaction holding its last line has committed. Lines from
 * sockets and bodies take turns by arrival: source_lines.c lets a body that
 * came before its oldest line go first (vg_source_http_first).
 *
 * A body is answered 200 with what became of each of its lines; when the
 * daemon stops before all its lines are stored, 503 with the same account
 * (the lines stored are said stored, the others not stored). A client that
 * leaves before its answer loses nothing: its lines are stored all the
 * same. Too many lines waiting (max_pending, with the socket's), a
 * throttled or a stopping daemon: 503 with Retry-After, nothing stored; a
 * body of more than max_pending lines: 413. See daemon.h for what a source
 * is. */
#include "api.h"
#include "tabular.h"
#include "vigil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_SOURCE "http"
#define SOURCE_NAME_MAX 64 /* bytes of a ?source= name */

/* One line of a body, and what became of it. */
typedef struct {
  char *data;     /* the line, owned */
  size_t len;     /* its length (capped at max_line) */
  uint64_t total; /* its full length */
  unsigned flags; /* VG_LINE_* */
  int parsed;     /* 1: e holds its entry (pointing into data) */
  int header;     /* a table format's header row: no entry, nothing to store */
  int status;     /* 0 while not done; VG_STORED, VG_DUPLICATE, VG_REJECTED or VG_E* */
  int64_t id;     /* the entry's id when stored or a duplicate */
  char *reason;   /* why it was refused (owned), or NULL */
  vg_entry e;
} post_line;

/* One body waiting, in a job, or being answered. */
typedef struct post {
  vg_http_req *req; /* answered once every line is done */
  char source[SOURCE_NAME_MAX + 2];
  char origin[80]; /* kept with its rejects: "http PEER" */
  vg_format format; /* how its lines were read (store_row reads it) */
  post_line *v;
  size_t n, cap;
  size_t next;        /* its first line not yet taken by a job */
  size_t done;        /* its lines whose job has ended */
  uint64_t since;     /* loop time it arrived */
  struct post *later; /* the next body in arrival order */
} post;

/* A run of one body's lines inside a job. */
typedef struct {
  post *p;
  size_t from, to;
} segment;

typedef struct {
  segment *v;
  size_t n, cap;
} segment_vec;

static struct {
  post *first, *last;    /* bodies not yet answered, in arrival order */
  size_t waiting;        /* their lines not yet taken by a job */
  segment_vec job;       /* the running job's lines */
  segment_vec answering; /* the lines of the job just done */
  int timer_started;     /* srv->http_timer runs for the oldest body */
} q;

static void post_free(post *p) {
  for (size_t i = 0; i < p->n; i++) {
    post_line *l = &p->v[i];
    if (l->parsed) vg_entry_clear(&l->e);
    free(l->data);
    free(l->reason);
  }
  free(p->v);
  free(p);
}

/* ---- a body into lines ---- */

typedef struct {
  post *p;
  vg_format format;
  size_t max_line;
  size_t max_lines; /* lines a body may hold: max_pending */
  vg_tabular *table;  /* a table format's rows: the body's column map, or NULL */
} cutter;

enum { TOO_MANY = 1 }; /* add_line: the body holds more than max_lines */

/* Adds one line to the body's list, parsed. 0 or VG_ENOMEM. */
static int add_line(void *ud, const char *data, size_t len, uint64_t total, uint64_t line_no,
                    unsigned flags) {
  cutter *k = ud;
  post *p = k->p;
  (void)line_no;
  if (p->n == k->max_lines) return TOO_MANY;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    post_line *nv = realloc(p->v, cap * sizeof *nv);
    if (!nv) return VG_ENOMEM;
    p->v = nv;
    p->cap = cap;
  }
  post_line *l = &p->v[p->n];
  *l = (post_line){.data = malloc(len ? len : 1), .len = len, .total = total, .flags = flags};
  if (!l->data) return VG_ENOMEM;
  memcpy(l->data, data, len);
  p->n++;
  vg_line line = {l->data,    len,         total,     p->n,    flags,
                  k->format, p->source, k->max_line, p->origin, k->table};
  vg_result res;
  l->parsed = vg_ingest_parse(&line, &l->e, &res) == 0;
  l->header = !l->parsed && res.status == VG_HEADER;
  if (!l->parsed && !(l->reason = strdup(res.reason))) return VG_ENOMEM;
  return 0;
}

/* Where offset falls in s: 1-based line and column. */
static void position(const char *s, size_t offset, size_t *line, size_t *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < offset; i++) {
    if (s[i] == '\n') {
      ++*line;
      *col = 1;
    } else {
      ++*col;
    }
  }
}

/* A JSON body: one object, or an array whose elements are one line each.
 * 0, VG_ENOMEM, or VG_EPARSE with why in err. */
static int cut_json(vg_http_req *r, cutter *k, char *err, size_t cap) {
  const char *end = NULL, *nul = memchr(r->body, '\0', r->body_len);
  /* The body's own NUL ends the document for cJSON: one inside is an error
   * there; the length counts the one after it. */
  cJSON *doc = nul ? NULL : cJSON_ParseWithLengthOpts(r->body, r->body_len + 1, &end, 1);
  if (nul) end = nul;
  if (!doc) {
    size_t off =
        end && end >= r->body && end <= r->body + r->body_len ? (size_t)(end - r->body) : 0;
    size_t line, col;
    position(r->body, off, &line, &col);
    snprintf(err, cap, "the body is not valid JSON: at line %zu, column %zu (byte %zu)", line, col,
             off + 1);
    return VG_EPARSE;
  }
  int rc = 0;
  if (cJSON_IsObject(doc)) { /* held to max_line as each element of an array is */
    char *s = cJSON_PrintUnformatted(doc);
    size_t len = s ? strlen(s) : 0;
    unsigned flags = len > k->max_line ? VG_LINE_TOO_LONG : 0;
    rc = s ? add_line(k, s, flags ? k->max_line : len, len, 1, flags) : VG_ENOMEM;
    free(s);
  } else if (cJSON_IsArray(doc)) {
    const cJSON *el;
    cJSON_ArrayForEach(el, doc) {
      char *s = cJSON_PrintUnformatted(el);
      if (!s) {
        rc = VG_ENOMEM;
        break;
      }
      size_t len = strlen(s);
      unsigned flags = len > k->max_line ? VG_LINE_TOO_LONG : 0;
      rc = add_line(k, s, flags ? k->max_line : len, len, 0, flags);
      free(s);
      if (rc) break;
    }
  } else {
    snprintf(err, cap, "the body must be a JSON object or an array of objects");
    rc = VG_EPARSE;
  }
  cJSON_Delete(doc);
  return rc;
}

/* JSON Lines or chronology lines, or the rows of a table format: cut as a
 * socket's input is. */
static int cut_lines(vg_http_req *r, cutter *k) {
  vg_framer f;
  vg_framer_init(&f, k->max_line);
  if (k->table) vg_framer_quote(&f, vg_tabular_format_of(k->table)->quote,
                                  vg_tabular_format_of(k->table)->delim);
  int rc = vg_framer_feed(&f, r->body, r->body_len, add_line, k);
  if (!rc) rc = vg_framer_finish(&f, add_line, k);
  vg_framer_free(&f);
  return rc;
}

/* The format a Content-Type names: 0, or -1 when it is not taken (why in
 * err). Parameters may follow; a charset must be UTF-8. */
static int body_format(const char *ctype, vg_format *fmt, int *json_doc, char *err, size_t cap) {
  char type[64];
  size_t n = strcspn(ctype, ";");
  while (n && isspace((unsigned char)ctype[n - 1]))
    n--;
  snprintf(type, sizeof type, "%.*s", (int)(n < sizeof type ? n : sizeof type - 1), ctype);
  *json_doc = 0;
  if (!strcasecmp(type, "application/json")) {
    *fmt = VG_FORMAT_JSON;
    *json_doc = 1;
  } else if (!strcasecmp(type, "application/x-ndjson") || !strcasecmp(type, "application/jsonl")) {
    *fmt = VG_FORMAT_JSON;
  } else if (!strcasecmp(type, "text/x-chronology")) {
    *fmt = VG_FORMAT_CHRONO;
  } else {
    snprintf(err, cap,
             "Content-Type '%.64s' is not taken: send application/json, application/x-ndjson,"
             " application/jsonl or text/x-chronology",
             ctype);
    return -1;
  }
  for (const char *p = strchr(ctype, ';'); p; p = strchr(p + 1, ';')) {
    const char *v = p + 1;
    while (isspace((unsigned char)*v))
      v++;
    if (strncasecmp(v, "charset=", 8) != 0) continue;
    v += 8;
    size_t vl = strcspn(v, "; \t");
    if (*v == '"') v++, vl = strcspn(v, "\"");
    if (!((vl == 5 && !strncasecmp(v, "utf-8", 5)) || (vl == 4 && !strncasecmp(v, "utf8", 4)) ||
          (vl == 8 && !strncasecmp(v, "us-ascii", 8)))) {
      snprintf(err, cap, "charset '%.*s' is not taken: send UTF-8", (int)(vl < 32 ? vl : 32), v);
      return -1;
    }
  }
  return 0;
}

/* Whether a table format's body may come with Content-Type ctype: text/csv,
 * text/tab-separated-values or text/plain, in UTF-8. 0, or -1 with why. */
static int table_type(const char *ctype, char *err, size_t cap) {
  static const char *const types[] = {"text/csv", "text/tab-separated-values", "text/plain"};
  size_t n = strcspn(ctype, "; \t");
  for (size_t i = 0; i < 3; i++)
    if (n == strlen(types[i]) && strncasecmp(ctype, types[i], n) == 0) {
      const char *cs = strcasestr(ctype, "charset=");
      if (cs && strncasecmp(cs + 8, "utf-8", 5) && strncasecmp(cs + 8, "\"utf-8\"", 7)) {
        snprintf(err, cap, "send the rows in UTF-8");
        return -1;
      }
      return 0;
    }
  snprintf(err, cap, "Content-Type '%.64s' is not taken with ?format=: send text/csv, "
           "text/tab-separated-values or text/plain", ctype);
  return -1;
}

/* Whether s is a name a source may have: 1 to 64 letters, digits and
 * - _ . : / @. */
static int source_ok(const char *s) {
  size_t n = strlen(s);
  if (!n || n > SOURCE_NAME_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && !strchr("-_.:/@", s[i])) return 0;
  return 1;
}

/* ---- answers ---- */

/* Answers p with what became of each of its lines, then frees it. */
static void answer(server *srv, post *p) {
  (void)srv;
  cJSON *o = cJSON_CreateObject(), *res = cJSON_AddArrayToObject(o, "results");
  uint64_t stored = 0, dups = 0, bad = 0, unstored = 0, corrected = 0;
  int failed = 0; /* the worst VG_E* of a line */
  char why[VG_REASON_MAX + 32];
  for (size_t i = 0; i < p->n; i++) {
    post_line *l = &p->v[i];
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "line", (double)(i + 1));
    switch (l->status) {
    case VG_STORED:
    case VG_DUPLICATE:
      cJSON_AddStringToObject(x, "status", l->status == VG_STORED ? "stored" : "duplicate");
      cJSON_AddNumberToObject(x, "id", (double)l->id);
      if (l->status == VG_STORED)
        stored++;
      else
        dups++;
      break;
    case VG_CORRECTION:
    case VG_RETRACTION:
      cJSON_AddStringToObject(x, "status",
                              l->status == VG_CORRECTION ? "corrected" : "retracted");
      cJSON_AddNumberToObject(x, "id", (double)l->id);
      corrected++;
      break;
    case VG_HEADER: cJSON_AddStringToObject(x, "status", "header"); break;
    case VG_REJECTED:
      cJSON_AddStringToObject(x, "status", "rejected");
      cJSON_AddStringToObject(x, "reason", l->reason ? l->reason : "rejected");
      bad++;
      break;
    default:
      if (l->reason)
        snprintf(why, sizeof why, "%s", l->reason);
      else
        snprintf(why, sizeof why, "not stored: %s",
                 vg_strerror(l->status ? l->status : VG_ESTOPPED));
      cJSON_AddStringToObject(x, "status", "not stored");
      cJSON_AddStringToObject(x, "reason", why);
      if (failed == 0 || l->status != VG_ESTOPPED) failed = l->status ? l->status : VG_ESTOPPED;
      unstored++;
    }
    cJSON_AddItemToArray(res, x);
  }
  cJSON_AddNumberToObject(o, "stored", (double)stored);
  cJSON_AddNumberToObject(o, "duplicates", (double)dups);
  cJSON_AddNumberToObject(o, "rejected", (double)bad);
  if (corrected) cJSON_AddNumberToObject(o, "corrected", (double)corrected);
  int status = 200;
  if (failed) {
    status = failed == VG_ESTOPPED ? 503 : 500;
    cJSON_AddNumberToObject(o, "not_stored", (double)unstored);
    char msg[256];
    if (failed == VG_ESTOPPED)
      snprintf(msg, sizeof msg,
               "the daemon is stopping: %llu lines were not stored; send them again",
               (unsigned long long)unstored);
    else
      snprintf(msg, sizeof msg, "%llu lines were not stored: %s", (unsigned long long)unstored,
               vg_strerror(failed));
    cJSON_AddStringToObject(o, "error", msg);
    cJSON_AddNumberToObject(o, "status", status);
  }
  if (vg_http_gone(p->req))
    vg_info("http %s: left before its answer; its %llu lines stored, %llu duplicates, %llu"
            " rejected all the same",
            p->req->peer, (unsigned long long)stored, (unsigned long long)dups,
            (unsigned long long)bad);
  vg_debug("http %s: body of %zu lines: %llu stored, %llu duplicates, %llu rejected, %llu not"
           " stored",
           p->req->peer, p->n, (unsigned long long)stored, (unsigned long long)dups,
           (unsigned long long)bad, (unsigned long long)unstored);
  vg_api_out out = {0};
  vg_api_out_json(&out, status, o);
  if (status == 503) snprintf(out.headers, sizeof out.headers, "Retry-After: 1\r\n");
  vg_http_reply(p->req, out.status, out.ctype, out.body, out.len,
                out.headers[0] ? out.headers : NULL);
  free(out.body);
  post_free(p);
}

/* Answers the bodies at the front of the queue whose lines are all done. */
static void answer_done(server *srv) {
  while (q.first && q.first->done == q.first->n) {
    post *p = q.first;
    q.first = p->later;
    if (!q.first) q.last = NULL;
    answer(srv, p);
  }
}

/* ---- the handler ---- */

void vg_api_entries_post(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  static const char *const names[] = {"source", "format", NULL};
  if (vg_api_unknown_params(r, names)) return;
  char source[SOURCE_NAME_MAX + 2] = HTTP_SOURCE;
  int has = vg_http_query(r->query, "source", source, sizeof source);
  if (has < 0 || (has && !source_ok(source))) {
    vg_api_error(r, 400, "parameter 'source': a source is 1 to %d letters, digits or - _ . : / @",
                 SOURCE_NAME_MAX);
    return;
  }
  if (!r->body_len) {
    vg_api_error(r, 400, "the body is empty: send one entry or more");
    return;
  }
  char err[256];
  vg_format fmt;
  int json_doc;
  char fname[64];
  int named = vg_http_query(r->query, "format", fname, sizeof fname);
  const vg_tabular_format *tf = named > 0 ? vg_tabular_find(fname) : NULL;
  if (named < 0 || (named && !tf)) {
    vg_api_error(r, 400, "parameter 'format': '%.60s' is no table format (acled, gdelt, or one "
                 "of the configuration's formats)", named < 0 ? "?" : fname);
    return;
  }
  if (tf) { /* a CSV or TSV body: its format names how to read it */
    if (table_type(r->content_type, err, sizeof err)) {
      vg_api_error(r, 415, "%s", err);
      return;
    }
    fmt = vg_tabular_fmt(tf);
    json_doc = 0;
  } else if (body_format(r->content_type, &fmt, &json_doc, err, sizeof err)) {
    vg_api_error(r, 415, "%s", err);
    return;
  }
  size_t waiting = srv->pending.n + q.waiting;
  if (srv->stopping || srv->throttled || waiting >= srv->cfg.max_pending) {
    vg_api_out out = {0};
    vg_api_out_error(&out, 503, "%s; nothing was stored: send it again",
                     srv->stopping ? "the daemon is stopping"
                                   : "too many lines are waiting to be stored");
    snprintf(out.headers, sizeof out.headers, "Retry-After: 1\r\n");
    vg_info("http %s: %s; a body was refused (503)", r->peer,
            srv->stopping ? "stopping" : "too many lines waiting");
    vg_http_reply(r, out.status, out.ctype, out.body, out.len, out.headers);
    free(out.body);
    return;
  }
  post *p = calloc(1, sizeof *p);
  if (!p) {
    vg_api_error(r, 500, "out of memory");
    return;
  }
  p->req = r;
  snprintf(p->source, sizeof p->source, "%s", source);
  snprintf(p->origin, sizeof p->origin, "http %s", r->peer);
  p->format = fmt;
  cutter k = {p, fmt, srv->cfg.max_line, srv->cfg.max_pending, tf ? vg_tabular_new(tf) : NULL};
  int rc = tf && !k.table ? VG_ENOMEM : json_doc ? cut_json(r, &k, err, sizeof err)
                                                 : cut_lines(r, &k);
  vg_tabular_free(k.table);
  if (rc == 0 && p->n == 0) {
    snprintf(err, sizeof err,
             json_doc ? "the array is empty: send one entry or more" : "the body holds no line");
    rc = VG_EPARSE;
  }
  if (rc) {
    post_free(p);
    if (rc == VG_EPARSE)
      vg_api_error(r, 400, "%s", err);
    else if (rc == TOO_MANY)
      vg_api_error(r, 413, "the body holds more than %zu lines (max_pending): send it in parts",
                   srv->cfg.max_pending);
    else
      vg_api_error(r, 500, "out of memory");
    return;
  }
  if (waiting + p->n > srv->cfg.max_pending) { /* it would go past the bound: all or nothing */
    post_free(p);
    vg_api_out out = {0};
    vg_api_out_error(&out, 503, "too many lines are waiting to be stored; nothing was stored:"
                                " send it again");
    snprintf(out.headers, sizeof out.headers, "Retry-After: 1\r\n");
    vg_info("http %s: too many lines waiting; a body was refused (503)", r->peer);
    vg_http_reply(r, out.status, out.ctype, out.body, out.len, out.headers);
    free(out.body);
    return;
  }
  vg_http_release_body(r); /* its lines are copied: the body is not held twice */
  p->since = uv_now(srv->loop);
  if (q.last)
    q.last->later = p;
  else
    q.first = p;
  q.last = p;
  q.waiting += p->n;
  vg_debug("http %s: a body of %zu lines waits to be stored", r->peer, p->n);
  vg_daemon_kick(srv);
}

/* ---- the source ---- */

/* The oldest body with lines not yet taken, or NULL. */
static post *oldest(void) {
  for (post *p = q.first; p; p = p->later)
    if (p->next < p->n) return p;
  return NULL;
}

int vg_source_http_first(server *srv, uint64_t since) {
  (void)srv;
  post *p = q.waiting ? oldest() : NULL;
  return p && p->since < since;
}

static int seg_push(segment_vec *s, segment g) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    segment *nv = realloc(s->v, cap * sizeof *nv);
    if (!nv) return -1;
    s->v = nv;
    s->cap = cap;
  }
  s->v[s->n++] = g;
  return 0;
}

static void on_timer(uv_timer_t *t) {
  server *srv = t->data;
  q.timer_started = 0;
  vg_daemon_kick(srv);
}

/* Stopping: the lines not yet taken are not stored; every body waiting is
 * answered now. */
static void answer_stopped(server *srv) {
  for (post *p = q.first; p; p = p->later) {
    for (size_t i = p->next; i < p->n; i++)
      p->v[i].status = VG_ESTOPPED;
    q.waiting -= p->n - p->next;
    p->next = p->done = p->n;
  }
  answer_done(srv);
}

static int take(server *srv) {
  if (!q.waiting) return SOURCE_NONE;
  if (srv->stopping) {
    answer_stopped(srv);
    return SOURCE_NONE;
  }
  post *p = oldest();
  uint64_t waited = uv_now(srv->loop) - p->since;
  if (q.waiting < srv->cfg.batch_max && waited < srv->cfg.batch_ms) {
    if (!q.timer_started) {
      q.timer_started = 1;
      uv_timer_start(&srv->http_timer, on_timer, srv->cfg.batch_ms - waited, 0);
    }
    return SOURCE_WAIT;
  }
  uv_timer_stop(&srv->http_timer);
  q.timer_started = 0;
  size_t room = srv->cfg.batch_max;
  q.job.n = 0;
  for (; p && room; p = p->later) {
    size_t k = p->n - p->next < room ? p->n - p->next : room;
    if (!k) continue;
    if (seg_push(&q.job, (segment){p, p->next, p->next + k})) break;
    p->next += k;
    q.waiting -= k;
    room -= k;
  }
  if (q.job.n) return SOURCE_TAKEN;
  q.timer_started = 1; /* out of memory: again soon */
  uv_timer_start(&srv->http_timer, on_timer, 100, 0);
  return SOURCE_WAIT;
}

static void work(server *srv) {
  vg_batch *t = &srv->txn;
  t->ig.rules = srv->rules;
  int rc = vg_batch_begin(t);
  /* A stop is honoured between two entries: those done are committed and
   * said stored, the rest are said not stored. */
  for (size_t s = 0; s < q.job.n; s++) {
    segment *g = &q.job.v[s];
    post *p = g->p;
    for (size_t i = g->from; i < g->to; i++) {
      post_line *l = &p->v[i];
      if (rc || vg_ingest_stopped(&t->ig)) {
        l->status = VG_ESTOPPED;
        continue;
      }
      vg_line line = {l->data,   l->len,    l->total,         i + 1,     l->flags,
                      p->format, p->source, srv->js.max_line, p->origin, NULL};
      vg_result res = {.status = l->header ? VG_HEADER : VG_REJECTED};
      if (!l->parsed) snprintf(res.reason, sizeof res.reason, "%s", l->reason);
      rc = vg_ingest_parsed(&t->ig, &line, l->parsed ? &l->e : NULL, &res, NULL);
      l->status = res.status;
      l->id = res.id;
      /* A parsed line refused by the store (a correction of an entry that
       * is retracted, say): its result says why, as a parse failure's does. */
      if (l->parsed && res.status == VG_REJECTED && !l->reason) l->reason = strdup(res.reason);
    }
  }
  if ((rc = vg_batch_end(t, rc, NULL, NULL))) {
    char why[VG_REASON_MAX];
    vg_batch_why(t, rc, why, sizeof why);
    vg_error("http: a batch of lines was not stored: %s", why + 12);
    for (size_t k = 0; k < q.job.n; k++)
      for (size_t j = q.job.v[k].from; j < q.job.v[k].to; j++) {
        post_line *l = &q.job.v[k].p->v[j];
        l->status = rc == VG_ENOMEM ? VG_ENOMEM : VG_EDB;
        free(l->reason);
        l->reason = strdup(why);
      }
  }
}

/* The job's lines are done: their bodies count them; answered in reply(). */
static void done(server *srv) {
  (void)srv;
  for (size_t k = 0; k < q.job.n; k++) {
    segment *g = &q.job.v[k];
    g->p->done += g->to - g->from;
    for (size_t j = g->from; j < g->to; j++) { /* the entries are no longer needed */
      post_line *l = &g->p->v[j];
      if (l->parsed) vg_entry_clear(&l->e);
      l->parsed = 0;
    }
  }
  segment_vec t = q.answering;
  q.answering = q.job;
  q.job = t;
  q.job.n = 0;
}

static void reply(server *srv) {
  q.answering.n = 0;
  answer_done(srv);
}

size_t vg_source_http_waiting(void) {
  return q.waiting;
}

void vg_source_http_free(void) {
  free(q.job.v);
  free(q.answering.v);
  q.job = q.answering = (segment_vec){0};
}

const vg_source vg_source_http = {
    .name = "http", .take = take, .work = work, .done = done, .reply = reply};
