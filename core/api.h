/* api.h — vigil's HTTP API on the daemon's HTTP server (http.h); private to
 * the daemon's files:
 *   api.c          the routes, JSON replies and errors, read jobs, /healthz
 *                  and /readyz, alerts' links
 *   api_silences.c /v1/silences
 *   api_stream.c   GET /v1/alerts/stream: alert changes as Server-Sent Events
 *   api_metrics.c  GET /metrics (metrics.h)
 *   api_rules.c    GET /v1/rules, POST /v1/rules/reload
 *   api_entries.c  GET /v1/entries and /v1/entries/{id}
 *   source_http.c  POST /v1/entries (a source of the daemon: daemon.h)
 *   api_dashboard.c GET /, the dashboard's page
 *   api_explain.c  GET /v1/alerts/{id}/explain, /v1/entries/{id}/explain
 * Handlers run on the loop. What reads the store runs as a read job
 * (vg_api_read): on a libuv worker thread, through a read-only connection
 * of its own, beside the daemon's writing job (the store is in WAL mode),
 * and its reply is sent from the loop. Entries are written through the
 * daemon's sources, as lines from clients are; silences through a
 * connection of their own on a worker (api_silences.c). */
#ifndef VIGIL_API_H
#define VIGIL_API_H

#include "daemon.h"
#include "http.h"
#include "store.h"

#include <cjson/cJSON.h>

#define VG_API_ARGS 4 /* captured path segments ({id}, ...) at most */
/* The threads of libuv's pool the daemon asks for (UV_THREADPOOL_SIZE,
 * unless the environment sets it): three for reads, the rest for the
 * daemon's job, silences' writes, digests and file work. */
#define VG_API_THREADS "6"

/* What a read job gives back. */
typedef struct {
  int status;        /* the HTTP status; 0 is answered 500 */
  char *body;        /* malloc'd, or NULL for none */
  size_t len;
  const char *ctype; /* a static string, or NULL for application/json */
  char headers[256]; /* extra header lines ("Name: value\r\n"...) */
} vg_api_out;

/* A read job's work, on a worker thread: reads st, fills out. */
typedef void (*vg_api_read_fn)(vg_store *st, void *ud, vg_api_out *out);

/* A route's handler, on the loop: args are the path's captured segments,
 * percent-decoded, NULL-ended, valid during the call only. It answers r
 * now or later. */
typedef void (*vg_api_fn)(server *srv, vg_http_req *r, char *const *args);

/* Starts the HTTP API on http_listen (nothing when it is ""). 0, or -1
 * when it cannot, logged: the daemon does not start. When http_listen is
 * the default and its port is taken, it warns and goes on without. */
int vg_api_start(server *srv);
/* A reload: takes the token anew. */
void vg_api_reload(server *srv);
/* Stops taking requests (vg_http_stop). */
void vg_api_stop(server *srv);
/* Closes the read-only connections; after the loop has ended. */
void vg_api_free(server *srv);

/* Answers r with JSON o (deleted). */
void vg_api_json(vg_http_req *r, int status, cJSON *o);
/* Answers r with {"error": MESSAGE, "status": STATUS}. */
void vg_api_error(vg_http_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fills out as vg_api_json / vg_api_error would answer. */
void vg_api_out_json(vg_api_out *out, int status, cJSON *o);
void vg_api_out_error(vg_api_out *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs fn(st, ud) on a worker through a read-only connection, then
 * done(ud, ran) on the loop: ran is 0 when fn did not run (no connection,
 * or the daemon stopping). 0, or -1 when it cannot start (done is not
 * called). For reads that answer no request of their own. */
int vg_api_work(server *srv, void (*fn)(vg_store *st, void *ud), void (*done)(void *ud, int ran),
                void *ud);

/* Runs fn(st, ud, out) on a worker through a read-only connection, then
 * answers r with out on the loop; ud_free(ud) after (may be NULL). */
void vg_api_read(server *srv, vg_http_req *r, vg_api_read_fn fn, void *ud,
                 void (*ud_free)(void *));

/* The link to path ("/v1/alerts/12") under public_url, or under the HTTP
 * listen address when public_url is "". Writes into out; its length. */
size_t vg_api_url(const server *srv, const char *path, char *out, size_t cap);

/* An alert as JSON: what `vigil alerts --json` prints, and its links: url
 * (in the API) and dashboard_url (the dashboard's view of it).
 * Safe on a worker. */
cJSON *vg_api_alert_json(const vg_alert_row *a);

/* api_silences.c: POST and GET /v1/silences, GET and DELETE
 * /v1/silences/{id}. Its writes run on a worker through a writable
 * connection of their own (see the file). */
void vg_api_silences_post(server *srv, vg_http_req *r, char *const *args);
void vg_api_silences_list(server *srv, vg_http_req *r, char *const *args);
void vg_api_silence_get(server *srv, vg_http_req *r, char *const *args);
void vg_api_silence_delete(server *srv, vg_http_req *r, char *const *args);
/* api_alerts.c: GET /v1/alerts (since, until, rule, severity, state, limit,
 * cursor; the latest first) and GET /v1/alerts/{id} (with its entries). */
void vg_api_alerts(server *srv, vg_http_req *r, char *const *args);
void vg_api_alert(server *srv, vg_http_req *r, char *const *args);
/* api_feeds.c: GET /v1/feeds (all). */
void vg_api_feeds(server *srv, vg_http_req *r, char *const *args);
/* api_digests.c: GET /v1/digests (limit) and GET /v1/digests/{name}/{file}. */
void vg_api_digests(server *srv, vg_http_req *r, char *const *args);
void vg_api_digest_file(server *srv, vg_http_req *r, char *const *args);
/* ---- api_metrics.c: GET /metrics ---- */
void vg_api_metrics(server *srv, vg_http_req *r, char *const *args);

/* ---- api_rules.c: GET /v1/rules, POST /v1/rules/reload ---- */
void vg_api_rules_list(server *srv, vg_http_req *r, char *const *args);
void vg_api_rules_reload(server *srv, vg_http_req *r, char *const *args);
/* The rules in force are `rules` (on the loop, while no job runs: at the
 * start and in a reload job's done()): what GET /v1/rules lists. */
void vg_api_rules_loaded(server *srv, const vg_rules *rules);
/* A reload job was taken: the reload requests waiting are its. */
void vg_api_rules_reload_taken(server *srv);
/* That job is done: its requests are answered with how it went: `loaded`
 * rules, and `errors` (a cJSON array of {"file", "message"}, taken), or
 * failed (no rules could be loaded at all: 500). */
void vg_api_rules_reload_done(server *srv, size_t loaded, cJSON *errors, int failed);
/* The daemon stops: reload requests not yet taken are answered 503. */
void vg_api_rules_stop(server *srv);
/* Whether a rule set is loaded, and how many rules it has (on the loop). */
int vg_api_rules_count(size_t *n);
/* Frees the list of rules; after the loop has ended. */
void vg_api_rules_free(void);

/* api_dashboard.c: GET /, the dashboard's page (text/html, with its
 * Content-Security-Policy). */
void vg_api_dashboard(server *srv, vg_http_req *r, char *const *args);

/* ---- query parameters and path ids ----
 * Each reads one parameter of r's query. They return 1 when it is there
 * and good, 0 when absent (the output untouched), or -1 after answering r
 * 400 with a message naming the parameter and what it must be. */

#define VG_API_LIMIT_DEFAULT 100 /* a page's items when limit is absent */
#define VG_API_LIMIT_MAX 1000    /* at most */

/* Its text, percent-decoded: not empty, UTF-8 without control characters. */
int vg_api_param(vg_http_req *r, const char *name, char *out, size_t cap);
/* A date, as `vigil query --since` reads it, as a day number: its first
 * day, or its last with `last` (until=2023-12 is all of December). */
int vg_api_param_day(vg_http_req *r, const char *name, int last, int32_t *day);
/* A whole number in [lo, hi]. */
int vg_api_param_number(vg_http_req *r, const char *name, long long lo, long long hi,
                        long long *v);
/* limit: 1 to VG_API_LIMIT_MAX; *limit is VG_API_LIMIT_DEFAULT when absent. */
int vg_api_param_limit(vg_http_req *r, long *limit);
/* true/1 (or the name alone) or false/0. */
int vg_api_param_bool(vg_http_req *r, const char *name, int *v);
/* cursor: what a page's `next` gave, "DAY.ID" (vg_api_cursor writes it). */
int vg_api_param_cursor(vg_http_req *r, int32_t *day, int64_t *id);
void vg_api_cursor(char *out, size_t cap, int32_t day, int64_t id);
/* The {id} of a path, a whole number from 1: 0 with it in *id, or -1 after
 * answering 400 ("'x' is no <what> id"). */
int vg_api_path_id(vg_http_req *r, const char *arg, const char *what, int64_t *id);

/* Refuses r with 400 when its query has a parameter not in names
 * (NULL-ended), naming it; 1 when refused. */
int vg_api_unknown_params(vg_http_req *r, const char *const *names);

/* api_stream.c: GET /v1/alerts/stream, alert changes as Server-Sent Events */
void vg_api_stream(server *srv, vg_http_req *r, char *const *args);
/* Sets up the stream's hub; called by vg_api_start. */
void vg_api_stream_start(server *srv);
/* Alerts were committed: subscribers get them soon. On the loop. */
void vg_api_stream_poke(server *srv);
/* Stops the hub (the streams end with the HTTP server); by vg_api_stop. */
void vg_api_stream_stop(server *srv);
/* api_entries.c */
void vg_api_entries_list(server *srv, vg_http_req *r, char *const *args);
void vg_api_entry_get(server *srv, vg_http_req *r, char *const *args);
/* api_explain.c: why an alert fired, why an entry did or did not (explain.h) */
void vg_api_alert_explain(server *srv, vg_http_req *r, char *const *args);
void vg_api_entry_explain(server *srv, vg_http_req *r, char *const *args);
/* source_http.c */
void vg_api_entries_post(server *srv, vg_http_req *r, char *const *args);

#endif
