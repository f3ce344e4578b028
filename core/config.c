/* config.c — the table of settings, their defaults, the Lua configuration
 * file and its checks; see config.h. */
#include "config.h"
#include "tabular.h"
#include "bus.h"

#include "feed_parse.h"
#include "paths.h"
#include "sandbox.h"
#include "vigil.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const redirect_names[] = {"same-host", "any", "none"};

int vg_redirects_parse(const char *name, vg_redirects *out) {
  for (int i = 0; i < 3; i++)
    if (strcmp(name, redirect_names[i]) == 0) {
      *out = (vg_redirects)i;
      return 0;
    }
  return VG_EINVAL;
}

const char *vg_redirects_name(vg_redirects r) { return (unsigned)r < 3 ? redirect_names[r] : "?"; }

void vg_config_set(char **field, const char *value) {
  char *copy = strdup(value);
  if (!copy) abort(); /* a few bytes at start-up: nothing sensible is left to do */
  free(*field);
  *field = copy;
}

/* ---- the values of table settings: freeing and copying ---- */

static void free_strings(char **v) {
  for (size_t k = 0; v && v[k]; k++)
    free(v[k]);
  free(v);
}

/* A copy of a NULL-ended list of strings (NULL for NULL). */
static char **copy_strings(char *const *v) {
  if (!v) return NULL;
  size_t n = 0;
  while (v[n])
    n++;
  char **out = calloc(n + 1, sizeof *out);
  if (!out) abort(); /* a few bytes at start-up: nothing sensible is left to do */
  for (size_t k = 0; k < n; k++)
    if (!(out[k] = strdup(v[k]))) abort();
  return out;
}

static char *copy_text(const char *s) {
  char *out = s ? strdup(s) : NULL;
  if (s && !out) abort();
  return out;
}

static void free_sinks(vg_sink_conf *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].name);
    free(v[i].file);
    free_strings(v[i].command);
    free(v[i].nats);
    free(v[i].subject);
    free(v[i].stream);
  }
  free(v);
}

static void free_digests(vg_digest_conf *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].name);
    free(v[i].schedule);
    free(v[i].template);
    free(v[i].out);
    free_strings(v[i].command);
  }
  free(v);
}

static void free_feeds(vg_feed_conf *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].url);
    free(v[i].source);
    free(v[i].format);
  }
  free(v);
}

/* Copies n elements of size `size` at v, then has fix() copy what each
 * points to. */
static void *copy_array(const void *v, size_t n, size_t size, void (*fix)(void *)) {
  if (!n) return NULL;
  char *out = malloc(n * size);
  if (!out) abort();
  memcpy(out, v, n * size);
  for (size_t i = 0; i < n; i++)
    fix(out + i * size);
  return out;
}

static void fix_sink(void *p) {
  vg_sink_conf *k = p;
  k->name = copy_text(k->name);
  k->file = copy_text(k->file);
  k->command = copy_strings(k->command);
  k->nats = copy_text(k->nats);
  k->subject = copy_text(k->subject);
  k->stream = copy_text(k->stream);
}

static void fix_digest(void *p) {
  vg_digest_conf *d = p;
  d->name = copy_text(d->name);
  d->schedule = copy_text(d->schedule);
  d->template = copy_text(d->template);
  d->out = copy_text(d->out);
  d->command = copy_strings(d->command);
}

static void fix_feed(void *p) {
  vg_feed_conf *f = p;
  f->url = copy_text(f->url);
  f->source = copy_text(f->source);
  f->format = copy_text(f->format);
}

/* The default source of a feed: its host and path, without the scheme. */
static char *feed_source(const char *url) {
  const char *s = strstr(url, "://");
  s = s ? s + 3 : url;
  char *out = strdup(s);
  if (!out) abort();
  size_t n = strlen(out);
  while (n && out[n - 1] == '/')
    out[--n] = '\0';
  return out;
}

void vg_config_add_feed(vg_config *c, const char *url, const char *source, const char *format,
                        unsigned interval) {
  vg_feed_conf *v = realloc(c->feeds, (c->nfeeds + 1) * sizeof *v);
  if (!v) abort();
  c->feeds = v;
  vg_feed_conf *f = &v[c->nfeeds++];
  memset(f, 0, sizeof *f);
  vg_config_set(&f->url, url);
  f->source = source ? strdup(source) : feed_source(url);
  vg_config_set(&f->format, format ? format : "auto");
  f->interval = interval ? interval : c->feed_interval;
  f->redirects = c->follow_redirects;
  if (!f->source) abort();
}

const vg_digest_conf *vg_config_digest(const vg_config *c, const char *name) {
  for (size_t i = 0; i < c->ndigests; i++)
    if (strcmp(c->digests[i].name, name) == 0) return &c->digests[i];
  return NULL;
}

size_t vg_config_link_base(const vg_config *c, char *out, size_t cap) {
  if (!cap) return 0;
  out[0] = '\0';
  if (c->public_url && c->public_url[0]) snprintf(out, cap, "%s", c->public_url);
  else if (c->http_listen && c->http_listen[0]) snprintf(out, cap, "http://%s", c->http_listen);
  size_t n = strlen(out);
  while (n && out[n - 1] == '/') out[--n] = '\0';
  return n;
}

size_t vg_config_nrules(const vg_config *c) {
  size_t n = 0;
  while (c->rules && c->rules[n])
    n++;
  return n;
}

/* ---- the table of settings ---- */

/* How a setting is stored in vg_config and read from the file. */
typedef enum {
  T_STRING,    /* char *: a Lua string */
  T_SIZE,      /* size_t: a whole number from 1 */
  T_UINT,      /* unsigned: a whole number from 0 to INT_MAX */
  T_LONG,      /* long: a whole number from 0 */
  T_FRACTION,  /* double: a number from 0 to 1 */
  T_FORMAT,    /* vg_format: auto, chrono or json */
  T_REDIRECTS, /* vg_redirects: same-host, any or none */
  T_PATHS,     /* char ** (NULL-ended): a string or a list of strings */
  T_SINKS,     /* the sinks table */
  T_DIGESTS,   /* the digests table */
  T_FEEDS,     /* the feeds list */
  T_FORMATS,   /* the formats table: char ** (NULL-ended), the names it declared */
  T_NATS,      /* the nats table: its fields set the nats_* settings */
} kind;

typedef struct {
  vg_setting_info info; /* what vg_config_setting shows */
  kind type;
  size_t offset; /* of its field in vg_config */
  int secret;    /* shown as "(hidden)" and wiped when freed */
} setting;

#define TN_T_STRING "string"
#define TN_T_SIZE "integer"
#define TN_T_UINT "integer"
#define TN_T_LONG "integer"
#define TN_T_FRACTION "number"
#define TN_T_FORMAT "format"
#define TN_T_REDIRECTS "redirects"
#define TN_T_PATHS "paths"
#define TN_T_SINKS "table"
#define TN_T_DIGESTS "table"
#define TN_T_FEEDS "table"
#define TN_T_FORMATS "table"
#define TN_T_NATS "table"
#define NAMES(field, help)                                                                         \
  { {#field, "names", NULL, help}, T_PATHS, offsetof(vg_config, field), 0 }
#define S(field, t, def, help)                                                                     \
  { {#field, TN_##t, def, help}, t, offsetof(vg_config, field), 0 }
#define SECRET(field, t, def, help)                                                                \
  { {#field, TN_##t, def, help}, t, offsetof(vg_config, field), 1 }

/* Every setting, once. The tables come last: the feeds list reads
 * feed_interval and follow_redirects as the same file sets them. */
static const setting settings[] = {
    S(state_dir, T_STRING, "",
      "where the paths not set go (database, socket, spool, alerts file, digests); '' for "
      "beside the database"),
    S(db, T_STRING, NULL,
      "the SQLite database of entries, tags and alerts (default: vigil.db in state_dir, or "
      "var/vigil.db)"),
    S(socket, T_STRING, NULL,
      "the Unix socket the daemon reads entries from (default: vigil.sock beside the "
      "database); '' for none"),
    S(socket_group, T_STRING, "",
      "a group that may use the socket, which is then 0660; '' for 0600"),
    S(listen, T_STRING, "", "a TCP HOST:PORT the daemon reads entries from too; '' for none"),
    SECRET(tcp_token, T_STRING, "", "what a TCP client sends first, as 'auth TOKEN'; '' for none"),
    S(tcp_token_file, T_STRING, "", "a file whose first line is that token; '' for none"),
    S(spool, T_STRING, NULL,
      "a directory whose files the daemon ingests (default: spool/ beside the database); '' "
      "for none"),
    S(http_listen, T_STRING, "127.0.0.1:7434",
      "the HTTP API's HOST:PORT (JSON API, live alerts, metrics, dashboard); '' for none"),
    S(http_token_file, T_STRING, "",
      "a file whose first line is the token HTTP writes must bear (needed off loopback)"),
    NAMES(http_hosts, "more names a request's Host may give besides localhost and the address"),
    NAMES(http_origins, "web origins (https://host:port) allowed CORS and writes"),
    S(http_max_body, T_SIZE, "16777216", "bytes an HTTP request body may have"),
    S(http_max_connections, T_SIZE, "256", "HTTP connections served at once"),
    S(http_timeout_ms, T_UINT, "30000",
      "how long an HTTP request may take to arrive, and a reply to be taken, in milliseconds"),
    S(sse_heartbeat_ms, T_UINT, "15000",
      "how often the live alert stream sends a heartbeat and looks for alerts other processes"
      " stored, in milliseconds"),
    S(public_url, T_STRING, "",
      "the base URL of alerts' links (https://vigil.example.org); '' for http_listen's"),
    S(rules, T_PATHS, NULL,
      "rule directories and files, loaded as one set: a path or a list of paths (default: "
      "the shipped rules)"),
    S(log_level, T_STRING, "info", "debug, info, notice, warn or error"),
    S(log_format, T_STRING, "text", "the log's lines: text, or json (one object a line)"),
    S(durability, T_STRING, "full", "full (each commit reaches the disk) or normal"),
    S(busy_timeout_ms, T_UINT, "10000",
      "how long a write waits for another process's lock, in milliseconds"),
    S(formats, T_FORMATS, NULL,
      "CSV and TSV formats: name = { date = COLUMN, text = {COLUMN, ...}, id = COLUMN, ... }"),
    S(format, T_FORMAT, "auto",
      "how input lines are read: auto, chrono, json, or a table format (acled, gdelt, formats)"),
    S(max_line, T_SIZE, "1048576", "the longest input line taken, in bytes"),
    S(batch_max, T_SIZE, "16384", "entries one transaction holds at most"),
    S(batch_ms, T_UINT, "2", "how long a batch may wait to fill, in milliseconds"),
    S(max_pending, T_SIZE, "16384", "lines waiting before the daemon stops reading clients"),
    S(alerts_file, T_STRING, NULL,
      "the JSON Lines file every alert is appended to (default: alerts.jsonl beside the "
      "database); '' for none"),
    S(rule_memory, T_SIZE, "33554432", "bytes the rules' Lua state may hold"),
    S(rule_budget, T_LONG, "1000000", "Lua instructions one call of a rule may run"),
    S(rule_failures, T_UINT, "10", "failures that disable a rule until the rules reload"),
    S(event_similarity, T_FRACTION, "0.1",
      "how alike (0 to 1) two texts must be for reports of one kind a day apart to be one event"),
    S(timezone, T_STRING, "UTC", "the time zone of digest schedules and periods"),
    S(feed_interval, T_UINT, "300", "seconds between the polls of a feed that names none"),
    S(feed_max_body, T_SIZE, "10485760", "bytes a feed's body may have"),
    S(feed_max_archive, T_SIZE, "268435456",
      "bytes an archive a gdelt feed fetches may have, and its table once unpacked"),
    S(follow_redirects, T_REDIRECTS, "same-host",
      "the redirects a feed's poll follows: same-host, any or none"),
    S(sinks, T_SINKS, NULL,
      "named alert sinks: name = { file = PATH }, { command = {PROGRAM, ARG...}, ... } or"
      " { nats = true | URL, subject = PREFIX, stream = NAME }"),
    S(digests, T_DIGESTS, NULL,
      "scheduled digests: name = { schedule = CRON, days = N, template = ..., ... }"),
    S(feeds, T_FEEDS, NULL, "feeds polled: { { url = URL, interval = SECONDS, ... }, ... }"),
    S(nats_url, T_STRING, "",
      "the NATS server(s) whose JetStream stream the daemon ingests (nats://HOST:PORT); '' for "
      "none"),
    S(nats_stream, T_STRING, "VIGIL_ENTRIES", "the JetStream stream of entries (made if missing)"),
    NAMES(nats_subjects, "the subjects of the stream of entries, when vigil makes it"),
    S(nats_durable, T_STRING, "",
      "the name of the daemon's durable pull consumer; '' for vigil, or vigil-pP with"
      " nats_partition"),
    S(nats_filter, T_STRING, "",
      "the subject the consumer takes; '' for vigil.entries.P with nats_partition, else all"),
    S(nats_batch, T_SIZE, "2048", "messages one fetch from JetStream asks for at most"),
    S(nats_dead_letter, T_STRING, "",
      "a subject rejected messages are republished to; '' for none"),
    S(nats_partition, T_STRING, "",
      "the partition (0 to nats_partitions - 1) this daemon consumes; '' for all"),
    S(nats_partition_by, T_STRING, "",
      "the entry field the partitions are keyed by: correlation rules should group by it"),
    S(nats_partitions, T_SIZE, "1", "how many partitions the entries are published to"),
    S(nats, T_NATS, NULL,
      "the nats_* settings as one table: nats = { url = ..., stream = ..., partition = ... }"),
};
#undef S
#undef NAMES
#undef SECRET
#define NSETTINGS (sizeof settings / sizeof settings[0])
_Static_assert(NSETTINGS <= VG_CONFIG_MAX, "raise VG_CONFIG_MAX");

const vg_setting_info *vg_config_setting(size_t i) {
  return i < NSETTINGS ? &settings[i].info : NULL;
}

int vg_config_find(const char *name) {
  for (size_t i = 0; i < NSETTINGS; i++)
    if (strcmp(settings[i].info.name, name) == 0) return (int)i;
  return -1;
}

static void *field_of(const vg_config *c, const setting *s) { return (char *)c + s->offset; }

/* Frees the value of setting s in c and sets it empty. */
static void clear(vg_config *c, const setting *s) {
  void *f = field_of(c, s);
  switch (s->type) {
  case T_STRING: {
    char **p = f;
    if (*p && s->secret) memset(*p, 0, strlen(*p));
    free(*p);
    *p = NULL;
    break;
  }
  case T_PATHS:
  case T_FORMATS: free_strings(*(char ***)f), *(char ***)f = NULL; break;
  case T_SINKS: free_sinks(c->sinks, c->nsinks), c->sinks = NULL, c->nsinks = 0; break;
  case T_DIGESTS: free_digests(c->digests, c->ndigests), c->digests = NULL, c->ndigests = 0; break;
  case T_FEEDS: free_feeds(c->feeds, c->nfeeds), c->feeds = NULL, c->nfeeds = 0; break;
  default: break;
  }
}

void vg_config_free(vg_config *c) {
  for (size_t i = 0; i < NSETTINGS; i++)
    clear(c, &settings[i]);
  free(c->file);
  memset(c, 0, sizeof *c);
}

/* A deep copy of c into out. */
static void copy_config(vg_config *out, const vg_config *c) {
  *out = *c;
  for (size_t i = 0; i < NSETTINGS; i++) {
    const setting *s = &settings[i];
    void *f = field_of(out, s);
    if (s->type == T_STRING)
      *(char **)f = copy_text(*(char **)f);
    else if (s->type == T_PATHS || s->type == T_FORMATS)
      *(char ***)f = copy_strings(*(char ***)f);
  }
  out->sinks = copy_array(c->sinks, c->nsinks, sizeof *c->sinks, fix_sink);
  out->digests = copy_array(c->digests, c->ndigests, sizeof *c->digests, fix_digest);
  out->feeds = copy_array(c->feeds, c->nfeeds, sizeof *c->feeds, fix_feed);
  out->file = copy_text(c->file);
}

/* Takes the whole number v for setting s, or says why not in err. */
static int take_number(vg_config *c, const setting *s, long long v, char *err, size_t cap) {
  void *f = field_of(c, s);
  if (v < 0 || (s->type == T_SIZE && v == 0)) {
    snprintf(err, cap, "'%s' must be a %s integer", s->info.name,
             s->type == T_SIZE ? "positive" : "non-negative");
    return VG_EINVAL;
  }
  if (s->type == T_UINT && v > INT_MAX) { /* never wrapped into a small number */
    snprintf(err, cap, "'%s' must be at most %d, not %lld", s->info.name, INT_MAX, v);
    return VG_EINVAL;
  }
  if (s->type == T_SIZE)
    *(size_t *)f = (size_t)v;
  else if (s->type == T_LONG)
    *(long *)f = (long)v;
  else
    *(unsigned *)f = (unsigned)v;
  return 0;
}

/* Takes the number v for fraction setting s, or says why not in err. */
static int take_fraction(vg_config *c, const setting *s, double v, char *err, size_t cap) {
  if (!(v >= 0.0 && v <= 1.0)) {
    snprintf(err, cap, "'%s' must be a number from 0 to 1, not %g", s->info.name, v);
    return VG_EINVAL;
  }
  *(double *)field_of(c, s) = v;
  return 0;
}

static void append_path(char ***list, const char *path) {
  size_t n = 0;
  while (*list && (*list)[n])
    n++;
  char **v = realloc(*list, (n + 2) * sizeof *v);
  if (!v) abort();
  v[n] = copy_text(path);
  v[n + 1] = NULL;
  *list = v;
}

/* Sets setting s of c from text, as a flag or the default spells it; a
 * paths setting is appended to. Returns 0 or VG_EINVAL with why in err. */
static int set_text(vg_config *c, const setting *s, const char *v, char *err, size_t cap) {
  void *f = field_of(c, s);
  switch (s->type) {
  case T_STRING: vg_config_set(f, v); return 0;
  case T_PATHS:
    if (!v[0]) break;
    append_path(f, v);
    return 0;
  case T_FORMAT:
    if (vg_format_parse(v, f) == 0) return 0;
    snprintf(err, cap, "'%s' must be auto, chrono, json or a table format (acled, gdelt, or "
             "one the 'formats' table declares), not '%s'", s->info.name, v);
    return VG_EINVAL;
  case T_REDIRECTS:
    if (vg_redirects_parse(v, f) == 0) return 0;
    snprintf(err, cap, "'%s' must be same-host, any or none, not '%s'", s->info.name, v);
    return VG_EINVAL;
  case T_SIZE:
  case T_UINT:
  case T_LONG: {
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (v[0] && !*end && errno == 0) return take_number(c, s, n, err, cap);
    break;
  }
  case T_FRACTION: {
    char *end;
    errno = 0;
    double n = strtod(v, &end);
    if (v[0] && !*end && errno == 0) return take_fraction(c, s, n, err, cap);
    snprintf(err, cap, "'%s' must be a number from 0 to 1, not '%s'", s->info.name, v);
    return VG_EINVAL;
  }
  default:
    snprintf(err, cap, "'%s' is a table: set it in the configuration file", s->info.name);
    return VG_EINVAL;
  }
  snprintf(err, cap, "'%s' must be %s, not '%s'", s->info.name,
           s->type == T_PATHS ? "a path" : "a whole number", v);
  return VG_EINVAL;
}

int vg_config_set_flag(vg_config *c, const char *name, const char *value, char *err, size_t cap) {
  int i = vg_config_find(name);
  if (i < 0) {
    snprintf(err, cap, "unknown setting '%s'", name);
    return VG_EINVAL;
  }
  const setting *s = &settings[i];
  vg_config next;
  copy_config(&next, c); /* c unchanged on failure */
  if (s->type == T_PATHS && c->origin[i] != VG_ORIGIN_FLAG) clear(&next, s);
  /* The checks a file's values meet, so that a flag cannot slip past them
   * (an empty --db would be a database in memory, gone at exit). */
  if (set_text(&next, s, value, err, cap) || vg_config_check(&next, err, cap)) {
    vg_config_free(&next);
    return VG_EINVAL;
  }
  next.origin[i] = VG_ORIGIN_FLAG;
  vg_config_free(c);
  *c = next;
  return 0;
}

void vg_config_defaults(vg_config *c) {
  memset(c, 0, sizeof *c);
  char err[256];
  for (size_t i = 0; i < NSETTINGS; i++)
    if (settings[i].info.def && set_text(c, &settings[i], settings[i].info.def, err, sizeof err))
      abort(); /* the table's own default is wrong */
  append_path(&c->rules, vg_default_rules()); /* installed: its own */
  append_path(&c->nats_subjects, VG_BUS_ENTRIES_PREFIX ".>");
  static const struct {
    const char *name, *schedule;
    int days;
  } shipped[] = {{"daily", "0 7 * * *", 1}, {"weekly", "0 8 * * mon", 7}};
  c->digests = calloc(2, sizeof *c->digests);
  if (!c->digests) abort();
  for (int i = 0; i < 2; i++) {
    vg_digest_conf *d = &c->digests[c->ndigests++];
    vg_config_set(&d->name, shipped[i].name);
    vg_config_set(&d->schedule, shipped[i].schedule);
    vg_config_set(&d->template, shipped[i].name);
    d->days = shipped[i].days;
    d->formats = VG_DIGEST_MD | VG_DIGEST_HTML | VG_DIGEST_JSON;
  }
}

/* dir/name, or name alone when dir is "" or ".". */
static char *join(const char *dir, const char *name) {
  char *out;
  if (!dir[0] || strcmp(dir, ".") == 0) out = strdup(name);
  else if (asprintf(&out, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0)
    out = NULL;
  if (!out) abort(); /* a few bytes at start-up */
  return out;
}

void vg_config_resolve(vg_config *c) {
  const char *state = c->state_dir ? c->state_dir : "";
  if (!c->db) c->db = join(state[0] ? state : "var", "vigil.db");
  char *beside = NULL; /* the database's directory */
  if (!state[0]) {
    const char *slash = strrchr(c->db, '/');
    beside = slash ? strndup(c->db, slash == c->db ? 1 : (size_t)(slash - c->db)) : strdup("");
    if (!beside) abort();
  }
  const char *base = state[0] ? state : beside;
  if (!c->socket) c->socket = join(base, "vigil.sock");
  if (!c->spool) c->spool = join(base, "spool");
  if (!c->alerts_file) c->alerts_file = join(base, "alerts.jsonl");
  for (size_t i = 0; i < c->ndigests; i++)
    if (!c->digests[i].out) c->digests[i].out = join(base, "digests");
  free(beside);
}

/* ---- showing a value ---- */

static cJSON *json_strings(char *const *v) {
  cJSON *a = cJSON_CreateArray();
  for (size_t k = 0; a && v && v[k]; k++)
    cJSON_AddItemToArray(a, cJSON_CreateString(v[k]));
  return a;
}

static cJSON *json_sinks(const vg_config *c) {
  cJSON *o = cJSON_CreateObject();
  for (size_t i = 0; o && i < c->nsinks; i++) {
    const vg_sink_conf *k = &c->sinks[i];
    cJSON *e = cJSON_AddObjectToObject(o, k->name);
    if (k->file) cJSON_AddStringToObject(e, "file", k->file);
    if (k->command) cJSON_AddItemToObject(e, "command", json_strings(k->command));
    if (k->nats) {
      if (k->nats[0]) cJSON_AddStringToObject(e, "nats", k->nats);
      else cJSON_AddTrueToObject(e, "nats");
      cJSON_AddStringToObject(e, "subject", k->subject);
      cJSON_AddStringToObject(e, "stream", k->stream);
    }
    cJSON_AddNumberToObject(e, "timeout_ms", k->timeout_ms);
    cJSON_AddNumberToObject(e, "retries", k->retries);
    cJSON_AddNumberToObject(e, "queue_max", k->queue_max);
    cJSON_AddBoolToObject(e, "default", k->is_default);
  }
  return o;
}

static cJSON *json_digests(const vg_config *c) {
  cJSON *o = cJSON_CreateObject();
  for (size_t i = 0; o && i < c->ndigests; i++) {
    const vg_digest_conf *d = &c->digests[i];
    cJSON *e = cJSON_AddObjectToObject(o, d->name);
    cJSON_AddStringToObject(e, "schedule", d->schedule);
    cJSON_AddNumberToObject(e, "days", d->days);
    cJSON_AddStringToObject(e, "template", d->template);
    cJSON *f = cJSON_AddArrayToObject(e, "formats");
    static const char *const names[] = {"md", "html", "json"};
    for (int b = 0; b < 3; b++)
      if (d->formats & (1 << b)) cJSON_AddItemToArray(f, cJSON_CreateString(names[b]));
    cJSON_AddStringToObject(e, "out", d->out);
    if (d->command) cJSON_AddItemToObject(e, "command", json_strings(d->command));
    cJSON_AddStringToObject(e, "catch_up", d->catch_up_all ? "all" : "latest");
  }
  return o;
}

static cJSON *json_feeds(const vg_config *c) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < c->nfeeds; i++) {
    const vg_feed_conf *f = &c->feeds[i];
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "url", f->url);
    cJSON_AddStringToObject(e, "source", f->source);
    cJSON_AddStringToObject(e, "format", f->format);
    cJSON_AddNumberToObject(e, "interval", f->interval);
    cJSON_AddStringToObject(e, "follow_redirects", vg_redirects_name(f->redirects));
    cJSON_AddItemToArray(a, e);
  }
  return a;
}

static cJSON *json_names(char **v, size_t n) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
  return a;
}

/* The formats the file declared, as they read rows. */
static cJSON *json_formats(char **names) {
  cJSON *o = cJSON_CreateObject();
  for (size_t i = 0; o && names && names[i]; i++) {
    const vg_tabular_format *f = vg_tabular_find(names[i]);
    cJSON *e = f ? cJSON_AddObjectToObject(o, f->name) : NULL;
    if (!e) continue;
    char d[2] = {f->delim, 0}, q[2] = {f->quote, 0};
    cJSON_AddStringToObject(e, "delimiter", d);
    cJSON_AddStringToObject(e, "quote", q);
    if (f->columns) cJSON_AddItemToObject(e, "columns", json_names(f->columns, f->ncolumns));
    cJSON_AddStringToObject(e, "date", f->date);
    cJSON_AddStringToObject(e, "date_layout", vg_date_layout_name(f->layout));
    cJSON *t = cJSON_AddArrayToObject(e, "text");
    for (size_t k = 0; t && k < f->ntext; k++)
      cJSON_AddItemToArray(t, cJSON_CreateString(f->text[k].column));
    if (f->id) cJSON_AddStringToObject(e, "id", f->id);
    if (f->source) cJSON_AddStringToObject(e, "source", f->source);
    if (f->source_name) cJSON_AddStringToObject(e, "source_name", f->source_name);
    if (f->edited) cJSON_AddStringToObject(e, "edited", f->edited);
    if (f->suffix) cJSON_AddStringToObject(e, "suffix", f->suffix);
  }
  return o;
}

static cJSON *json_nats(const vg_config *c) {
  cJSON *o = cJSON_CreateObject();
  for (size_t i = 0; o && i < NSETTINGS; i++)
    if (strncmp(settings[i].info.name, "nats_", 5) == 0 && settings[i].type != T_NATS)
      cJSON_AddItemToObject(o, settings[i].info.name + 5, vg_config_value(c, i));
  return o;
}

cJSON *vg_config_value(const vg_config *c, size_t i) {
  if (i >= NSETTINGS) return NULL;
  const setting *s = &settings[i];
  const void *f = field_of(c, s);
  static const char *const formats[] = {"auto", "chrono", "json"};
  switch (s->type) {
  case T_STRING: {
    const char *v = *(char *const *)f;
    return cJSON_CreateString(s->secret && v && v[0] ? "(hidden)" : v ? v : "");
  }
  case T_SIZE: return cJSON_CreateNumber((double)*(const size_t *)f);
  case T_UINT: return cJSON_CreateNumber(*(const unsigned *)f);
  case T_LONG: return cJSON_CreateNumber((double)*(const long *)f);
  case T_FRACTION: return cJSON_CreateNumber(*(const double *)f);
  case T_FORMAT: {
    vg_format v = *(const vg_format *)f;
    const vg_tabular_format *t = vg_tabular_of(v);
    return cJSON_CreateString(t ? t->name : formats[(int)v < VG_FORMAT_TABLE ? v : 0]);
  }
  case T_REDIRECTS: return cJSON_CreateString(vg_redirects_name(*(const vg_redirects *)f));
  case T_PATHS: return json_strings(*(char **const *)f);
  case T_SINKS: return json_sinks(c);
  case T_DIGESTS: return json_digests(c);
  case T_FEEDS: return json_feeds(c);
  case T_FORMATS: return json_formats(*(char **const *)f);
  case T_NATS: return json_nats(c);
  }
  return NULL;
}

/* ---- the nearest name ---- */

/* The edit distance of a and b (insertions, deletions, substitutions; case
 * ignored), or INT_MAX for words longer than any setting. */
static int distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return INT_MAX;
  int row[64];
  for (size_t j = 0; j <= lb; j++)
    row[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int up = row[j];
      int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      int best = diag + cost;
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* Of the n names of a table (each element `stride` bytes, its name the
 * `const char *` it starts with), the nearest to word, or NULL when none is
 * near: at most a third of its letters changed (one at least). */
static const char *nearest(const char *word, const void *table, size_t n, size_t stride) {
  const char *best = NULL;
  int best_d = (int)(strlen(word) + 2) / 3;
  if (best_d < 1) best_d = 1;
  for (size_t i = 0; i < n; i++) {
    const char *name = *(const char *const *)(const void *)((const char *)table + i * stride);
    int d = distance(word, name);
    if (d <= best_d && (!best || d < best_d)) best = name, best_d = d;
  }
  return best;
}

/* ---- reading the file ---- */

/* The problems found in a file, each with the line it is on (0: unknown),
 * to be said in line order. */
typedef struct {
  struct problem {
    int line;
    size_t seq;
    char *text;
  } * v;
  size_t n;
  const char *path;
} problems;

static void problem(problems *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(problems *p, int line, const char *fmt, ...) {
  char why[1024], where[4200], line_text[4200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  if (line > 0)
    snprintf(where, sizeof where, "%s:%d: %s", p->path, line, why);
  else
    snprintf(where, sizeof where, "%s: %s", p->path, why);
  /* One line each, whatever a name it quotes holds (a global named with a
   * newline): the problems are said one a line. */
  vg_escape_line(line_text, sizeof line_text, where, strlen(where));
  struct problem *v = realloc(p->v, (p->n + 1) * sizeof *v);
  if (!v) abort();
  p->v = v;
  v[p->n] = (struct problem){line, p->n, copy_text(line_text)};
  p->n++;
}

static int by_line(const void *a, const void *b) {
  const struct problem *x = a, *y = b;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Writes the problems into err, one a line, in line order, and frees them. */
static void say_problems(problems *p, char *err, size_t cap) {
  if (p->n) qsort(p->v, p->n, sizeof *p->v, by_line);
  size_t used = 0;
  if (cap) err[0] = '\0';
  for (size_t i = 0; i < p->n; i++) {
    if (used + 1 < cap) {
      int w = snprintf(err + used, cap - used, "%s%s", i ? "\n" : "", p->v[i].text);
      used += w < 0 ? 0 : (size_t)w;
      if (used >= cap && cap > 4) memcpy(err + cap - 4, "...", 4), used = cap;
    }
    free(p->v[i].text);
  }
  free(p->v);
  p->v = NULL;
  p->n = 0;
}

/* The fields an entry of a table setting may have, with their Lua types. */
typedef struct {
  const char *name;
  int type;
} field;

static const field sink_fields[] = {{"file", LUA_TSTRING},
                                    {"command", LUA_TTABLE},
                                    {"timeout_ms", LUA_TNUMBER},
                                    {"retries", LUA_TNUMBER},
                                    {"queue_max", LUA_TNUMBER},
                                    {"default", LUA_TBOOLEAN},
                                    {"nats", LUA_TNONE}, /* true, or a URL */
                                    {"subject", LUA_TSTRING},
                                    {"stream", LUA_TSTRING},
                                    {NULL, 0}};
static const field digest_fields[] = {{"schedule", LUA_TSTRING}, {"days", LUA_TNUMBER},
                                      {"template", LUA_TSTRING}, {"formats", LUA_TTABLE},
                                      {"out", LUA_TSTRING},      {"command", LUA_TTABLE},
                                      {"catch_up", LUA_TSTRING}, {NULL, 0}};
static const field feed_fields[] = {
    {"url", LUA_TSTRING},      {"source", LUA_TSTRING},           {"format", LUA_TSTRING},
    {"interval", LUA_TNUMBER}, {"follow_redirects", LUA_TSTRING}, {NULL, 0}};

/* Checks that the table at the top of the stack has only known fields, of
 * their types; `what` names it ("sink 'x'"). Returns the problems found. */
static int check_fields(lua_State *L, const field *fields, const char *what, problems *p,
                        int line) {
  int bad = 0;
  size_t n = 0;
  while (fields[n].name)
    n++;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    const field *f = NULL;
    for (size_t i = 0; key && i < n && !f; i++)
      if (strcmp(fields[i].name, key) == 0) f = &fields[i];
    if (!key) {
      problem(p, line, "%s: its fields are named (name = value)", what), bad++;
    } else if (!f) {
      const char *near = nearest(key, fields, n, sizeof *fields);
      problem(p, line, "%s: unknown field '%s'%s%s%s", what, key, near ? " (did you mean '" : "",
              near ? near : "", near ? "'?)" : ""),
          bad++;
    } else if (f->type == LUA_TNONE && key && strcmp(key, "nats") == 0 &&
               lua_type(L, -1) != LUA_TSTRING && !lua_isboolean(L, -1)) {
      problem(p, line, "%s: 'nats' must be true or a URL (nats://HOST:PORT), not a %s", what,
              luaL_typename(L, -1)),
          bad++;
    } else if (f->type != LUA_TNONE && lua_type(L, -1) != f->type) {
      problem(p, line, "%s: '%s' must be a %s, not a %s", what, key,
              f->type == LUA_TTABLE ? "list" : lua_typename(L, f->type), luaL_typename(L, -1)),
          bad++;
    }
    lua_pop(L, 1);
  }
  return bad;
}

/* Checks the fields of each entry of the table setting at the top of the
 * stack (a table, else the loader says so): sinks and digests by name,
 * feeds in a list. Returns the number of problems. */
static int check_entries(lua_State *L, kind type, problems *p, int line) {
  if (!lua_istable(L, -1)) return 0;
  const field *fields = type == T_SINKS     ? sink_fields
                        : type == T_DIGESTS ? digest_fields
                                            : feed_fields;
  const char *what = type == T_SINKS ? "sink" : type == T_DIGESTS ? "digest" : "feed";
  int bad = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    char name[128];
    if (type == T_FEEDS && lua_isinteger(L, -2))
      snprintf(name, sizeof name, "feed %lld", (long long)lua_tointeger(L, -2));
    else if (type != T_FEEDS && lua_type(L, -2) == LUA_TSTRING)
      snprintf(name, sizeof name, "%s '%.64s'", what, lua_tostring(L, -2));
    else
      name[0] = '\0'; /* the loader says what is wrong with it */
    if (type == T_FEEDS && !name[0]) {
      problem(p, line, "'feeds' must be a list of { url = ... }, not a table with a key %s%s",
              lua_type(L, -2) == LUA_TSTRING ? "" : "of type ",
              lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2));
      bad++;
    }
    if (name[0] && lua_istable(L, -1)) bad += check_fields(L, fields, name, p, line);
    lua_pop(L, 1);
  }
  return bad;
}

/* Pushes t[name] of the table at idx without metamethods, so that no code
 * of the file runs once it has returned (an __index that raises or loops);
 * returns its type, as lua_getfield does. */
static int rawfield(lua_State *L, int idx, const char *name) {
  idx = lua_absindex(L, idx);
  lua_pushstring(L, name);
  return lua_rawget(L, idx);
}

/* Whether the value at idx is a whole number from lo to hi; stores it. */
static int whole_in(lua_State *L, int idx, lua_Integer lo, lua_Integer hi, unsigned *out) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint || v < lo || v > hi) return 0;
  *out = (unsigned)v;
  return 1;
}

/* A list of strings at the top of the stack, NULL-ended; NULL if not one. */
static char **strings_at(lua_State *L) {
  if (!lua_istable(L, -1)) return NULL;
  lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
  char **v = calloc((size_t)len + 1, sizeof *v);
  for (lua_Integer i = 1; v && i <= len; i++) {
    if (lua_rawgeti(L, -1, i) != LUA_TSTRING) {
      lua_pop(L, 1);
      free_strings(v);
      return NULL;
    }
    v[i - 1] = copy_text(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return v;
}

/* Whether name can name a JetStream stream or consumer: not empty, at most
 * 64 bytes, without '.', '*', '>', '/', '\\' nor white space (the server
 * refuses them, or they would read as subjects). */
static int jetstream_name(const char *name) {
  if (!name[0] || strlen(name) > 64) return 0;
  for (const char *p = name; *p; p++)
    if (strchr(".*>/\\", *p) || isspace((unsigned char)*p) || (unsigned char)*p < 0x20) return 0;
  return 1;
}

/* Whether subj is a NATS subject: tokens split by '.', none empty, no white
 * space; with `wild`, '*' may be a token and '>' the last one. */
static int subject_ok(const char *subj, int wild) {
  if (!subj[0] || strlen(subj) > 255) return 0;
  const char *t = subj;
  for (;;) {
    size_t n = strcspn(t, ".");
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
      if (isspace((unsigned char)t[i]) || (unsigned char)t[i] < 0x20) return 0;
    int star = n == 1 && t[0] == '*', gt = n == 1 && t[0] == '>';
    if (!wild && memchr(t, '*', n)) return 0;
    if (!wild && memchr(t, '>', n)) return 0;
    if ((memchr(t, '*', n) && !star) || (memchr(t, '>', n) && !gt)) return 0;
    if (gt && t[n] != '\0') return 0;
    if (t[n] == '\0') return 1;
    t += n + 1;
  }
}

/* Whether the literal subject subj is one the pattern (with '*' and '>')
 * takes. */
static int subject_matches(const char *pattern, const char *subj) {
  const char *p = pattern, *q = subj;
  for (;;) {
    size_t pn = strcspn(p, "."), qn = strcspn(q, ".");
    if (pn == 1 && p[0] == '>') return 1;
    if (!(pn == 1 && p[0] == '*') && (pn != qn || memcmp(p, q, pn) != 0)) return 0;
    if (p[pn] == '\0' || q[qn] == '\0') return p[pn] == '\0' && q[qn] == '\0';
    p += pn + 1;
    q += qn + 1;
  }
}

/* Whether url is a list of NATS server addresses, comma-separated: each
 * [nats|tls|ws|wss://][USER[:PASS]@]HOST[:PORT], PORT from 1 to 65535. */
static int nats_url_ok(const char *url) {
  const char *u = url;
  for (;;) {
    size_t n = strcspn(u, ",");
    char one[512];
    if (n == 0 || n >= sizeof one) return 0;
    memcpy(one, u, n);
    one[n] = '\0';
    for (size_t i = 0; i < n; i++)
      if (isspace((unsigned char)one[i])) return 0;
    char *host = one, *sep = strstr(one, "://");
    if (sep) {
      *sep = '\0';
      if (strcmp(one, "nats") && strcmp(one, "tls") && strcmp(one, "ws") && strcmp(one, "wss"))
        return 0;
      host = sep + 3;
    }
    char *at = strrchr(host, '@');
    if (at) host = at + 1;
    char *colon = strrchr(host, ':');
    if (colon && !strchr(colon, ']')) {
      char *end;
      errno = 0;
      long port = strtol(colon + 1, &end, 10);
      if (colon[1] == '\0' || *end || errno || port < 1 || port > 65535) return 0;
      *colon = '\0';
    }
    if (!host[0] || strchr(host, '/')) return 0;
    if (u[n] == '\0') return 1;
    u += n + 1;
  }
}

/* Reads the `sinks` table at the top of the stack: name = { file = PATH },
 * { command = {argv}, timeout_ms = N, retries = N, queue_max = N } or
 * { nats = true | URL, subject = PREFIX, stream = NAME }, with default =
 * true to take every alert. Returns 0, or VG_EINVAL with why in err and
 * nothing kept. */
static int load_sinks(lua_State *L, vg_sink_conf **out, size_t *nout, char *err, size_t cap) {
  size_t n = 0;
  vg_sink_conf *v = NULL;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    vg_sink_conf *nv = name && lua_istable(L, -1) ? realloc(v, (n + 1) * sizeof *v) : NULL;
    if (!nv) {
      snprintf(err, cap, "sinks: each sink is name = { file = ... }, { command = {...} } or"
                         " { nats = ... }");
      lua_pop(L, 2);
      free_sinks(v, n);
      return VG_EINVAL;
    }
    v = nv;
    vg_sink_conf *k = &v[n++];
    memset(k, 0, sizeof *k);
    k->name = copy_text(name);
    k->timeout_ms = 10000;
    k->retries = 3;
    k->queue_max = VG_SINK_QUEUE_MAX;
    const char *why = NULL;
    if (rawfield(L, -1, "file") == LUA_TSTRING) k->file = copy_text(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (rawfield(L, -1, "command") == LUA_TTABLE) {
      if (!(k->command = strings_at(L)))
        why = "'command' must be a list of strings: the program and its arguments";
      else if (!k->command[0])
        why = "'command' must name a program";
    }
    lua_pop(L, 1);
    int t = rawfield(L, -1, "nats");
    if (t == LUA_TSTRING && lua_tostring(L, -1)[0]) k->nats = copy_text(lua_tostring(L, -1));
    else if (t == LUA_TBOOLEAN && lua_toboolean(L, -1)) k->nats = copy_text("");
    else if (t != LUA_TNIL && !(t == LUA_TBOOLEAN))
      why = "'nats' must be true (the nats_url setting) or a URL (nats://HOST:PORT)";
    lua_pop(L, 1);
    if (rawfield(L, -1, "subject") == LUA_TSTRING) k->subject = copy_text(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (rawfield(L, -1, "stream") == LUA_TSTRING) k->stream = copy_text(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (k->nats) {
      if (!k->subject) k->subject = copy_text(VG_BUS_ALERTS_PREFIX);
      if (!k->stream) k->stream = copy_text(VG_BUS_ALERTS_STREAM);
      if (!subject_ok(k->subject, 0))
        why = "'subject' must be a NATS subject prefix such as vigil.alerts";
      else if (!jetstream_name(k->stream))
        why = "'stream' must be a JetStream stream name such as VIGIL_ALERTS";
      else if (k->nats[0] && !nats_url_ok(k->nats))
        why = "'nats' must be true (the nats_url setting) or a URL (nats://HOST:PORT)";
    }
    if (!why && (!!k->file + !!k->command + !!k->nats) != 1)
      why = "give one of 'file', 'command' or 'nats'";
    if (rawfield(L, -1, "queue_max") != LUA_TNIL) {
      int isint;
      lua_Integer q = lua_tointegerx(L, -1, &isint);
      if (!isint || q < 1 || q > 100000000)
        why = "'queue_max' must be a whole number from 1";
      else
        k->queue_max = (unsigned)q;
    }
    lua_pop(L, 1);
    if (rawfield(L, -1, "timeout_ms") != LUA_TNIL && !whole_in(L, -1, 1, INT_MAX, &k->timeout_ms))
      why = "'timeout_ms' must be a whole number of milliseconds from 1 to 2147483647";
    if (rawfield(L, -2, "retries") != LUA_TNIL && !whole_in(L, -1, 0, 1000, &k->retries))
      why = "'retries' must be a whole number from 0 to 1000";
    k->is_default = rawfield(L, -3, "default") != LUA_TNIL && lua_toboolean(L, -1);
    lua_pop(L, 4);
    if (why) {
      snprintf(err, cap, "sink '%s': %s", name, why);
      lua_pop(L, 1);
      free_sinks(v, n);
      return VG_EINVAL;
    }
  }
  *out = v;
  *nout = n;
  return 0;
}

/* Reads the `digests` table at the top of the stack: name = { schedule =
 * "0 8 * * mon", days = 7, template = "weekly", formats = {"md", "html",
 * "json"}, out = DIR, command = {argv}, catch_up = "latest" | "all" }.
 * Returns as load_sinks. */
static int load_digests(lua_State *L, vg_digest_conf **out, size_t *nout,
                        char *err, size_t cap) {
  size_t n = 0;
  vg_digest_conf *v = NULL;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    vg_digest_conf *nv = name && lua_istable(L, -1) ? realloc(v, (n + 1) * sizeof *v) : NULL;
    if (!nv) {
      snprintf(err, cap, "digests: each digest is name = { schedule = ..., ... }");
      lua_pop(L, 2);
      free_digests(v, n);
      return VG_EINVAL;
    }
    v = nv;
    vg_digest_conf *d = &v[n++];
    memset(d, 0, sizeof *d);
    d->name = copy_text(name);
    d->days = 1;
    d->formats = VG_DIGEST_MD | VG_DIGEST_HTML | VG_DIGEST_JSON;
    const char *why = NULL;
    if (rawfield(L, -1, "schedule") == LUA_TSTRING)
      d->schedule = copy_text(lua_tostring(L, -1));
    else
      why = "needs 'schedule', five cron fields";
    lua_pop(L, 1);
    if (rawfield(L, -1, "days") != LUA_TNIL) {
      int isint;
      lua_Integer days = lua_tointegerx(L, -1, &isint);
      if (!isint || days < 1 || days > 3660) why = "'days' must be a whole number from 1";
      d->days = (int)days;
    }
    lua_pop(L, 1);
    d->template =
        copy_text(rawfield(L, -1, "template") == LUA_TSTRING ? lua_tostring(L, -1) : name);
    lua_pop(L, 1);
    d->out = copy_text(rawfield(L, -1, "out") == LUA_TSTRING ? lua_tostring(L, -1) : NULL);
    lua_pop(L, 1); /* no `out`: vg_config_resolve derives it */
    if (rawfield(L, -1, "formats") != LUA_TNIL) {
      char **f = strings_at(L);
      d->formats = 0;
      for (size_t k = 0; f && f[k]; k++) {
        if (strcmp(f[k], "md") == 0 || strcmp(f[k], "markdown") == 0)
          d->formats |= VG_DIGEST_MD;
        else if (strcmp(f[k], "html") == 0)
          d->formats |= VG_DIGEST_HTML;
        else if (strcmp(f[k], "json") == 0)
          d->formats |= VG_DIGEST_JSON;
        else
          why = "'formats' lists md, html and json";
      }
      if (!f || !d->formats) why = "'formats' lists md, html and json";
      free_strings(f);
    }
    lua_pop(L, 1);
    if (rawfield(L, -1, "command") != LUA_TNIL && !(d->command = strings_at(L)))
      why = "'command' must be a list of strings: the program and its arguments";
    lua_pop(L, 1);
    if (rawfield(L, -1, "catch_up") != LUA_TNIL) {
      const char *cu = lua_tostring(L, -1);
      if (!cu || (strcmp(cu, "latest") && strcmp(cu, "all")))
        why = "'catch_up' is latest or all";
      else
        d->catch_up_all = strcmp(cu, "all") == 0;
    }
    lua_pop(L, 2);
    if (why) {
      snprintf(err, cap, "digest '%s' %s", name, why);
      lua_pop(L, 1);
      free_digests(v, n);
      return VG_EINVAL;
    }
  }
  *out = v;
  *nout = n;
  return 0;
}

/* Reads the `feeds` list at the top of the stack into c's feeds: { {url =
 * ..., interval = ..., source = ..., format = ..., follow_redirects = ...},
 * ... }, taking c's feed_interval and follow_redirects as their defaults.
 * Returns as load_sinks. */
static int load_feeds(lua_State *L, vg_config *c, char *err, size_t cap) {
  vg_config fed = {0};
  fed.feed_interval = c->feed_interval;
  fed.follow_redirects = c->follow_redirects;
  const char *why = lua_istable(L, -1) ? NULL : "'feeds' must be a list of {url = ...}";
  lua_Integer len = why ? 0 : (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= len && !why; i++) {
    if (lua_rawgeti(L, -1, i) != LUA_TTABLE)
      why = "each feed is {url = ..., interval = ...}";
    else if (rawfield(L, -1, "url") != LUA_TSTRING)
      why = "a feed needs a url";
    else {
      rawfield(L, -2, "source");
      rawfield(L, -3, "format");
      rawfield(L, -4, "interval");
      rawfield(L, -5, "follow_redirects");
      vg_feed_format f;
      vg_redirects redirects = fed.follow_redirects;
      const char *format = lua_tostring(L, -3), *follow = lua_tostring(L, -1);
      unsigned interval = 0;
      if (format && vg_feed_format_parse(format, &f) && !vg_tabular_find(format))
        why = "a feed's format is auto, rss, atom, json, chrono or a table format (acled, "
              "gdelt, or one the 'formats' table declares)";
      else if (!lua_isnil(L, -2) && !whole_in(L, -2, 1, INT_MAX, &interval))
        why = "a feed's interval is a whole number of seconds from 1 to 2147483647";
      else if (!lua_isnil(L, -1) && (!follow || vg_redirects_parse(follow, &redirects)))
        why = "a feed's follow_redirects is same-host, any or none";
      else {
        vg_config_add_feed(&fed, lua_tostring(L, -5), lua_tostring(L, -4), format, interval);
        fed.feeds[fed.nfeeds - 1].redirects = redirects;
      }
      lua_pop(L, 4);
    }
    lua_pop(L, 2);
  }
  if (why) {
    snprintf(err, cap, "%s", why);
    free_feeds(fed.feeds, fed.nfeeds);
    return VG_EINVAL;
  }
  free_feeds(c->feeds, c->nfeeds);
  c->feeds = fed.feeds;
  c->nfeeds = fed.nfeeds;
  return 0;
}

/* A string field of the table at the top of the stack, copied; NULL when
 * absent. Sets *why when it is there but no string. */
static char *string_field(lua_State *L, const char *name, const char **why) {
  int t = rawfield(L, -1, name);
  char *s = t == LUA_TSTRING ? strdup(lua_tostring(L, -1)) : NULL;
  if (t != LUA_TNIL && t != LUA_TSTRING && !*why) *why = "its fields are strings or lists of strings";
  lua_pop(L, 1);
  return s;
}

/* A list of strings field (a string alone counts as a list of one); NULL
 * when absent. */
static char **list_field(lua_State *L, const char *name, size_t *n, const char **why) {
  int t = rawfield(L, -1, name);
  char **v = NULL;
  *n = 0;
  if (t == LUA_TSTRING) {
    v = calloc(2, sizeof *v);
    if (v) v[(*n)++] = strdup(lua_tostring(L, -1));
  } else if (t == LUA_TTABLE) {
    size_t len = lua_rawlen(L, -1);
    v = calloc(len + 1, sizeof *v);
    for (size_t i = 1; v && i <= len; i++) {
      if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING) v[(*n)++] = strdup(lua_tostring(L, -1));
      else if (!*why) *why = "a list of columns holds strings only";
      lua_pop(L, 1);
    }
  } else if (t != LUA_TNIL && !*why) {
    *why = "its columns are a string or a list of strings";
  }
  lua_pop(L, 1);
  return v;
}

/* Reads one format, the table at the top of the stack, named name, and adds
 * it to the registry (tabular.h). 0, or VG_EINVAL with why in err. */
static int load_format(lua_State *L, const char *name, char *err, size_t cap) {
  static const char *const known[] = {"delimiter", "quote", "columns", "date", "date_layout",
                                      "text", "id", "source", "source_name", "edited", "suffix",
                                      NULL};
  const char *why = NULL;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int ok = 0;
    for (size_t i = 0; key && known[i]; i++) ok |= strcmp(key, known[i]) == 0;
    if (!ok) {
      snprintf(err, cap, "format '%s': unknown field '%.40s' (%s)", name, key ? key : "?",
               "delimiter, quote, columns, date, date_layout, text, id, source, source_name, "
               "edited or suffix");
      lua_pop(L, 2);
      return VG_EINVAL;
    }
    lua_pop(L, 1);
  }
  vg_tabular_format f = {.name = strdup(name), .delim = ','};
  char *delim = string_field(L, "delimiter", &why), *quote = string_field(L, "quote", &why);
  char *layout = string_field(L, "date_layout", &why);
  if (delim && (strcmp(delim, "tab") == 0 || strcmp(delim, "\t") == 0)) f.delim = '\t';
  else if (delim && strlen(delim) == 1) f.delim = delim[0];
  else if (delim && !why) why = "its delimiter is one byte (\",\", \";\", \"tab\"...)";
  f.quote = quote ? quote[0] : f.delim == '\t' ? 0 : '"';
  if (quote && strlen(quote) > 1 && !why) why = "its quote is one byte, or \"\" for none";
  if (layout && vg_date_layout_parse(layout, &f.layout) && !why)
    why = "its date_layout is any, YYYY-MM-DD, YYYYMMDD or unix";
  free(delim), free(quote), free(layout);
  f.columns = list_field(L, "columns", &f.ncolumns, &why);
  if (f.columns && !f.ncolumns) free(f.columns), f.columns = NULL;
  f.date = string_field(L, "date", &why);
  size_t nt;
  char **text = list_field(L, "text", &nt, &why);
  f.text = nt ? calloc(nt, sizeof *f.text) : NULL;
  for (size_t i = 0; f.text && i < nt; i++) f.text[i].column = text[i];
  f.ntext = f.text ? nt : 0;
  if (!f.text)
    for (size_t i = 0; i < nt; i++) free(text[i]);
  free(text);
  f.id = string_field(L, "id", &why);
  f.source = string_field(L, "source", &why);
  f.source_name = string_field(L, "source_name", &why);
  f.edited = string_field(L, "edited", &why);
  f.suffix = string_field(L, "suffix", &why);
  if (why) {
    snprintf(err, cap, "format '%s': %s", name, why);
    vg_tabular_format_clear(&f);
    return VG_EINVAL;
  }
  return vg_tabular_define(&f, err, cap);
}

/* Reads the `formats` table at the top of the stack: { NAME = { ... }, ...
 * }, each added to the registry; their names go to *names. Returns as
 * load_sinks. */
static int load_formats(lua_State *L, char ***names, char *err, size_t cap) {
  if (!lua_istable(L, -1)) {
    snprintf(err, cap, "'formats' must be a table { NAME = { date = ..., text = ... }, ... }");
    return VG_EINVAL;
  }
  char **v = NULL;
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int rc = 0;
    if (!name || !lua_istable(L, -1)) {
      snprintf(err, cap, "'formats' must be a table { NAME = { date = ..., text = ... }, ... }");
      rc = VG_EINVAL;
    } else {
      rc = load_format(L, name, err, cap);
    }
    char **nv = rc ? NULL : realloc(v, (n + 2) * sizeof *v);
    if (nv) {
      v = nv;
      v[n++] = strdup(name);
      v[n] = NULL;
    }
    if (!nv) {
      if (!rc) snprintf(err, cap, "out of memory");
      lua_pop(L, 2);
      free_strings(v);
      return VG_EINVAL;
    }
    lua_pop(L, 1);
  }
  *names = v;
  return 0;
}

/* Takes the value at the top of the stack for setting s into c, or notes
 * why not in p (line: where the file assigned it). Returns 0 or -1. */
static int take_lua(vg_config *c, const setting *s, lua_State *L, int line, problems *p) {
  char why[1024];
  const char *name = s->info.name;
  int t = lua_type(L, -1);
  switch (s->type) {
  case T_STRING:
  case T_FORMAT:
  case T_REDIRECTS:
    if (t == LUA_TNUMBER && strcmp(name, "nats_partition") == 0)
      lua_tolstring(L, -1, NULL); /* partition = 1: the number as text */
    t = lua_type(L, -1);
    if (t != LUA_TSTRING) {
      problem(p, line, "'%s' must be a string, not a %s", name, luaL_typename(L, -1));
      return -1;
    }
    if (set_text(c, s, lua_tostring(L, -1), why, sizeof why) == 0) return 0;
    break;
  case T_SIZE:
  case T_UINT:
  case T_LONG: {
    int isint = 0;
    lua_Integer v = t == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : 0;
    if (!isint) {
      problem(p, line, "'%s' must be a %s integer, not %s%s", name,
              s->type == T_SIZE ? "positive" : "non-negative",
              t == LUA_TNUMBER ? "a fraction" : "a ", t == LUA_TNUMBER ? "" : luaL_typename(L, -1));
      return -1;
    }
    if (take_number(c, s, (long long)v, why, sizeof why) == 0) return 0;
    break;
  }
  case T_FRACTION:
    if (t != LUA_TNUMBER) {
      problem(p, line, "'%s' must be a number from 0 to 1, not a %s", name,
              luaL_typename(L, -1));
      return -1;
    }
    if (take_fraction(c, s, lua_tonumber(L, -1), why, sizeof why) == 0) return 0;
    break;
  case T_PATHS: {
    char **list = t == LUA_TSTRING ? NULL : strings_at(L);
    if (t == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
      clear(c, s);
      append_path(field_of(c, s), lua_tostring(L, -1));
      return 0;
    }
    int empty = 0;
    for (size_t k = 0; list && list[k]; k++)
      empty |= !list[k][0];
    if (list && !empty) {
      clear(c, s);
      *(char ***)field_of(c, s) = list;
      return 0;
    }
    free_strings(list);
    snprintf(why, sizeof why, "'%s' must be a path or a list of paths (strings, not empty)", name);
    break;
  }
  case T_NATS: {
    if (t != LUA_TTABLE) {
      problem(p, line, "'nats' must be a table { url = ..., stream = ... }, not a %s",
              luaL_typename(L, -1));
      return -1;
    }
    int bad = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) { /* each field is the nats_ setting of its name */
      char flat[96];
      const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
      snprintf(flat, sizeof flat, "nats_%.80s", key ? key : "");
      int k = key ? vg_config_find(flat) : -1;
      if (k < 0 || settings[k].type == T_NATS) {
        problem(p, line, "nats: unknown field '%s' (url, stream, subjects, durable, filter, "
                "batch, dead_letter, partition, partition_by or partitions)",
                key ? key : "?");
        bad = -1;
      } else {
        if (take_lua(c, &settings[k], L, line, p)) bad = -1;
        else c->origin[k] = VG_ORIGIN_FILE;
      }
      lua_pop(L, 1);
    }
    return bad;
  }
  case T_FORMATS: {
    char **names = NULL;
    if (load_formats(L, &names, why, sizeof why) == 0) {
      clear(c, s);
      c->formats = names;
      return 0;
    }
    break;
  }
  case T_SINKS:
  case T_DIGESTS:
  case T_FEEDS: {
    if (t != LUA_TTABLE) {
      problem(p, line, "'%s' must be a table, not a %s", name, luaL_typename(L, -1));
      return -1;
    }
    if (check_entries(L, s->type, p, line)) return -1;
    vg_sink_conf *sinks;
    vg_digest_conf *digests;
    size_t n;
    if (s->type == T_SINKS && load_sinks(L, &sinks, &n, why, sizeof why) == 0) {
      clear(c, s);
      c->sinks = sinks, c->nsinks = n;
      return 0;
    }
    if (s->type == T_DIGESTS &&
        load_digests(L, &digests, &n, why, sizeof why) == 0) {
      clear(c, s);
      c->digests = digests, c->ndigests = n;
      return 0;
    }
    if (s->type == T_FEEDS && load_feeds(L, c, why, sizeof why) == 0) return 0;
    break;
  }
  }
  problem(p, line, "%s", why);
  return -1;
}

/* __newindex of the file's globals: sets the global and notes the line
 * that assigned it, in the table that is its upvalue. */
static int note_global(lua_State *L) {
  lua_Debug ar;
  int line = lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar) ? ar.currentline : 0;
  lua_settop(L, 3);
  lua_pushvalue(L, 2);
  lua_pushinteger(L, line);
  lua_rawset(L, lua_upvalueindex(1));
  lua_rawset(L, 1);
  return 0;
}

/* The line that assigned the global `name` (0: unknown); the table of lines is at 1. */
static int line_of(lua_State *L, const char *name) {
  rawfield(L, 1, name);
  int line = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return line;
}

/* What a configuration file may use, at most: it computes a few values, so
 * a file that loops or piles up memory is refused rather than left to hang
 * the command, or the daemon reading it again on SIGHUP. */
#define CONFIG_MEMORY (64u << 20)
#define CONFIG_BUDGET 10000000L /* instructions; the sandbox stops it after 10 s too */

/* Pushes what the file's globals read through to: the sandbox's safe
 * functions and libraries but os, as a table of its own. */
static void push_libraries(vg_sandbox *sb) {
  lua_State *L = sb->L;
  lua_newtable(L);
  vg_sandbox_push_safe(sb);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "os") == 0) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -5);
  }
  lua_pop(L, 1);
}

int vg_config_load(vg_config *c, const char *path, char *err, size_t cap) {
  /* The file runs in a sandbox (sandbox.h): no library that touches the
   * system or loads code, no finalizer, capped memory and instructions. */
  vg_sandbox *sb = vg_sandbox_new(CONFIG_MEMORY, CONFIG_BUDGET);
  if (!sb) {
    snprintf(err, cap, "%s: out of memory", path);
    return VG_ENOMEM;
  }
  lua_State *L = sb->L;
  /* The file's globals land in a table of their own (at 2), which reads
   * through to the libraries; the line of each assignment goes to 1. */
  lua_newtable(L);
  lua_newtable(L);
  lua_createtable(L, 0, 2);
  push_libraries(sb);
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, note_global, 1);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, 2);
  int rc = VG_EINVAL;
  problems p = {NULL, 0, path};
  vg_config next;
  copy_config(&next, c);
  int ran = luaL_loadfilex(L, path, "t") == LUA_OK;
  if (ran) {
    lua_pushvalue(L, 2);
    lua_setupvalue(L, -2, 1); /* its _ENV */
    ran = vg_sandbox_call(sb, 0, 0) == LUA_OK;
  }
  if (!ran) {
    const char *msg = lua_tostring(L, -1);
    /* A message without the file's name (a raised table, memory refused)
     * gets it; Lua shortens a long name to "...its end". */
    if (!msg) msg = "raised an error that is not a message";
    if (strncmp(msg, path, strlen(path)) == 0 || strncmp(msg, "...", 3) == 0)
      snprintf(err, cap, "%s", msg);
    else
      snprintf(err, cap, "%s: %s", path, msg);
    goto cleanup;
  }
  lua_settop(L, 2);
  lua_pushnil(L);
  while (lua_next(L, 2)) { /* the globals that are no setting */
    const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    if (!key) {
      problem(&p, 0, "a global that is no name (a %s) is no setting", luaL_typename(L, -2));
    } else if (vg_config_find(key) < 0) {
      const char *near = nearest(key, settings, NSETTINGS, sizeof *settings);
      if (near)
        problem(&p, line_of(L, key), "unknown setting '%s' (did you mean '%s'?)", key, near);
      else
        problem(&p, line_of(L, key),
                "unknown setting '%s' (a variable of the file's own is declared 'local')", key);
    }
    lua_pop(L, 1);
  }
  for (size_t i = 0; i < NSETTINGS; i++) {
    const setting *s = &settings[i];
    lua_pushstring(L, s->info.name);
    if (lua_rawget(L, 2) != LUA_TNIL && take_lua(&next, s, L, line_of(L, s->info.name), &p) == 0)
      next.origin[i] = VG_ORIGIN_FILE;
    lua_settop(L, 2);
  }
  char why[512];
  if (p.n) {
    say_problems(&p, err, cap);
  } else if (vg_config_check(&next, why, sizeof why)) {
    snprintf(err, cap, "%s: %s", path, why);
  } else {
    vg_config_set(&next.file, path);
    vg_config_free(c);
    *c = next;
    memset(&next, 0, sizeof next);
    rc = 0;
  }
cleanup:
  say_problems(&p, err, 0);
  vg_config_free(&next);
  vg_sandbox_free(sb);
  return rc;
}

/* Where the time zone files are (TZDIR, as the C library reads it). */
static const char *zone_dir(void) {
  const char *d = getenv("TZDIR");
  return d && d[0] ? d : "/usr/share/zoneinfo";
}

/* Whether name is a time zone the C library knows: a file of the zone
 * database. The library itself takes an unknown name for UTC, silently. */
static int known_zone(const char *name) {
  if (strcmp(name, "UTC") == 0) return 1;
  if (name[0] == '/' || strstr(name, "..")) return 0;
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", zone_dir(), name) >= (int)sizeof path) return 0;
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A token given inline (setting `iname`, value `inl`) or by the first line
 * of a file (setting `fname`, path `file`); see vg_config_tcp_token. */
static int read_token(const char *iname, const char *inl, const char *fname, const char *file,
                      char out[VG_TOKEN_MAX + 1], const char **warn, char *err, size_t cap) {
  char buf[VG_TOKEN_MAX + 2];
  const char *from = iname;
  size_t n = 0;
  out[0] = '\0';
  if (warn) *warn = NULL;
  if (inl[0] && file[0]) {
    snprintf(err, cap, "give %s or %s, not both", iname, fname);
    return VG_EINVAL;
  }
  if (file[0]) {
    from = file;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
      snprintf(err, cap, "%s %s: %s", fname, file, strerror(errno));
      if (fd >= 0) close(fd);
      return VG_EINVAL;
    }
    if (warn && (sb.st_mode & 0077))
      *warn = "other users may read it (chmod 600 it)";
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got < 0) {
      snprintf(err, cap, "%s %s: %s", fname, file, strerror(errno));
      return VG_EINVAL;
    }
    n = (size_t)got;
    buf[n] = '\0';
    char *eol = strpbrk(buf, "\r\n"); /* the first line alone */
    if (eol) *eol = '\0';
    n = strlen(buf);
  } else if (inl[0]) {
    n = strlen(inl);
    if (n <= VG_TOKEN_MAX) memcpy(buf, inl, n + 1);
  } else {
    return 0;
  }
  int bad = n < VG_TOKEN_MIN || n > VG_TOKEN_MAX;
  for (size_t i = 0; !bad && i < n; i++) bad = buf[i] <= ' ' || buf[i] > '~';
  if (bad) {
    snprintf(err, cap, "%s: a token is %d to %d printable characters without spaces",
             from, VG_TOKEN_MIN, VG_TOKEN_MAX);
    memset(buf, 0, sizeof buf);
    return VG_EINVAL;
  }
  memcpy(out, buf, n + 1);
  memset(buf, 0, sizeof buf);
  return (int)n;
}

int vg_config_tcp_token(const vg_config *c, char out[VG_TOKEN_MAX + 1], const char **warn,
                        char *err, size_t cap) {
  return read_token("tcp_token", c->tcp_token, "tcp_token_file", c->tcp_token_file, out, warn, err,
                    cap);
}

int vg_config_http_token(const vg_config *c, char out[VG_TOKEN_MAX + 1], const char **warn,
                         char *err, size_t cap) {
  return read_token("http_token", "", "http_token_file", c->http_token_file, out, warn, err, cap);
}

int vg_config_check_db(const char *db, char *err, size_t cap) {
  if (!db[0] || strcmp(db, ":memory:") == 0) {
    snprintf(err, cap,
             "db must name a file, not '%s': SQLite would keep the entries in %s, lost at exit", db,
             db[0] ? "memory" : "a temporary file");
    return VG_EINVAL;
  }
  if (strncmp(db, "file:", 5) == 0) {
    snprintf(err, cap,
             "db '%.200s' would be read by SQLite as a URI, not a file name; write ./%.200s for "
             "a file of that name",
             db, db);
    return VG_EINVAL;
  }
  return 0;
}

/* The nats_* settings make sense together (see vg_config_check). */
static int check_nats(const vg_config *c, char *err, size_t cap) {
  if (c->nats_url && c->nats_url[0] && !nats_url_ok(c->nats_url)) {
    snprintf(err, cap, "nats_url '%.200s' is no list of NATS servers (nats://HOST:PORT, several"
             " comma-separated)", c->nats_url);
    return VG_EINVAL;
  }
  if (!c->nats_stream || !jetstream_name(c->nats_stream)) {
    snprintf(err, cap, "nats_stream '%.64s' is no JetStream stream name (1 to 64 characters,"
             " without '.', '*', '>', '/' or spaces)", c->nats_stream ? c->nats_stream : "");
    return VG_EINVAL;
  }
  if (c->nats_durable && c->nats_durable[0] && !jetstream_name(c->nats_durable)) {
    snprintf(err, cap, "nats_durable '%.64s' is no consumer name (1 to 64 characters,"
             " without '.', '*', '>', '/' or spaces), or '' for the default", c->nats_durable);
    return VG_EINVAL;
  }
  size_t n = 0;
  for (; c->nats_subjects && c->nats_subjects[n]; n++)
    if (!subject_ok(c->nats_subjects[n], 1)) {
      snprintf(err, cap, "nats_subjects: '%.200s' is no subject (tokens split by '.', '*' for"
               " one token, '>' last for the rest)", c->nats_subjects[n]);
      return VG_EINVAL;
    }
  if (n == 0) {
    snprintf(err, cap, "nats_subjects must name at least one subject (default vigil.entries.>)");
    return VG_EINVAL;
  }
  if (c->nats_filter && c->nats_filter[0] && !subject_ok(c->nats_filter, 1)) {
    snprintf(err, cap, "nats_filter '%.200s' is no subject", c->nats_filter);
    return VG_EINVAL;
  }
  const char *dl = c->nats_dead_letter ? c->nats_dead_letter : "";
  if (dl[0] && !subject_ok(dl, 0)) {
    snprintf(err, cap, "nats_dead_letter '%.200s' is no subject one can publish to (tokens"
             " split by '.', without '*', '>' or spaces)", dl);
    return VG_EINVAL;
  }
  /* The subject the consumer takes must be one of the stream's, or the
   * consumer cannot be made. */
  char want[300] = "";
  long part = vg_config_partition(c);
  if (c->nats_filter && c->nats_filter[0] && !strpbrk(c->nats_filter, "*>"))
    snprintf(want, sizeof want, "%s", c->nats_filter);
  else if ((!c->nats_filter || !c->nats_filter[0]) && part >= 0)
    snprintf(want, sizeof want, "%s.%ld", VG_BUS_ENTRIES_PREFIX, part);
  int covered = !want[0];
  for (size_t i = 0; !covered && i < n; i++)
    covered = subject_matches(c->nats_subjects[i], want);
  if (!covered) {
    snprintf(err, cap, "the consumer would take '%.200s' (%s), which is none of the stream's"
             " subjects (nats_subjects)", want,
             c->nats_filter && c->nats_filter[0] ? "nats_filter" : "nats_partition");
    return VG_EINVAL;
  }
  for (size_t i = 0; dl[0] && i < n; i++)
    if (subject_matches(c->nats_subjects[i], dl)) {
      snprintf(err, cap, "nats_dead_letter '%.200s' is a subject of the stream of entries"
               " (nats_subjects '%.200s'): each reject would come back as an entry, for ever;"
               " pick a subject outside it", dl, c->nats_subjects[i]);
      return VG_EINVAL;
    }
  return 0;
}

int vg_config_check(const vg_config *c, char *err, size_t cap) {
  if (vg_log_level_parse(c->log_level) < 0) {
    snprintf(err, cap, "log_level must be debug, info, notice, warn or error, not '%s'",
             c->log_level);
    return VG_EINVAL;
  }
  if (vg_log_format_parse(c->log_format) < 0) {
    snprintf(err, cap, "log_format must be text or json, not '%s'", c->log_format);
    return VG_EINVAL;
  }
  if (strcmp(c->durability, "full") != 0 && strcmp(c->durability, "normal") != 0) {
    snprintf(err, cap, "durability must be full or normal, not '%s'", c->durability);
    return VG_EINVAL;
  }
  if (c->db && vg_config_check_db(c->db, err, cap)) return VG_EINVAL;
  if (c->feed_interval < 1) {
    snprintf(err, cap, "feed_interval must be at least 1 second");
    return VG_EINVAL;
  }
  if (c->max_line < 64) {
    snprintf(err, cap, "max_line must be at least 64 bytes");
    return VG_EINVAL;
  }
  if (c->timezone && c->timezone[0] && !known_zone(c->timezone)) {
    snprintf(err, cap,
             "timezone '%.64s' is not a known time zone (a name such as Asia/Seoul or UTC, "
             "from %s)",
             c->timezone, zone_dir());
    return VG_EINVAL;
  }
  if (vg_config_partition(c) < -1) {
    snprintf(err, cap, "nats_partition must be a whole number from 0 to %zu (nats_partitions - 1),"
             " or '' for all, not '%.32s'", c->nats_partitions - 1, c->nats_partition);
    return VG_EINVAL;
  }
  if (c->nats_partitions > VG_BUS_PARTITIONS_MAX) {
    snprintf(err, cap, "nats_partitions must be at most %d", VG_BUS_PARTITIONS_MAX);
    return VG_EINVAL;
  }
  if (c->nats_batch > 10000) {
    snprintf(err, cap, "nats_batch must be at most 10000");
    return VG_EINVAL;
  }
  return check_nats(c, err, cap);
}

const char *vg_config_durable(const vg_config *c, char *buf, size_t cap) {
  long p = vg_config_partition(c);
  if (c->nats_durable && c->nats_durable[0]) snprintf(buf, cap, "%s", c->nats_durable);
  else if (p >= 0) snprintf(buf, cap, "vigil-p%ld", p);
  else snprintf(buf, cap, "vigil");
  return buf;
}

long vg_config_partition(const vg_config *c) {
  const char *p = c->nats_partition ? c->nats_partition : "";
  if (!p[0]) return -1;
  char *end;
  errno = 0;
  long v = strtol(p, &end, 10);
  if (*end || errno || v < 0 || !isdigit((unsigned char)p[0]) || (size_t)v >= c->nats_partitions)
    return -2;
  return v;
}
