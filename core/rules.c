/* rules.c — loading rule files, ordering rules, running them on entries.
 *
 * One sandboxed Lua state holds every rule. Each file runs in its own
 * environment, so files cannot see each other's globals; `rule` and `test`
 * (C functions in the safe table) record declarations against the file
 * being loaded. The state is rebuilt from scratch on each load, and the
 * last good text of every file is kept so that a broken edit falls back. */
#include "rules.h"

#include "embedded.h"
#include "lua_json.h"
#include "lua_sense.h"
#include "rules_impl.h"

#include "events.h"
#include "vigil.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#define TAG_MAX 64        /* bytes in a tag */
#define MESSAGE_MAX 4096  /* bytes of an alert message kept */
#define NAME_MAX_LEN 128  /* bytes in a rule or test name */
#define TAG_STEPS "vigil.tag_steps" /* registry: tagged"..." step -> its tags */
#define TEXT_UNITS 8      /* budget a call gets besides rule_budget per byte of the entry's text */

static void alert_free(vg_alert *a) {
  free(a->rule);
  free(a->key);
  free(a->severity);
  free(a->message);
  free(a->date);
  free(a->sinks);
  free(a->entries);
  free(a->reason);
}

void vg_alert_list_clear(vg_alert_list *l) {
  for (size_t i = 0; i < l->n; i++) alert_free(&l->v[i]);
  l->n = 0;
}

static int grow(void **v, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return 0;
  size_t c = *cap ? *cap * 2 : 16;
  void *nv = realloc(*v, c * size);
  if (!nv) return VG_ENOMEM;
  *v = nv;
  *cap = c;
  return 0;
}

static vg_rules *self(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* The first 40 bytes of s, for a message: a rule may pass megabytes. */
static const char *shown(const char *s, size_t n, char buf[48]) {
  snprintf(buf, 48, "%.40s%s", s, n > 40 ? "..." : "");
  return buf;
}

/* ---- declarations ---- */

static int valid_severity(const char *s) {
  return strcmp(s, "info") == 0 || strcmp(s, "warn") == 0 || strcmp(s, "crit") == 0;
}

/* Why tag is not a usable tag, or NULL. */
static const char *bad_tag(const char *tag, size_t n) {
  if (n == 0) return "a tag cannot be empty";
  if (n > TAG_MAX) return "a tag is at most 64 bytes";
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)tag[i] <= ' ' || tag[i] == ',') return "a tag has no blanks, commas or control characters";
  return NULL;
}

/* Checks that field k of the table at idx is a list of strings; copies them
 * into *out (NULL-free array) when out is given. */
static void string_list(lua_State *L, int idx, const char *rule_name, const char *k, char ***out,
                        size_t *n) {
  idx = lua_absindex(L, idx);
  lua_Integer len = luaL_len(L, idx);
  if (out) *out = calloc((size_t)len + 1, sizeof **out);
  for (lua_Integer i = 1; i <= len; i++) {
    if (lua_geti(L, idx, i) != LUA_TSTRING)
      luaL_error(L, "rule '%s': '%s' must be a list of strings", rule_name, k);
    if (out && *out) (*out)[i - 1] = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  if (n) *n = (size_t)len;
}

static char *joined(lua_State *L, int idx) {
  idx = lua_absindex(L, idx); /* the buffer pushes onto the stack */
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_Integer len = luaL_len(L, idx);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_geti(L, idx, i);
    if (i > 1) luaL_addchar(&b, ',');
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  char *s = strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  return s;
}

static void free_rule(rule *ru, lua_State *L) {
  if (L) {
    luaL_unref(L, LUA_REGISTRYINDEX, ru->when);
    luaL_unref(L, LUA_REGISTRYINDEX, ru->tags);
    luaL_unref(L, LUA_REGISTRYINDEX, ru->alert);
    luaL_unref(L, LUA_REGISTRYINDEX, ru->by);
    for (size_t i = 0; i < ru->nsteps; i++) luaL_unref(L, LUA_REGISTRYINDEX, ru->steps[i]);
  }
  for (size_t i = 0; ru->step_tags && i < ru->nsteps; i++) {
    for (size_t k = 0; ru->step_tags[i] && ru->step_tags[i][k]; k++) free(ru->step_tags[i][k]);
    free(ru->step_tags[i]);
  }
  free(ru->step_tags);
  free(ru->steps);
  free(ru->name);
  free(ru->by_field);
  free(ru->file);
  for (size_t i = 0; i < ru->nafter; i++) free(ru->after[i]);
  free(ru->after);
  free(ru->severity);
  free(ru->sinks);
}

static rule *find_rule(const vg_rules *r, const char *name) {
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->v[i].name, name) == 0) return &r->v[i];
  return NULL;
}

rule *vg_rule_find(const vg_rules *r, const char *name) { return find_rule(r, name); }

/* A registry reference to field k of the spec at index 1, or LUA_NOREF. */
static int field_ref(lua_State *L, const char *k) {
  if (lua_getfield(L, 1, k) == LUA_TNIL) {
    lua_pop(L, 1);
    return LUA_NOREF;
  }
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* What each kind of declaration is called in Lua and which fields it takes. */
static const char *const kind_names[] = {"rule", "sequence", "threshold", "absence", "first"};
static const char *const common_fields[] = {"alert", "after", "severity", "sinks",
                                            "description", "quiet", NULL};
static const char *const kind_fields[][8] = {
    [RK_RULE] = {"when", "tags", NULL},
    [RK_SEQUENCE] = {"steps", "within", "min_gap", "by", "per_pair", NULL},
    [RK_THRESHOLD] = {"match", "count", "within", "by", NULL},
    [RK_ABSENCE] = {"steps", "within", "by", "lateness", "clock", NULL},
    [RK_FIRST] = {"match", "by", NULL},
};

static int listed(const char *const *names, const char *k) {
  for (; *names; names++)
    if (strcmp(*names, k) == 0) return 1;
  return 0;
}

/* A whole number of days in field k of the spec, at least `min`. */
static int32_t days_field(lua_State *L, const char *rname, const char *k, int32_t min, int32_t dflt,
                          int required) {
  int t = lua_getfield(L, 1, k);
  lua_Integer v = dflt;
  if (t == LUA_TNIL && required) luaL_error(L, "%s '%s' needs '%s' (a number of days)", "rule", rname, k);
  if (t != LUA_TNIL) {
    int isint;
    v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < min || v > 100000)
      luaL_error(L, "rule '%s': '%s' must be a whole number of days, at least %d", rname, k, (int)min);
  }
  lua_pop(L, 1);
  return (int32_t)v;
}

/* The tags of the step predicate on top of the stack when tagged"..." made
 * it (scripts/vigil.lua records them), as a NULL-ended copy; else NULL, and
 * NULL too when out of memory: the predicate is called then, as any other. */
static char **tag_list(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, TAG_STEPS);
  lua_pushvalue(L, -2);
  char **v = NULL;
  if (lua_istable(L, -2) && lua_rawget(L, -2) == LUA_TTABLE) {
    size_t n = lua_rawlen(L, -1);
    v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
      const char *tag = lua_rawgeti(L, -1, (lua_Integer)i + 1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
      if (!tag || !(v[i] = strdup(tag))) {
        for (size_t k = 0; k < i; k++) free(v[k]);
        free(v);
        v = NULL;
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 2);
  return v;
}

/* rule / sequence / threshold / absence / first "name" { ... }: the second
 * call, with the spec as its argument. Checks every field, then records the
 * declaration against the file being loaded. */
static int declare(lua_State *L) {
  vg_rules *r = self(L);
  const char *name = lua_tostring(L, lua_upvalueindex(2));
  rule_kind kind = (rule_kind)lua_tointeger(L, lua_upvalueindex(3));
  const char *what = kind_names[kind];
  luaL_argexpected(L, lua_istable(L, 1), 1, "a table describing the rule");
  if (!r->loading) return luaL_error(L, "rules are declared when their file loads, not later");
  lua_settop(L, 1);
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (!k || !(listed(common_fields, k) || listed(kind_fields[kind], k)))
      return luaL_error(L, "%s '%s': unknown field '%s'", what, name, luaL_tolstring(L, -1, NULL));
  }
  int tw = lua_getfield(L, 1, "when"), tt = lua_getfield(L, 1, "tags"),
      ta = lua_getfield(L, 1, "alert");
  if (tw != LUA_TNIL && tw != LUA_TFUNCTION)
    return luaL_error(L, "rule '%s': 'when' must be a function", name);
  if (tt != LUA_TNIL && tt != LUA_TFUNCTION && tt != LUA_TTABLE)
    return luaL_error(L, "rule '%s': 'tags' must be a list of tags or a function", name);
  if (ta != LUA_TNIL && ta != LUA_TFUNCTION && ta != LUA_TTABLE && ta != LUA_TSTRING)
    return luaL_error(L, "%s '%s': 'alert' must be a function, a table or a message", what, name);
  if (kind == RK_RULE && tt == LUA_TNIL && ta == LUA_TNIL)
    return luaL_error(L, "rule '%s' sets no tags and raises no alert", name);
  if (tt == LUA_TTABLE) {
    lua_Integer len = luaL_len(L, -2);
    for (lua_Integer i = 1; i <= len; i++) {
      size_t n;
      if (lua_geti(L, -2, i) != LUA_TSTRING)
        return luaL_error(L, "rule '%s': 'tags' must be a list of strings", name);
      const char *tag = lua_tolstring(L, -1, &n);
      const char *why = bad_tag(tag, n);
      if (why) return luaL_error(L, "rule '%s': tag '%s': %s", name, lua_tostring(L, -1), why);
      lua_pop(L, 1);
    }
  }
  if (ta == LUA_TTABLE) {
    lua_getfield(L, -1, "message");
    if (!lua_isstring(L, -1)) return luaL_error(L, "%s '%s': 'alert' table needs a message", what, name);
    lua_getfield(L, -2, "severity");
    if (!lua_isnil(L, -1) && !(lua_type(L, -1) == LUA_TSTRING && valid_severity(lua_tostring(L, -1))))
      return luaL_error(L, "%s '%s': 'alert' severity must be info, warn or crit", what, name);
    lua_pop(L, 2);
  }
  lua_settop(L, 1);
  /* Correlation fields. */
  size_t nsteps = 0;
  if (kind == RK_SEQUENCE || kind == RK_ABSENCE) {
    if (lua_getfield(L, 1, "steps") != LUA_TTABLE)
      return luaL_error(L, "%s '%s' needs 'steps', a list of predicates", what, name);
    nsteps = (size_t)luaL_len(L, -1);
    if (nsteps < 2 || (kind == RK_ABSENCE && nsteps != 2) || nsteps > 8)
      return luaL_error(L, "%s '%s': 'steps' must list %s", what, name,
                        kind == RK_ABSENCE ? "two predicates: what, then what should follow"
                                           : "two to eight predicates");
    for (size_t i = 1; i <= nsteps; i++) {
      if (lua_geti(L, -1, (lua_Integer)i) != LUA_TFUNCTION)
        return luaL_error(L, "%s '%s': step %d must be a function of the entry (or tagged\"...\")",
                          what, name, (int)i);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  } else if (kind == RK_THRESHOLD || kind == RK_FIRST) {
    int tm = lua_getfield(L, 1, "match");
    if (tm != LUA_TFUNCTION && !(kind == RK_FIRST && tm == LUA_TNIL))
      return luaL_error(L, "%s '%s' needs 'match', a function of the entry (or tagged\"...\")",
                        what, name);
    lua_pop(L, 1);
  }
  int tb = lua_getfield(L, 1, "by");
  if (tb != LUA_TNIL && tb != LUA_TFUNCTION && tb != LUA_TSTRING)
    return luaL_error(L,
                      "%s '%s': 'by' must name a field of the entry (\"source\", or a member"
                      " of its JSON record) or be a function of the entry giving its key",
                      what, name);
  if (tb == LUA_TSTRING && !vg_entry_field_name_ok(lua_tostring(L, -1)))
    return luaL_error(L,
                      "%s '%s': 'by' names no field: \"%s\" (\"source\", or a member of the"
                      " JSON record other than date and text)",
                      what, name, lua_tostring(L, -1));
  if (kind == RK_FIRST && tb == LUA_TNIL)
    return luaL_error(L,
                      "first '%s' needs 'by', a field or a function of the entry giving the"
                      " value to watch",
                      name);
  lua_pop(L, 1);
  int32_t within = kind == RK_RULE || kind == RK_FIRST ? 0 : days_field(L, name, "within", 0, 0, 1);
  int32_t min_gap = days_field(L, name, "min_gap", 0, 0, 0);
  int32_t quiet = days_field(L, name, "quiet", 0, 0, 0);
  int32_t lateness = days_field(L, name, "lateness", 0, 0, 0);
  long count = 0;
  if (kind == RK_THRESHOLD) {
    int isint;
    lua_getfield(L, 1, "count");
    count = (long)lua_tointegerx(L, -1, &isint);
    if (!isint || count < 2 || count > 1000) /* a window holds at most 1000 marks */
      return luaL_error(L, "threshold '%s' needs 'count', a whole number from 2 to 1000", name);
    lua_pop(L, 1);
  }
  int wall = 0;
  if (lua_getfield(L, 1, "clock") != LUA_TNIL) {
    const char *c = lua_tostring(L, -1);
    if (!c || (strcmp(c, "entries") != 0 && strcmp(c, "wall") != 0))
      return luaL_error(L, "absence '%s': 'clock' must be \"entries\" or \"wall\"", name);
    wall = strcmp(c, "wall") == 0;
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "per_pair");
  int per_pair = lua_toboolean(L, -1);
  lua_pop(L, 1);
  const char *severity = "warn";
  if (lua_getfield(L, 1, "severity") != LUA_TNIL) {
    severity = lua_tostring(L, -1);
    if (!severity || !valid_severity(severity))
      return luaL_error(L, "%s '%s': severity must be info, warn or crit", what, name);
  }
  int tafter = lua_getfield(L, 1, "after"), tsinks = lua_getfield(L, 1, "sinks");
  if (tafter != LUA_TNIL && tafter != LUA_TTABLE)
    return luaL_error(L, "%s '%s': 'after' must be a list of rule names", what, name);
  if (tsinks != LUA_TNIL && tsinks != LUA_TTABLE)
    return luaL_error(L, "%s '%s': 'sinks' must be a list of sink names", what, name);
  if (tafter == LUA_TTABLE) string_list(L, -2, name, "after", NULL, NULL);
  if (tsinks == LUA_TTABLE) string_list(L, -1, name, "sinks", NULL, NULL);
  if (find_rule(r, name)) {
    rule *other = find_rule(r, name);
    return luaL_error(L, "rule '%s' is declared twice (first at %s:%d)", name, other->file,
                      other->line);
  }
  if (grow((void **)&r->v, &r->cap, r->n, sizeof *r->v)) return luaL_error(L, "out of memory");
  lua_Debug ar;
  int line = lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar) ? ar.currentline : 0;
  rule *ru = &r->v[r->n++]; /* counted now: a failure below is undone with the file */
  memset(ru, 0, sizeof *ru);
  ru->kind = kind;
  ru->name = strdup(name);
  ru->file = strdup(r->loading);
  ru->line = line;
  ru->severity = strdup(severity);
  ru->within = within;
  ru->min_gap = min_gap;
  ru->quiet = quiet;
  ru->lateness = lateness;
  ru->count = count;
  ru->per_pair = per_pair;
  ru->wall_clock = wall;
  ru->when = ru->tags = ru->alert = ru->by = LUA_NOREF;
  if (r->lim.detached) {
    ru->stats = vg_metrics_scratch_rule(); /* counted nowhere: the daemon's stay as they are */
  } else {
    ru->stats = vg_metrics_rule(name);
    atomic_store(&ru->stats->disabled, 0); /* enabled again by this load */
  }
  if (tafter == LUA_TTABLE) string_list(L, -2, name, "after", &ru->after, &ru->nafter);
  if (tsinks == LUA_TTABLE && luaL_len(L, -1) > 0) ru->sinks = joined(L, -1);
  lua_settop(L, 1);
  if (!ru->name || !ru->file || !ru->severity) return luaL_error(L, "out of memory");
  ru->when = field_ref(L, "when");
  ru->tags = field_ref(L, "tags");
  ru->alert = field_ref(L, "alert");
  if (lua_getfield(L, 1, "by") == LUA_TSTRING) {
    if (!(ru->by_field = strdup(lua_tostring(L, -1)))) return luaL_error(L, "out of memory");
  }
  lua_pop(L, 1);
  if (!ru->by_field) ru->by = field_ref(L, "by");
  if (kind == RK_THRESHOLD || kind == RK_FIRST) {
    if (lua_getfield(L, 1, "match") == LUA_TFUNCTION) {
      ru->steps = malloc(sizeof *ru->steps);
      ru->step_tags = calloc(1, sizeof *ru->step_tags);
      if (!ru->steps || !ru->step_tags) return luaL_error(L, "out of memory");
      ru->step_tags[0] = tag_list(L);
      ru->steps[0] = luaL_ref(L, LUA_REGISTRYINDEX);
      ru->nsteps = 1;
    } else {
      lua_pop(L, 1);
    }
  } else if (nsteps) {
    ru->steps = malloc(nsteps * sizeof *ru->steps);
    ru->step_tags = calloc(nsteps, sizeof *ru->step_tags);
    if (!ru->steps || !ru->step_tags) return luaL_error(L, "out of memory");
    lua_getfield(L, 1, "steps");
    for (size_t i = 0; i < nsteps; i++) {
      lua_geti(L, -1, (lua_Integer)i + 1);
      ru->step_tags[i] = tag_list(L);
      ru->steps[i] = luaL_ref(L, LUA_REGISTRYINDEX);
      ru->nsteps++;
    }
    lua_pop(L, 1);
  }
  return 0;
}

static int check_name(lua_State *L, const char *what) {
  size_t n;
  const char *name = luaL_checklstring(L, 1, &n);
  if (n == 0 || n > NAME_MAX_LEN)
    return luaL_error(L, "a %s name must be 1 to %d bytes", what, NAME_MAX_LEN);
  (void)name;
  return 0;
}

/* rule "name" (or sequence, threshold, absence, first): returns the
 * function that takes the spec. */
static int rule_fn(lua_State *L) {
  check_name(L, "rule");
  if (!self(L)->loading) return luaL_error(L, "rules are declared when their file loads, not later");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushcclosure(L, declare, 3);
  return 1;
}

static int declare_test(lua_State *L) {
  vg_rules *r = self(L);
  const char *name = lua_tostring(L, lua_upvalueindex(2));
  luaL_argexpected(L, lua_istable(L, 1), 1, "a table describing the test");
  if (!r->loading) return luaL_error(L, "tests are declared when their file loads, not later");
  if (lua_getfield(L, 1, "given") != LUA_TTABLE)
    return luaL_error(L, "test '%s': 'given' must be a list of entries", name);
  if (grow((void **)&r->tests, &r->tcap, r->ntests, sizeof *r->tests))
    return luaL_error(L, "out of memory");
  lua_Debug ar;
  test_decl *t = &r->tests[r->ntests];
  t->line = lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar) ? ar.currentline : 0;
  lua_pushvalue(L, 1);
  t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  t->name = strdup(name);
  t->file = strdup(r->loading);
  r->ntests++;
  return 0;
}

static int test_fn(lua_State *L) {
  check_name(L, "test");
  if (!self(L)->loading) return luaL_error(L, "tests are declared when their file loads, not later");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, declare_test, 2);
  return 1;
}

/* date("2023-11-21") or date"Nov. 21, 2023": the day number of its first day. */
static int date_fn(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  vg_sandbox_charge(L, n / 16 + 1);
  vg_date d;
  char err[VG_REASON_MAX], buf[48];
  if (vg_date_parse(s, n, &d, err, sizeof err))
    return luaL_error(L, "date '%s': %s", shown(s, n, buf), err);
  lua_pushinteger(L, d.first);
  return 1;
}

/* ---- history: read-only, parameterised look-ups for rules ----
 *
 * Each look-up is charged to the rule's budget by the rows it reads (and
 * the bytes of text it hands back), so that a rule calling one in a loop
 * is stopped like any other loop. */

#define HISTORY_QUERY_COST 100 /* units a look-up costs besides its rows */

/* Reads {tag = ..., from = day or date, to = day or date} at index 1 (not
 * since/until: `until` is a Lua keyword, so it cannot name a field). */
static const char *history_args(lua_State *L, int32_t *from, int32_t *to) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_getfield(L, 1, "tag") != LUA_TSTRING) luaL_error(L, "history needs {tag = \"...\"}");
  const char *tag = lua_tostring(L, -1);
  const char *keys[2] = {"from", "to"};
  int32_t *out[2] = {from, to};
  *from = INT32_MIN;
  *to = INT32_MAX;
  for (int i = 0; i < 2; i++) {
    int t = lua_getfield(L, 1, keys[i]);
    if (t == LUA_TNUMBER) {
      *out[i] = (int32_t)luaL_checkinteger(L, -1);
    } else if (t == LUA_TSTRING) {
      vg_date d;
      char err[VG_REASON_MAX];
      size_t n;
      const char *s = lua_tolstring(L, -1, &n);
      vg_sandbox_charge(L, n / 16 + 1);
      if (vg_date_parse(s, n, &d, err, sizeof err)) luaL_error(L, "history %s: %s", keys[i], err);
      *out[i] = i ? d.last : d.first;
    } else if (t != LUA_TNIL) {
      luaL_error(L, "history: '%s' must be a day number or a date", keys[i]);
    }
    lua_pop(L, 1);
  }
  return tag;
}

static vg_store *history_store(lua_State *L) {
  vg_rules *r = self(L);
  if (!r->store) luaL_error(L, "history can be read only while rules run on an entry");
  return r->store;
}

/* history.count{tag = "launch", from = e.day - days(30), to = e.day} */
static int history_count(lua_State *L) {
  vg_store *st = history_store(L);
  int32_t from, to;
  const char *tag = history_args(L, &from, &to);
  long long n = vg_store_count_tag(st, tag, from, to);
  if (n < 0) return luaL_error(L, "history: %s", vg_store_errmsg(st));
  vg_sandbox_charge(L, HISTORY_QUERY_COST + (size_t)n);
  lua_pushinteger(L, (lua_Integer)n);
  return 1;
}

/* Rows of a history query, copied out so that the statement is reset
 * before any Lua value is made (making one may raise). */
typedef struct {
  vg_rule_entry *v;
  char **owned;
  size_t n, cap;
} row_copies;

static int copy_history_row(void *ud, const vg_row *row) {
  row_copies *c = ud;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    vg_rule_entry *v = realloc(c->v, cap * sizeof *v);
    char **o = v ? realloc(c->owned, cap * sizeof *o) : NULL;
    if (v) c->v = v;
    if (!o) return VG_ENOMEM;
    c->owned = o;
    c->cap = cap;
  }
  if (!(c->owned[c->n] = vg_rule_entry_from_row(row, &c->v[c->n]))) return VG_ENOMEM;
  c->n++;
  return 0;
}

static void free_copies(row_copies *c) {
  for (size_t i = 0; i < c->n; i++) free(c->owned[i]);
  free(c->owned);
  free(c->v);
}

static int rows_gc(lua_State *L) {
  row_copies *c = lua_touserdata(L, 1);
  free_copies(c);
  memset(c, 0, sizeof *c);
  return 0;
}

/* history.entries{tag = ..., from = ..., to = ..., limit = 100}: the
 * entries in date order, as read-only tables (id, date, day, last_day, text,
 * source); at most 1000. */
static int history_entries(lua_State *L) {
  vg_store *st = history_store(L);
  int32_t from, to;
  const char *tag = history_args(L, &from, &to);
  lua_getfield(L, 1, "limit");
  lua_Integer limit = luaL_optinteger(L, -1, 100);
  lua_pop(L, 1);
  if (limit < 1 || limit > 1000) return luaL_error(L, "history: limit must be 1 to 1000");
  row_copies c = {0};
  int rc = vg_store_entries_tag(st, tag, from, to, (long)limit, copy_history_row, &c);
  if (rc) {
    free_copies(&c);
    return luaL_error(L, "history: %s", rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
  }
  /* From here on Lua may raise (out of memory): the copies live in a
   * userdata whose finalizer frees them, so they are not lost if it does. */
  row_copies *keep = lua_newuserdatauv(L, sizeof *keep, 0);
  *keep = c;
  if (luaL_newmetatable(L, "vigil.history.rows")) {
    lua_pushcfunction(L, rows_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  size_t units = HISTORY_QUERY_COST + c.n;
  for (size_t i = 0; i < c.n; i++) units += c.v[i].text_len / 16;
  vg_sandbox_charge(L, units);
  lua_newtable(L);
  for (size_t i = 0; i < c.n; i++) {
    const vg_rule_entry *e = &c.v[i];
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, e->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, e->date);
    lua_setfield(L, -2, "date");
    lua_pushinteger(L, e->first);
    lua_setfield(L, -2, "day");
    lua_pushinteger(L, e->last);
    lua_setfield(L, -2, "last_day");
    lua_pushlstring(L, e->text, e->text_len);
    lua_setfield(L, -2, "text");
    lua_pushstring(L, e->source);
    lua_setfield(L, -2, "source");
    vg_sandbox_push_readonly(L, -1);
    lua_remove(L, -2);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free_copies(keep);
  memset(keep, 0, sizeof *keep);
  return 1;
}

static const char *script(const char *name) {
  for (int i = 0; i < vg_scripts_count; i++)
    if (strcmp(vg_scripts[i].name, name) == 0) return vg_scripts[i].text;
  return NULL;
}

static int readonly_fn(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  vg_sandbox_push_readonly(L, 1);
  return 1;
}

/* Runs the embedded scripts/lists.lua, scripts/vigil.lua and
 * scripts/sense.lua (trusted code) to finish the safe table: the Lua half of
 * the rule API. scripts/cameo.lua is data: the table it returns goes to
 * vigil.lua, which keeps it behind cameo(code). */
static int setup_api(vg_rules *r) {
  lua_State *L = r->sb->L;
  vg_sandbox_push_safe(r->sb);
  int safe = lua_gettop(L);
  for (int k = RK_RULE; k <= RK_FIRST; k++) {
    lua_pushlightuserdata(L, r);
    lua_pushinteger(L, k);
    lua_pushcclosure(L, rule_fn, 2);
    lua_setfield(L, safe, kind_names[k]);
  }
  static const luaL_Reg history[] = {{"count", history_count}, {"entries", history_entries},
                                     {NULL, NULL}};
  luaL_newlibtable(L, history);
  lua_pushlightuserdata(L, r);
  luaL_setfuncs(L, history, 1);
  vg_sandbox_push_readonly(L, -1);
  lua_setfield(L, safe, "history");
  lua_pop(L, 1);
  lua_pushlightuserdata(L, r);
  lua_pushcclosure(L, test_fn, 1);
  lua_setfield(L, safe, "test");
  lua_pushcfunction(L, date_fn);
  lua_setfield(L, safe, "date");
  const char *lists = script("lists.lua"), *api = script("vigil.lua"), *sense = script("sense.lua"),
             *cameo = script("cameo.lua");
  int rc = VG_EINVAL;
  if (!lists || !api || !sense || !cameo) {
    lua_pushliteral(L, "scripts/lists.lua, vigil.lua, sense.lua or cameo.lua is not embedded");
  } else if (luaL_loadbufferx(L, api, strlen(api), "=scripts/vigil.lua", "t") == LUA_OK) {
    lua_pushvalue(L, safe);
    vg_lua_entry_open(L); /* pushes the entry methods table */
    if (luaL_loadbufferx(L, lists, strlen(lists), "=scripts/lists.lua", "t") == LUA_OK &&
        lua_pcall(L, 0, 1, 0) == LUA_OK) {
      lua_pushcfunction(L, readonly_fn);
      lua_newtable(L); /* tagged"..." steps -> their tags, weak: see tag_list */
      lua_createtable(L, 0, 1);
      lua_pushliteral(L, "k");
      lua_setfield(L, -2, "__mode");
      lua_setmetatable(L, -2);
      lua_pushvalue(L, -1);
      lua_setfield(L, LUA_REGISTRYINDEX, TAG_STEPS);
      vg_lua_entry_push_views(L);
      if (luaL_loadbufferx(L, sense, strlen(sense), "=scripts/sense.lua", "t") == LUA_OK) {
        vg_lua_sense_push(L);
        if (luaL_loadbufferx(L, cameo, strlen(cameo), "=scripts/cameo.lua", "t") == LUA_OK &&
            lua_pcall(L, 0, 1, 0) == LUA_OK && lua_pcall(L, 9, 0, 0) == LUA_OK)
          rc = 0;
      }
    }
  }
  if (rc) vg_error("rules: cannot set up the rule API: %s", lua_tostring(L, -1));
  lua_settop(L, safe - 1);
  if (rc == 0) { /* a registry slot that always exists: setting it allocates nothing */
    lua_pushboolean(L, 0);
    r->entry_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  return rc;
}

/* Loads one file's text; on failure undoes its declarations and leaves the
 * message on the stack. */
static int load_text(vg_rules *r, const char *path, const char *text, size_t len) {
  lua_State *L = r->sb->L;
  size_t rules_before = r->n, tests_before = r->ntests;
  char chunk[4200];
  snprintf(chunk, sizeof chunk, "@%s", path);
  r->loading = path;
  int rc = luaL_loadbufferx(L, text, len, chunk, "t");
  if (rc == LUA_OK) {
    vg_sandbox_push_env(r->sb);
    lua_setupvalue(L, -2, 1);
    rc = vg_sandbox_call(r->sb, 0, 0);
  }
  r->loading = NULL;
  if (rc == LUA_OK) return 0;
  while (r->n > rules_before) free_rule(&r->v[--r->n], L);
  while (r->ntests > tests_before) {
    test_decl *t = &r->tests[--r->ntests];
    luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
    free(t->name);
    free(t->file);
  }
  return -1;
}

static int keep_good(vg_rules *r, const char *source, const char *path, const char *text,
                     size_t len) {
  if (grow((void **)&r->files, &r->fcap, r->nfiles, sizeof *r->files)) return VG_ENOMEM;
  good_file *g = &r->files[r->nfiles];
  g->path = strdup(path);
  g->source = strdup(source);
  g->text = malloc(len + 1);
  if (!g->path || !g->source || !g->text) {
    free(g->path);
    free(g->source);
    free(g->text);
    return VG_ENOMEM;
  }
  memcpy(g->text, text, len);
  g->text[len] = '\0';
  g->len = len;
  r->nfiles++;
  return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, cap, "%s: cannot read: %s", path, strerror(errno));
    return NULL;
  }
  char *buf = NULL;
  size_t n = 0, c = 0;
  for (;;) {
    if (n + 4096 > c) {
      char *b = realloc(buf, c = c ? c * 2 : 8192);
      if (!b) break;
      buf = b;
    }
    size_t got = fread(buf + n, 1, c - n, f);
    n += got;
    if (got == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad || !buf) {
    snprintf(err, cap, "%s: cannot read: %s", path, bad ? strerror(errno) : "out of memory");
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Orders the rules so each runs after the rules it names, keeping file and
 * declaration order otherwise. Unknown names and cycles are reported. */
static int order_rules(vg_rules *r, vg_rules_report_fn report, void *ud) {
  int errors = 0;
  if (r->n == 0) return 0;
  char msg[512];
  for (size_t i = 0; i < r->n; i++)
    for (size_t k = 0; k < r->v[i].nafter; k++)
      if (!find_rule(r, r->v[i].after[k])) {
        snprintf(msg, sizeof msg, "%s:%d: rule '%s' runs after unknown rule '%s'", r->v[i].file,
                 r->v[i].line, r->v[i].name, r->v[i].after[k]);
        report(ud, r->v[i].file, msg);
        errors++;
      }
  /* Tagging rules first, so that correlations see every tag; a stable pass
   * keeps file and declaration order within each group. */
  rule *sorted = malloc(r->n * sizeof *sorted);
  if (sorted) {
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
      for (size_t i = 0; i < r->n; i++)
        if ((r->v[i].kind == RK_RULE) == (pass == 0)) sorted[k++] = r->v[i];
    memcpy(r->v, sorted, r->n * sizeof *sorted);
    free(sorted);
  }
  rule *out = malloc(r->n * sizeof *out + 1);
  char *placed = calloc(r->n + 1, 1);
  if (!out || !placed) {
    free(out);
    free(placed);
    return errors;
  }
  size_t done = 0;
  while (done < r->n) {
    size_t pick = r->n;
    for (size_t i = 0; i < r->n && pick == r->n; i++) {
      if (placed[i]) continue;
      int ready = 1;
      for (size_t k = 0; k < r->v[i].nafter && ready; k++) {
        rule *dep = find_rule(r, r->v[i].after[k]);
        if (dep && !placed[dep - r->v]) ready = 0;
      }
      if (ready) pick = i;
    }
    if (pick == r->n) { /* a cycle: report it and keep declaration order */
      for (size_t i = 0; i < r->n; i++)
        if (!placed[i]) {
          snprintf(msg, sizeof msg, "%s:%d: rule '%s' is part of a cycle of 'after' names",
                   r->v[i].file, r->v[i].line, r->v[i].name);
          report(ud, r->v[i].file, msg);
          errors++;
          pick = pick == r->n ? i : pick;
        }
    }
    placed[pick] = 1;
    out[done++] = r->v[pick];
  }
  memcpy(r->v, out, r->n * sizeof *out);
  free(out);
  free(placed);
  return errors;
}

/* Loads again every file prev loaded from `source`, in the version prev
 * kept, for a rules path that cannot be read: a directory that vanished has
 * not had its files removed one by one. Returns the number of problems
 * reported. */
static int keep_previous(vg_rules *r, const char *source, const vg_rules *prev,
                         vg_rules_report_fn report, void *ud) {
  int errors = 0;
  lua_State *L = r->sb->L;
  for (size_t k = 0; prev && k < prev->nfiles; k++) {
    const good_file *g = &prev->files[k];
    if (strcmp(g->source, source) != 0) continue;
    if (load_text(r, g->path, g->text, g->len) == 0) {
      keep_good(r, source, g->path, g->text, g->len);
      continue;
    }
    char msg[8192];
    const char *why = lua_tostring(L, -1);
    snprintf(msg, sizeof msg, "%s (its previous version could not be loaded again)",
             why ? why : g->path);
    lua_pop(L, 1);
    report(ud, g->path, msg);
    errors++;
  }
  return errors;
}

/* What one load is doing: where problems go, and the files loaded so far
 * (by device and inode), so that a file named twice loads once. */
typedef struct {
  vg_rules *r;
  const vg_rules *prev;
  vg_rules_report_fn report;
  void *ud;
  int errors;
  struct file_id {
    dev_t dev;
    ino_t ino;
  } * seen;
  size_t nseen, seen_cap;
} loading;

/* Loads the rule file at path (found through `source`); a file that fails
 * is reported, and its version in prev (if any) loaded instead. */
static void load_file(loading *ld, const char *source, const char *path, const struct stat *sb) {
  vg_rules *r = ld->r;
  for (size_t i = 0; i < ld->nseen; i++)
    if (ld->seen[i].dev == sb->st_dev && ld->seen[i].ino == sb->st_ino) return;
  if (grow((void **)&ld->seen, &ld->seen_cap, ld->nseen, sizeof *ld->seen) == 0)
    ld->seen[ld->nseen++] = (struct file_id){sb->st_dev, sb->st_ino};
  char msg[8192];
  lua_State *L = r->sb->L;
  size_t len = 0;
  char *text = read_file(path, &len, msg, sizeof msg);
  if (text && load_text(r, path, text, len) == 0) {
    keep_good(r, source, path, text, len);
    free(text);
    return;
  }
  if (text) {
    /* Lua names file:line where it knows them; a failure it cannot place
     * (the parser's C stack overflow, out of memory) is named here. */
    const char *why = lua_tostring(L, -1);
    if (strncmp(why, path, strlen(path)) == 0)
      snprintf(msg, sizeof msg, "%s", why);
    else
      snprintf(msg, sizeof msg, "%s: %s", path, why);
    lua_pop(L, 1);
  }
  free(text);
  ld->errors++;
  const good_file *old = NULL;
  for (size_t k = 0; ld->prev && k < ld->prev->nfiles; k++)
    if (strcmp(ld->prev->files[k].path, path) == 0) old = &ld->prev->files[k];
  if (old && load_text(r, path, old->text, old->len) == 0) {
    keep_good(r, source, path, old->text, old->len);
    size_t used = strlen(msg);
    snprintf(msg + used, sizeof msg - used, " (its previous version stays in force)");
  } else {
    if (old) lua_pop(L, 1);
    r->unloaded++;
  }
  ld->report(ld->ud, path, msg);
}

/* Loads the rules of one path: a directory's *.lua files in name order, or
 * a file. */
static void load_path(loading *ld, const char *source) {
  char msg[8192];
  struct stat sb;
  DIR *d = NULL;
  if (stat(source, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
    load_file(ld, source, source, &sb);
    return;
  }
  if (!(d = opendir(source))) {
    snprintf(msg, sizeof msg, "%s: cannot read the rules path: %s%s", source, strerror(errno),
             ld->prev && ld->prev->nfiles ? "; the rules loaded before stay in force" : "");
    ld->report(ld->ud, NULL, msg);
    ld->errors++;
    ld->r->unloaded++; /* which files it holds is unknown */
    ld->errors += keep_previous(ld->r, source, ld->prev, ld->report, ld->ud);
    return;
  }
  char **names = NULL;
  size_t nnames = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t len = strlen(de->d_name);
    if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".lua") != 0) continue;
    if (grow((void **)&names, &cap, nnames, sizeof *names)) break;
    if (!(names[nnames] = strdup(de->d_name))) break;
    nnames++;
  }
  closedir(d);
  if (nnames) qsort(names, nnames, sizeof *names, by_name);
  for (size_t i = 0; i < nnames; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", source, names[i]);
    free(names[i]);
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) load_file(ld, source, path, &sb);
  }
  free(names);
}

vg_rules *vg_rules_load_paths(char *const *paths, const vg_rules *prev, const vg_rules_limits *lim,
                              vg_rules_report_fn report, void *ud, int *errors) {
  vg_rules *r = calloc(1, sizeof *r);
  *errors = 0;
  if (!r) return NULL;
  r->lim = *lim;
  if (!(r->sb = vg_sandbox_new(lim->mem_max, lim->budget)) || setup_api(r)) {
    vg_rules_free(r);
    return NULL;
  }
  loading ld = {r, prev, report, ud, 0, NULL, 0, 0};
  for (size_t i = 0; paths && paths[i]; i++)
    load_path(&ld, paths[i]);
  free(ld.seen);
  *errors = ld.errors + order_rules(r, report, ud);
  return r;
}

vg_rules *vg_rules_load(const char *path, const vg_rules *prev, const vg_rules_limits *lim,
                        vg_rules_report_fn report, void *ud, int *errors) {
  char *paths[] = {(char *)path, NULL};
  return vg_rules_load_paths(paths, prev, lim, report, ud, errors);
}

void vg_rules_free(vg_rules *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++) free_rule(&r->v[i], NULL);
  for (size_t i = 0; i < r->nfiles; i++) {
    free(r->files[i].path);
    free(r->files[i].source);
    free(r->files[i].text);
  }
  for (size_t i = 0; i < r->ntests; i++) {
    free(r->tests[i].name);
    free(r->tests[i].file);
  }
  free(r->v);
  free(r->touched);
  free(r->judged);
  free(r->files);
  free(r->tests);
  vg_sandbox_free(r->sb);
  free(r);
}

size_t vg_rules_count(const vg_rules *r) { return r ? r->n : 0; }
size_t vg_rules_test_count(const vg_rules *r) { return r ? r->ntests : 0; }
size_t vg_rules_unloaded(const vg_rules *r) { return r ? r->unloaded : 0; }

void vg_rules_on_failure(vg_rules *r, vg_rules_failure_fn fn, void *ud) {
  r->on_failure = fn;
  r->failure_ud = ud;
}

const char *vg_rules_rule_file(const vg_rules *r, size_t i) {
  return r && i < r->n ? r->v[i].file : NULL;
}

const char *vg_rules_test_file(const vg_rules *r, size_t i) {
  return r && i < r->ntests ? r->tests[i].file : NULL;
}

size_t vg_rules_partition_check(const vg_rules *r, const char *partition_by,
                                vg_rules_partition_fn say, void *ud) {
  size_t n = 0;
  const char *by = partition_by ? partition_by : "";
  for (size_t i = 0; r && i < r->n; i++) {
    const rule *ru = &r->v[i];
    char why[512];
    if (ru->kind == RK_RULE) continue;
    if (ru->by_field && by[0] && strcmp(ru->by_field, by) == 0) continue;
    if (ru->by_field && by[0])
      snprintf(why, sizeof why,
               "groups by \"%s\", not by \"%s\" the entries are partitioned by: entries of"
               " one key in other partitions are not seen together",
               ru->by_field, by);
    else if (ru->by_field)
      snprintf(why, sizeof why,
               "groups by \"%s\", but nats_partition_by names no field: nothing says the"
               " entries of one key come to this partition",
               ru->by_field);
    else if (ru->by != LUA_NOREF)
      snprintf(why, sizeof why,
               "groups by a function, which cannot be checked against the partitions%s%s%s:"
               " write by = \"FIELD\" to group by a field",
               by[0] ? " (by \"" : "", by, by[0] ? "\")" : "");
    else
      snprintf(why, sizeof why,
               "has no 'by': it correlates across all entries, but this daemon sees one"
               " partition of them");
    say(ud, ru->name, ru->file, ru->line, why);
    n++;
  }
  return n;
}

const char *vg_rule_hash(const vg_rules *r, rule *ru) {
  if (ru->hash[0]) return ru->hash;
  for (size_t k = 0; k < r->nfiles; k++)
    if (strcmp(r->files[k].path, ru->file) == 0) {
      XXH128_canonical_t c;
      XXH128_canonicalFromHash(&c, XXH3_128bits(r->files[k].text, r->files[k].len));
      for (int b = 0; b < 16; b++) snprintf(ru->hash + 2 * b, 3, "%02x", c.digest[b]);
      return ru->hash;
    }
  return NULL;
}

int vg_rules_info(const vg_rules *r, size_t i, vg_rule_info *out) {
  if (!r || i >= r->n) return -1;
  rule *ru = &r->v[i];
  *out = (vg_rule_info){.name = ru->name, .file = ru->file, .line = ru->line,
                        .kind = kind_names[ru->kind], .stats = ru->stats};
  const char *h = vg_rule_hash(r, ru);
  if (h) memcpy(out->hash, h, sizeof out->hash);
  return 0;
}

const char *vg_rules_file_of(const vg_rules *r, const char *name) {
  const rule *ru = find_rule(r, name);
  return ru ? ru->file : NULL;
}

/* ---- running ---- */

void vg_rule_failed(vg_rules *r, rule *ru, int64_t entry, const char *why) {
  ru->failures++;
  atomic_fetch_add_explicit(&ru->stats->failures, 1, memory_order_relaxed);
  vg_series_add(ru->stats->errors, 1);
  vg_warn("rule '%s' (%s:%d) failed on entry %lld: %s", ru->name, ru->file, ru->line,
          (long long)entry, why);
  if (r->on_failure) r->on_failure(r->failure_ud, ru->name, ru->file, ru->line, entry, why);
  if (r->lim.max_failures && ru->failures >= r->lim.max_failures && !ru->disabled) {
    ru->disabled = 1;
    atomic_store(&ru->stats->disabled, 1);
    vg_error("rule '%s' (%s:%d) disabled after %u failures; fix it and reload", ru->name,
             ru->file, ru->line, ru->failures);
  }
}

int vg_rule_call(vg_rules *r, rule *ru, int64_t entry, int nargs) {
  lua_State *L = r->sb->L;
  if (vg_sandbox_call(r->sb, nargs, 1) == LUA_OK) return 0;
  vg_rule_failed(r, ru, entry, lua_tostring(L, -1));
  lua_pop(L, 1);
  return -1;
}

/* Calls the function on top of the stack with the entry at entry_idx. */
static int call_rule(vg_rules *r, rule *ru, const vg_rule_entry *e, int entry_idx) {
  lua_pushvalue(r->sb->L, entry_idx);
  return vg_rule_call(r, ru, e->id, 1);
}

static int apply_tags(vg_rules *r, rule *ru, vg_store *st, vg_entry_ctx *ctx, int entry_idx) {
  lua_State *L = r->sb->L;
  if (lua_rawgeti(L, LUA_REGISTRYINDEX, ru->tags) == LUA_TFUNCTION) {
    if (call_rule(r, ru, ctx->e, entry_idx)) return 0;
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      return 0;
    }
  }
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    vg_rule_failed(r, ru, ctx->e->id, "'tags' must give a list of tags");
    return 0;
  }
  /* Raw reads only: a metamethod run here would be outside any protected
   * call and the budget. */
  lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= len; i++) { /* check them all before setting any */
    size_t n = 0;
    const char *tag = lua_rawgeti(L, -1, i) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    const char *why = tag ? bad_tag(tag, n) : "'tags' must give a list of strings";
    lua_pop(L, 1);
    if (why) {
      lua_pop(L, 1);
      vg_rule_failed(r, ru, ctx->e->id, why);
      return 0;
    }
  }
  int rc = 0;
  for (lua_Integer i = 1; i <= len && rc == 0; i++) {
    lua_rawgeti(L, -1, i);
    const char *tag = lua_tostring(L, -1);
    int added = vg_entry_ctx_add_tag(ctx, tag);
    if (added < 0) rc = VG_ENOMEM;
    else if (added) rc = vg_store_tag(st, ctx->e->id, tag, ru->name);
    if (added > 0 && rc == 0) atomic_fetch_add_explicit(&ru->stats->tags_set, 1, memory_order_relaxed);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return rc;
}

static int by_entry(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int copy_alert(vg_alert_list *out, const vg_alert_in *a, int64_t id, const rule *ru) {
  if (grow((void **)&out->v, &out->cap, out->n, sizeof *out->v)) return VG_ENOMEM;
  vg_alert *c = &out->v[out->n];
  memset(c, 0, sizeof *c);
  c->id = id;
  c->rule = strdup(a->rule);
  c->key = strdup(a->key ? a->key : "");
  c->severity = strdup(a->severity);
  c->message = strdup(a->message);
  c->date = strdup(a->date);
  c->sinks = ru->sinks ? strdup(ru->sinks) : NULL;
  c->entries = malloc(a->nentries * sizeof *c->entries + 1);
  c->version = 1;
  out->n++;
  if (!c->rule || !c->key || !c->severity || !c->message || !c->date || !c->entries ||
      (ru->sinks && !c->sinks))
    return VG_ENOMEM;
  memcpy(c->entries, a->entries, a->nentries * sizeof *c->entries);
  c->nentries = a->nentries;
  qsort(c->entries, c->nentries, sizeof *c->entries, by_entry); /* as the store lists them */
  c->count = a->count;
  return 0;
}

/* The stored alert, as vg_rule_alert_out wants it. */
typedef struct {
  vg_alert *c;
  const rule *ru;
} amended;

static int copy_row(void *ud, const vg_alert_row *row) {
  amended *x = ud;
  vg_alert *c = x->c;
  size_t n = 0;
  for (const char *p = row->entries; p && *p; p++) n += *p == ',';
  c->entries = malloc((n + 1) * sizeof *c->entries);
  c->rule = strdup(row->rule);
  c->key = strdup(row->key ? row->key : "");
  c->severity = strdup(row->severity);
  c->message = strdup(row->message);
  c->date = strdup(row->date);
  c->silence_id = row->silence_id;
  c->retracted = row->retracted;
  if (row->retract_reason && !(c->reason = strdup(row->retract_reason))) return VG_ENOMEM;
  c->sinks = x->ru->sinks ? strdup(x->ru->sinks) : NULL;
  if (!c->rule || !c->key || !c->severity || !c->message || !c->date || !c->entries ||
      (x->ru->sinks && !c->sinks))
    return VG_ENOMEM;
  c->id = row->id;
  c->version = row->version;
  c->count = row->count;
  for (const char *p = row->entries; p && *p;) {
    char *end;
    c->entries[c->nentries++] = strtoll(p, &end, 10);
    if (*end != ',') break;
    p = end + 1;
  }
  return 0;
}

/* Puts alert id, as stored now, in out for the sinks: in the place of an
 * earlier version raised in the same transaction, or at the end. 0,
 * VG_EDB or VG_ENOMEM. */
int vg_rule_alert_out(vg_alert_list *out, vg_store *st, int64_t id, const rule *ru) {
  vg_alert fresh = {0};
  amended x = {&fresh, ru};
  vg_alert_query q = {.id = id, .limit = 1};
  int rc = vg_store_alerts(st, &q, copy_row, &x);
  if (rc == 0 && !fresh.rule) rc = VG_EDB; /* it was just written: it must be there */
  size_t i = 0;
  while (i < out->n && out->v[i].id != id) i++;
  if (rc == 0 && i == out->n && grow((void **)&out->v, &out->cap, out->n, sizeof *out->v))
    rc = VG_ENOMEM;
  if (rc) {
    alert_free(&fresh);
    return rc;
  }
  if (i < out->n) alert_free(&out->v[i]);
  else out->n++;
  out->v[i] = fresh;
  return 0;
}

int vg_rule_alert(vg_rules *r, rule *ru, vg_store *st, const vg_rule_entry *anchor,
                  const int64_t *entries, size_t n, const char *dedup_base, const char *by_key,
                  int replace, long long count, vg_alert_list *out) {
  lua_State *L = r->sb->L;
  int top = lua_gettop(L) - 1; /* below the value */
  int t = lua_type(L, -1);
  if (t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
    lua_settop(L, top);
    return 0;
  }
  const char *message = NULL, *severity = ru->severity;
  char key[256] = "";
  if (t == LUA_TSTRING) {
    message = lua_tostring(L, -1);
  } else if (t == LUA_TTABLE) {
    lua_pushliteral(L, "message");
    lua_rawget(L, -2);
    message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pushliteral(L, "severity");
    lua_rawget(L, -3);
    if (!lua_isnil(L, -1)) severity = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    lua_pushliteral(L, "key");
    lua_rawget(L, -4);
    if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)
      snprintf(key, sizeof key, "%s", lua_tostring(L, -1));
  }
  const char *why = !message ? "an alert needs a message: return a string, a table with a "
                               "message, or nil"
                    : !valid_severity(severity) ? "an alert's severity must be info, warn or crit"
                                                : NULL;
  if (why) {
    lua_settop(L, top);
    vg_rule_failed(r, ru, anchor->id, why);
    return 0;
  }
  char msg[MESSAGE_MAX + 1], dedup[600];
  if (r->again || r->noting) replace = 1; /* worked out again: written whole */
  snprintf(msg, sizeof msg, "%s", message);
  snprintf(dedup, sizeof dedup, "%s\x1f%s", dedup_base, key);
  if (!key[0] && by_key) snprintf(key, sizeof key, "%s", by_key);
  int rc = 0;
  if (ru->quiet > 0) {
    /* Suppressed: another alert of this rule and key fell within the quiet
     * days before this one. An alert that exists already is amended. */
    int64_t id;
    int exists = vg_store_alert_find(st, dedup, &id);
    int near = exists ? 0 : vg_store_alerts_near(st, ru->name, key, anchor->first - ru->quiet,
                                                  anchor->first, dedup);
    if (exists < 0 || near < 0) rc = VG_EDB;
    else if (near > 0) {
      vg_debug("rule '%s': alert on entry %lld suppressed (quiet period)", ru->name,
               (long long)anchor->id);
      lua_settop(L, top);
      return 0;
    }
  }
  if (rc == 0) {
    int64_t id;
    vg_alert_in a = {ru->name, key, dedup, severity, msg, anchor->date, anchor->first,
                     entries, n, count, ru->file, vg_rule_hash(r, ru), r->cause};
    /* A threshold alert of the day stored before windows were counted by
     * day is taken on, not doubled. */
    int exists = count >= 0 && replace ? vg_store_alert_adopt(st, &a) : 0;
    if (exists >= 0) exists = replace ? vg_store_alert_find(st, dedup, &id) : 0;
    if (exists == 1) rc = vg_store_alert_move(st, id, &a);
    else rc = exists < 0 ? VG_EDB : vg_store_alert(st, &a, &id);
    if (rc >= 0 && (r->again || (r->noting && ru->kind == RK_RULE))) {
      if (grow((void **)&r->touched, &r->ctouched, r->ntouched, sizeof *r->touched))
        rc = VG_ENOMEM;
      else r->touched[r->ntouched++] = id;
    }
    if (rc == VG_STORED && out) {
      rc = copy_alert(out, &a, id, ru);
      /* The silence vg_store_alert marked it with: the same look-up, kept
       * for the transaction. */
      if (rc == 0 && vg_store_silence_match(st, a.rule, a.key, &out->v[out->n - 1].silence_id) < 0)
        rc = VG_EDB;
    } else if (rc == VG_AMENDED && out) {
      rc = vg_rule_alert_out(out, st, id, ru);
    }
  }
  lua_settop(L, top);
  return rc < 0 ? rc : 0;
}

static int raise_alert(vg_rules *r, rule *ru, vg_store *st, vg_entry_ctx *ctx, int entry_idx,
                       vg_alert_list *out) {
  lua_State *L = r->sb->L;
  const vg_rule_entry *e = ctx->e;
  if (lua_rawgeti(L, LUA_REGISTRYINDEX, ru->alert) == LUA_TFUNCTION &&
      call_rule(r, ru, e, entry_idx))
    return 0;
  char base[300];
  snprintf(base, sizeof base, "%s\x1f%lld", ru->name, (long long)e->id);
  return vg_rule_alert(r, ru, st, e, &e->id, 1, base, NULL, 0, -1, out);
}

char *vg_rule_entry_from_row(const vg_row *row, vg_rule_entry *e) {
  size_t dl = strlen(row->date) + 1, pl = strlen(row->precision) + 1, tl = row->text_len + 1,
         sl = strlen(row->source) + 1, fl = row->fields ? strlen(row->fields) + 1 : 0;
  char *owned = malloc(dl + pl + tl + sl + fl), *p = owned;
  if (!owned) return NULL;
  e->id = row->id;
  e->first = row->day_first;
  e->last = row->day_last;
  e->date = memcpy(p, row->date, dl), p += dl;
  e->precision = memcpy(p, row->precision, pl), p += pl;
  e->text = memcpy(p, row->text, tl), p += tl;
  e->text_len = row->text_len;
  e->source = memcpy(p, row->source, sl), p += sl;
  e->fields = fl ? memcpy(p, row->fields, fl) : NULL;
  return owned;
}

static int load_row(void *ud, const vg_row *row) {
  vg_loaded *slot = ud;
  if (!(slot->owned = vg_rule_entry_from_row(row, &slot->e))) return VG_ENOMEM;
  /* The tags come back as "a,b,c": the object lists them. */
  for (const char *p = row->tags; p && *p;) {
    const char *end = strchr(p, ',');
    char tag[TAG_MAX + 1];
    size_t len = end ? (size_t)(end - p) : strlen(p);
    snprintf(tag, sizeof tag, "%.*s", (int)(len > TAG_MAX ? TAG_MAX : len), p);
    if (vg_entry_ctx_add_tag(&slot->ctx, tag) < 0) return VG_ENOMEM;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

int vg_rules_load_stored(vg_store *st, int64_t id, int tagged, vg_loaded *slot) {
  memset(slot, 0, sizeof *slot);
  int rc = tagged ? vg_store_entry(st, id, load_row, slot)
                  : vg_store_entry_untagged(st, id, load_row, slot);
  if (rc) vg_rules_unload(slot);
  else slot->ctx.e = &slot->e;
  return rc;
}

int vg_rules_push_stored(vg_rules *r, vg_store *st, int64_t id, vg_loaded *slot) {
  int rc = vg_rules_load_stored(st, id, 1, slot);
  if (rc == 0) vg_lua_entry_push(r->sb->L, &slot->ctx);
  return rc;
}

void vg_rules_unload(vg_loaded *slot) {
  vg_entry_ctx_clear(&slot->ctx);
  free(slot->owned);
  slot->owned = NULL;
}

/* Whether e was dated on arrival, not by its own date: a feed item with no
 * date, whose fields say "date_from": "poll". */
static int arrival_dated(const vg_rule_entry *e) {
  if (!e->fields || !strstr(e->fields, "\"date_from\"")) return 0;
  cJSON *o = cJSON_Parse(e->fields);
  const cJSON *from = cJSON_GetObjectItemCaseSensitive(o, "date_from");
  int yes = cJSON_IsString(from) && strcmp(from->valuestring, "poll") == 0;
  cJSON_Delete(o);
  return yes;
}

/* Keeps the latest entry day of this store, in memory and in the store. An
 * entry dated on arrival says nothing of how far event time has come, so it
 * moves no watermark: otherwise one undated feed item, dated at the poll,
 * would close every absence window before the poll's own dated items. */
static int advance(vg_rules *r, vg_store *st, const vg_rule_entry *e) {
  if (arrival_dated(e)) return 0;
  unsigned long serial = vg_store_serial(st);
  if (r->store_serial != serial) {
    int64_t v;
    int found = vg_store_state_get(st, "max_day", &v);
    if (found < 0) return VG_EDB;
    r->store_serial = serial;
    r->has_max_day = found;
    r->max_day = found ? (int32_t)v : INT32_MIN;
    r->max_day_entry = 0; /* read from the store: who moved it is not known */
  }
  if (r->has_max_day && e->last <= r->max_day) return 0;
  r->max_day = e->last;
  r->has_max_day = 1;
  r->max_day_entry = e->id;
  return vg_store_state_max(st, "max_day", e->last) ? VG_EDB : 0;
}

/* The arguments of one protected pass of the rules over an entry. */
typedef struct {
  vg_rules *r;
  vg_store *st;
  vg_entry_ctx *ctx;
  vg_alert_list *out;
  int32_t today; /* for the absences pass */
  int rc;
} pass;

/* Finds and records the event the entry of ctx reports (core/events.c). */
static int group(vg_rules *r, vg_store *st, vg_entry_ctx *ctx) {
  ctx->grouped = 1;
  int rc = vg_events_group(st, ctx, r->lim.event_similarity, &ctx->event);
  ctx->has_event = rc == 1;
  return rc < 0 ? rc : 0;
}

/* Runs plain rule ru on the entry object at entry_idx: its predicate, then
 * its tags and its alert. 0, or VG_EDB / VG_ENOMEM. */
static int plain_rule(vg_rules *r, rule *ru, pass *p, int entry_idx) {
  lua_State *L = r->sb->L;
  if (ru->when != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ru->when);
    if (call_rule(r, ru, p->ctx->e, entry_idx)) return 0;
    int yes = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!yes) return 0;
  }
  atomic_fetch_add_explicit(&ru->stats->matches, 1, memory_order_relaxed);
  int rc = 0;
  if (ru->tags != LUA_NOREF) rc = apply_tags(r, ru, p->st, p->ctx, entry_idx);
  if (rc == 0 && ru->alert != LUA_NOREF) rc = raise_alert(r, ru, p->st, p->ctx, entry_idx, p->out);
  return rc;
}

/* Runs every rule on the entry object at index 2. Called through lua_pcall,
 * so that an error raised by the host's own Lua calls (out of memory, once
 * a rule has filled the state) ends the pass instead of the process. */
static int rule_pass(lua_State *L) {
  pass *p = lua_touserdata(L, 1);
  vg_rules *r = p->r;
  lua_settop(L, 1);
  vg_lua_entry_push(L, p->ctx);
  lua_pushvalue(L, -1); /* in the registry slot, for vg_rules_run to invalidate */
  lua_rawseti(L, LUA_REGISTRYINDEX, r->entry_ref);
  const int entry_idx = 2;
  for (size_t i = 0; i < r->n && p->rc == 0; i++) {
    rule *ru = &r->v[i];
    if (ru->disabled) continue;
    if (ru->kind != RK_RULE) {
      /* The tagging rules have run (they come first): the entry's tags say
       * what kind of event it reports, and so which reports it joins. */
      if (!p->ctx->grouped) p->rc = group(r, p->st, p->ctx);
      uint64_t t0 = vg_metrics_now_ns();
      if (p->rc == 0) p->rc = vg_correlate(r, ru, p->st, p->ctx, entry_idx, p->out);
      vg_metrics_rule_call(ru->stats, vg_metrics_now_ns() - t0);
      continue;
    }
    uint64_t t0 = vg_metrics_now_ns();
    p->rc = plain_rule(r, ru, p, entry_idx);
    vg_metrics_rule_call(ru->stats, vg_metrics_now_ns() - t0);
  }
  if (p->rc == 0 && !p->ctx->grouped) p->rc = group(r, p->st, p->ctx); /* no correlation ran */
  return 0;
}

static int due_pass(lua_State *L) {
  pass *p = lua_touserdata(L, 1);
  p->rc = vg_correlate_due(p->r, p->st, p->today, p->out);
  return 0;
}

/* Runs fn(pass[, the entry object at entry_idx]) protected; an error there
 * is the rule state's, not a rule's. */
static int protected(vg_rules *r, lua_CFunction fn, pass *p, int entry_idx) {
  lua_State *L = r->sb->L;
  int top = lua_gettop(L);
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, p);
  if (entry_idx) lua_pushvalue(L, entry_idx);
  r->store = p->st;
  if (lua_pcall(L, entry_idx ? 2 : 1, 0, 0) != LUA_OK) {
    /* Only the host's own calls get here (rules run in calls of their
     * own): the state is out of memory, held by rules. Stop using it, and
     * let the entries be stored without rules until they are reloaded. */
    vg_error("rules: the rule state is exhausted (%s); rules are skipped until they are "
             "reloaded", lua_isstring(L, -1) ? lua_tostring(L, -1) : "error");
    r->exhausted = 1;
    p->rc = 0;
  }
  r->store = NULL;
  lua_settop(L, top);
  return p->rc;
}

int vg_rules_exhausted(const vg_rules *r) { return r && r->exhausted; }

/* Runs every rule on the entry of ctx, whose tags are those it starts with. */
static int run_ctx(vg_rules *r, vg_store *st, vg_entry_ctx *ctx, vg_alert_list *out) {
  if (!r || r->n == 0 || r->exhausted) return 0;
  lua_State *L = r->sb->L;
  const vg_rule_entry *e = ctx->e;
  int base = lua_gettop(L);
  pass p = {r, st, ctx, out, 0, 0};
  r->cause = r->correcting ? r->correcting : e->id;
  /* Looking at the text is charged by its length, so each call's budget
   * grows with it: a long entry can be scanned as often as a short one,
   * and a stream of long entries cannot get good rules disabled. */
  if (r->lim.budget > 0) r->sb->budget = r->lim.budget + (long)e->text_len * TEXT_UNITS;
  int rc = protected(r, rule_pass, &p, 0);
  r->sb->budget = r->lim.budget;
  /* The pass made the entry object (allocating only inside the protected
   * call) and left it in the registry slot: whatever happened, it is made
   * unusable now, so a rule that kept it gets an error, not a stale entry. */
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->entry_ref);
  vg_lua_entry_reset(L, -1, NULL);
  lua_pop(L, 1);
  lua_pushboolean(L, 0);
  lua_rawseti(L, LUA_REGISTRYINDEX, r->entry_ref);
  lua_settop(L, base);
  if (rc == 0) rc = advance(r, st, e);
  return rc;
}

int vg_rules_run(vg_rules *r, vg_store *st, const vg_rule_entry *e, vg_alert_list *out) {
  vg_entry_ctx ctx = {.e = e};
  int rc = run_ctx(r, st, &ctx, out);
  vg_entry_ctx_clear(&ctx);
  return rc;
}

/* ---- running the rules again over a stored entry ---- */

/* A tag the entry had before its rules ran again. */
typedef struct {
  char *tag, *rule;
  const rule *by;    /* its rule, when loaded */
  unsigned failures; /* of that rule before the run: more after it means it failed here */
  int stays;         /* its rule does not run: kept, and seen by the rules that do */
} old_tag;

typedef struct {
  old_tag *v;
  size_t n, cap;
} old_tags;

static int keep_old_tag(void *ud, const char *tag, const char *rule_name) {
  old_tags *o = ud;
  if (grow((void **)&o->v, &o->cap, o->n, sizeof *o->v)) return VG_ENOMEM;
  old_tag *t = &o->v[o->n];
  memset(t, 0, sizeof *t);
  t->tag = strdup(tag);
  t->rule = strdup(rule_name);
  if (!t->tag || !t->rule) {
    free(t->tag);
    free(t->rule);
    return VG_ENOMEM;
  }
  o->n++;
  return 0;
}

/* Removes the marks of entry id that the rules about to run will set anew:
 * all of them when every file loaded, else those of the correlations
 * loaded only, since a file that did not load may hold others. */
static int clear_marks(const vg_rules *r, vg_store *st, int64_t id) {
  if (!r || !r->unloaded) return vg_store_clear_marks(st, id);
  int rc = 0;
  for (size_t i = 0; i < r->n && rc == 0; i++)
    if (r->v[i].kind != RK_RULE) rc = vg_store_clear_rule_marks(st, id, r->v[i].name);
  return rc;
}

int vg_rules_rerun(vg_rules *r, vg_store *st, const vg_rule_entry *e, vg_alert_list *out) {
  if (r && r->exhausted) return 0; /* no rule would run: everything stays */
  old_tags old = {0};
  vg_entry_ctx ctx = {.e = e};
  int rc = vg_store_entry_tags(st, e->id, keep_old_tag, &old);
  for (size_t i = 0; rc == 0 && i < old.n; i++) {
    old_tag *t = &old.v[i];
    t->by = r ? find_rule(r, t->rule) : NULL;
    t->failures = t->by ? t->by->failures : 0;
    t->stays = t->by ? t->by->disabled : r && r->unloaded;
    if (t->stays && vg_entry_ctx_add_tag(&ctx, t->tag) < 0) rc = VG_ENOMEM;
  }
  if (rc == 0) rc = vg_store_clear_tags(st, e->id);
  if (rc == 0) rc = clear_marks(r, st, e->id);
  /* Its event is found again with the tags it gets now; the other reports
   * of its old event keep theirs. */
  if (rc == 0) rc = vg_store_event_forget(st, e->id);
  if (rc == 0) rc = run_ctx(r, st, &ctx, out);
  /* Back go the tags of rules that did not run, or failed on this entry,
   * or were all skipped when the rule state ran out of memory; a tag set
   * again meanwhile stays as it was set. */
  for (size_t i = 0; rc == 0 && i < old.n; i++) {
    const old_tag *t = &old.v[i];
    if (t->stays || (r && r->exhausted) || (t->by && t->by->failures != t->failures))
      rc = vg_store_tag(st, e->id, t->tag, t->rule);
  }
  for (size_t i = 0; i < old.n; i++) {
    free(old.v[i].tag);
    free(old.v[i].rule);
  }
  free(old.v);
  vg_entry_ctx_clear(&ctx);
  return rc;
}

int vg_rules_flush(vg_rules *r, vg_store *st, vg_alert_list *out) {
  return vg_rules_tick(r, st, INT32_MIN, out);
}

int vg_rules_tick(vg_rules *r, vg_store *st, int32_t today, vg_alert_list *out) {
  if (!r || r->n == 0 || r->exhausted) return 0;
  pass p = {r, st, NULL, out, today, 0};
  /* The watermark's doing: the entry that moved it last, when this process
   * saw it (or the correction that moved it). */
  r->cause = r->correcting ? r->correcting : r->max_day_entry;
  return protected(r, due_pass, &p, 0);
}

/* ---- test cases ---- */

/* Test cases are read outside any protected call: raw reads only, so a
 * metamethod in a test table cannot raise or loop here. */
static int raw_field(lua_State *L, int idx, const char *k) {
  idx = lua_absindex(L, idx);
  lua_pushstring(L, k);
  return lua_rawget(L, idx);
}

static char **strings_of(lua_State *L, int idx) {
  lua_Integer len = lua_istable(L, idx) ? (lua_Integer)lua_rawlen(L, idx) : 0;
  char **v = calloc((size_t)len + 1, sizeof *v);
  for (lua_Integer i = 1; v && i <= len; i++) {
    lua_rawgeti(L, idx, i);
    v[i - 1] = strdup(lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    lua_pop(L, 1);
  }
  return v;
}

static void free_strings(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

void vg_rule_test_free(vg_rule_test *t) {
  for (size_t i = 0; i < t->ngiven; i++) {
    free(t->given[i]);
    if (t->tags) free_strings(t->tags[i]);
  }
  free(t->given);
  free(t->tags);
  for (size_t i = 0; i < t->nalerts; i++) {
    free(t->alerts[i].rule);
    free(t->alerts[i].severity);
    free(t->alerts[i].message);
    free(t->alerts[i].entries);
  }
  free(t->alerts);
  memset(t, 0, sizeof *t);
}

int vg_rules_test_get(vg_rules *r, size_t i, vg_rule_test *t, char *err, size_t cap) {
  lua_State *L = r->sb->L;
  test_decl *d = &r->tests[i];
  memset(t, 0, sizeof *t);
  t->name = d->name;
  t->file = d->file;
  t->line = d->line;
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, d->ref);
  int spec = lua_gettop(L);
  raw_field(L, spec, "given");
  t->ngiven = (size_t)(lua_Integer)lua_rawlen(L, -1);
  t->given = calloc(t->ngiven + 1, sizeof *t->given);
  t->tags = calloc(t->ngiven + 1, sizeof *t->tags);
  int rc = 0;
  for (size_t k = 0; k < t->ngiven && t->given; k++) {
    lua_rawgeti(L, -1, (lua_Integer)k + 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      t->given[k] = strdup(lua_tostring(L, -1));
    } else if (lua_istable(L, -1)) {
      cJSON *j = vg_lua_to_json(L, -1);
      t->given[k] = j ? cJSON_PrintUnformatted(j) : NULL;
      cJSON_Delete(j);
    } else {
      snprintf(err, cap, "given entry %zu must be a line or a table", k + 1);
      rc = VG_EINVAL;
    }
    lua_pop(L, 1);
  }
  if (raw_field(L, spec, "tags") == LUA_TTABLE) {
    t->has_tags = 1;
    for (size_t k = 0; k < t->ngiven && t->tags; k++) {
      lua_rawgeti(L, -1, (lua_Integer)k + 1);
      t->tags[k] = strings_of(L, -1);
      lua_pop(L, 1);
    }
  }
  if (raw_field(L, spec, "alerts") == LUA_TTABLE) {
    t->has_alerts = 1;
    t->nalerts = (size_t)(lua_Integer)lua_rawlen(L, -1);
    t->alerts = calloc(t->nalerts + 1, sizeof *t->alerts);
    for (size_t k = 0; k < t->nalerts && t->alerts && rc == 0; k++) {
      struct vg_expected_alert *a = &t->alerts[k];
      lua_rawgeti(L, -1, (lua_Integer)k + 1);
      if (!lua_istable(L, -1) || raw_field(L, -1, "rule") != LUA_TSTRING) {
        snprintf(err, cap, "expected alert %zu needs a rule", k + 1);
        rc = VG_EINVAL;
        lua_settop(L, top);
        break;
      }
      a->rule = strdup(lua_tostring(L, -1));
      lua_pop(L, 1);
      if (raw_field(L, -1, "severity") == LUA_TSTRING) a->severity = strdup(lua_tostring(L, -1));
      lua_pop(L, 1);
      if (raw_field(L, -1, "message") == LUA_TSTRING) a->message = strdup(lua_tostring(L, -1));
      lua_pop(L, 1);
      if (raw_field(L, -1, "entries") == LUA_TTABLE) {
        a->nentries = (size_t)(lua_Integer)lua_rawlen(L, -1);
        a->entries = calloc(a->nentries + 1, sizeof *a->entries);
        for (size_t m = 0; m < a->nentries && a->entries; m++) {
          lua_rawgeti(L, -1, (lua_Integer)m + 1);
          a->entries[m] = lua_tointeger(L, -1);
          lua_pop(L, 1);
        }
      } else if (t->ngiven == 1) {
        a->nentries = 1;
        a->entries = calloc(2, sizeof *a->entries);
        if (a->entries) a->entries[0] = 1;
      } else {
        snprintf(err, cap, "expected alert %zu needs 'entries' (indexes into given)", k + 1);
        rc = VG_EINVAL;
      }
      lua_pop(L, 2);
    }
  }
  lua_settop(L, top);
  if (!t->given || !t->tags) {
    snprintf(err, cap, "out of memory");
    rc = VG_ENOMEM;
  }
  return rc;
}
