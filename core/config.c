/* config.c — defaults and the Lua configuration file; see config.h. */
#include "config.h"

#include "feed_parse.h"
#include "paths.h"
#include "vigil.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <limits.h>
#include <sys/stat.h>
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

void vg_config_defaults(vg_config *c) {
  memset(c, 0, sizeof *c); /* db, socket, spool, alerts_file, digests' out: derived */
  vg_config_set(&c->state_dir, "");
  vg_config_set(&c->socket_group, "");
  vg_config_set(&c->listen, ""); /* TCP only on request: the Unix socket has file modes */
  vg_config_set(&c->tcp_token, "");
  vg_config_set(&c->tcp_token_file, "");
  vg_config_set(&c->rules, vg_default_rules()); /* installed: its own */
  vg_config_set(&c->log_level, "info");
  vg_config_set(&c->log_format, "text");
  vg_config_set(&c->durability, "full");
  c->busy_timeout_ms = 10000; /* VG_STORE_BUSY_MS */
  c->format = VG_FORMAT_AUTO;
  c->max_line = 1 << 20;
  c->batch_max = 16384;
  c->batch_ms = 2;
  c->max_pending = 16384;
  c->rule_memory = 32u << 20;
  c->rule_budget = 1000000;
  c->rule_failures = 10;
  vg_config_set(&c->timezone, "UTC");
  c->feed_interval = 300;
  c->feed_max_body = 10u << 20;
  static const struct { const char *name, *schedule; int days; } shipped[] = {
      {"daily", "0 7 * * *", 1}, {"weekly", "0 8 * * mon", 7}};
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

static void free_strings(char **v) {
  for (size_t k = 0; v && v[k]; k++) free(v[k]);
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

/* The default source of a feed: its host and path, without the scheme. */
static char *feed_source(const char *url) {
  const char *s = strstr(url, "://");
  s = s ? s + 3 : url;
  char *out = strdup(s);
  if (!out) abort();
  size_t n = strlen(out);
  while (n && out[n - 1] == '/') out[--n] = '\0';
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

static void free_sinks(vg_sink_conf *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].name);
    free(v[i].file);
    for (size_t k = 0; v[i].command && v[i].command[k]; k++) free(v[i].command[k]);
    free(v[i].command);
  }
  free(v);
}

void vg_config_free(vg_config *c) {
  free(c->state_dir);
  free(c->db);
  free(c->socket);
  free(c->socket_group);
  free(c->listen);
  if (c->tcp_token) memset(c->tcp_token, 0, strlen(c->tcp_token));
  free(c->tcp_token);
  free(c->tcp_token_file);
  free(c->spool);
  free(c->rules);
  free(c->log_level);
  free(c->log_format);
  free(c->durability);
  free(c->alerts_file);
  free(c->timezone);
  free_sinks(c->sinks, c->nsinks);
  free_digests(c->digests, c->ndigests);
  free_feeds(c->feeds, c->nfeeds);
  memset(c, 0, sizeof *c);
}

/* The settings a file may assign, each with its type. */
typedef enum { T_STRING, T_SIZE, T_MS, T_LONG, T_FORMAT, T_REDIRECTS } kind;
typedef struct {
  const char *name;
  kind type;
  size_t offset;
} setting;

#define S(field, t) {#field, t, offsetof(vg_config, field)}
static const setting settings[] = {
    S(db, T_STRING),        S(socket, T_STRING),     S(listen, T_STRING),
    S(spool, T_STRING),     S(rules, T_STRING),      S(log_level, T_STRING),
    S(durability, T_STRING), S(format, T_FORMAT),    S(max_line, T_SIZE),
    S(batch_max, T_SIZE),   S(batch_ms, T_MS),       S(max_pending, T_SIZE),
    S(alerts_file, T_STRING), S(rule_memory, T_SIZE), S(rule_budget, T_LONG),
    S(rule_failures, T_MS),   S(timezone, T_STRING), S(feed_interval, T_MS),
    S(feed_max_body, T_SIZE), S(socket_group, T_STRING), S(busy_timeout_ms, T_MS),
    S(follow_redirects, T_REDIRECTS),
    S(tcp_token, T_STRING),   S(tcp_token_file, T_STRING),
    S(state_dir, T_STRING),
    S(log_format, T_STRING),
};
#undef S
#define NSETTINGS (sizeof settings / sizeof settings[0])

/* Whether the value at idx is a whole number from lo to hi; stores it. */
static int whole_in(lua_State *L, int idx, lua_Integer lo, lua_Integer hi, unsigned *out) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint || v < lo || v > hi) return 0;
  *out = (unsigned)v;
  return 1;
}

/* Reads the `sinks` table: name = { file = PATH } or { command = {argv},
 * timeout_ms = N, retries = N, queue_max = N }, with default = true to take
 * every alert. */
static int load_sinks(lua_State *L, const char *path, vg_sink_conf **out, size_t *nout,
                      char *err, size_t cap) {
  size_t n = 0;
  vg_sink_conf *v = NULL;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    vg_sink_conf *nv = name && lua_istable(L, -1) ? realloc(v, (n + 1) * sizeof *v) : NULL;
    if (!nv) {
      snprintf(err, cap, "%s: sinks: each sink is name = { file = ... } or { command = {...} }",
               path);
      lua_pop(L, 2);
      free_sinks(v, n);
      return VG_EINVAL;
    }
    v = nv;
    vg_sink_conf *k = &v[n++];
    memset(k, 0, sizeof *k);
    k->name = strdup(name);
    k->timeout_ms = 10000;
    k->retries = 3;
    k->queue_max = VG_SINK_QUEUE_MAX;
    const char *why = NULL;
    if (lua_getfield(L, -1, "file") == LUA_TSTRING) k->file = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "command") == LUA_TTABLE) {
      lua_Integer len = luaL_len(L, -1);
      k->command = calloc((size_t)len + 1, sizeof *k->command);
      for (lua_Integer i = 1; k->command && i <= len; i++) {
        if (lua_geti(L, -1, i) == LUA_TSTRING) k->command[i - 1] = strdup(lua_tostring(L, -1));
        else why = "'command' must be a list of strings: the program and its arguments";
        lua_pop(L, 1);
      }
      if (len == 0) why = "'command' must name a program";
    }
    lua_pop(L, 1);
    if (!why && !k->file == !k->command) why = "give either 'file' or 'command'";
    if (lua_getfield(L, -1, "queue_max") != LUA_TNIL) {
      int isint;
      lua_Integer q = lua_tointegerx(L, -1, &isint);
      if (!isint || q < 1 || q > 100000000) why = "'queue_max' must be a whole number from 1";
      else k->queue_max = (unsigned)q;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "timeout_ms") != LUA_TNIL &&
        !whole_in(L, -1, 1, INT_MAX, &k->timeout_ms))
      why = "'timeout_ms' must be a whole number of milliseconds from 1 to 2147483647";
    if (lua_getfield(L, -2, "retries") != LUA_TNIL && !whole_in(L, -1, 0, 1000, &k->retries))
      why = "'retries' must be a whole number from 0 to 1000";
    k->is_default = lua_getfield(L, -3, "default") != LUA_TNIL && lua_toboolean(L, -1);
    lua_pop(L, 4);
    if (why) {
      snprintf(err, cap, "%s: sink '%s': %s", path, name, why);
      lua_pop(L, 1);
      free_sinks(v, n);
      return VG_EINVAL;
    }
  }
  *out = v;
  *nout = n;
  return 0;
}

/* A list of strings at the top of the stack, NULL-ended; NULL if not one. */
static char **strings_at(lua_State *L) {
  if (!lua_istable(L, -1)) return NULL;
  lua_Integer len = luaL_len(L, -1);
  char **v = calloc((size_t)len + 1, sizeof *v);
  for (lua_Integer i = 1; v && i <= len; i++) {
    if (lua_geti(L, -1, i) != LUA_TSTRING) {
      lua_pop(L, 1);
      free_strings(v);
      return NULL;
    }
    v[i - 1] = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return v;
}

/* Reads the `digests` table: name = { schedule = "0 8 * * mon", days = 7,
 * template = "weekly", formats = {"md", "html", "json"}, out = DIR,
 * command = {argv}, catch_up = "latest" | "all" }. */
static int load_digests(lua_State *L, const char *path, vg_digest_conf **out, size_t *nout,
                        char *err, size_t cap) {
  size_t n = 0;
  vg_digest_conf *v = NULL;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    vg_digest_conf *nv = name && lua_istable(L, -1) ? realloc(v, (n + 1) * sizeof *v) : NULL;
    if (!nv) {
      snprintf(err, cap, "%s: digests: each digest is name = { schedule = ..., ... }", path);
      lua_pop(L, 2);
      free_digests(v, n);
      return VG_EINVAL;
    }
    v = nv;
    vg_digest_conf *d = &v[n++];
    memset(d, 0, sizeof *d);
    d->name = strdup(name);
    d->days = 1;
    d->formats = VG_DIGEST_MD | VG_DIGEST_HTML | VG_DIGEST_JSON;
    const char *why = NULL;
    if (lua_getfield(L, -1, "schedule") == LUA_TSTRING) d->schedule = strdup(lua_tostring(L, -1));
    else why = "needs 'schedule', five cron fields";
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "days") != LUA_TNIL) {
      int isint;
      lua_Integer days = lua_tointegerx(L, -1, &isint);
      if (!isint || days < 1 || days > 3660) why = "'days' must be a whole number from 1";
      d->days = (int)days;
    }
    lua_pop(L, 1);
    d->template = strdup(lua_getfield(L, -1, "template") == LUA_TSTRING ? lua_tostring(L, -1) : name);
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "out") == LUA_TSTRING && !(d->out = strdup(lua_tostring(L, -1))))
      why = "out of memory";
    lua_pop(L, 1); /* no `out`: vg_config_resolve derives it */
    if (lua_getfield(L, -1, "formats") != LUA_TNIL) {
      char **f = strings_at(L);
      d->formats = 0;
      for (size_t k = 0; f && f[k]; k++) {
        if (strcmp(f[k], "md") == 0 || strcmp(f[k], "markdown") == 0) d->formats |= VG_DIGEST_MD;
        else if (strcmp(f[k], "html") == 0) d->formats |= VG_DIGEST_HTML;
        else if (strcmp(f[k], "json") == 0) d->formats |= VG_DIGEST_JSON;
        else why = "'formats' lists md, html and json";
      }
      if (!f || !d->formats) why = "'formats' lists md, html and json";
      free_strings(f);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "command") != LUA_TNIL && !(d->command = strings_at(L)))
      why = "'command' must be a list of strings: the program and its arguments";
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "catch_up") != LUA_TNIL) {
      const char *cu = lua_tostring(L, -1);
      if (!cu || (strcmp(cu, "latest") && strcmp(cu, "all"))) why = "'catch_up' is latest or all";
      else d->catch_up_all = strcmp(cu, "all") == 0;
    }
    lua_pop(L, 2);
    if (why || !d->name || !d->template) {
      snprintf(err, cap, "%s: digest '%s' %s", path, name, why ? why : "out of memory");
      lua_pop(L, 1);
      free_digests(v, n);
      return VG_EINVAL;
    }
  }
  *out = v;
  *nout = n;
  return 0;
}

int vg_config_load(vg_config *c, const char *path, char *err, size_t cap) {
  lua_State *L = luaL_newstate();
  if (!L) {
    snprintf(err, cap, "%s: out of memory", path);
    return VG_ENOMEM;
  }
  /* Only pure libraries: a config file computes values, it does no I/O. */
  luaL_requiref(L, "_G", luaopen_base, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  lua_settop(L, 0);
  static const char *const unsafe[] = {"dofile", "loadfile", "load", "require", "collectgarbage"};
  for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
    lua_pushnil(L);
    lua_setglobal(L, unsafe[i]);
  }
  int rc = VG_EINVAL;
  vg_config next = *c; /* strings are shared until replaced below */
  char *fresh[NSETTINGS] = {0};
  if (luaL_loadfilex(L, path, "t") || lua_pcall(L, 0, 0, 0)) {
    const char *msg = lua_tostring(L, -1);
    snprintf(err, cap, "%s", msg ? msg : "the file raised an error that is not a message");
    if (!msg) snprintf(err, cap, "%s: raised an error that is not a message", path);
    goto cleanup;
  }
  for (size_t i = 0; i < NSETTINGS; i++) {
    const setting *s = &settings[i];
    int t = lua_getglobal(L, s->name);
    char *field = (char *)&next + s->offset;
    if (t == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    if (s->type == T_STRING || s->type == T_FORMAT || s->type == T_REDIRECTS) {
      if (t != LUA_TSTRING) {
        snprintf(err, cap, "%s: '%s' must be a string", path, s->name);
        goto cleanup;
      }
      const char *v = lua_tostring(L, -1);
      if (s->type == T_REDIRECTS) {
        if (vg_redirects_parse(v, (vg_redirects *)(void *)field)) {
          snprintf(err, cap, "%s: '%s' must be same-host, any or none, not '%s'", path, s->name, v);
          goto cleanup;
        }
      } else if (s->type == T_FORMAT) {
        if (vg_format_parse(v, (vg_format *)(void *)field)) {
          snprintf(err, cap, "%s: 'format' must be auto, chrono or json, not '%s'", path, v);
          goto cleanup;
        }
      } else {
        if (!(fresh[i] = strdup(v))) goto cleanup;
        *(char **)(void *)field = fresh[i];
      }
    } else {
      int isnum;
      lua_Integer v = lua_tointegerx(L, -1, &isnum);
      if (!isnum || v < 0 || (s->type == T_SIZE && v == 0)) {
        snprintf(err, cap, "%s: '%s' must be a %s integer", path, s->name,
                 s->type == T_SIZE ? "positive" : "non-negative");
        goto cleanup;
      }
      if (s->type == T_MS && v > INT_MAX) { /* never wrapped into a small number */
        snprintf(err, cap, "%s: '%s' must be at most %d, not %lld", path, s->name, INT_MAX,
                 (long long)v);
        goto cleanup;
      }
      if (s->type == T_SIZE) *(size_t *)(void *)field = (size_t)v;
      else if (s->type == T_LONG) *(long *)(void *)field = (long)v;
      else *(unsigned *)(void *)field = (unsigned)v;
    }
    lua_pop(L, 1);
  }
  vg_sink_conf *sinks = NULL;
  size_t nsinks = 0;
  int has_sinks = lua_getglobal(L, "sinks") != LUA_TNIL;
  if (has_sinks && (!lua_istable(L, -1) || load_sinks(L, path, &sinks, &nsinks, err, cap))) {
    if (!lua_istable(L, -1)) snprintf(err, cap, "%s: 'sinks' must be a table", path);
    goto cleanup;
  }
  lua_pop(L, 1);
  vg_digest_conf *digests = NULL;
  size_t ndigests = 0;
  int has_digests = lua_getglobal(L, "digests") != LUA_TNIL;
  if (has_digests &&
      (!lua_istable(L, -1) || load_digests(L, path, &digests, &ndigests, err, cap))) {
    if (!lua_istable(L, -1)) snprintf(err, cap, "%s: 'digests' must be a table", path);
    free_sinks(sinks, nsinks);
    goto cleanup;
  }
  lua_pop(L, 1);
  /* feeds = { {url = ..., interval = ..., source = ..., format = ...,
   *            follow_redirects = ...}, ... } */
  vg_config fed = {0};
  fed.feed_interval = next.feed_interval;
  fed.follow_redirects = next.follow_redirects;
  int has_feeds = lua_getglobal(L, "feeds") != LUA_TNIL;
  if (has_feeds) {
    const char *why = lua_istable(L, -1) ? NULL : "'feeds' must be a list of {url = ...}";
    lua_Integer len = why ? 0 : luaL_len(L, -1);
    for (lua_Integer i = 1; i <= len && !why; i++) {
      if (lua_geti(L, -1, i) != LUA_TTABLE) why = "each feed is {url = ..., interval = ...}";
      else if (lua_getfield(L, -1, "url") != LUA_TSTRING) why = "a feed needs a url";
      else {
        lua_getfield(L, -2, "source");
        lua_getfield(L, -3, "format");
        lua_getfield(L, -4, "interval");
        lua_getfield(L, -5, "follow_redirects");
        vg_feed_format f;
        vg_redirects redirects = fed.follow_redirects;
        const char *format = lua_tostring(L, -3), *follow = lua_tostring(L, -1);
        unsigned interval = 0;
        if (format && vg_feed_format_parse(format, &f))
          why = "a feed's format is auto, rss, atom, json or chrono";
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
      snprintf(err, cap, "%s: %s", path, why);
      free_feeds(fed.feeds, fed.nfeeds);
      free_sinks(sinks, nsinks);
      free_digests(digests, ndigests);
      goto cleanup;
    }
  }
  lua_pop(L, 1);
  char why[256];
  if ((rc = vg_config_check(&next, why, sizeof why)) != 0) {
    free_feeds(fed.feeds, fed.nfeeds);
    snprintf(err, cap, "%s: %s", path, why);
    free_sinks(sinks, nsinks);
    free_digests(digests, ndigests);
  } else {
    if (has_sinks) {
      free_sinks(c->sinks, c->nsinks);
      next.sinks = sinks;
      next.nsinks = nsinks;
    }
    if (has_digests) {
      free_digests(c->digests, c->ndigests);
      next.digests = digests;
      next.ndigests = ndigests;
    }
    if (has_feeds) {
      free_feeds(c->feeds, c->nfeeds);
      next.feeds = fed.feeds;
      next.nfeeds = fed.nfeeds;
    }
    for (size_t i = 0; i < NSETTINGS; i++) /* free the strings that were replaced */
      if (fresh[i]) free(*(char **)(void *)((char *)c + settings[i].offset));
    *c = next;
  }
cleanup:
  if (rc)
    for (size_t i = 0; i < NSETTINGS; i++) free(fresh[i]);
  lua_close(L);
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

int vg_config_tcp_token(const vg_config *c, char out[VG_TOKEN_MAX + 1], const char **warn,
                        char *err, size_t cap) {
  char buf[VG_TOKEN_MAX + 2];
  const char *from = "tcp_token";
  size_t n = 0;
  out[0] = '\0';
  if (warn) *warn = NULL;
  if (c->tcp_token[0] && c->tcp_token_file[0]) {
    snprintf(err, cap, "give tcp_token or tcp_token_file, not both");
    return VG_EINVAL;
  }
  if (c->tcp_token_file[0]) {
    from = c->tcp_token_file;
    int fd = open(c->tcp_token_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
      snprintf(err, cap, "tcp_token_file %s: %s", c->tcp_token_file, strerror(errno));
      if (fd >= 0) close(fd);
      return VG_EINVAL;
    }
    if (warn && (sb.st_mode & 0077))
      *warn = "other users may read it (chmod 600 it)";
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got < 0) {
      snprintf(err, cap, "tcp_token_file %s: %s", c->tcp_token_file, strerror(errno));
      return VG_EINVAL;
    }
    n = (size_t)got;
    buf[n] = '\0';
    char *eol = strpbrk(buf, "\r\n"); /* the first line alone */
    if (eol) *eol = '\0';
    n = strlen(buf);
  } else if (c->tcp_token[0]) {
    n = strlen(c->tcp_token);
    if (n <= VG_TOKEN_MAX) memcpy(buf, c->tcp_token, n + 1);
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

int vg_config_check(const vg_config *c, char *err, size_t cap) {
  if (vg_log_level_parse(c->log_level) < 0) {
    snprintf(err, cap, "log_level must be debug, info, notice, warn or error, not '%s'", c->log_level);
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
  if (c->db && !c->db[0]) {
    snprintf(err, cap, "db must name a file");
    return VG_EINVAL;
  }
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
  return 0;
}
