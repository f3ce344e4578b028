/* sandbox.h — a Lua state for untrusted rule code: capped memory, an
 * instruction budget per call, and an environment per chunk that reads
 * only an allow-list of safe globals.
 *
 * What a chunk run in vg_sandbox_push_env's table can reach: the basic
 * functions that do not touch the system or the interpreter (no load,
 * require, dofile, rawset, getmetatable, collectgarbage, pcall), read-only
 * string, table, math, utf8 and coroutine libraries, os.time, os.date,
 * os.clock and os.difftime, and whatever trusted setup code adds to the
 * safe table. Reading a global that does not exist is an error. */
#ifndef VIGIL_SANDBOX_H
#define VIGIL_SANDBOX_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  lua_State *L;     /* the state; its allocator and hook point back here */
  size_t mem;       /* bytes allocated now */
  size_t mem_max;   /* the cap on untrusted code: its allocations past it fail */
  int untrusted;    /* untrusted code is running (inside vg_sandbox_call) */
  size_t mem_peak;  /* the most ever allocated */
  long budget;      /* instructions one call may run; <= 0 for no limit */
  long used;        /* instructions the running call has used */
  uint64_t deadline; /* CLOCK_MONOTONIC ns at which the running call is stopped */
} vg_sandbox;

/* A new state with the standard libraries in its own globals (for trusted
 * setup code) and the safe table built. NULL when out of memory. */
vg_sandbox *vg_sandbox_new(size_t mem_max, long budget);
/* Closes the state; NULL does nothing. */
void vg_sandbox_free(vg_sandbox *sb);

/* Pushes the safe table, to which trusted code may add globals. */
void vg_sandbox_push_safe(vg_sandbox *sb);
/* Pushes a fresh environment for one untrusted chunk. */
void vg_sandbox_push_env(vg_sandbox *sb);
/* Pushes a read-only view of the table at idx: reads pass through, writes
 * and setmetatable raise errors, pairs and # work. */
void vg_sandbox_push_readonly(lua_State *L, int idx);

/* lua_pcall with a fresh instruction budget. On error the message (with
 * file:line where Lua knows it) is on the stack and a full collection has
 * run. Returns the lua_pcall status (LUA_ERRRUN, not LUA_ERRMEM, when an
 * allocation failed because the budget was spent). While it runs,
 * allocations are held to mem_max; outside, host code has a reserve above
 * it, so that a rule that fills the cap cannot make the host's own Lua
 * calls fail.
 *
 * With a budget, the call also pays for the memory it makes (a byte costs
 * as much as scanning it: a concatenation copies in one instruction what
 * a loop would take thousands for), and once the budget is spent its large
 * allocations fail, so that it stops at once. And it is stopped after one
 * microsecond per unit of its budget (a second for a million), a backstop
 * for work no count sees: comparing or converting huge strings, each a
 * single instruction. */
int vg_sandbox_call(vg_sandbox *sb, int nargs, int nresults);

/* Charges work done in C on behalf of untrusted code (a scan of n bytes
 * costs about n / 16) to the running call's budget; raises the budget error
 * when it is spent. For C functions that rules call. */
void vg_sandbox_charge(lua_State *L, size_t units);
/* The units the running call may still spend (LONG_MAX without a budget),
 * for C functions that must stop work of their own before it is spent. */
long vg_sandbox_left(lua_State *L);

#endif
