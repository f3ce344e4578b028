/* lua_entry.c — the read-only entry object of the rule API; see lua_entry.h. */
#include "lua_entry.h"

#include "sandbox.h"
#include "textmatch.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cJSON.h>
#include <lauxlib.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRY_MT "vigil.entry"
#define FROZEN_VIEWS "vigil.frozen_views" /* registry: read-only view -> the copy it shows */
#define NEEDLES "vigil.needles"           /* registry: frozen view -> its strings (weak) */
#define REGEX_MT "vigil.regex"
#define REGEX_CACHE "vigil.regex.cache"
#define REGEX_CONTEXTS "vigil.regex.contexts"
#define REGEX_MATCH_LIMIT 1000000 /* backtracking steps one match may take at one start */
#define REGEX_CACHE_MAX 64 /* patterns kept compiled at once */
#define JSON_DEPTH_MAX 32

typedef struct {
  vg_entry_ctx *ctx; /* NULL once invalidated */
} entry_ud;

/* What an entry object keeps of its entry as Lua values, made on first use. */
enum { UV_FIELDS = 1, UV_TEXT, UV_COUNT = UV_TEXT };

int vg_entry_ctx_has_tag(const vg_entry_ctx *ctx, const char *tag) {
  for (size_t i = 0; i < ctx->ntags; i++)
    if (strcmp(ctx->tags[i], tag) == 0) return 1;
  return 0;
}

int vg_entry_ctx_add_tag(vg_entry_ctx *ctx, const char *tag) {
  if (vg_entry_ctx_has_tag(ctx, tag)) return 0;
  if (ctx->ntags == ctx->cap) {
    size_t cap = ctx->cap ? ctx->cap * 2 : 8;
    char **t = realloc(ctx->tags, cap * sizeof *t);
    if (!t) return -1;
    ctx->tags = t;
    ctx->cap = cap;
  }
  if (!(ctx->tags[ctx->ntags] = strdup(tag))) return -1;
  ctx->ntags++;
  return 1;
}

void vg_entry_ctx_clear(vg_entry_ctx *ctx) {
  for (size_t i = 0; i < ctx->ntags; i++) free(ctx->tags[i]);
  free(ctx->tags);
  memset(ctx, 0, sizeof *ctx);
}

/* The entry object at index 1, for C functions whose first upvalue is the
 * entry metatable: compared with it directly, not looked up by name. */
static vg_entry_ctx *check_entry(lua_State *L) {
  entry_ud *u = lua_touserdata(L, 1);
  int ok = 0;
  if (u && lua_getmetatable(L, 1)) {
    ok = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
  }
  if (!ok) u = luaL_checkudata(L, 1, ENTRY_MT); /* raises the usual error */
  if (!u->ctx) luaL_error(L, "this entry is no longer valid: keep values, not the entry");
  return u->ctx;
}

/* The strings of a frozen list, in order. */
typedef struct {
  size_t n;
  struct {
    const char *s;
    size_t len;
  } v[];
} needles;

/* The strings of the list at idx when it is a frozen view (see
 * vg_lua_entry_push_views), made once per list: such a list never changes
 * and its items are read without a look-up each. NULL for any other table,
 * and for a frozen list holding something other than strings (read item by
 * item then, as any list is, which reports the item). For the entry
 * methods, whose upvalues 2 and 3 are the NEEDLES and FROZEN_VIEWS tables. */
static const needles *frozen_needles(lua_State *L, int idx) {
  const needles *nd = NULL;
  int top = lua_gettop(L), cache = lua_upvalueindex(2);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, cache) == LUA_TUSERDATA) {
    nd = lua_touserdata(L, -1);
  } else {
    lua_pushvalue(L, idx);
    int strings = lua_rawget(L, lua_upvalueindex(3)) == LUA_TTABLE, copy = lua_gettop(L);
    size_t n = strings ? lua_rawlen(L, copy) : 0;
    for (size_t i = 1; strings && i <= n; i++) {
      strings = lua_rawgeti(L, copy, (lua_Integer)i) == LUA_TSTRING;
      lua_pop(L, 1);
    }
    if (strings) {
      needles *made = lua_newuserdatauv(L, sizeof *made + n * sizeof made->v[0], 1);
      made->n = n;
      for (size_t i = 0; i < n; i++) { /* the copy, kept by the userdata, keeps the strings */
        lua_rawgeti(L, copy, (lua_Integer)i + 1);
        made->v[i].s = lua_tolstring(L, -1, &made->v[i].len);
        lua_pop(L, 1);
      }
      lua_pushvalue(L, copy);
      lua_setiuservalue(L, -2, 1);
      lua_pushvalue(L, idx);
      lua_pushvalue(L, -2);
      lua_rawset(L, cache);
      nd = made;
    }
  }
  lua_settop(L, top);
  return nd;
}

/* Calls test(ctx, s, n) for the string at idx, or for each string of the
 * list at idx; returns whether any call said yes. */
typedef int (*string_test)(lua_State *L, vg_entry_ctx *ctx, const char *s, size_t n);
static int any_of(lua_State *L, vg_entry_ctx *ctx, int idx, string_test test) {
  size_t n;
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, idx, &n);
    return test(L, ctx, s, n);
  }
  luaL_argexpected(L, lua_type(L, idx) == LUA_TTABLE, idx, "string or list of strings");
  const needles *nd = frozen_needles(L, idx);
  if (nd) {
    for (size_t i = 0; i < nd->n; i++)
      if (test(L, ctx, nd->v[i].s, nd->v[i].len)) return 1;
    return 0;
  }
  lua_Integer len = luaL_len(L, idx);
  for (lua_Integer i = 1; i <= len; i++) {
    if (lua_geti(L, idx, i) != LUA_TSTRING)
      luaL_error(L, "bad argument #%d: item %d of the list is not a string", idx - 1, (int)i);
    const char *s = lua_tolstring(L, -1, &n);
    int yes = test(L, ctx, s, n);
    lua_pop(L, 1);
    if (yes) return 1;
  }
  return 0;
}

/* Each test is charged to the rule's budget, as work an instruction count
 * would not see: making the text's letter pairs (once an entry), looking a
 * word's pairs up, and each scan of the text the pairs do not rule out. A
 * list of words absent from a long text so costs little more than the
 * pairs, and a word in it a scan. */
static int test_word(lua_State *L, vg_entry_ctx *ctx, const char *s, size_t n) {
  if (!ctx->paired) {
    vg_sandbox_charge(L, ctx->e->text_len / 16 + 1);
    vg_text_pairs_make(&ctx->pairs, ctx->e->text, ctx->e->text_len);
    ctx->paired = 1;
  }
  vg_sandbox_charge(L, n + 1);
  if (!vg_text_pairs_may_have(&ctx->pairs, s, n)) return 0;
  vg_sandbox_charge(L, ctx->e->text_len / 16);
  return vg_text_has(ctx->e->text, ctx->e->text_len, s, n);
}

static int test_tag(lua_State *L, vg_entry_ctx *ctx, const char *s, size_t n) {
  (void)n;
  vg_sandbox_charge(L, ctx->ntags + 1);
  return vg_entry_ctx_has_tag(ctx, s);
}

static int entry_find(lua_State *L) {
  vg_entry_ctx *ctx = check_entry(L);
  lua_pushboolean(L, any_of(L, ctx, 2, test_word));
  return 1;
}

static int entry_has_tag(lua_State *L) {
  vg_entry_ctx *ctx = check_entry(L);
  lua_pushboolean(L, any_of(L, ctx, 2, test_tag));
  return 1;
}

/* ---- regular expressions: PCRE2, compiled once per pattern ---- */

/* PCRE2 allocates outside Lua: the compiled pattern, its match data and the
 * frames a match backtracks through, which a pattern with many groups
 * repeated over a long text makes gigabytes of. Its allocations go through
 * the state's allocator instead, each with its size in front, so they count
 * against the rules' memory cap like any Lua value. */
typedef union {
  size_t size;       /* of the whole block, this header included */
  max_align_t align;
} regex_block;

static void *regex_malloc(PCRE2_SIZE n, void *ud) {
  void *aud;
  lua_Alloc alloc = lua_getallocf(ud, &aud);
  if (n > SIZE_MAX - sizeof(regex_block)) return NULL;
  regex_block *b = alloc(aud, NULL, 0, sizeof *b + n);
  if (!b) return NULL;
  b->size = sizeof *b + n;
  return b + 1;
}

static void regex_free(void *p, void *ud) {
  if (!p) return;
  void *aud;
  lua_Alloc alloc = lua_getallocf(ud, &aud);
  regex_block *b = (regex_block *)p - 1;
  alloc(aud, b, b->size, 0);
}

/* The PCRE2 contexts of one Lua state, in a userdata of its registry. */
typedef struct {
  pcre2_general_context *gen;  /* allocation through the Lua allocator */
  pcre2_compile_context *comp; /* compiles with gen */
  pcre2_match_context *match;  /* the match limit and the step counter */
  int cached;                  /* patterns in the cache */
} regex_contexts;

static int contexts_gc(lua_State *L) {
  regex_contexts *c = lua_touserdata(L, 1);
  pcre2_match_context_free(c->match);
  pcre2_compile_context_free(c->comp);
  pcre2_general_context_free(c->gen);
  memset(c, 0, sizeof *c);
  return 0;
}

/* The steps of one match. Patterns are compiled with an automatic callout
 * before each item, so the callouts counted are the work the match did,
 * over all the start positions it tried; the match limit counts each start
 * position on its own, and a long text has a million of them. */
typedef struct {
  long steps; /* callouts so far */
  long left;  /* the most the running call can pay for */
} regex_steps;

static int regex_step(pcre2_callout_block *cb, void *ud) {
  (void)cb;
  regex_steps *s = ud;
  return ++s->steps > s->left ? PCRE2_ERROR_CALLOUT : 0;
}

typedef struct {
  pcre2_code *code;
  pcre2_match_data *md;
} regex_ud;

static int regex_gc(lua_State *L) {
  regex_ud *r = luaL_checkudata(L, 1, REGEX_MT);
  pcre2_match_data_free(r->md);
  pcre2_code_free(r->code);
  r->md = NULL;
  r->code = NULL;
  return 0;
}

static regex_contexts *regex_contexts_of(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, REGEX_CONTEXTS);
  regex_contexts *c = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!c || !c->comp || !c->match) luaL_error(L, "regular expressions are not available");
  return c;
}

/* Pushes the compiled form of the pattern at idx, compiling it on first
 * use (which is charged by the pattern's length). The cache keeps the
 * first REGEX_CACHE_MAX patterns; the next one starts a new cache, so that
 * patterns a rule makes up as it goes do not pile up, while the few that
 * rules use stay compiled (recompiling needs memory a hoarder may hold). */
static regex_ud *regex_push(lua_State *L, int idx, regex_contexts *ctxs) {
  size_t n;
  const char *pat = luaL_checklstring(L, idx, &n);
  lua_getfield(L, LUA_REGISTRYINDEX, REGEX_CACHE);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) == LUA_TUSERDATA) {
    lua_remove(L, -2);
    return lua_touserdata(L, -1);
  }
  lua_pop(L, 1);
  vg_sandbox_charge(L, n);
  regex_ud *r = lua_newuserdatauv(L, sizeof *r, 0);
  r->code = NULL;
  r->md = NULL;
  luaL_setmetatable(L, REGEX_MT); /* from here on the collector frees what is made */
  int err;
  PCRE2_SIZE off;
  r->code = pcre2_compile((PCRE2_SPTR)pat, n, PCRE2_UTF | PCRE2_UCP | PCRE2_AUTO_CALLOUT, &err,
                          &off, ctxs->comp);
  if (!r->code) {
    PCRE2_UCHAR msg[160];
    char shown[48]; /* lua_pushfstring knows no precision: cut the pattern here */
    pcre2_get_error_message(err, msg, sizeof msg);
    snprintf(shown, sizeof shown, "%.40s%s", pat, n > 40 ? "..." : "");
    luaL_error(L, "bad regular expression '%s': %s at offset %d", shown, (char *)msg, (int)off);
  }
  r->md = pcre2_match_data_create_from_pattern(r->code, NULL); /* allocates as the code did */
  if (!r->md) luaL_error(L, "not enough memory");
  if (ctxs->cached >= REGEX_CACHE_MAX) {
    lua_newtable(L);
    lua_replace(L, -3);
    lua_pushvalue(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, REGEX_CACHE);
    ctxs->cached = 0;
  }
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  ctxs->cached++;
  lua_remove(L, -2);
  return r;
}

/* e:match(pattern): the captures of the first match (the whole match when
 * the pattern has no groups), or nil. */
static int entry_match(lua_State *L) {
  vg_entry_ctx *ctx = check_entry(L);
  regex_contexts *ctxs = regex_contexts_of(L);
  regex_ud *r = regex_push(L, 2, ctxs); /* kept on the stack while it is used */
  vg_sandbox_charge(L, ctx->e->text_len / 16 + 1); /* the scans for a place to start */
  regex_steps steps = {0, vg_sandbox_left(L)};
  pcre2_set_callout(ctxs->match, regex_step, &steps);
  int rc = pcre2_match(r->code, (PCRE2_SPTR)ctx->e->text, ctx->e->text_len, 0, 0, r->md,
                       ctxs->match);
  vg_sandbox_charge(L, (size_t)steps.steps); /* past the budget: raises here */
  if (rc == PCRE2_ERROR_NOMATCH) {
    lua_pushnil(L);
    return 1;
  }
  if (rc < 0) {
    PCRE2_UCHAR msg[160];
    char shown[48];
    pcre2_get_error_message(rc, msg, sizeof msg);
    snprintf(shown, sizeof shown, "%.40s%s", lua_tostring(L, 2),
             lua_rawlen(L, 2) > 40 ? "..." : "");
    return luaL_error(L, "regular expression '%s': %s", shown, (char *)msg);
  }
  PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
  int first = rc > 1 ? 1 : 0, pushed = 0;
  luaL_checkstack(L, rc, "too many captures");
  for (int i = first; i < rc; i++, pushed++) {
    if (ov[2 * i] == PCRE2_UNSET) lua_pushnil(L);
    else lua_pushlstring(L, ctx->e->text + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
  }
  return pushed;
}

/* ---- fields: JSON to read-only tables ---- */

static void push_json(lua_State *L, const cJSON *j, int depth) {
  if (cJSON_IsString(j)) lua_pushstring(L, j->valuestring);
  else if (cJSON_IsNumber(j)) {
    double d = j->valuedouble;
    /* Whole numbers in the integer range become integers; the range check
     * comes first, since casting a double out of range is undefined. */
    if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(lua_Integer)d)
      lua_pushinteger(L, (lua_Integer)d);
    else lua_pushnumber(L, d);
  } else if (cJSON_IsBool(j)) lua_pushboolean(L, cJSON_IsTrue(j));
  else if ((cJSON_IsArray(j) || cJSON_IsObject(j)) && depth < JSON_DEPTH_MAX) {
    luaL_checkstack(L, 4, "fields");
    lua_newtable(L);
    int i = 1;
    for (const cJSON *c = j->child; c; c = c->next) {
      push_json(L, c, depth + 1);
      if (cJSON_IsArray(j)) lua_rawseti(L, -2, i++);
      else lua_setfield(L, -2, c->string);
    }
    vg_sandbox_push_readonly(L, -1);
    lua_remove(L, -2);
  } else lua_pushnil(L); /* null, or nested too deep */
}

static void push_fields(lua_State *L, vg_entry_ctx *ctx) {
  if (lua_getiuservalue(L, 1, UV_FIELDS) != LUA_TNIL) return;
  lua_pop(L, 1);
  cJSON *j = ctx->e->fields ? cJSON_Parse(ctx->e->fields) : NULL;
  if (j) push_json(L, j, 0);
  else {
    lua_newtable(L);
    vg_sandbox_push_readonly(L, -1);
    lua_remove(L, -2);
  }
  cJSON_Delete(j);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, 1, UV_FIELDS);
}

/* The text, made into a Lua string once per entry object. */
static void push_text(lua_State *L, const vg_rule_entry *e) {
  if (lua_getiuservalue(L, 1, UV_TEXT) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_pushlstring(L, e->text, e->text_len);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, 1, UV_TEXT);
}

/* The fields an entry has, by name; the upvalue table of entry_index maps
 * each name to its place here. */
enum { F_TEXT = 1, F_DATE, F_DAY, F_LAST_DAY, F_SOURCE, F_ID, F_PRECISION, F_FIELDS, F_TAGS };
static const char *const field_names[] = {NULL, "text", "date", "day", "last_day", "source",
                                          "id", "precision", "fields", "tags"};

/* __index, with upvalues: the entry metatable, the methods table, and the
 * table of field names. A method is found first, by one raw look-up. */
static int entry_index(lua_State *L) {
  vg_entry_ctx *ctx = check_entry(L);
  const vg_rule_entry *e = ctx->e;
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(3));
  int field = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  switch (field) {
  case F_TEXT: push_text(L, e); break;
  case F_DATE: lua_pushstring(L, e->date); break;
  case F_DAY: lua_pushinteger(L, e->first); break;
  case F_LAST_DAY: lua_pushinteger(L, e->last); break;
  case F_SOURCE: lua_pushstring(L, e->source); break;
  case F_ID: lua_pushinteger(L, e->id); break;
  case F_PRECISION: lua_pushstring(L, e->precision); break;
  case F_FIELDS: push_fields(L, ctx); break;
  case F_TAGS:
    lua_createtable(L, (int)ctx->ntags, 0);
    for (size_t i = 0; i < ctx->ntags; i++) {
      lua_pushstring(L, ctx->tags[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    break;
  default:
    return luaL_error(L, "an entry has no field or method '%s'", luaL_checkstring(L, 2));
  }
  return 1;
}

static int entry_newindex(lua_State *L) {
  return luaL_error(L, "an entry is read-only (tried to set '%s')", luaL_tolstring(L, 2, NULL));
}

static int entry_tostring(lua_State *L) {
  entry_ud *u = luaL_checkudata(L, 1, ENTRY_MT);
  if (!u->ctx) lua_pushliteral(L, "entry (no longer valid)");
  else lua_pushfstring(L, "entry %I (%s)", (LUAI_UACINT)u->ctx->e->id, u->ctx->e->date);
  return 1;
}

void vg_lua_entry_push_views(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, FROZEN_VIEWS);
}

/* A new registry table at name, with weak keys. */
static void weak_table(lua_State *L, const char *name) {
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, name);
}

void vg_lua_entry_open(lua_State *L) {
  weak_table(L, FROZEN_VIEWS);
  weak_table(L, NEEDLES);
  luaL_newmetatable(L, ENTRY_MT);
  int mt = lua_gettop(L);
  lua_pushcfunction(L, entry_newindex);
  lua_setfield(L, mt, "__newindex");
  lua_pushcfunction(L, entry_tostring);
  lua_setfield(L, mt, "__tostring");
  lua_pushliteral(L, "entry");
  lua_setfield(L, mt, "__metatable");
  luaL_newmetatable(L, REGEX_MT);
  lua_pushcfunction(L, regex_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_newtable(L); /* the cache: pattern -> compiled */
  lua_setfield(L, LUA_REGISTRYINDEX, REGEX_CACHE);
  /* PCRE2 allocates through the main thread's allocator: it lives as long as
   * the state, whichever coroutine a match runs in. */
  regex_contexts *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, contexts_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, REGEX_CONTEXTS);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  c->gen = pcre2_general_context_create(regex_malloc, regex_free, lua_tothread(L, -1));
  lua_pop(L, 1);
  if (c->gen && (c->comp = pcre2_compile_context_create(c->gen)) &&
      (c->match = pcre2_match_context_create(c->gen)))
    pcre2_set_match_limit(c->match, REGEX_MATCH_LIMIT); /* e:match says so when these are missing */
  static const luaL_Reg methods[] = {
      {"find", entry_find}, {"has_tag", entry_has_tag}, {"match", entry_match}, {NULL, NULL}};
  luaL_newlibtable(L, methods);
  int m = lua_gettop(L);
  lua_pushvalue(L, mt);
  lua_getfield(L, LUA_REGISTRYINDEX, NEEDLES);
  lua_getfield(L, LUA_REGISTRYINDEX, FROZEN_VIEWS);
  /* Each knows the metatable, to check its entry, and the tables of
   * frozen lists. */
  luaL_setfuncs(L, methods, 3);
  lua_pushvalue(L, mt);
  lua_pushvalue(L, m);
  lua_createtable(L, 0, F_TAGS);
  for (int f = F_TEXT; f <= F_TAGS; f++) {
    lua_pushinteger(L, f);
    lua_setfield(L, -2, field_names[f]);
  }
  lua_pushcclosure(L, entry_index, 3);
  lua_setfield(L, mt, "__index");
  lua_remove(L, mt); /* the methods table is left */
}

void vg_lua_entry_push(lua_State *L, vg_entry_ctx *ctx) {
  entry_ud *u = lua_newuserdatauv(L, sizeof *u, UV_COUNT);
  u->ctx = ctx;
  luaL_setmetatable(L, ENTRY_MT);
}

const vg_entry_ctx *vg_lua_entry_at(lua_State *L, int idx) {
  entry_ud *u = luaL_testudata(L, idx, ENTRY_MT);
  return u ? u->ctx : NULL;
}

void vg_lua_entry_invalidate(lua_State *L, int idx) {
  entry_ud *u = luaL_testudata(L, idx, ENTRY_MT);
  if (u) u->ctx = NULL;
}

void vg_lua_entry_reset(lua_State *L, int idx, vg_entry_ctx *ctx) {
  entry_ud *u = luaL_testudata(L, idx, ENTRY_MT);
  if (!u) return;
  u->ctx = ctx;
  for (int uv = 1; uv <= UV_COUNT; uv++) {
    lua_pushnil(L);
    lua_setiuservalue(L, idx < 0 ? idx - 1 : idx, uv);
  }
}
