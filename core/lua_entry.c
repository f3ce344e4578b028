/* lua_entry.c — the read-only entry object of the rule API; see lua_entry.h. */
#include "lua_entry.h"

#include "sandbox.h"
#include "textmatch.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cJSON.h>
#include <lauxlib.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#define ENTRY_MT "vigil.entry"
#define METHODS_KEY "vigil.entry.methods"
#define REGEX_MT "vigil.regex"
#define REGEX_CACHE "vigil.regex.cache"
#define REGEX_MATCH_LIMIT 1000000 /* backtracking steps one match may take */
#define JSON_DEPTH_MAX 32

typedef struct {
  vg_entry_ctx *ctx; /* NULL once invalidated */
} entry_ud;

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

static vg_entry_ctx *check_entry(lua_State *L) {
  entry_ud *u = luaL_checkudata(L, 1, ENTRY_MT);
  if (!u->ctx) luaL_error(L, "this entry is no longer valid: keep values, not the entry");
  return u->ctx;
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

/* Each test is charged to the rule's budget: a scan of the text in C is
 * work an instruction count would not see. */
static int test_word(lua_State *L, vg_entry_ctx *ctx, const char *s, size_t n) {
  vg_sandbox_charge(L, ctx->e->text_len / 16 + n);
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

static regex_ud *regex_get(lua_State *L, int idx) {
  size_t n;
  const char *pat = luaL_checklstring(L, idx, &n);
  lua_getfield(L, LUA_REGISTRYINDEX, REGEX_CACHE);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) == LUA_TUSERDATA) {
    regex_ud *r = lua_touserdata(L, -1);
    lua_pop(L, 2);
    return r;
  }
  lua_pop(L, 1);
  int err;
  PCRE2_SIZE off;
  pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, n, PCRE2_UTF | PCRE2_UCP, &err, &off, NULL);
  if (!code) {
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(err, msg, sizeof msg);
    luaL_error(L, "bad regular expression '%s': %s at offset %d", pat, (char *)msg, (int)off);
  }
  regex_ud *r = lua_newuserdatauv(L, sizeof *r, 0);
  r->code = code;
  r->md = pcre2_match_data_create_from_pattern(code, NULL);
  luaL_setmetatable(L, REGEX_MT);
  if (!r->md) luaL_error(L, "out of memory");
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  lua_pop(L, 2);
  return r;
}

/* e:match(pattern): the captures of the first match (the whole match when
 * the pattern has no groups), or nil. */
static int entry_match(lua_State *L) {
  vg_entry_ctx *ctx = check_entry(L);
  regex_ud *r = regex_get(L, 2);
  vg_sandbox_charge(L, 10000 + ctx->e->text_len / 16); /* up to the match limit of work */
  static pcre2_match_context *mctx;
  if (!mctx && (mctx = pcre2_match_context_create(NULL)))
    pcre2_set_match_limit(mctx, REGEX_MATCH_LIMIT);
  int rc = pcre2_match(r->code, (PCRE2_SPTR)ctx->e->text, ctx->e->text_len, 0, 0, r->md, mctx);
  if (rc == PCRE2_ERROR_NOMATCH) {
    lua_pushnil(L);
    return 1;
  }
  if (rc < 0) {
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(rc, msg, sizeof msg);
    return luaL_error(L, "regular expression '%s': %s", lua_tostring(L, 2), (char *)msg);
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
  if (lua_getiuservalue(L, 1, 1) != LUA_TNIL) return;
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
  lua_setiuservalue(L, 1, 1);
}

static int entry_index(lua_State *L) {
  vg_entry_ctx *ctx = check_entry(L);
  const vg_rule_entry *e = ctx->e;
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "text") == 0) lua_pushlstring(L, e->text, e->text_len);
  else if (strcmp(k, "date") == 0) lua_pushstring(L, e->date);
  else if (strcmp(k, "day") == 0) lua_pushinteger(L, e->first);
  else if (strcmp(k, "last_day") == 0) lua_pushinteger(L, e->last);
  else if (strcmp(k, "source") == 0) lua_pushstring(L, e->source);
  else if (strcmp(k, "id") == 0) lua_pushinteger(L, e->id);
  else if (strcmp(k, "precision") == 0) lua_pushstring(L, e->precision);
  else if (strcmp(k, "fields") == 0) push_fields(L, ctx);
  else if (strcmp(k, "tags") == 0) {
    lua_createtable(L, (int)ctx->ntags, 0);
    for (size_t i = 0; i < ctx->ntags; i++) {
      lua_pushstring(L, ctx->tags[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  } else {
    lua_getfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
    if (lua_getfield(L, -1, k) == LUA_TNIL)
      return luaL_error(L, "an entry has no field or method '%s'", k);
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

void vg_lua_entry_open(lua_State *L) {
  luaL_newmetatable(L, ENTRY_MT);
  lua_pushcfunction(L, entry_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, entry_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, entry_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "entry");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
  luaL_newmetatable(L, REGEX_MT);
  lua_pushcfunction(L, regex_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, REGEX_CACHE);
  static const luaL_Reg methods[] = {
      {"find", entry_find}, {"has_tag", entry_has_tag}, {"match", entry_match}, {NULL, NULL}};
  luaL_newlib(L, methods);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
}

void vg_lua_entry_push(lua_State *L, vg_entry_ctx *ctx) {
  entry_ud *u = lua_newuserdatauv(L, sizeof *u, 1);
  u->ctx = ctx;
  luaL_setmetatable(L, ENTRY_MT);
}

void vg_lua_entry_invalidate(lua_State *L, int idx) {
  entry_ud *u = luaL_testudata(L, idx, ENTRY_MT);
  if (u) u->ctx = NULL;
}

void vg_lua_entry_reset(lua_State *L, int idx, vg_entry_ctx *ctx) {
  entry_ud *u = luaL_testudata(L, idx, ENTRY_MT);
  if (!u) return;
  u->ctx = ctx;
  lua_pushnil(L);
  lua_setiuservalue(L, idx < 0 ? idx - 1 : idx, 1);
}
