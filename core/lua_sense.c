/* lua_sense.c — the C half of scripts/sense.lua; see lua_sense.h. */
#include "lua_sense.h"

#include "lua_entry.h"
#include "sandbox.h"

#include <lauxlib.h>
#include <stddef.h>

static int alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int word_char(unsigned char c) { return alnum(c) || c == '-' || c == '\'' || c == '.'; }

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* The fields of the result of words(), each a list. */
enum { F_B = 1, F_E, F_W, F_L, F_POSS, F_COMMA, F_PLAIN, F_COUNT = F_PLAIN };
static const char *const field_names[] = {NULL, "b", "e", "w", "l", "poss", "comma", "plain"};

static int sense_words(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  vg_sandbox_charge(L, n / 4 + 1);
  lua_settop(L, 1);
  for (int f = F_B; f <= F_COUNT; f++) lua_createtable(L, (int)(n / 6) + 1, 0); /* at 1 + f */
  luaL_Buffer low;
  lua_Integer count = 0;
  for (size_t i = 0; i < n;) {
    if (!alnum((unsigned char)s[i])) {
      i++;
      continue;
    }
    size_t b = i++;
    while (i < n && word_char((unsigned char)s[i])) i++;
    size_t len = i - b;
    if (s[b + len - 1] == '.') len--; /* a full stop */
    size_t llen = len;
    int poss = 0;
    if (llen >= 1 && s[b + llen - 1] == '\'') {
      poss = 1;
      llen--;
    } else if (llen >= 2 && lower(s[b + llen - 1]) == 's' && s[b + llen - 2] == '\'') {
      poss = 1;
      llen -= 2;
    }
    count++;
    lua_pushinteger(L, (lua_Integer)b + 1);
    lua_rawseti(L, 1 + F_B, count);
    lua_pushinteger(L, (lua_Integer)i + 1);
    lua_rawseti(L, 1 + F_E, count);
    lua_pushlstring(L, s + b, len);
    lua_rawseti(L, 1 + F_W, count);
    char *p = luaL_buffinitsize(L, &low, llen);
    for (size_t k = 0; k < llen; k++) p[k] = lower(s[b + k]);
    luaL_pushresultsize(&low, llen);
    lua_rawseti(L, 1 + F_L, count);
    lua_pushboolean(L, poss);
    lua_rawseti(L, 1 + F_POSS, count);
    lua_pushboolean(L, i < n && s[i] == ',');
    lua_rawseti(L, 1 + F_COMMA, count);
    int plain = 1;
    for (size_t k = b; k < b + llen && plain; k++) plain = alnum((unsigned char)s[k]);
    lua_pushboolean(L, plain);
    lua_rawseti(L, 1 + F_PLAIN, count);
  }
  lua_createtable(L, 0, F_COUNT + 1);
  lua_pushinteger(L, count);
  lua_setfield(L, -2, "n");
  for (int f = F_B; f <= F_COUNT; f++) {
    lua_pushvalue(L, 1 + f);
    lua_setfield(L, -2, field_names[f]);
  }
  return 1;
}

static int sense_pieces(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  vg_sandbox_charge(L, n / 8 + 1);
  lua_newtable(L);
  lua_newtable(L);
  lua_Integer count = 0;
  luaL_Buffer low;
  for (size_t i = 0; i < n;) {
    if (!alnum((unsigned char)s[i])) {
      i++;
      continue;
    }
    size_t b = i;
    while (i < n && alnum((unsigned char)s[i])) i++;
    lua_pushlstring(L, s + b, i - b);
    lua_rawseti(L, -3, ++count);
    char *p = luaL_buffinitsize(L, &low, i - b);
    for (size_t k = b; k < i; k++) p[k - b] = lower(s[k]);
    luaL_pushresultsize(&low, i - b);
    lua_rawseti(L, -2, count);
  }
  return 2;
}

/* Calls upvalue 1 with the arguments, the count hook off: sense.lua is
 * trusted, and its loops are bounded by the length of the text it reads
 * (at most READ_MAX_CHARGED bytes of it), while the hook would make each of
 * its instructions cost a call. The call is charged by that length
 * instead. Only an entry object is taken as the entry: anything else could
 * run a rule's own code (a table's __index) with the hook off. */
#define TRUSTED_CALL_UNITS 1000
#define READ_MAX_CHARGED 2000 /* scripts/sense.lua's READ_MAX */
#define UNITS_PER_BYTE 20

static int call_unhooked(lua_State *L) {
  const vg_entry_ctx *ctx = vg_lua_entry_at(L, 1);
  if (!ctx)
    return luaL_error(L, "e:agents(), e:mode() and e:action() take the entry a rule is given, "
                         "while its rules run: call them as e:mode()");
  size_t len = ctx->e->text_len < READ_MAX_CHARGED ? ctx->e->text_len : READ_MAX_CHARGED;
  vg_sandbox_charge(L, TRUSTED_CALL_UNITS + len * UNITS_PER_BYTE);
  lua_Hook hook = lua_gethook(L);
  int mask = lua_gethookmask(L), count = lua_gethookcount(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_sethook(L, NULL, 0, 0);
  int rc = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  lua_sethook(L, hook, mask, count);
  if (rc != LUA_OK) return lua_error(L);
  return lua_gettop(L);
}

static int sense_trusted(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_pushcclosure(L, call_unhooked, 1);
  return 1;
}

void vg_lua_sense_push(lua_State *L) {
  static const luaL_Reg fns[] = {{"words", sense_words},
                                 {"pieces", sense_pieces},
                                 {"trusted", sense_trusted},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
}
