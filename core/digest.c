/* digest.c — due periods, the template API, and writing the formats. */
#include "digest.h"

#include "entry.h"

#include "date.h"
#include "embedded.h"
#include "lua_json.h"
#include "paths.h"
#include "sandbox.h"
#include "vigil.h"

#include <cJSON.h>
#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIGEST_MEMORY (64u << 20)   /* bytes the template's Lua state may use */
#define DIGEST_BUDGET 200000000L    /* instructions a template may run */

vg_period vg_digest_period_of_day(const vg_digest_conf *d, int32_t day) {
  vg_period p = {day - d->days, day - 1};
  return p;
}

vg_period vg_digest_period(const vg_digest_conf *d, time_t t) {
  struct tm tm;
  localtime_r(&t, &tm);
  return vg_digest_period_of_day(d, vg_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday));
}

int vg_digest_due(const vg_digest_conf *d, const vg_cron *c, int32_t last_day, time_t now,
                  time_t *runs, int max) {
  int n = 0;
  if (!d->catch_up_all && max > 1) max = 1;
  int32_t newer = INT32_MAX; /* the period of the run kept last: one run a period */
  for (time_t t = vg_cron_prev(c, now); t != (time_t)-1 && n < max; t = vg_cron_prev(c, t - 60)) {
    int32_t p = vg_digest_period(d, t).last;
    if (p <= last_day) break;
    if (p == newer) continue; /* the same period, from an earlier run that day */
    newer = p;
    runs[n++] = t;
  }
  for (int i = 0; i < n / 2; i++) { /* oldest first */
    time_t x = runs[i];
    runs[i] = runs[n - 1 - i];
    runs[n - 1 - i] = x;
  }
  return n;
}

/* ---- the API templates read the store through ---- */

typedef struct {
  vg_store *st;
  vg_period p;
  int days;
  const char *name; /* the digest's */
} render_ctx;

static render_ctx *ctx_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

static void set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v ? v : "");
  lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

/* A "a,b,c" list as a Lua list of strings (or of integers). */
static void push_list(lua_State *L, const char *s, int numbers) {
  lua_newtable(L);
  lua_Integer i = 0;
  for (const char *p = s; p && *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (numbers) lua_pushinteger(L, strtoll(p, NULL, 10));
    else lua_pushlstring(L, p, len);
    lua_rawseti(L, -2, ++i);
    p = end ? end + 1 : NULL;
  }
}

/* Lists entries as d.entries gives them: one item per event, its first
 * report in date order, that names the sources of all its reports. */
typedef struct {
  lua_State *L;
  vg_store *st;
  int list;     /* stack index of the list made */
  int by_event; /* stack index of a table: event id -> its item */
} lister;

static int push_entry(void *ud, const vg_row *r) {
  lister *ls = ud;
  lua_State *L = ls->L;
  int64_t event = vg_entry_event(r->text, r->text_len, r->day_first, r->day_last);
  if (vg_store_entry_event(ls->st, r->id, &event) < 0) return VG_EDB;
  char key[24];
  snprintf(key, sizeof key, "%lld", (long long)event);
  if (lua_getfield(L, ls->by_event, key) == LUA_TTABLE) {
    /* Another report of an event listed already: its source, once. */
    lua_getfield(L, -1, "sources");
    int known = 0;
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n && !known; i++) {
      lua_rawgeti(L, -1, i);
      known = strcmp(lua_tostring(L, -1), r->source) == 0;
      lua_pop(L, 1);
    }
    if (!known) {
      lua_pushstring(L, r->source);
      lua_rawseti(L, -2, n + 1);
    }
    lua_pop(L, 1); /* the sources */
    lua_getfield(L, -1, "reports");
    lua_Integer reports = lua_tointeger(L, -1);
    lua_pop(L, 1);
    set_int(L, "reports", reports + 1);
    lua_pop(L, 1);
    return 0;
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, 12);
  set_int(L, "id", r->id);
  set_str(L, "date", r->date);
  set_str(L, "precision", r->precision);
  set_int(L, "day", r->day_first);
  set_int(L, "last_day", r->day_last);
  lua_pushlstring(L, r->text, r->text_len);
  lua_setfield(L, -2, "text");
  set_str(L, "source", r->source);
  set_str(L, "event", key);
  set_int(L, "reports", 1);
  lua_createtable(L, 1, 0);
  lua_pushstring(L, r->source);
  lua_rawseti(L, -2, 1);
  lua_setfield(L, -2, "sources");
  push_list(L, r->tags, 0);
  lua_setfield(L, -2, "tags");
  lua_pushvalue(L, -1);
  lua_setfield(L, ls->by_event, key);
  lua_rawseti(L, ls->list, (lua_Integer)lua_rawlen(L, ls->list) + 1);
  return 0;
}

static const char *opt_string(lua_State *L, const char *k) {
  if (!lua_istable(L, 1)) return NULL;
  lua_getfield(L, 1, k);
  const char *v = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1); /* the string stays in the table */
  return v;
}

/* d.entries{tag = ..., source = ..., limit = ...}: the entries whose date
 * overlaps the period, in date order, an event once: the reports of one
 * event (core/events.c) are one item, the first of them, with `sources`
 * (every report's, in date order), `reports` (how many) and `event` (its
 * id). The limit counts entries read. */
static int api_entries(lua_State *L) {
  render_ctx *c = ctx_of(L);
  vg_query q = {.has_since = 1, .since = c->p.first, .has_until = 1, .until = c->p.last};
  q.tag = opt_string(L, "tag");
  q.source = opt_string(L, "source");
  if (lua_istable(L, 1)) {
    lua_getfield(L, 1, "limit");
    q.limit = (long)luaL_optinteger(L, -1, 0);
    lua_pop(L, 1);
  }
  lua_newtable(L);
  lister ls = {L, c->st, lua_gettop(L), lua_gettop(L) + 1};
  lua_newtable(L);
  if (vg_store_query(c->st, &q, push_entry, &ls)) return luaL_error(L, "%s", vg_store_errmsg(c->st));
  lua_pop(L, 1);
  return 1;
}

static int push_alert(void *ud, const vg_alert_row *a) {
  lua_State *L = ud;
  lua_createtable(L, 0, 8);
  set_int(L, "id", a->id);
  set_str(L, "rule", a->rule);
  set_str(L, "key", a->key);
  set_str(L, "severity", a->severity);
  set_str(L, "message", a->message);
  set_str(L, "date", a->date);
  vg_date d;
  char err[64];
  if (vg_date_parse(a->date, strlen(a->date), &d, err, sizeof err) == 0) set_int(L, "day", d.first);
  push_list(L, a->entries, 1);
  lua_setfield(L, -2, "entries");
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  return 0;
}

/* d.alerts{rule = ...}: the alerts dated in the period, in date order. */
static int api_alerts(lua_State *L) {
  render_ctx *c = ctx_of(L);
  vg_alert_query q = {.has_since = 1, .has_until = 1, .since = c->p.first, .until = c->p.last,
                      .rule = opt_string(L, "rule")};
  lua_newtable(L);
  if (vg_store_alerts(c->st, &q, push_alert, L)) return luaL_error(L, "%s", vg_store_errmsg(c->st));
  return 1;
}

static int add_count(void *ud, const char *tag, long long count, long long before) {
  lua_State *L = ud;
  lua_createtable(L, 0, 3);
  set_str(L, "tag", tag);
  set_int(L, "count", count);
  set_int(L, "previous", before);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  return 0;
}

/* d.counts(): by tag name, {tag, count, previous}: how many events carry
 * it in the period, and in the period of the same length just before (the
 * reports of one event count once). */
static int api_counts(lua_State *L) {
  render_ctx *c = ctx_of(L);
  lua_newtable(L);
  if (vg_store_tag_counts(c->st, c->p.first, c->p.last, c->p.first - c->days, c->p.first - 1,
                          add_count, L))
    return luaL_error(L, "%s", vg_store_errmsg(c->st));
  return 1;
}

/* The first-step entry an item of d.absences or d.changes names, as a
 * table {id, date, text}, or nothing when it is not known. */
static void set_entry(lua_State *L, int64_t id, const char *date, const char *text) {
  if (id <= 0) return;
  lua_createtable(L, 0, 3);
  set_int(L, "id", id);
  if (date) set_str(L, "date", date);
  if (text) set_str(L, "text", text);
  lua_setfield(L, -2, "entry");
}

static int push_absence(void *ud, const vg_absence_closed *a) {
  lua_State *L = ud;
  lua_createtable(L, 0, 8);
  set_int(L, "alert", a->alert_id);
  set_str(L, "rule", a->rule);
  set_str(L, "severity", a->severity);
  set_str(L, "message", a->message);
  char day[11];
  vg_day_format(a->deadline, day);
  set_str(L, "deadline", day);
  set_int(L, "deadline_day", a->deadline);
  set_entry(L, a->entry, a->date, a->text);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  return 0;
}

/* d.absences(): what did not happen: the absence rules' alerts in force
 * whose window closed in the period (its deadline, the last day an answer
 * could fall on, is a day of the period), by deadline. Each is {alert,
 * rule, severity, message, deadline, deadline_day, entry = {id, date,
 * text}} (entry: the first step, the one nothing answered). */
static int api_absences(lua_State *L) {
  render_ctx *c = ctx_of(L);
  lua_newtable(L);
  if (vg_store_absences_closed(c->st, c->p.first, c->p.last, push_absence, L))
    return luaL_error(L, "%s", vg_store_errmsg(c->st));
  return 1;
}

static int push_change(void *ud, const vg_alert_change *ch) {
  lua_State *L = ud;
  lua_createtable(L, 0, 10);
  set_int(L, "seq", ch->seq);
  set_str(L, "at", ch->at);
  set_str(L, "kind", ch->kind);
  set_int(L, "version", ch->version);
  set_int(L, "alert", ch->alert_id);
  if (ch->rule) set_str(L, "rule", ch->rule);
  if (ch->severity) set_str(L, "severity", ch->severity);
  if (ch->message) set_str(L, "message", ch->message);
  if (ch->reason && strcmp(ch->kind, "retract") == 0) set_str(L, "reason", ch->reason);
  set_entry(L, ch->entry, ch->date, ch->text);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  return 0;
}

/* d.changes(): what changed since the previous digest of this name (the
 * latest run recorded for an earlier period; for the first, the start of
 * the period, local midnight): the alerts amended or retracted since, one
 * item a change in the order they were made, up to when this period's
 * digest ran if it ran before (a digest written again says what it said;
 * vg_store_alert_changes says how the second a run was recorded in
 * counts).
 * Each is {seq, at, kind ("amend" | "retract"), version, alert, rule,
 * severity, message, reason (a retraction's), entry = {id, date, text}
 * (the entry that caused it, when known)}. Returns the list, the time it
 * starts after (ISO 8601 UTC), and whether that is a previous run's. */
static int api_changes(lua_State *L) {
  render_ctx *c = ctx_of(L);
  char last[11], before[VG_UTC_ISO_MAX], own[VG_UTC_ISO_MAX];
  vg_day_format(c->p.last, last);
  if (vg_store_digest_bounds(c->st, c->name, last, before, own))
    return luaL_error(L, "%s", vg_store_errmsg(c->st));
  int previous = before[0] != '\0';
  if (!previous) {
    int y, m, d;
    vg_civil_from_days(c->p.first, &y, &m, &d);
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
    vg_utc_iso(mktime(&tm), before);
  }
  lua_newtable(L);
  if (vg_store_alert_changes(c->st, before, own[0] ? own : NULL, push_change, L))
    return luaL_error(L, "%s", vg_store_errmsg(c->st));
  lua_pushstring(L, before);
  lua_pushboolean(L, previous);
  return 3;
}

static void push_day(lua_State *L, const char *k, int32_t day) {
  char buf[11];
  vg_day_format(day, buf);
  set_str(L, k, buf);
}

/* ---- rendering ---- */

static const char *embedded(const char *name) {
  for (int i = 0; i < vg_scripts_count; i++)
    if (strcmp(vg_scripts[i].name, name) == 0) return vg_scripts[i].text;
  return NULL;
}

static int write_atomically(const char *path, const char *text, size_t len, char *err, size_t cap) {
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
    snprintf(err, cap, "%s: path too long", path);
    return VG_EINVAL;
  }
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(text, 1, len, f) == len;
  if (f) ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok, ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return VG_EIO;
  }
  return 0;
}

/* Loads the template: a shipped name (daily) or a path to a .lua file. Its
 * chunk runs in a sandbox environment and returns function(d) -> document. */
static int load_template(lua_State *L, vg_sandbox *sb, const char *tpl, char *err, size_t cap) {
  int rc;
  if (strchr(tpl, '/') || strstr(tpl, ".lua")) {
    rc = luaL_loadfilex(L, tpl, "t");
  } else {
    char name[300];
    snprintf(name, sizeof name, "digests/%s.lua", tpl);
    const char *text = embedded(name);
    if (!text) {
      snprintf(err, cap, "no template '%s': name a shipped one (daily, weekly) or a .lua file", tpl);
      return VG_EINVAL;
    }
    char chunk[320];
    snprintf(chunk, sizeof chunk, "=scripts/%s", name);
    rc = luaL_loadbufferx(L, text, strlen(text), chunk, "t");
  }
  if (rc == LUA_OK) {
    vg_sandbox_push_env(sb);
    lua_setupvalue(L, -2, 1);
    rc = vg_sandbox_call(sb, 0, 1);
  }
  if (rc != LUA_OK || !lua_isfunction(L, -1)) {
    snprintf(err, cap, "template %s: %s", tpl,
             rc != LUA_OK ? lua_tostring(L, -1) : "must return function(d) giving the document");
    return VG_EINVAL;
  }
  return 0;
}

int vg_digest_render(vg_store *st, const vg_digest_conf *d, vg_period p, const char *out_dir,
                     int record, char **files, char *err, size_t cap) {
  *files = NULL;
  vg_sandbox *sb = vg_sandbox_new(DIGEST_MEMORY, DIGEST_BUDGET);
  if (!sb) {
    snprintf(err, cap, "out of memory");
    return VG_ENOMEM;
  }
  lua_State *L = sb->L;
  render_ctx c = {st, p, d->days, d->name};
  int rc = VG_EINVAL;
  char first[11], last[11];
  vg_day_format(p.first, first);
  vg_day_format(p.last, last);
  /* The API, in the safe table so the template sees it as `digest` too. */
  vg_sandbox_push_safe(sb);
  lua_createtable(L, 0, 6);
  set_str(L, "name", d->name);
  lua_createtable(L, 0, 5);
  push_day(L, "first", p.first);
  push_day(L, "last", p.last);
  set_int(L, "first_day", p.first);
  set_int(L, "last_day", p.last);
  set_int(L, "days", d->days);
  lua_setfield(L, -2, "period");
  static const luaL_Reg api[] = {
      {"entries", api_entries},   {"alerts", api_alerts},   {"counts", api_counts},
      {"absences", api_absences}, {"changes", api_changes}, {NULL, NULL}};
  lua_pushlightuserdata(L, &c);
  luaL_setfuncs(L, api, 1);
  int api_idx = lua_gettop(L);
  lua_pushvalue(L, api_idx);
  lua_setfield(L, -3, "digest");
  if (load_template(L, sb, d->template, err, cap)) goto done;
  lua_pushvalue(L, api_idx);
  int called = vg_sandbox_call(sb, 1, 1) == LUA_OK;
  if (!called || !lua_istable(L, -1)) {
    snprintf(err, cap, "template %s: %s", d->template,
             called ? "its function must give a document table" : lua_tostring(L, -1));
    goto done;
  }
  int doc = lua_gettop(L);
  /* The renderers are shipped code: trusted, with the whole standard library. */
  const char *renderer = embedded("digest.lua");
  sb->budget = 0;
  if (!renderer || luaL_loadbufferx(L, renderer, strlen(renderer), "=scripts/digest.lua", "t") ||
      lua_pcall(L, 0, 1, 0) != LUA_OK) {
    snprintf(err, cap, "renderer: %s", renderer ? lua_tostring(L, -1) : "not embedded");
    goto done;
  }
  int lib = lua_gettop(L);
  const char *out = out_dir ? out_dir : d->out;
  vg_make_dirs(out, 1);
  static const struct { int bit; const char *ext, *fn; } formats[] = {
      {VG_DIGEST_MD, "md", "markdown"}, {VG_DIGEST_HTML, "html", "html"}, {VG_DIGEST_JSON, "json", NULL}};
  luaL_Buffer list;
  luaL_buffinit(L, &list);
  rc = 0;
  for (int i = 0; i < 3 && rc == 0; i++) {
    if (!(d->formats & formats[i].bit)) continue;
    char path[4200];
    if (p.first == p.last)
      snprintf(path, sizeof path, "%s/%s-%s.%s", out, d->name, last, formats[i].ext);
    else
      snprintf(path, sizeof path, "%s/%s-%s_%s.%s", out, d->name, first, last, formats[i].ext);
    size_t len;
    const char *text;
    char *json = NULL;
    if (formats[i].fn) {
      lua_getfield(L, lib, formats[i].fn);
      lua_pushvalue(L, doc);
      if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isstring(L, -1)) {
        snprintf(err, cap, "rendering %s: %s", formats[i].ext,
                 lua_isstring(L, -1) ? lua_tostring(L, -1) : "no text");
        rc = VG_EINVAL;
        break;
      }
      text = lua_tolstring(L, -1, &len);
    } else {
      cJSON *j = vg_lua_to_json(L, doc);
      char *printed = j ? cJSON_Print(j) : NULL;
      cJSON_Delete(j);
      json = printed ? malloc(strlen(printed) + 2) : NULL;
      if (!json) {
        cJSON_free(printed);
        snprintf(err, cap, "out of memory");
        rc = VG_ENOMEM;
        break;
      }
      len = strlen(printed);
      memcpy(json, printed, len);
      json[len++] = '\n';
      json[len] = '\0';
      cJSON_free(printed);
      text = json;
    }
    rc = write_atomically(path, text, len, err, cap);
    free(json);
    if (formats[i].fn) lua_pop(L, 1);
    if (rc == 0) {
      /* the buffer sits on the stack under what the loop pushes: add after the pops */
      luaL_addstring(&list, path);
      luaL_addchar(&list, '\n');
    }
  }
  luaL_pushresult(&list);
  *files = strdup(lua_tostring(L, -1));
  if (rc && *files) { /* all the formats or none: remove what was written */
    char *save = NULL;
    for (char *f = strtok_r(*files, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) unlink(f);
    (*files)[0] = '\0';
  }
  if (rc == 0 && record && vg_store_digest_ran(st, d->name, first, last, *files)) {
    snprintf(err, cap, "recording the run: %s", vg_store_errmsg(st));
    rc = VG_EDB;
  }
done:
  vg_sandbox_free(sb);
  return rc;
}
