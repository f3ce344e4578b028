/* lua_json.h — Lua values to JSON, for digests and rule test cases. */
#ifndef VIGIL_LUA_JSON_H
#define VIGIL_LUA_JSON_H

#include <cJSON.h>
#include <lua.h>

/* The value at idx as JSON: a table without string keys is an array (its
 * items 1..#t; an empty table is []), any other table an object with its
 * string keys in sorted order, so the output is the same from run to run. Reads are raw
 * (no metamethods run). Functions and other values become null; nesting
 * deeper than 32 is cut to null. Returns NULL only when out of memory. */
cJSON *vg_lua_to_json(lua_State *L, int idx);

#endif
