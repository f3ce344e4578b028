/* lua_json.c — Lua values to JSON; see lua_json.h. */
#include "lua_json.h"

#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 32

static int by_key(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static cJSON *convert(lua_State *L, int idx, int depth) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: return cJSON_CreateString(lua_tostring(L, idx));
  case LUA_TBOOLEAN: return cJSON_CreateBool(lua_toboolean(L, idx));
  case LUA_TNUMBER:
    return lua_isinteger(L, idx) ? cJSON_CreateNumber((double)lua_tointeger(L, idx))
                                 : cJSON_CreateNumber(lua_tonumber(L, idx));
  case LUA_TTABLE: break;
  default: return cJSON_CreateNull();
  }
  if (depth >= DEPTH_MAX || !lua_checkstack(L, 4)) return cJSON_CreateNull();
  /* A table with no string key is a list, an empty one included: an empty
   * list of alerts is [], not {}. */
  size_t n = lua_rawlen(L, idx);
  lua_pushnil(L);
  int has_key = 0;
  while (!has_key && lua_next(L, idx)) {
    has_key = lua_type(L, -2) == LUA_TSTRING;
    lua_pop(L, 1);
  }
  if (has_key) lua_pop(L, 1); /* the key lua_next left */
  if (!has_key) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 1; a && i <= n; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i);
      cJSON_AddItemToArray(a, convert(L, -1, depth + 1));
      lua_pop(L, 1);
    }
    return a;
  }
  const char **keys = NULL;
  size_t nk = 0, cap = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) continue;
    if (nk == cap) {
      const char **k = realloc(keys, (cap = cap ? cap * 2 : 8) * sizeof *k);
      if (!k) break;
      keys = k;
    }
    keys[nk++] = lua_tostring(L, -1); /* the key stays in the table: its string lives */
  }
  if (nk) qsort(keys, nk, sizeof *keys, by_key);
  cJSON *o = cJSON_CreateObject();
  for (size_t i = 0; o && i < nk; i++) {
    lua_pushstring(L, keys[i]);
    lua_rawget(L, idx);
    cJSON_AddItemToObject(o, keys[i], convert(L, -1, depth + 1));
    lua_pop(L, 1);
  }
  free(keys);
  return o;
}

cJSON *vg_lua_to_json(lua_State *L, int idx) { return convert(L, idx, 0); }
