/* api.c — the HTTP API's routes and what they share (see api.h): JSON
 * replies and errors, read jobs on read-only connections, /healthz,
 * /readyz, and alerts' links. Each group of endpoints lives in a file of
 * its own and adds its rows to the table below. */
#include "api.h"
#include "cli.h"
#include "date.h"
#include "entry.h"
#include "entry.h"
#include "vigil.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read jobs running at once. The daemon sets libuv's pool to
 * VG_API_THREADS threads (server.c), so that beside them the daemon's own
 * job, silences' writes and digests always find a thread: reads never hold
 * up what is written. */
#define READERS 3
#define READS_WAITING_MAX 256 /* read jobs queued behind them; more are answered 503 */

/* The API's own state, beside the server's. */
typedef struct {
  vg_http *http;
  uv_mutex_t lock;          /* guards the readers */
  vg_store *readers[READERS]; /* open read-only connections, NULL when not opened */
  int busy[READERS];        /* in use by a job */
  char base[512];           /* the links' base URL, without a trailing '/' */
  char db[4096];             /* the database's path, copied at start (a reload frees cfg's) */
  unsigned busy_ms;         /* its busy timeout */
  size_t running;           /* read jobs on a worker */
  struct read_job *waiting, *waiting_tail; /* read jobs queued, oldest first */
  size_t nwaiting;
} api_state;

static api_state state;

/* ---- replies ---- */

void vg_api_out_json(vg_api_out *out, int status, cJSON *o) {
  out->status = status;
  out->body = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!out->body) {
    out->status = 500;
    out->body = strdup("{\"error\":\"out of memory\",\"status\":500}");
  }
  out->len = out->body ? strlen(out->body) : 0;
  if (out->body) { /* a newline after the document, for the shell */
    char *b = realloc(out->body, out->len + 2);
    if (b) {
      b[out->len++] = '\n';
      b[out->len] = '\0';
      out->body = b;
    }
  }
  out->ctype = "application/json";
}

static void out_verror(vg_api_out *out, int status, const char *fmt, va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  /* A message quotes what came (a path, a parameter): a byte that is not
   * UTF-8 becomes '?', so that the reply stays JSON a strict reader takes. */
  for (size_t i = 0, n = strlen(msg); i < n;) {
    size_t c = vg_utf8_char(msg + i, n - i);
    if (!c) msg[i] = '?';
    i += c ? c : 1;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "error", msg);
  cJSON_AddNumberToObject(o, "status", status);
  vg_api_out_json(out, status, o);
}

void vg_api_out_error(vg_api_out *out, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  out_verror(out, status, fmt, ap);
  va_end(ap);
}

static void send_out(vg_http_req *r, vg_api_out *out) {
  if (!out->status) vg_api_out_error(out, 500, "the request failed inside the server");
  vg_http_reply(r, out->status, out->ctype ? out->ctype : "application/json", out->body,
                out->len, out->headers[0] ? out->headers : NULL);
  free(out->body);
  out->body = NULL;
}

void vg_api_json(vg_http_req *r, int status, cJSON *o) {
  vg_api_out out = {0};
  vg_api_out_json(&out, status, o);
  send_out(r, &out);
}

void vg_api_error(vg_http_req *r, int status, const char *fmt, ...) {
  vg_api_out out = {0};
  va_list ap;
  va_start(ap, fmt);
  out_verror(&out, status, fmt, ap);
  va_end(ap);
  send_out(r, &out);
}

int vg_api_unknown_params(vg_http_req *r, const char *const *names) {
  char bad[128];
  if (!vg_http_query_unknown(r->query, names, bad, sizeof bad)) return 0;
  char known[512] = "";
  for (size_t i = 0; names[i]; i++)
    snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
             names[i]);
  vg_api_error(r, 400, "unknown parameter '%s' (this endpoint takes: %s)", bad,
               known[0] ? known : "none");
  return 1;
}

/* ---- query parameters ---- */

int vg_api_param(vg_http_req *r, const char *name, char *out, size_t cap) {
  int got = vg_http_query(r->query, name, out, cap);
  if (got < 0) {
    vg_api_error(r, 400, "parameter '%s' is badly encoded or longer than %zu bytes", name, cap - 1);
    return -1;
  }
  if (!got) return 0;
  if (!out[0]) {
    vg_api_error(r, 400, "parameter '%s' is empty", name);
    return -1;
  }
  size_t n = strlen(out);
  int bad = vg_utf8_check(out, n) >= 0;
  for (size_t i = 0; !bad && i < n; i++)
    bad = (unsigned char)out[i] < 0x20 || out[i] == 0x7f;
  if (bad) {
    vg_api_error(r, 400, "parameter '%s' holds a control character or a byte that is not UTF-8",
                 name);
    return -1;
  }
  return 1;
}

int vg_api_param_day(vg_http_req *r, const char *name, int last, int32_t *day) {
  char v[128], why[128];
  int got = vg_api_param(r, name, v, sizeof v);
  if (got <= 0) return got;
  vg_date d;
  if (vg_date_parse(v, strlen(v), &d, why, sizeof why)) {
    vg_api_error(r, 400, "parameter '%s': '%s' is no date: %s", name, v, why);
    return -1;
  }
  *day = last ? d.last : d.first;
  return 1;
}

/* Reads a whole number of digits alone (no sign, no space) into *v. */
static int whole_number(const char *s, long long *v) {
  if (*s < '0' || *s > '9') return -1;
  char *end;
  errno = 0;
  long long n = strtoll(s, &end, 10);
  if (errno || *end) return -1;
  *v = n;
  return 0;
}

int vg_api_param_number(vg_http_req *r, const char *name, long long lo, long long hi,
                        long long *v) {
  char buf[32];
  int got = vg_http_query(r->query, name, buf, sizeof buf);
  if (got == 0) return 0;
  long long n;
  if (got < 0 || whole_number(buf, &n) || n < lo || n > hi) {
    vg_api_error(r, 400, "parameter '%s' must be a whole number from %lld to %lld", name, lo, hi);
    return -1;
  }
  *v = n;
  return 1;
}

int vg_api_param_limit(vg_http_req *r, long *limit) {
  long long n = VG_API_LIMIT_DEFAULT;
  int got = vg_api_param_number(r, "limit", 1, VG_API_LIMIT_MAX, &n);
  *limit = (long)n;
  return got;
}

int vg_api_param_bool(vg_http_req *r, const char *name, int *v) {
  char buf[8];
  int got = vg_http_query(r->query, name, buf, sizeof buf);
  if (got == 0) return 0;
  if (got > 0 && (!buf[0] || strcmp(buf, "1") == 0 || strcmp(buf, "true") == 0)) *v = 1;
  else if (got > 0 && (strcmp(buf, "0") == 0 || strcmp(buf, "false") == 0)) *v = 0;
  else {
    vg_api_error(r, 400, "parameter '%s' must be true or false (1 or 0)", name);
    return -1;
  }
  return 1;
}

void vg_api_cursor(char *out, size_t cap, int32_t day, int64_t id) {
  snprintf(out, cap, "%" PRId32 ".%" PRId64, day, id);
}

int vg_api_param_cursor(vg_http_req *r, int32_t *day, int64_t *id) {
  char v[64];
  int got = vg_api_param(r, "cursor", v, sizeof v);
  if (got <= 0) return got;
  char *dot = strchr(v, '.');
  long long d, i;
  const char *ds = v[0] == '-' ? v + 1 : v;
  if (dot) *dot = '\0';
  if (!dot || whole_number(ds, &d) || whole_number(dot + 1, &i) || d > INT32_MAX || i < 1) {
    if (dot) *dot = '.';
    vg_api_error(r, 400,
                 "parameter 'cursor': '%.64s' is not a cursor (give the 'next' of the page"
                 " before)",
                 v);
    return -1;
  }
  *day = (int32_t)(ds == v ? d : -d);
  *id = i;
  return 1;
}

int vg_api_path_id(vg_http_req *r, const char *arg, const char *what, int64_t *id) {
  long long n;
  if (whole_number(arg, &n) || n < 1) {
    char shown[64];
    vg_escape_line(shown, sizeof shown, arg, strlen(arg));
    vg_api_error(r, 400, "'%s' is no %s id: give a whole number from 1", shown, what);
    return -1;
  }
  *id = n;
  return 0;
}

/* ---- read jobs ---- */

/* A read job: a request's (answered with out) or a plain one (done told
 * whether fn ran). Jobs beyond READERS wait in a queue, oldest first. */
typedef struct read_job {
  uv_work_t work;
  server *srv;
  vg_http_req *req;       /* NULL for a plain job */
  vg_api_read_fn fn;      /* a request's */
  vg_api_out out;
  void (*plain)(vg_store *, void *); /* a plain job's */
  void (*done)(void *, int);
  int ran;
  void *ud;
  void (*ud_free)(void *);
  struct read_job *next; /* in the queue */
} read_job;

/* A read-only connection for a worker; NULL when none can be opened. At
 * most READERS jobs run, so one is always free. */
static vg_store *reader_take(int *slot, char *err, size_t cap) {
  uv_mutex_lock(&state.lock);
  int i = 0;
  while (i < READERS && state.busy[i]) i++;
  assert(i < READERS);
  state.busy[i] = 1;
  vg_store *st = state.readers[i];
  uv_mutex_unlock(&state.lock);
  if (!st) {
    st = vg_store_open(state.db, VG_STORE_READONLY, err, cap);
    if (st) vg_store_busy_timeout(st, state.busy_ms);
    uv_mutex_lock(&state.lock);
    state.readers[i] = st;
    if (!st) state.busy[i] = 0;
    uv_mutex_unlock(&state.lock);
  }
  *slot = i;
  return st;
}

static void reader_give(int slot) {
  uv_mutex_lock(&state.lock);
  state.busy[slot] = 0;
  uv_mutex_unlock(&state.lock);
}

static void on_read_work(uv_work_t *w) {
  read_job *j = w->data;
  char err[512];
  int slot;
  vg_store *st = reader_take(&slot, err, sizeof err);
  if (!st) {
    if (j->req) {
      vg_api_out_error(&j->out, 503, "the database cannot be read: %s", err);
      snprintf(j->out.headers, sizeof j->out.headers, "Retry-After: 1\r\n");
    } else {
      vg_warn("http: the database cannot be read: %s", err);
    }
    return;
  }
  if (j->req) j->fn(st, j->ud, &j->out);
  else j->plain(st, j->ud);
  j->ran = 1;
  reader_give(slot);
}

static void start_read(read_job *j);

static void on_read_done(uv_work_t *w, int status) {
  read_job *j = w->data;
  state.running--;
  if (j->req) {
    if (status == UV_ECANCELED) vg_api_out_error(&j->out, 503, "the daemon is stopping");
    send_out(j->req, &j->out);
    if (j->ud_free) j->ud_free(j->ud);
  } else {
    j->done(j->ud, status == 0 && j->ran);
  }
  free(j);
  read_job *next = state.waiting;
  if (next && state.running < READERS) {
    state.waiting = next->next;
    if (!state.waiting) state.waiting_tail = NULL;
    state.nwaiting--;
    start_read(next);
  }
}

static void start_read(read_job *j) {
  j->work.data = j;
  if (uv_queue_work(j->srv->loop, &j->work, on_read_work, on_read_done) != 0) {
    if (j->req) {
      vg_api_error(j->req, 500, "cannot start the read");
      if (j->ud_free) j->ud_free(j->ud);
    } else {
      j->done(j->ud, 0);
    }
    free(j);
    return;
  }
  state.running++;
}

/* Runs j now, or queues it behind the reads running. */
static void enqueue(read_job *j) {
  if (state.running < READERS) {
    start_read(j);
    return;
  }
  if (state.waiting_tail) state.waiting_tail->next = j;
  else state.waiting = j;
  state.waiting_tail = j;
  state.nwaiting++;
}

void vg_api_read(server *srv, vg_http_req *r, vg_api_read_fn fn, void *ud,
                 void (*ud_free)(void *)) {
  read_job *j = calloc(1, sizeof *j);
  if (!j) {
    if (ud_free) ud_free(ud);
    vg_api_error(r, 500, "out of memory");
    return;
  }
  *j = (read_job){.srv = srv, .req = r, .fn = fn, .ud = ud, .ud_free = ud_free};
  if (state.running >= READERS && state.nwaiting >= READS_WAITING_MAX) {
    vg_api_out out = {0};
    vg_api_out_error(&out, 503, "too many reads waiting; try again");
    snprintf(out.headers, sizeof out.headers, "Retry-After: 1\r\n");
    send_out(r, &out);
    if (ud_free) ud_free(ud);
    free(j);
    return;
  }
  enqueue(j);
}

int vg_api_work(server *srv, void (*fn)(vg_store *, void *), void (*done)(void *, int),
                void *ud) {
  read_job *j = calloc(1, sizeof *j);
  if (!j) return -1;
  *j = (read_job){.srv = srv, .plain = fn, .done = done, .ud = ud};
  enqueue(j);
  return 0;
}

size_t vg_api_url(const server *srv, const char *path, char *out, size_t cap) {
  (void)srv;
  int n = snprintf(out, cap, "%s%s", state.base, path);
  return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

cJSON *vg_api_alert_json(const vg_alert_row *a) {
  cJSON *o = vg_cli_alert_json(a);
  char path[64], url[sizeof state.base + 64];
  snprintf(path, sizeof path, "/v1/alerts/%lld", (long long)a->id);
  vg_api_url(NULL, path, url, sizeof url);
  if (o && !cJSON_AddStringToObject(o, "url", url)) {
    cJSON_Delete(o);
    return NULL;
  }
  snprintf(path, sizeof path, "/#alert/%lld", (long long)a->id);
  vg_api_url(NULL, path, url, sizeof url);
  if (o && !cJSON_AddStringToObject(o, "dashboard_url", url)) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* ---- health ---- */

static void healthz(server *srv, vg_http_req *r, char *const *args) {
  (void)srv, (void)args;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "status", "ok");
  vg_api_json(r, 200, o);
}

/* Ready: not stopping, rules loaded, the database's file and directory
 * writable. */
static void readyz(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  cJSON *o = cJSON_CreateObject(), *why = cJSON_AddArrayToObject(o, "problems");
  if (srv->stopping) cJSON_AddItemToArray(why, cJSON_CreateString("the daemon is stopping"));
  size_t nrules; /* as listed on the loop: srv->rules belongs to the running job */
  if (!vg_api_rules_count(&nrules))
    cJSON_AddItemToArray(why, cJSON_CreateString("no rules are loaded"));
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", srv->cfg.db);
  char *slash = strrchr(dir, '/');
  if (slash) *(slash == dir ? slash + 1 : slash) = '\0';
  else snprintf(dir, sizeof dir, ".");
  if (access(srv->cfg.db, W_OK) != 0 || access(dir, W_OK) != 0)
    cJSON_AddItemToArray(why, cJSON_CreateString("the database is not writable"));
  int ready = cJSON_GetArraySize(why) == 0;
  cJSON_AddStringToObject(o, "status", ready ? "ready" : "not ready");
  cJSON_AddNumberToObject(o, "rules", (double)nrules);
  vg_api_json(r, ready ? 200 : 503, o);
}

/* ---- routes ---- */

typedef struct {
  const char *method;  /* GET also answers HEAD */
  const char *pattern; /* segments; "*" captures one */
  vg_api_fn fn;
} route;

static const route routes[] = {
    {"GET", "/", vg_api_dashboard},
    {"GET", "/healthz", healthz},
    {"GET", "/readyz", readyz},
    {"POST", "/v1/silences", vg_api_silences_post},
    {"GET", "/v1/silences", vg_api_silences_list},
    {"GET", "/v1/silences/*", vg_api_silence_get},
    {"DELETE", "/v1/silences/*", vg_api_silence_delete},
    /* alerts: after any /v1/alerts/NAME of its own (the stream), which "*" would take */
    {"GET", "/v1/alerts/stream", vg_api_stream}, /* api_stream.c */
    {"GET", "/v1/alerts", vg_api_alerts},
    {"GET", "/v1/alerts/*", vg_api_alert},
    {"GET", "/v1/alerts/*/explain", vg_api_alert_explain}, /* api_explain.c */
    {"GET", "/v1/feeds", vg_api_feeds},
    {"GET", "/v1/digests", vg_api_digests},
    {"GET", "/v1/digests/*/*", vg_api_digest_file},
    {"GET", "/metrics", vg_api_metrics},
    {"GET", "/v1/rules", vg_api_rules_list},
    {"POST", "/v1/rules/reload", vg_api_rules_reload},
    {"GET", "/v1/entries", vg_api_entries_list},
    {"POST", "/v1/entries", vg_api_entries_post},
    {"GET", "/v1/entries/*", vg_api_entry_get},
    {"GET", "/v1/entries/*/explain", vg_api_entry_explain},
};

/* Whether path matches pattern, capturing the "*" segments into args. */
static int match(const char *pattern, const char *path, char **args, size_t *nargs) {
  *nargs = 0;
  while (*pattern && *path) {
    if (*pattern != '/' || *path != '/') return 0;
    pattern++, path++;
    size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
    if (pl == 1 && *pattern == '*') {
      if (!sl || *nargs == VG_API_ARGS) return 0;
      args[(*nargs)++] = strndup(path, sl);
    } else if (pl != sl || memcmp(pattern, path, pl) != 0) {
      return 0;
    }
    pattern += pl;
    path += sl;
  }
  return !*pattern && !*path;
}

static void free_args(char **args, size_t n) {
  for (size_t i = 0; i < n; i++) free(args[i]);
}

static void handle(vg_http_req *r, void *ud) {
  server *srv = ud;
  char *args[VG_API_ARGS + 1] = {0};
  size_t nargs = 0;
  int path_known = 0;
  char allow[128] = "";
  for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
    const route *rt = &routes[i];
    if (!match(rt->pattern, r->path, args, &nargs)) {
      free_args(args, nargs);
      continue;
    }
    path_known = 1;
    int same = strcmp(rt->method, r->method) == 0 ||
               (r->head && strcmp(rt->method, "GET") == 0);
    if (!same) {
      if (!strstr(allow, rt->method))
        snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", allow[0] ? ", " : "",
                 rt->method);
      free_args(args, nargs);
      continue;
    }
    args[nargs] = NULL;
    rt->fn(srv, r, args);
    free_args(args, nargs);
    return;
  }
  if (path_known) {
    char h[160];
    snprintf(h, sizeof h, "Allow: %s\r\n", allow);
    vg_api_out out = {0};
    vg_api_out_error(&out, 405, "%s is not allowed here (allowed: %s)", r->method, allow);
    snprintf(out.headers, sizeof out.headers, "%s", h);
    send_out(r, &out);
    return;
  }
  vg_api_error(r, 404, "no such endpoint: %s", r->path);
}

/* ---- start and stop ---- */

int vg_api_start(server *srv) {
  if (!srv->cfg.http_listen[0]) return 0;
  uv_mutex_init(&state.lock);
  snprintf(state.db, sizeof state.db, "%s", srv->cfg.db);
  state.busy_ms = srv->cfg.busy_timeout_ms;
  char token[VG_TOKEN_MAX + 1], err[512];
  const char *warn;
  int n = vg_config_http_token(&srv->cfg, token, &warn, err, sizeof err);
  if (n < 0) {
    vg_error("%s", err);
    return -1;
  }
  if (warn) vg_warn("http_token_file %s: %s", srv->cfg.http_token_file, warn);
  vg_http_conf c = {
      .listen = srv->cfg.http_listen,
      .token = token,
      .hosts = srv->cfg.http_hosts,
      .origins = srv->cfg.http_origins,
      .max_body = srv->cfg.http_max_body,
      .max_conns = srv->cfg.http_max_connections,
      .request_timeout_ms = srv->cfg.http_timeout_ms,
      .idle_timeout_ms = srv->cfg.http_timeout_ms,
  };
  state.http = vg_http_start(srv->loop, &c, handle, srv, err, sizeof err);
  memset(token, 0, sizeof token);
  int dflt = !srv->flags.http_listen &&
             srv->cfg.origin[vg_config_find("http_listen")] == VG_ORIGIN_DEFAULT;
  if (!state.http) {
    if (dflt && strstr(err, "cannot listen")) {
      vg_warn("%s; going on without the HTTP API (set http_listen to another port, or '' for"
              " none)", err);
      vg_sinks_links(srv->sinks, ""); /* a link to the port would reach whoever holds it */
      return 0;
    }
    vg_error("%s", err);
    return -1;
  }
  if (!vg_http_loopback(state.http) && n == 0) {
    vg_error("http_listen '%s' is not loopback: set http_token_file, or anyone who can reach the"
             " port can write to the daemon", srv->cfg.http_listen);
    vg_http_stop(state.http);
    state.http = NULL;
    return -1;
  }
  srv->http = state.http;
  vg_config_link_base(&srv->cfg, state.base, sizeof state.base);
  vg_api_stream_start(srv);
  if (n)
    vg_info("listening on http://%s/ (the API under /v1, metrics at /metrics); writes bear the"
            " token", srv->cfg.http_listen);
  else
    vg_warn("listening on http://%s/ (the API under /v1, metrics at /metrics) without a token:"
            " any local user can write through it (set http_token_file to require one)",
            srv->cfg.http_listen);
  return 0;
}

void vg_api_reload(server *srv) {
  if (!state.http) return;
  char token[VG_TOKEN_MAX + 1], err[512];
  const char *warn;
  int n = vg_config_http_token(&srv->cfg, token, &warn, err, sizeof err);
  if (n < 0 || (n == 0 && !vg_http_loopback(state.http))) {
    if (n < 0) vg_error("reload: %s; the HTTP token in force stays", err);
    else vg_error("reload: an HTTP listener off loopback needs a token; the token in force stays");
    return;
  }
  if (warn) vg_warn("http_token_file %s: %s", srv->cfg.http_token_file, warn);
  vg_http_set_token(state.http, token);
  memset(token, 0, sizeof token);
}

void vg_api_stop(server *srv) {
  vg_api_stream_stop(srv);
  vg_api_rules_stop(srv);
  vg_http_stop(state.http);
  state.http = NULL;
  srv->http = NULL;
}

void vg_api_free(server *srv) {
  (void)srv;
  if (!srv->cfg.http_listen[0]) return;
  for (size_t i = 0; i < READERS; i++) {
    vg_store_close(state.readers[i]);
    state.readers[i] = NULL;
  }
  uv_mutex_destroy(&state.lock);
}
