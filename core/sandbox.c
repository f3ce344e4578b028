/* sandbox.c — capped allocator, instruction hook, safe environments. */
#include "sandbox.h"

#include "vigil.h"

#include <lauxlib.h>
#include <lualib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOOK_EVERY 1000 /* instructions between two looks at the budget */
#define HOST_RESERVE (8u << 20) /* bytes the host may use above the cap */
#define BYTES_PER_UNIT 16 /* bytes scanned or made for one unit of budget */
#define SPENT_ALLOC_MAX 4096 /* bytes an allocation may take once the budget is spent */
#define NS_PER_UNIT 1000 /* a call may take 1 µs per unit of its budget */
#define SAFE_KEY "vigil.safe"

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  vg_sandbox *sb = ud;
  size_t old = ptr ? osize : 0; /* without ptr, osize names a type, not a size */
  if (nsize == 0) {
    free(ptr);
    sb->mem -= old;
    return NULL;
  }
  size_t limit = sb->untrusted ? sb->mem_max : sb->mem_max + HOST_RESERVE;
  if (nsize > old && sb->mem + (nsize - old) > limit) return NULL;
  if (sb->untrusted && nsize > old && sb->budget > 0) {
    /* Making memory is work the instruction count misses (one concatenation
     * copies megabytes): it is charged, and once the call is over budget a
     * large allocation fails, so that a loop making big strings stops here
     * rather than at the next count. Small ones still succeed: the budget
     * error needs its message. */
    sb->used += (long)((nsize - old) / BYTES_PER_UNIT);
    if (sb->used > sb->budget && nsize - old > SPENT_ALLOC_MAX) return NULL;
  }
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  sb->mem = sb->mem - old + nsize;
  if (sb->mem > sb->mem_peak) sb->mem_peak = sb->mem;
  return p;
}

static vg_sandbox *of(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

static void over_budget(lua_State *L, int level);

void vg_sandbox_charge(lua_State *L, size_t units) {
  vg_sandbox *sb = of(L);
  sb->used += (long)(units > (size_t)LONG_MAX / 2 ? (size_t)LONG_MAX / 2 : units);
  if (sb->budget > 0 && sb->used > sb->budget) over_budget(L, 1);
}

long vg_sandbox_left(lua_State *L) {
  vg_sandbox *sb = of(L);
  if (sb->budget <= 0) return LONG_MAX;
  return sb->used < sb->budget ? sb->budget - sb->used : 0;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  vg_sandbox *sb = of(L);
  sb->used += HOOK_EVERY;
  if (sb->budget > 0 && (sb->used > sb->budget || (sb->untrusted && now_ns() > sb->deadline)))
    over_budget(L, 0);
}

/* Raises the budget error, naming the Lua code at `level` (0 in a hook: the
 * function running; 1 in a C function: the Lua code that called it). */
static void over_budget(lua_State *L, int level) {
  vg_sandbox *sb = of(L);
  luaL_where(L, level);
  if (sb->used > sb->budget)
    lua_pushfstring(L, "%sinstruction budget of %I exceeded", lua_tostring(L, -1),
                    (LUAI_UACINT)sb->budget);
  else
    lua_pushfstring(L, "%stime limit of %I ms exceeded", lua_tostring(L, -1),
                    (LUAI_UACINT)(sb->budget / (1000000 / NS_PER_UNIT)));
  lua_error(L);
}

/* ---- read-only views ---- */

static int ro_newindex(lua_State *L) {
  return luaL_error(L, "attempt to change a read-only table (field '%s')",
                    lua_isstring(L, 2) ? lua_tostring(L, 2) : luaL_typename(L, 2));
}

/* Iterates the real table without handing it out: the state a generic for
 * sees is the read-only view. */
static int ro_next(lua_State *L) {
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  if (lua_next(L, -2)) return 2;
  lua_pushnil(L);
  return 1;
}

static int ro_pairs(lua_State *L) {
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__index");
  lua_pushcclosure(L, ro_next, 1);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int ro_len(lua_State *L) {
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__index");
  lua_pushinteger(L, luaL_len(L, -1));
  return 1;
}

void vg_sandbox_push_readonly(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  lua_createtable(L, 0, 5);
  lua_pushvalue(L, idx);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ro_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, ro_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushcfunction(L, ro_len);
  lua_setfield(L, -2, "__len");
  lua_pushliteral(L, "read-only");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
}

/* ---- environments ---- */

static int env_index(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, SAFE_KEY);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, -2) != LUA_TNIL) return 1;
  return luaL_error(L, "unknown global '%s'",
                    lua_isstring(L, 2) ? lua_tostring(L, 2) : luaL_typename(L, 2));
}

static int safe_print(lua_State *L) {
  int n = lua_gettop(L); /* before the buffer, which may push a placeholder */
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_Debug ar;
  const char *where = "rule";
  char at[256];
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
    snprintf(at, sizeof at, "%s:%d", ar.short_src, ar.currentline);
    where = at;
  }
  vg_notice("%s: print: %s", where, lua_tostring(L, -1));
  return 0;
}

/* setmetatable without __gc: Lua runs finalizers with hooks off, so a
 * finalizer would escape the instruction budget. */
static int safe_setmetatable(lua_State *L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL)
      return luaL_error(L, "rules may not set __gc: finalizers run outside the instruction budget");
    lua_pop(L, 1);
    lua_pushliteral(L, "__len");
    if (lua_rawget(L, 2) != LUA_TNIL) /* table.insert and friends would loop on a lying length */
      return luaL_error(L, "rules may not set __len");
    lua_pop(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

/* How many unbounded repetitions (*, +, -, and %b, which scans as far as
 * it must to balance) a Lua pattern has: each one can multiply the
 * backtracking work by the length of the subject, and that work runs in C,
 * where the instruction budget cannot stop it. */
static int repetitions(const char *p, size_t n) {
  int q = 0;
  size_t i = n && p[0] == '^';
  while (i < n) {
    char c = p[i];
    if (c == '(' || c == ')') {
      i++;
      continue;
    }
    if (c == '%' && i + 1 < n) {
      char k = p[i + 1];
      if (k == 'b') { /* a balanced match may run to the end of the subject */
        q++;
        i += 4;
        continue;
      }
      if (k == 'f' || (k >= '0' && k <= '9')) {
        i += 2;
        if (k != 'f') continue;
        c = i < n ? p[i] : 0;
        if (c != '[') continue;
      } else {
        i += 2;
        goto quantifier;
      }
    }
    if (c == '[') {
      i++;
      if (i < n && p[i] == '^') i++;
      if (i < n && p[i] == ']') i++;
      while (i < n && p[i] != ']') i += p[i] == '%' ? 2 : 1;
      i++;
    } else {
      i++;
    }
  quantifier:
    if (i < n && (p[i] == '*' || p[i] == '+' || p[i] == '-')) {
      q++;
      i++;
    }
  }
  return q;
}

#define PATTERN_WORK_MAX 1e8 /* the most backtracking steps a pattern call may risk */

/* string.find, match, gmatch and gsub, refusing a pattern whose worst case
 * on this subject is more than PATTERN_WORK_MAX steps. */
static int guarded_pattern(lua_State *L) {
  size_t n, pn;
  luaL_checklstring(L, 1, &n);
  const char *p = luaL_checklstring(L, 2, &pn);
  int plain = lua_toboolean(L, lua_upvalueindex(2)) && lua_toboolean(L, 4);
  /* Worst case: each start position times the pattern's length, times the
   * subject's length again for each unbounded repetition. */
  int q = plain ? 0 : repetitions(p, pn);
  double work = ((double)n + 1) * ((double)pn + 1);
  for (int i = 0; i < q; i++) work *= (double)n + 1;
  if (work > PATTERN_WORK_MAX) {
    char shown[48]; /* lua_pushfstring knows no precision: cut the pattern here */
    snprintf(shown, sizeof shown, "%.40s%s", p, pn > 40 ? "..." : "");
    return luaL_error(L, "pattern '%s' could take too long on a text of %d bytes: use "
                         "e:match (PCRE2, with a match limit), a shorter pattern or fewer "
                         "repetitions",
                      shown, (int)n);
  }
  vg_sandbox_charge(L, (size_t)(work / 64));
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* Library functions whose work in C grows with their input, and how to
 * size it: the length of the first argument (a string, or a table's raw
 * length), that times the count of string.rep, n log n for table.sort, or
 * the span j - i of table.unpack and string.byte. "_G" is the basic
 * functions. */
typedef enum { COST_LEN, COST_REP, COST_SORT, COST_SPAN } cost_kind;
static const struct {
  const char *lib, *name;
  cost_kind kind;
} charged[] = {
    {"table", "insert", COST_LEN},   {"table", "remove", COST_LEN},  {"table", "concat", COST_LEN},
    {"table", "sort", COST_SORT},    {"table", "unpack", COST_SPAN}, {"string", "upper", COST_LEN},
    {"string", "lower", COST_LEN},   {"string", "reverse", COST_LEN}, {"string", "rep", COST_REP},
    {"string", "byte", COST_SPAN},   {"string", "sub", COST_LEN},    {"string", "format", COST_LEN},
    {"utf8", "len", COST_LEN},       {"utf8", "codepoint", COST_SPAN}, {"utf8", "offset", COST_LEN},
    {"os", "date", COST_LEN},        {"_G", "tonumber", COST_LEN},
};

static int charged_call(lua_State *L) {
  cost_kind kind = (cost_kind)lua_tointeger(L, lua_upvalueindex(2));
  double units = 1;
  size_t len = lua_type(L, 1) == LUA_TSTRING ? lua_rawlen(L, 1)
               : lua_type(L, 1) == LUA_TTABLE ? lua_rawlen(L, 1)
                                               : 0;
  if (kind == COST_LEN) units += (double)len;
  else if (kind == COST_REP) units += (double)len * (lua_isinteger(L, 2) && lua_tointeger(L, 2) > 0 ? (double)lua_tointeger(L, 2) : 0);
  else if (kind == COST_SORT) units += (double)len * 20; /* about n log n for the sizes a rule has */
  else {
    lua_Integer i = luaL_optinteger(L, 2, 1), j = luaL_optinteger(L, 3, lua_type(L, 1) == LUA_TSTRING ? i : (lua_Integer)len);
    if (j > i) units += (double)j - (double)i;
  }
  /* Charged after the call: its own work is bounded by the memory cap (a
   * string.rep too big fails for want of memory, as it should), and what a
   * loop of such calls adds up to is what the budget stops. */
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  vg_sandbox_charge(L, units > 1e15 ? (size_t)1e15 : (size_t)units);
  return lua_gettop(L);
}

/* Wraps each function of the table at idx that `charged` lists for lib in
 * a closure that charges its work. */
static void charge_fields(lua_State *L, int idx, const char *lib) {
  idx = lua_absindex(L, idx);
  for (size_t c = 0; c < sizeof charged / sizeof charged[0]; c++) {
    if (strcmp(lib, charged[c].lib) != 0) continue;
    if (lua_getfield(L, idx, charged[c].name) != LUA_TFUNCTION) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushinteger(L, charged[c].kind);
    lua_pushcclosure(L, charged_call, 2);
    lua_setfield(L, idx, charged[c].name);
  }
}

void vg_sandbox_push_safe(vg_sandbox *sb) { lua_getfield(sb->L, LUA_REGISTRYINDEX, SAFE_KEY); }

void vg_sandbox_push_env(vg_sandbox *sb) {
  lua_State *L = sb->L;
  lua_newtable(L);
  luaL_getmetatable(L, "vigil.env");
  lua_setmetatable(L, -2);
}

/* Copies the named fields of the table at src into a new table. */
static void pick(lua_State *L, int src, const char *const *names) {
  lua_newtable(L);
  for (; *names; names++) {
    lua_getfield(L, src, *names);
    lua_setfield(L, -2, *names);
  }
}

static void build_safe(lua_State *L) {
  static const char *const base[] = {"assert", "error", "ipairs", "next", "pairs", "select",
                                     "tonumber", "tostring", "type", "setmetatable",
                                     "rawequal", "rawlen", "_VERSION", NULL};
  static const char *const os_ok[] = {"time", "date", "clock", "difftime", NULL};
  static const char *const libs[] = {"string", "table", "math", "utf8", "coroutine", NULL};
  lua_pushglobaltable(L);
  int g = lua_gettop(L);
  pick(L, g, base);
  int safe = lua_gettop(L);
  charge_fields(L, safe, "_G");
  lua_pushcfunction(L, safe_print);
  lua_setfield(L, safe, "print");
  lua_getfield(L, g, "setmetatable");
  lua_pushcclosure(L, safe_setmetatable, 1);
  lua_setfield(L, safe, "setmetatable");
  /* Each library is copied, less what hands out bytecode (string.dump) or
   * loops in C beyond the budget's reach (table.move); the copies are what
   * rules see, read-only. */
  for (const char *const *lib = libs; *lib; lib++) {
    lua_getfield(L, g, *lib);
    int is_string = strcmp(*lib, "string") == 0;
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
      const char *k = lua_tostring(L, -2);
      int is_find = is_string && strcmp(k, "find") == 0;
      if ((is_string && strcmp(k, "dump") == 0) || (strcmp(*lib, "table") == 0 && strcmp(k, "move") == 0)) {
        lua_pop(L, 1);
        continue;
      }
      if (is_string && (is_find || strcmp(k, "match") == 0 || strcmp(k, "gmatch") == 0 ||
                        strcmp(k, "gsub") == 0)) {
        lua_pushboolean(L, is_find); /* find has a plain mode */
        lua_pushcclosure(L, guarded_pattern, 2);
      }
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -4);
    }
    lua_remove(L, -2);
    charge_fields(L, -1, *lib);
    if (is_string) { /* methods on strings, ("x"):upper(), come from the copy too */
      lua_pushliteral(L, "");
      lua_getmetatable(L, -1);
      lua_pushvalue(L, -3);
      lua_setfield(L, -2, "__index");
      lua_pop(L, 2);
    }
    vg_sandbox_push_readonly(L, -1);
    lua_setfield(L, safe, *lib);
    lua_pop(L, 1);
  }
  lua_getfield(L, g, "os");
  pick(L, lua_gettop(L), os_ok);
  charge_fields(L, -1, "os");
  vg_sandbox_push_readonly(L, -1);
  lua_setfield(L, safe, "os");
  lua_pop(L, 2);
  lua_setfield(L, LUA_REGISTRYINDEX, SAFE_KEY);
  lua_pop(L, 1);

  /* Strings share one metatable; keep rules from reaching it. */
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushliteral(L, "read-only");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);

  luaL_newmetatable(L, "vigil.env");
  lua_pushcfunction(L, env_index);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

static int setup(lua_State *L) {
  luaL_openlibs(L);
  build_safe(L);
  return 0;
}

vg_sandbox *vg_sandbox_new(size_t mem_max, long budget) {
  vg_sandbox *sb = calloc(1, sizeof *sb);
  if (!sb) return NULL;
  sb->mem_max = mem_max;
  sb->budget = budget;
  sb->L = lua_newstate(capped_alloc, sb);
  if (!sb->L) {
    free(sb);
    return NULL;
  }
  lua_pushcfunction(sb->L, setup);
  if (lua_pcall(sb->L, 0, 0, 0) != LUA_OK) {
    vg_error("rules: cannot set up Lua: %s", lua_tostring(sb->L, -1));
    vg_sandbox_free(sb);
    return NULL;
  }
  lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
  return sb;
}

void vg_sandbox_free(vg_sandbox *sb) {
  if (!sb) return;
  if (sb->L) lua_close(sb->L);
  free(sb);
}

int vg_sandbox_call(vg_sandbox *sb, int nargs, int nresults) {
  sb->used = 0;
  if (sb->budget > 0) sb->deadline = now_ns() + (uint64_t)sb->budget * NS_PER_UNIT;
  int was = sb->untrusted;
  sb->untrusted = 1;
  int rc = lua_pcall(sb->L, nargs, nresults, 0);
  sb->untrusted = was;
  if (rc != LUA_OK) {
    if (rc == LUA_ERRMEM && sb->budget > 0 && sb->used > sb->budget) {
      lua_pop(sb->L, 1); /* an allocation refused because the budget was spent */
      lua_pushfstring(sb->L, "instruction budget of %I exceeded (making a large value)",
                      (LUAI_UACINT)sb->budget);
      rc = LUA_ERRRUN;
    } else if (!lua_isstring(sb->L, -1)) { /* error({...}) and the like */
      const char *t = luaL_typename(sb->L, -1);
      lua_pop(sb->L, 1);
      lua_pushfstring(sb->L, "error raised with a %s value, not a message", t);
    }
    lua_gc(sb->L, LUA_GCCOLLECT);
  }
  return rc;
}
