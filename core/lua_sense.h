/* lua_sense.h — the C half of scripts/sense.lua: splitting a line into
 * words, which the Lua half does for every line the shipped rules read
 * (a pattern and three string calls a word cost it ten times as much). */
#ifndef VIGIL_LUA_SENSE_H
#define VIGIL_LUA_SENSE_H

#include <lua.h>

/* Pushes a table of the helpers sense.lua takes:
 *   words(s)  -> the words of s as lists side by side: {n = the count, b,
 *               e, w, l, poss, comma, plain}; a word is a letter or digit followed
 *               by letters, digits, '-', an apostrophe and '.'; b[k] is its
 *               first byte (1-based), e[k] the byte after it, w[k] the word
 *               without a final full stop, l[k] that in lower case without
 *               a possessive ' or 's, poss[k] whether there was one,
 *               comma[k] whether a comma follows it, plain[k] whether l[k]
 *               is letters and digits only;
 *   pieces(s) -> a list of the runs of ASCII letters and digits of s, and a
 *               list of the same in lower case.
 *   trusted(f) -> a function calling f(e, ...) with the sandbox's count
 *               hook off, charging 1000 units and 20 a byte of the first
 *               2000 of e's text: for sense.lua's methods, whose work is
 *               bounded by that. e must be an entry object, valid: anything
 *               else is an error, raised before the hook goes off.
 * words and pieces charge the sandbox for the length of s. */
void vg_lua_sense_push(lua_State *L);

#endif
