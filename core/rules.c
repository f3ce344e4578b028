/* rules.c — loading rule files, ordering rules, running them on entries.
 *
 * One sandboxed Lua state holds every rule. Each file runs in its own
 * environment, so files cannot see each other's globals; `rule` and `test`
 * (C functions in the safe table) record declarations against the file
 * being loaded. The state is rebuilt from scratch on each load, and the
 * last good text of every file is kept so that a broken edit falls back. */
#include "rules.h"

#include "embedded.h"
#include "sandbox.h"
#include "vigil.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_MAX 64        /* bytes in a tag */
#define MESSAGE_MAX 4096  /* bytes of an alert message kept */
#define NAME_MAX_LEN 128  /* bytes in a rule or test name */

typedef struct {
  char *name;       /* unique across the loaded files */
  char *file;       /* the file that declared it */
  int line;         /* where */
  int when;         /* registry refs: the predicate, tags, alert (or LUA_NOREF) */
  int tags;
  int alert;
  char **after;     /* rules it must run after */
  size_t nafter;
  char *severity;   /* default severity of its alerts */
  char *sinks;      /* extra sinks, joined by ',' or NULL */
  unsigned failures; /* calls that failed since load */
  int disabled;     /* failed too often: skipped until reload */
} rule;

typedef struct {
  char *path; /* as found in the directory */
  char *text; /* the last version that loaded */
  size_t len;
} good_file;

typedef struct {
  char *name, *file;
  int line;
  int ref; /* the test table */
} test_decl;

struct vg_rules {
  vg_sandbox *sb;       /* the Lua state */
  vg_rules_limits lim;
  rule *v;              /* in run order once loading is done */
  size_t n, cap;
  good_file *files;
  size_t nfiles, fcap;
  test_decl *tests;
  size_t ntests, tcap;
  const char *loading;  /* the file being loaded, while it runs */
};

void vg_alert_list_clear(vg_alert_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    vg_alert *a = &l->v[i];
    free(a->rule);
    free(a->key);
    free(a->severity);
    free(a->message);
    free(a->date);
    free(a->sinks);
    free(a->entries);
  }
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
  }
  free(ru->name);
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

/* A registry reference to field k of the spec at index 1, or LUA_NOREF. */
static int field_ref(lua_State *L, const char *k) {
  if (lua_getfield(L, 1, k) == LUA_TNIL) {
    lua_pop(L, 1);
    return LUA_NOREF;
  }
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* rule "name" { ... }: the second call, with the spec as its argument. */
static int declare_rule(lua_State *L) {
  vg_rules *r = self(L);
  const char *name = lua_tostring(L, lua_upvalueindex(2));
  luaL_argexpected(L, lua_istable(L, 1), 1, "a table describing the rule");
  if (!r->loading) return luaL_error(L, "rules are declared when their file loads, not later");
  static const char *const known[] = {"when", "tags", "alert", "after", "severity",
                                      "sinks", "description", NULL};
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    int ok = 0;
    for (const char *const *k = known; *k && !ok; k++)
      ok = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), *k) == 0;
    if (!ok)
      return luaL_error(L, "rule '%s': unknown field '%s'", name, luaL_tolstring(L, -1, NULL));
  }
  int tw = lua_getfield(L, 1, "when"), tt = lua_getfield(L, 1, "tags"),
      ta = lua_getfield(L, 1, "alert");
  if (tw != LUA_TNIL && tw != LUA_TFUNCTION)
    return luaL_error(L, "rule '%s': 'when' must be a function", name);
  if (tt != LUA_TNIL && tt != LUA_TFUNCTION && tt != LUA_TTABLE)
    return luaL_error(L, "rule '%s': 'tags' must be a list of tags or a function", name);
  if (ta != LUA_TNIL && ta != LUA_TFUNCTION && ta != LUA_TTABLE)
    return luaL_error(L, "rule '%s': 'alert' must be a function or a table", name);
  if (tt == LUA_TNIL && ta == LUA_TNIL)
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
    if (!lua_isstring(L, -1)) return luaL_error(L, "rule '%s': 'alert' table needs a message", name);
    lua_getfield(L, -2, "severity");
    if (!lua_isnil(L, -1) && !(lua_type(L, -1) == LUA_TSTRING && valid_severity(lua_tostring(L, -1))))
      return luaL_error(L, "rule '%s': 'alert' severity must be info, warn or crit", name);
    lua_pop(L, 2);
  }
  const char *severity = "warn";
  if (lua_getfield(L, 1, "severity") != LUA_TNIL) {
    severity = lua_tostring(L, -1);
    if (!severity || !valid_severity(severity))
      return luaL_error(L, "rule '%s': severity must be info, warn or crit", name);
  }
  int tafter = lua_getfield(L, 1, "after"), tsinks = lua_getfield(L, 1, "sinks");
  if (tafter != LUA_TNIL && tafter != LUA_TTABLE)
    return luaL_error(L, "rule '%s': 'after' must be a list of rule names", name);
  if (tsinks != LUA_TNIL && tsinks != LUA_TTABLE)
    return luaL_error(L, "rule '%s': 'sinks' must be a list of sink names", name);
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
  ru->when = ru->tags = ru->alert = LUA_NOREF;
  ru->name = strdup(name);
  ru->file = strdup(r->loading);
  ru->line = line;
  ru->severity = strdup(severity);
  if (tafter == LUA_TTABLE) string_list(L, -2, name, "after", &ru->after, &ru->nafter);
  if (tsinks == LUA_TTABLE && luaL_len(L, -1) > 0) ru->sinks = joined(L, -1);
  lua_settop(L, 1);
  ru->when = field_ref(L, "when");
  ru->tags = field_ref(L, "tags");
  ru->alert = field_ref(L, "alert");
  if (!ru->name || !ru->file || !ru->severity) return luaL_error(L, "out of memory");
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

/* rule "name": returns the function that takes the spec. */
static int rule_fn(lua_State *L) {
  check_name(L, "rule");
  if (!self(L)->loading) return luaL_error(L, "rules are declared when their file loads, not later");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, declare_rule, 2);
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
  vg_date d;
  char err[VG_REASON_MAX];
  if (vg_date_parse(s, n, &d, err, sizeof err)) return luaL_error(L, "date '%s': %s", s, err);
  lua_pushinteger(L, d.first);
  return 1;
}

/* ---- loading ---- */

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

/* Runs the embedded scripts/lists.lua and scripts/vigil.lua (trusted code)
 * to finish the safe table: the Lua half of the rule API. */
static int setup_api(vg_rules *r) {
  lua_State *L = r->sb->L;
  vg_sandbox_push_safe(r->sb);
  int safe = lua_gettop(L);
  lua_pushlightuserdata(L, r);
  lua_pushcclosure(L, rule_fn, 1);
  lua_setfield(L, safe, "rule");
  lua_pushlightuserdata(L, r);
  lua_pushcclosure(L, test_fn, 1);
  lua_setfield(L, safe, "test");
  lua_pushcfunction(L, date_fn);
  lua_setfield(L, safe, "date");
  const char *lists = script("lists.lua"), *api = script("vigil.lua");
  int rc = VG_EINVAL;
  if (!lists || !api) {
    lua_pushliteral(L, "scripts/lists.lua or scripts/vigil.lua is not embedded");
  } else if (luaL_loadbufferx(L, api, strlen(api), "=scripts/vigil.lua", "t") == LUA_OK) {
    lua_pushvalue(L, safe);
    vg_lua_entry_open(L); /* pushes the entry methods table */
    if (luaL_loadbufferx(L, lists, strlen(lists), "=scripts/lists.lua", "t") == LUA_OK &&
        lua_pcall(L, 0, 1, 0) == LUA_OK) {
      lua_pushcfunction(L, readonly_fn);
      if (lua_pcall(L, 4, 0, 0) == LUA_OK) rc = 0;
    }
  }
  if (rc) vg_error("rules: cannot set up the rule API: %s", lua_tostring(L, -1));
  lua_settop(L, safe - 1);
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

static int keep_good(vg_rules *r, const char *path, const char *text, size_t len) {
  if (grow((void **)&r->files, &r->fcap, r->nfiles, sizeof *r->files)) return VG_ENOMEM;
  good_file *g = &r->files[r->nfiles];
  g->path = strdup(path);
  g->text = malloc(len + 1);
  if (!g->path || !g->text) {
    free(g->path);
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

vg_rules *vg_rules_load(const char *dir, const vg_rules *prev, const vg_rules_limits *lim,
                        vg_rules_report_fn report, void *ud, int *errors) {
  vg_rules *r = calloc(1, sizeof *r);
  *errors = 0;
  if (!r) return NULL;
  r->lim = *lim;
  if (!(r->sb = vg_sandbox_new(lim->mem_max, lim->budget)) || setup_api(r)) {
    vg_rules_free(r);
    return NULL;
  }
  char msg[8192];
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(msg, sizeof msg, "%s: cannot read the rules directory: %s", dir, strerror(errno));
    report(ud, NULL, msg);
    (*errors)++;
    return r;
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
  lua_State *L = r->sb->L;
  for (size_t i = 0; i < nnames; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    free(names[i]);
    size_t len = 0;
    char *text = read_file(path, &len, msg, sizeof msg);
    if (text && load_text(r, path, text, len) == 0) {
      keep_good(r, path, text, len);
      free(text);
      continue;
    }
    if (text) {
      snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    free(text);
    (*errors)++;
    const good_file *old = NULL;
    for (size_t k = 0; prev && k < prev->nfiles; k++)
      if (strcmp(prev->files[k].path, path) == 0) old = &prev->files[k];
    if (old && load_text(r, path, old->text, old->len) == 0) {
      keep_good(r, path, old->text, old->len);
      size_t used = strlen(msg);
      snprintf(msg + used, sizeof msg - used, " (its previous version stays in force)");
    } else if (old) {
      lua_pop(L, 1);
    }
    report(ud, path, msg);
  }
  free(names);
  *errors += order_rules(r, report, ud);
  return r;
}

void vg_rules_free(vg_rules *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++) free_rule(&r->v[i], NULL);
  for (size_t i = 0; i < r->nfiles; i++) {
    free(r->files[i].path);
    free(r->files[i].text);
  }
  for (size_t i = 0; i < r->ntests; i++) {
    free(r->tests[i].name);
    free(r->tests[i].file);
  }
  free(r->v);
  free(r->files);
  free(r->tests);
  vg_sandbox_free(r->sb);
  free(r);
}

size_t vg_rules_count(const vg_rules *r) { return r ? r->n : 0; }
size_t vg_rules_test_count(const vg_rules *r) { return r ? r->ntests : 0; }

const char *vg_rules_file_of(const vg_rules *r, const char *name) {
  const rule *ru = find_rule(r, name);
  return ru ? ru->file : NULL;
}

/* ---- running ---- */

static void failed(vg_rules *r, rule *ru, const vg_rule_entry *e, const char *why) {
  ru->failures++;
  vg_warn("rule '%s' (%s:%d) failed on entry %lld: %s", ru->name, ru->file, ru->line,
          (long long)e->id, why);
  if (r->lim.max_failures && ru->failures >= r->lim.max_failures && !ru->disabled) {
    ru->disabled = 1;
    vg_error("rule '%s' (%s:%d) disabled after %u failures; fix it and reload", ru->name,
             ru->file, ru->line, ru->failures);
  }
}

/* Calls the function at the top of the stack with the entry; leaves one
 * result. Returns 0, or -1 after reporting the failure. */
static int call_rule(vg_rules *r, rule *ru, const vg_rule_entry *e, int entry_idx) {
  lua_State *L = r->sb->L;
  lua_pushvalue(L, entry_idx);
  if (vg_sandbox_call(r->sb, 1, 1) == LUA_OK) return 0;
  failed(r, ru, e, lua_tostring(L, -1));
  lua_pop(L, 1);
  return -1;
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
    failed(r, ru, ctx->e, "'tags' must give a list of tags");
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
      failed(r, ru, ctx->e, why);
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
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return rc;
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
  out->n++;
  if (!c->rule || !c->key || !c->severity || !c->message || !c->date || !c->entries ||
      (ru->sinks && !c->sinks))
    return VG_ENOMEM;
  memcpy(c->entries, a->entries, a->nentries * sizeof *c->entries);
  c->nentries = a->nentries;
  return 0;
}

static int raise_alert(vg_rules *r, rule *ru, vg_store *st, vg_entry_ctx *ctx, int entry_idx,
                       vg_alert_list *out) {
  lua_State *L = r->sb->L;
  const vg_rule_entry *e = ctx->e;
  if (lua_rawgeti(L, LUA_REGISTRYINDEX, ru->alert) == LUA_TFUNCTION &&
      call_rule(r, ru, e, entry_idx))
    return 0;
  int t = lua_type(L, -1);
  if (t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
    lua_pop(L, 1);
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
    lua_pop(L, 1); /* the key is copied; message and severity stay referenced below */
  }
  const char *why = !message ? "an alert needs a message: return a string, a table with a "
                               "message, or nil"
                    : !valid_severity(severity) ? "an alert's severity must be info, warn or crit"
                                                : NULL;
  if (why) {
    lua_settop(L, entry_idx);
    failed(r, ru, e, why);
    return 0;
  }
  char msg[MESSAGE_MAX + 1];
  snprintf(msg, sizeof msg, "%s", message);
  char dedup[512];
  snprintf(dedup, sizeof dedup, "%s\x1f%lld\x1f%s", ru->name, (long long)e->id, key);
  int64_t id;
  vg_alert_in a = {ru->name, key, dedup, severity, msg, e->date, e->first, &e->id, 1};
  int rc = vg_store_alert(st, &a, &id);
  if (rc == VG_STORED && out) rc = copy_alert(out, &a, id, ru);
  lua_settop(L, entry_idx);
  return rc < 0 ? rc : 0;
}

int vg_rules_run(vg_rules *r, vg_store *st, const vg_rule_entry *e, vg_alert_list *out) {
  if (!r || r->n == 0) return 0;
  lua_State *L = r->sb->L;
  vg_entry_ctx ctx = {e, NULL, 0, 0};
  int base = lua_gettop(L);
  vg_lua_entry_push(L, &ctx);
  int entry_idx = lua_gettop(L);
  int rc = 0;
  for (size_t i = 0; i < r->n && rc == 0; i++) {
    rule *ru = &r->v[i];
    if (ru->disabled) continue;
    if (ru->when != LUA_NOREF) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, ru->when);
      if (call_rule(r, ru, e, entry_idx)) continue;
      int yes = lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (!yes) continue;
    }
    if (ru->tags != LUA_NOREF) rc = apply_tags(r, ru, st, &ctx, entry_idx);
    if (rc == 0 && ru->alert != LUA_NOREF) rc = raise_alert(r, ru, st, &ctx, entry_idx, out);
  }
  vg_lua_entry_invalidate(L, entry_idx);
  lua_settop(L, base);
  vg_entry_ctx_clear(&ctx);
  return rc;
}

/* ---- test cases ---- */

/* Test cases are read outside any protected call: raw reads only, so a
 * metamethod in a test table cannot raise or loop here. */
static int raw_field(lua_State *L, int idx, const char *k) {
  idx = lua_absindex(L, idx);
  lua_pushstring(L, k);
  return lua_rawget(L, idx);
}

/* A Lua value (a given entry written as a table) to JSON. */
static cJSON *to_json(lua_State *L, int idx, int depth) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: return cJSON_CreateString(lua_tostring(L, idx));
  case LUA_TBOOLEAN: return cJSON_CreateBool(lua_toboolean(L, idx));
  case LUA_TNUMBER: return cJSON_CreateNumber(lua_tonumber(L, idx));
  case LUA_TTABLE: {
    if (depth > 16) return NULL;
    int is_list = (lua_Integer)lua_rawlen(L, idx) > 0;
    cJSON *j = is_list ? cJSON_CreateArray() : cJSON_CreateObject();
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      cJSON *v = to_json(L, -1, depth + 1);
      if (is_list) cJSON_AddItemToArray(j, v);
      else if (lua_type(L, -2) == LUA_TSTRING) cJSON_AddItemToObject(j, lua_tostring(L, -2), v);
      else cJSON_Delete(v);
      lua_pop(L, 1);
    }
    return j;
  }
  default: return cJSON_CreateNull();
  }
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
      cJSON *j = to_json(L, -1, 0);
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
