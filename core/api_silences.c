/* api_silences.c — the HTTP API's silences (see api.h, silence.h):
 *   POST   /v1/silences        adds one: 201 with it and its Location
 *   GET    /v1/silences        the active ones (?all=1: every one), by id, paged
 *   GET    /v1/silences/{id}   one
 *   DELETE /v1/silences/{id}   expires it: 200 with it (also when it was no
 *                              longer active: nothing changes), 404 when absent
 * Reads are read jobs (vg_api_read). A write runs on a libuv worker through
 * a writable connection of its own, opened for it and closed after, with
 * the configured busy timeout: it is what `vigil silence` does from another
 * process, and SQLite serialises it with the daemon's job, which holds the
 * write lock only while its transaction lasts. That is simpler than a
 * daemon source and as correct: a silence touches no state the job keeps in
 * memory (the job reads the active silences anew in each transaction), and
 * a write never waits behind a long queue of ingest jobs. Writes are rare
 * (an operator's), so opening a connection for each costs nothing that
 * matters. */
#include "api.h"
#include "silence.h"
#include "vigil.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- write jobs ---- */

typedef vg_api_read_fn write_fn; /* the same shape: the store is writable */

typedef struct {
  uv_work_t work;
  vg_http_req *req;
  char *db;         /* the database's path, copied on the loop */
  int flags;        /* vg_store_open's */
  unsigned busy_ms; /* busy_timeout_ms */
  write_fn fn;
  void *ud;
  void (*ud_free)(void *); /* called on ud after the reply */
  vg_api_out out;
} write_job;

static void on_write_work(uv_work_t *w) {
  write_job *j = w->data;
  char err[512];
  vg_store *st = vg_store_open(j->db, j->flags, err, sizeof err);
  if (!st) {
    vg_error("silences: %s", err);
    vg_api_out_error(&j->out, 503, "the database cannot be written: %s", err);
    snprintf(j->out.headers, sizeof j->out.headers, "Retry-After: 1\r\n");
    return;
  }
  vg_store_busy_timeout(st, j->busy_ms);
  j->fn(st, j->ud, &j->out);
  vg_store_close(st);
}

static void on_write_done(uv_work_t *w, int status) {
  write_job *j = w->data;
  vg_api_out *o = &j->out;
  if (status == UV_ECANCELED) vg_api_out_error(o, 503, "the daemon is stopping");
  if (!o->status) vg_api_out_error(o, 500, "the request failed inside the server");
  vg_http_reply(j->req, o->status, o->ctype ? o->ctype : "application/json", o->body, o->len,
                o->headers[0] ? o->headers : NULL);
  free(o->body);
  free(j->db);
  j->ud_free(j->ud);
  free(j);
}

/* Runs fn(st, ud, out) on a worker through a writable connection, then
 * answers r with out; ud_free(ud) after. */
static void api_write(server *srv, vg_http_req *r, write_fn fn, void *ud, void (*ud_free)(void *)) {
  write_job *j = calloc(1, sizeof *j);
  char *db = strdup(srv->cfg.db);
  if (!j || !db) {
    free(j), free(db), ud_free(ud);
    vg_api_error(r, 500, "out of memory");
    return;
  }
  *j = (write_job){.req = r,
                   .db = db,
                   .busy_ms = srv->cfg.busy_timeout_ms,
                   .fn = fn,
                   .ud = ud,
                   .ud_free = ud_free};
  if (strcmp(srv->cfg.durability, "normal") == 0) j->flags |= VG_STORE_SYNC_NORMAL;
  j->work.data = j;
  if (uv_queue_work(srv->loop, &j->work, on_write_work, on_write_done) != 0) {
    free(j->db), ud_free(ud), free(j);
    vg_api_error(r, 500, "cannot start the write");
  }
}

/* A database error as an answer: 503 and Retry-After when another
 * connection held the lock past the busy timeout, else 500. */
static void db_failed(vg_store *st, vg_api_out *out) {
  const char *why = vg_store_errmsg(st);
  if (strstr(why, "locked") || strstr(why, "busy")) {
    vg_api_out_error(out, 503, "the database is busy: %s", why);
    snprintf(out->headers, sizeof out->headers, "Retry-After: 1\r\n");
  } else {
    vg_api_out_error(out, 500, "the database failed: %s", why);
  }
}

/* ---- one silence ---- */

/* What a silence's callback gathers. */
typedef struct {
  cJSON *o;
} one;

static int got_one(void *ud, const vg_silence_row *s) {
  one *x = ud;
  x->o = vg_silence_json(s);
  return x->o ? 0 : VG_ENOMEM;
}

/* Answers with silence id: status, or 404; Location when location. */
static void out_silence(vg_store *st, int64_t id, int status, int location, vg_api_out *out) {
  one x = {0};
  int rc = vg_store_silence(st, id, got_one, &x);
  if (rc == 0) {
    vg_api_out_error(out, 404, "no silence %lld", (long long)id);
  } else if (rc < 0) {
    cJSON_Delete(x.o);
    if (rc == VG_EDB)
      db_failed(st, out);
    else
      vg_api_out_error(out, 500, "%s", vg_strerror(rc));
  } else {
    vg_api_out_json(out, status, x.o);
    if (location) {
      char path[64], url[600];
      snprintf(path, sizeof path, "/v1/silences/%lld", (long long)id);
      size_t n = vg_api_url(NULL, path, url, sizeof url);
      /* The full link when it fits the headers, else the path alone. */
      snprintf(out->headers, sizeof out->headers, "Location: %.240s\r\n", n < 240 ? url : path);
    }
  }
}

static void read_one(vg_store *st, void *ud, vg_api_out *out) {
  out_silence(st, *(int64_t *)ud, 200, 0, out);
}

/* Runs fn on silence {id} of the path: a read, or a write. */
static void on_id(server *srv, vg_http_req *r, const char *arg, vg_api_read_fn fn, int write) {
  static const char *const names[] = {NULL};
  if (vg_api_unknown_params(r, names)) return;
  int64_t id, *ud;
  if (vg_api_path_id(r, arg, "silence", &id)) return;
  if (!(ud = malloc(sizeof *ud))) {
    vg_api_error(r, 500, "out of memory");
    return;
  }
  *ud = id;
  if (write) api_write(srv, r, fn, ud, free);
  else vg_api_read(srv, r, fn, ud, free);
}

void vg_api_silence_get(server *srv, vg_http_req *r, char *const *args) {
  on_id(srv, r, args[0], read_one, 0);
}

static void expire_one(vg_store *st, void *ud, vg_api_out *out) {
  int64_t id = *(int64_t *)ud;
  int rc = vg_store_silence_expire(st, id);
  if (rc < 0) {
    db_failed(st, out);
    return;
  }
  if (rc == 1) vg_info("silence %lld expired through the HTTP API", (long long)id);
  /* Expired now, or no longer active before: either way it is expired,
   * which a DELETE asked for (a retry after a lost reply is no error). */
  out_silence(st, id, 200, 0, out);
}

void vg_api_silence_delete(server *srv, vg_http_req *r, char *const *args) {
  on_id(srv, r, args[0], expire_one, 1);
}

/* ---- the list ---- */

typedef struct {
  int all;
  int64_t after;
  long limit;
  cJSON *list;
  long n;
  int64_t last; /* the id of the last one listed */
  int more;     /* one more than limit was found */
} page;

static int got_page(void *ud, const vg_silence_row *s) {
  page *p = ud;
  if (p->n == p->limit) {
    p->more = 1;
    return 1;
  }
  cJSON *o = vg_silence_json(s);
  if (!o || !cJSON_AddItemToArray(p->list, o)) {
    cJSON_Delete(o);
    return VG_ENOMEM;
  }
  p->n++;
  p->last = s->id;
  return 0;
}

static void read_page(vg_store *st, void *ud, vg_api_out *out) {
  page *p = ud;
  cJSON *o = cJSON_CreateObject();
  p->list = o ? cJSON_AddArrayToObject(o, "silences") : NULL;
  if (!p->list) {
    cJSON_Delete(o);
    vg_api_out_error(out, 500, "out of memory");
    return;
  }
  int rc = vg_store_silences(st, p->all, p->after, p->limit + 1, got_page, p);
  if (rc < 0) {
    cJSON_Delete(o);
    if (rc == VG_EDB)
      db_failed(st, out);
    else
      vg_api_out_error(out, 500, "%s", vg_strerror(rc));
    return;
  }
  char next[32];
  snprintf(next, sizeof next, "%lld", (long long)p->last);
  if (p->more)
    cJSON_AddStringToObject(o, "next", next);
  else
    cJSON_AddNullToObject(o, "next");
  vg_api_out_json(out, 200, o);
}

void vg_api_silences_list(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  static const char *const names[] = {"all", "limit", "cursor", NULL};
  if (vg_api_unknown_params(r, names)) return;
  int all = 0;
  long limit;
  long long after = 0;
  if (vg_api_param_bool(r, "all", &all) < 0 || vg_api_param_limit(r, &limit) < 0 ||
      vg_api_param_number(r, "cursor", 0, INT64_MAX, &after) < 0)
    return;
  page *p = calloc(1, sizeof *p);
  if (!p) {
    vg_api_error(r, 500, "out of memory");
    return;
  }
  p->all = all;
  p->after = after;
  p->limit = limit;
  vg_api_read(srv, r, read_page, p, free);
}

/* ---- adding one ---- */

typedef struct {
  char *rule, *key, *author, *reason;
  char until[VG_SILENCE_TIME_MAX];
} adding;

static void adding_free(adding *a) {
  if (!a) return;
  free(a->rule), free(a->key), free(a->author), free(a->reason);
  free(a);
}

static void adding_free_ud(void *ud) { adding_free(ud); }

static void add_one(vg_store *st, void *ud, vg_api_out *out) {
  adding *a = ud;
  vg_silence_in in = {a->rule, a->key, a->until, a->author, a->reason};
  int64_t id;
  int rc = vg_store_silence_add(st, &in, &id);
  if (rc == VG_EINVAL) {
    vg_api_out_error(out, 422, "until: %s is not in the future", a->until);
  } else if (rc < 0) {
    db_failed(st, out);
  } else {
    vg_info("silence %lld added through the HTTP API by %s: rule %s, %s%s, until %s: %s",
            (long long)id, a->author, a->rule, a->key ? "key " : "any key", a->key ? a->key : "",
            a->until, a->reason);
    out_silence(st, id, 201, 1, out);
  }
}

/* Member name of o as a string: 1 with it in *v, 0 when absent (or null
 * when may_null), -1 after answering 400 naming it. Empty strings are
 * refused: each of these must say something. */
/* Bytes a silence's rule, key, author or reason may have. */
#define SILENCE_TEXT_MAX 4096

static int member_string(vg_http_req *r, const cJSON *o, const char *name, int may_null,
                         const char **v) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
  *v = NULL;
  if (!m || (may_null && cJSON_IsNull(m))) return 0;
  if (!cJSON_IsString(m)) {
    vg_api_error(r, 400, "'%s' must be a string", name);
    return -1;
  }
  if (!m->valuestring[0]) {
    vg_api_error(r, 400, "'%s' is empty%s", name,
                 strcmp(name, "key") == 0 ? ": leave it out (or null) to silence every key" : "");
    return -1;
  }
  if (strlen(m->valuestring) > SILENCE_TEXT_MAX) {
    vg_api_error(r, 400, "'%s' is longer than %d bytes", name, SILENCE_TEXT_MAX);
    return -1;
  }
  *v = m->valuestring;
  return 1;
}

void vg_api_silences_post(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  static const char *const names[] = {NULL};
  if (vg_api_unknown_params(r, names)) return;
  const char *end = NULL;
  /* The whole body is the document (its NUL after it): nothing may trail it.
   * A NUL escaped in a string would cut it short where cJSON keeps it. */
  if (memmem(r->body, r->body_len, "\\u0000", 6)) {
    vg_api_error(r, 400, "the body holds a NUL character (\\u0000), which no field may");
    return;
  }
  cJSON *o = memchr(r->body, '\0', r->body_len)
                 ? NULL
                 : cJSON_ParseWithLengthOpts(r->body, r->body_len + 1, &end, 1);
  if (!o) {
    size_t at = end && end >= r->body ? (size_t)(end - r->body) : 0;
    vg_api_error(r, 400,
                 "the body is not JSON (at byte %zu): send an object such as"
                 " {\"rule\": ..., \"until\": ..., \"author\": ..., \"reason\": ...}",
                 at);
    return;
  }
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    vg_api_error(r, 400, "the body must be a JSON object");
    return;
  }
  static const char *const known[] = {"rule", "key", "until", "for", "author", "reason"};
  const cJSON *m;
  cJSON_ArrayForEach(m, o) {
    size_t i = 0;
    while (i < sizeof known / sizeof *known && strcmp(m->string, known[i]) != 0)
      i++;
    if (i == sizeof known / sizeof *known) {
      vg_api_error(r, 400,
                   "unknown member '%s' (a silence takes: rule, key, until or for,"
                   " author, reason)",
                   m->string);
      cJSON_Delete(o);
      return;
    }
  }
  const char *rule, *key, *until, *dur, *author, *reason;
  int rc;
  if ((rc = member_string(r, o, "rule", 0, &rule)) < 0 ||
      (rc = member_string(r, o, "key", 1, &key)) < 0 ||
      (rc = member_string(r, o, "until", 0, &until)) < 0 ||
      (rc = member_string(r, o, "for", 0, &dur)) < 0 ||
      (rc = member_string(r, o, "author", 0, &author)) < 0 ||
      (rc = member_string(r, o, "reason", 0, &reason)) < 0) {
    cJSON_Delete(o);
    return;
  }
  const char *missing = !rule            ? "rule"
                        : !author        ? "author"
                        : !reason        ? "reason"
                        : !until && !dur ? "until (or for)"
                                         : NULL;
  if (missing || (until && dur)) {
    cJSON_Delete(o);
    if (missing)
      vg_api_error(r, 400, "'%s' is required", missing);
    else
      vg_api_error(r, 400, "give 'until' or 'for', not both");
    return;
  }
  adding *a = calloc(1, sizeof *a);
  char err[512];
  if (!a) {
    cJSON_Delete(o);
    vg_api_error(r, 500, "out of memory");
    return;
  }
  int bad = vg_silence_until(until, dur, time(NULL), a->until, err, sizeof err);
  if (bad) {
    cJSON_Delete(o);
    adding_free(a);
    /* A time that cannot be read is a bad parameter; one past, or too far
     * ahead, a request that cannot be done. */
    vg_api_error(r, bad == -2 ? 422 : 400, "%s", err);
    return;
  }
  a->rule = strdup(rule);
  a->key = key ? strdup(key) : NULL;
  a->author = strdup(author);
  a->reason = strdup(reason);
  cJSON_Delete(o);
  if (!a->rule || (key && !a->key) || !a->author || !a->reason) {
    adding_free(a);
    vg_api_error(r, 500, "out of memory");
    return;
  }
  api_write(srv, r, add_one, a, adding_free_ud);
}
