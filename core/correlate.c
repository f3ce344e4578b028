/* correlate.c — correlation rules, evaluated in event time on the marks
 * table (see db/002_marks.sql): sequence, threshold, absence and first.
 *
 * When an entry matches a step it leaves a mark; then every conclusion the
 * new mark can change is looked up again by index over the marks of a range
 * of days. Nothing is held in memory between entries, so late and
 * out-of-order entries, restarts and replays reach the same alerts.
 *
 * "A lies within W days before B" means, on the spans of their dates:
 * A.last <= B.first (same day allowed: day dates carry no order within a
 * day) and A.first >= B.last - W; so an entry dated only to a month pairs
 * only when its whole month fits the window.
 *
 * An alert is a function of the marks, not of the order they came in: when
 * a new mark changes a conclusion, the alert is written again whole (its
 * date, message and entries), under the same dedup key.
 *
 * Correlations are about events, and one event may come as several entries
 * (the same line from two sources, or reports in other words grouped by
 * core/events.c before the correlations run). Each mark carries the event
 * its entry reports: an event never pairs with itself, a threshold counts
 * events, not entries (each in the span of its first report), and an alert
 * about an event is anchored on its first report and names all of them.
 *
 * A threshold's window is counted on the store's per-span tally of events
 * (vg_store_spans), a row per day of the window whatever the number of
 * entries, and its alert, one per day the window ends on, names at most
 * NAMED_MAX entries and says how many events there were. The windows a new
 * mark falls in are counted and named together, on one reading of the spans
 * and one of the marks. */
#include "rules_impl.h"

#include "entry.h"

#include "vigil.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_MAX VG_FIELD_MAX
#define CANDIDATES_MAX 1000 /* marks looked at per step and look-up */
#define NAMED_MAX 100       /* entries one alert names at most */
#define SPAN_SLACK 366      /* the longest span a date may have (a year), in days */

typedef vg_mark mark;

typedef struct {
  mark *v;
  size_t n, cap;
  size_t max; /* at most this many are collected; 0: all */
} marks;

static int collect(void *ud, const vg_mark *x) {
  marks *m = ud;
  if (m->max && m->n >= m->max) return 1;
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    mark *v = realloc(m->v, cap * sizeof *v);
    if (!v) return VG_ENOMEM;
    m->v = v;
    m->cap = cap;
  }
  m->v[m->n++] = *x;
  return 0;
}

/* The marks of a step in a range of first days, at most CANDIDATES_MAX of
 * them: the earliest, or with latest_first the latest. */
static int lookup_order(vg_store *st, const rule *ru, int step, const char *key, int32_t from,
                        int32_t to, int latest_first, marks *out) {
  out->n = 0;
  out->max = CANDIDATES_MAX;
  if (from > to) return 0;
  int rc = vg_store_marks(st, ru->name, step, key, from, to, latest_first, collect, out);
  return rc > 0 ? 0 : rc;
}

static int lookup(vg_store *st, const rule *ru, int step, const char *key, int32_t from,
                  int32_t to, marks *out) {
  return lookup_order(st, ru, step, key, from, to, 0, out);
}

/* "a lies within W days before b", with the rule's least gap; a and b
 * report two events. */
static int precedes(const rule *ru, const mark *a, const mark *b, int32_t window_start) {
  return a->event != b->event && a->last <= b->first && a->first >= window_start &&
         (int64_t)b->first - a->last >= ru->min_gap;
}

/* The reports of one event, at most NAMED_MAX of them, by id. */
typedef struct {
  int64_t v[NAMED_MAX];
  size_t n;
} reports;

static int add_report(void *ud, int64_t id) {
  reports *rp = ud;
  if (rp->n == NAMED_MAX) return 1;
  rp->v[rp->n++] = id;
  return 0;
}

/* The reports of m's event among the marks of step `step`; m's own entry
 * when there are none (its mark is gone). rp->v[0] is the first report. */
static int reports_of(vg_store *st, const rule *ru, int step, const char *key, const mark *m,
                      reports *rp) {
  rp->n = 0;
  int rc = vg_store_event_reports(st, ru->name, step, key, m->first, m->event, add_report, rp);
  if (rc < 0) return rc;
  if (rp->n == 0) rp->v[rp->n++] = m->entry;
  return 0;
}

/* The key of the entry: by(e) as text, or the text of the field `by`
 * names, "" for a rule without `by`. Returns 1, 0 when by(e) is nil or the
 * entry has no such field (the rule does not apply), -1 when it failed. */
static int key_of(vg_rules *r, rule *ru, const vg_rule_entry *e, int entry_idx, char *key) {
  lua_State *L = r->sb->L;
  key[0] = '\0';
  if (ru->by_field) return vg_entry_field_text(e->source, e->fields, ru->by_field, key) >= 0;
  if (ru->by == LUA_NOREF) return 1;
  lua_rawgeti(L, LUA_REGISTRYINDEX, ru->by);
  lua_pushvalue(L, entry_idx);
  if (vg_rule_call(r, ru, e->id, 1)) return -1;
  int t = lua_type(L, -1), rc = 1;
  if (t == LUA_TSTRING || t == LUA_TNUMBER) snprintf(key, KEY_MAX, "%s", lua_tostring(L, -1));
  else if (t == LUA_TNIL) rc = 0;
  else {
    vg_rule_failed(r, ru, e->id, "'by' must give a string, a number or nil");
    rc = -1;
  }
  lua_pop(L, 1);
  return rc;
}

/* Whether the entry of ctx carries any of tags (a NULL-ended list). */
static int has_any(const vg_entry_ctx *ctx, char **tags) {
  for (; *tags; tags++)
    if (vg_entry_ctx_has_tag(ctx, *tags)) return 1;
  return 0;
}

/* Which steps the entry matches, as a bit mask; -1 when a step failed. A
 * tagged"..." step is read off the entry's tags, without a call. */
static int steps_of(vg_rules *r, rule *ru, const vg_entry_ctx *ctx, int entry_idx) {
  lua_State *L = r->sb->L;
  const vg_rule_entry *e = ctx->e;
  int mask = 0;
  if (ru->nsteps == 0) return 1; /* first without match: every entry */
  for (size_t i = 0; i < ru->nsteps; i++) {
    if (ru->step_tags[i]) {
      if (has_any(ctx, ru->step_tags[i])) mask |= 1 << i;
      continue;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, ru->steps[i]);
    lua_pushvalue(L, entry_idx);
    if (vg_rule_call(r, ru, e->id, 1)) return -1;
    if (lua_toboolean(L, -1)) mask |= 1 << i;
    lua_pop(L, 1);
  }
  return mask;
}

/* ---- raising, with the entries loaded as objects for the alert function ---- */

/* The list of entries an alert function gets: entry objects made when the
 * function reads them (#list and list[i] work, as does ipairs), since most
 * functions read one or two of a window that can hold a hundred. */
typedef struct {
  vg_rules *r;
  vg_store *st;
  const int64_t *ids;  /* the entries, in order */
  size_t n;
  vg_loaded **slots;   /* the entries loaded, each allocated as it loads (room for all) */
  size_t *loaded;      /* slots used so far */
} lazy;

/* Loads entry id into the next slot of lz, as an object on the stack when
 * `push`, else only with what a default message reads (no tags). The slot
 * is counted before the object is made, so that it is released whatever
 * happens. 0, VG_ENOMEM, VG_EDB or VG_EINVAL. */
static int load_next(lazy *lz, int64_t id, int push) {
  vg_loaded *slot = malloc(sizeof *slot);
  if (!slot) return VG_ENOMEM;
  int rc = vg_rules_load_stored(lz->st, id, push, slot);
  if (rc) {
    free(slot);
    return rc;
  }
  lz->slots[(*lz->loaded)++] = slot;
  if (push) vg_lua_entry_push(lz->r->sb->L, &slot->ctx);
  return 0;
}

static int lazy_len(lua_State *L) {
  lazy *lz = lua_touserdata(L, lua_upvalueindex(1));
  lua_pushinteger(L, (lua_Integer)lz->n);
  return 1;
}

static int lazy_index(lua_State *L) {
  lazy *lz = lua_touserdata(L, lua_upvalueindex(1));
  lua_Integer i = lua_isinteger(L, 2) ? lua_tointeger(L, 2) : 0;
  if (i < 1 || (size_t)i > lz->n) return 0;
  if (load_next(lz, lz->ids[i - 1], 1)) return 0;
  lua_pushvalue(L, -1); /* kept, to be made invalid after the call */
  lua_rawseti(L, lua_upvalueindex(2), (lua_Integer)*lz->loaded);
  lua_pushvalue(L, -1); /* and cached in the list */
  lua_rawseti(L, 1, i);
  return 1;
}

/* Pushes the lazy list of lz; objects it makes are also put in the table at
 * index keep. */
static void push_lazy_list(lua_State *L, lazy *lz, int keep) {
  lua_createtable(L, 0, 0);
  lua_createtable(L, 0, 3);
  lua_pushlightuserdata(L, lz);
  lua_pushvalue(L, keep);
  lua_pushcclosure(L, lazy_index, 2);
  lua_setfield(L, -2, "__index");
  lua_pushlightuserdata(L, lz);
  lua_pushcclosure(L, lazy_len, 1);
  lua_setfield(L, -2, "__len");
  lua_pushliteral(L, "entries");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
}

/* Calls the alert function (or takes the fixed table, or makes the default
 * message) and stores the alert, anchored on the entry args[anchor_at]. The
 * function gets the objects of the `args` entries (unless `list` is 2:
 * then only the list), then a list of all `named` entries when `list` is
 * set, then the key, then `count` when it is not negative (the events of a
 * threshold's window, which the alert keeps too). */
static int raise(vg_rules *r, rule *ru, vg_store *st, size_t anchor_at, const int64_t *args,
                 size_t nargs, const int64_t *named, size_t nnamed, int list,
                 const char *dedup_base, const char *key,
                 const char *(*default_message)(lua_State *, const rule *, vg_loaded **,
                                                size_t, long long),
                 int replace, long long count, vg_alert_list *out) {
  lua_State *L = r->sb->L;
  vg_loaded **slots = calloc(nargs + nnamed + 1, sizeof *slots);
  if (!slots) return VG_ENOMEM;
  /* Every entry object made here is also kept in this table, so that all
   * of them are invalidated before their slots are freed, even one a rule
   * stored away. */
  lua_createtable(L, (int)(nargs + nnamed), 0);
  int keep = lua_gettop(L), base = keep;
  size_t loaded = 0;
  int rc = 0, fn = lua_rawgeti(L, LUA_REGISTRYINDEX, ru->alert) == LUA_TFUNCTION;
  if (ru->alert == LUA_NOREF) lua_pop(L, 1);
  lazy lz = {r, st, named, nnamed, slots, &loaded};
  /* The argument objects are made for a function that gets them; else the
   * default message and the alert read the entries' dates and texts alone. */
  int objects = fn && list != 2;
  for (size_t i = 0; i < nargs && rc == 0; i++)
    if ((rc = load_next(&lz, args[i], objects)) == 0 && objects) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, keep, (lua_Integer)loaded);
    }
  if (rc == 0 && list && fn) push_lazy_list(L, &lz, keep);
  if (rc) goto cleanup;
  const vg_rule_entry anchor = slots[anchor_at]->e;
  int64_t anchor_id = args[anchor_at];
  if (fn) {
    lua_pushstring(L, key);
    if (count >= 0) lua_pushinteger(L, (lua_Integer)count);
    int n = (list == 2 ? 0 : (int)nargs) + (list ? 1 : 0) + 1 + (count >= 0);
    if (vg_rule_call(r, ru, anchor_id, n)) goto cleanup;
  } else if (ru->alert == LUA_NOREF) {
    lua_settop(L, base);
    default_message(L, ru, slots, nargs, count);
  } else {
    lua_settop(L, base);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ru->alert);
  }
  rc = vg_rule_alert(r, ru, st, &anchor, named, nnamed, dedup_base, key, replace, count, out);
cleanup:
  for (size_t i = 0; i < loaded; i++) {
    lua_rawgeti(L, keep, (lua_Integer)i + 1);
    vg_lua_entry_invalidate(L, -1);
    lua_pop(L, 1);
    vg_rules_unload(slots[i]);
    free(slots[i]);
  }
  free(slots);
  lua_settop(L, keep - 1);
  return rc;
}

static const char *seq_message(lua_State *L, const rule *ru, vg_loaded **s, size_t n,
                               long long count) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  (void)ru;
  (void)count;
  for (size_t i = 0; i < n; i++) {
    if (i) luaL_addstring(&b, ", then ");
    luaL_addlstring(&b, s[i]->e.date, strlen(s[i]->e.date));
    luaL_addstring(&b, " ");
    luaL_addlstring(&b, s[i]->e.text, s[i]->e.text_len);
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

static const char *threshold_message(lua_State *L, const rule *ru, vg_loaded **s, size_t n,
                                     long long count) {
  (void)n;
  lua_pushfstring(L, "%I events within %d days, up to %s", (LUAI_UACINT)count, (int)ru->within,
                  s[0]->e.date);
  return lua_tostring(L, -1);
}

static const char *absence_message(lua_State *L, const rule *ru, vg_loaded **s, size_t n,
                                   long long count) {
  (void)n;
  (void)count;
  lua_pushfstring(L, "nothing followed within %d days: %s %s", (int)ru->within,
                  s[0]->e.date, s[0]->e.text);
  return lua_tostring(L, -1);
}

static const char *first_message(lua_State *L, const rule *ru, vg_loaded **s, size_t n,
                                 long long count) {
  (void)n;
  (void)ru;
  (void)count;
  lua_pushfstring(L, "first seen: %s %s", s[0]->e.date, s[0]->e.text);
  return lua_tostring(L, -1);
}

/* ---- sequence ---- */

/* The chains ending at c: depth-first from the last step back to the first.
 * chain[k] holds the entry of step k; every complete chain adds its entries
 * to `named` and, the first time, becomes the representative `best`. */
typedef struct {
  vg_store *st;
  const rule *ru;
  const char *key;
  int32_t window_start; /* c.last - within */
  mark chain[8];
  mark best[8];
  int found;
  int64_t named[NAMED_MAX];
  size_t nnamed;
  int only_first;      /* per pair: the chains must start with ... */
  int64_t first_event; /* ... a report of this event */
} chain_search;

static void name(chain_search *cs, int64_t id) {
  for (size_t i = 0; i < cs->nnamed; i++)
    if (cs->named[i] == id) return;
  if (cs->nnamed < NAMED_MAX) cs->named[cs->nnamed++] = id;
}

/* Whether x, at step `step`, and later, at the next step, stand in the
 * order that does not count. Two entries dated the same single day may
 * come in either order, as dates to the day say nothing of the order within
 * a day; when each could also stand at the other's step (two meetings in a
 * sequence of meetings), both orders would pair them and one pair would
 * give two alerts. Then only the order with the lesser event first counts.
 * Sets *yes; returns 0 or VG_EDB. */
static int out_of_order(chain_search *cs, int step, const mark *x, const mark *later, int *yes) {
  *yes = 0;
  if (x->first != x->last || later->first != later->last || x->first != later->first ||
      x->event < later->event)
    return 0;
  int64_t ev;
  int rc = vg_store_mark_event(cs->st, cs->ru->name, step + 1, cs->key, x->first, x->entry, &ev);
  if (rc == 1)
    rc = vg_store_mark_event(cs->st, cs->ru->name, step, cs->key, later->first, later->entry, &ev);
  if (rc < 0) return rc;
  *yes = rc;
  return 0;
}

static int search(chain_search *cs, int step) {
  const mark *later = &cs->chain[step + 1];
  marks m = {0};
  /* Latest first: the first complete chain found is the tightest one. */
  int rc = lookup_order(cs->st, cs->ru, step, cs->key, cs->window_start, later->first, 1, &m);
  for (size_t i = 0; rc == 0 && i < m.n; i++) {
    mark *x = &m.v[i];
    if (!precedes(cs->ru, x, later, cs->window_start)) continue;
    int reused = 0; /* a chain links distinct events */
    for (size_t k = (size_t)step + 1; k < cs->ru->nsteps && !reused; k++)
      reused = cs->chain[k].event == x->event;
    if (reused) continue;
    if (step == 0 && cs->only_first && x->event != cs->first_event) continue;
    int skip;
    if ((rc = out_of_order(cs, step, x, later, &skip)) || skip) continue;
    cs->chain[step] = *x;
    if (step == 0) {
      if (!cs->found) memcpy(cs->best, cs->chain, sizeof cs->best);
      cs->found = 1;
      for (size_t k = 0; k < cs->ru->nsteps; k++) name(cs, cs->chain[k].entry);
    } else {
      rc = search(cs, step - 1);
    }
  }
  free(m.v);
  return rc;
}

/* Whether marks v[0..i) hold a report of v[i]'s event (they share its
 * first day, and the look-ups list a day's marks together). */
static int seen_event(const mark *v, size_t i) {
  for (size_t k = i; k-- > 0 && v[k].first == v[i].first;)
    if (v[k].event == v[i].event) return 1;
  return 0;
}

/* Raises (or amends) the alert of the last-step event of c, if a chain ends
 * there: anchored on the event's first report, naming all of its reports. */
static int sequence_end(vg_rules *r, rule *ru, vg_store *st, const char *key, const mark *c,
                        vg_alert_list *out) {
  size_t last = ru->nsteps - 1;
  reports ends;
  int rc = reports_of(st, ru, (int)last, key, c, &ends);
  if (rc) return rc;
  chain_search cs = {.st = st, .ru = ru, .key = key, .window_start = c->last - ru->within};
  cs.chain[last] = *c;
  cs.chain[last].entry = ends.v[0];
  char base[600];
  int64_t args[8];
  if (!ru->per_pair) {
    if ((rc = search(&cs, (int)last - 1)) || !cs.found) return rc;
    for (size_t i = 0; i < ends.n; i++) name(&cs, ends.v[i]);
    for (size_t k = 0; k <= last; k++) args[k] = cs.best[k].entry;
    snprintf(base, sizeof base, "%s\x1f%lld", ru->name, (long long)ends.v[0]);
    return raise(r, ru, st, last, args, ru->nsteps, cs.named, cs.nnamed, 1, base, key, seq_message,
                 1, -1, out);
  }
  /* One alert per first-step event: find the candidates, then each chain. */
  marks firsts = {0};
  rc = lookup(st, ru, 0, key, cs.window_start, c->first, &firsts);
  for (size_t i = 0; rc == 0 && i < firsts.n; i++) {
    if (seen_event(firsts.v, i)) continue; /* by day then id: v[i] is its first report */
    chain_search one = cs;
    one.only_first = 1;
    one.first_event = firsts.v[i].event;
    if ((rc = search(&one, (int)last - 1)) || !one.found) continue;
    for (size_t k = 0; k < ends.n; k++) name(&one, ends.v[k]);
    for (size_t k = 0; k <= last; k++) args[k] = one.best[k].entry;
    snprintf(base, sizeof base, "%s\x1f%lld\x1f%lld", ru->name, (long long)ends.v[0],
             (long long)firsts.v[i].entry);
    rc = raise(r, ru, st, last, args, ru->nsteps, one.named, one.nnamed, 1, base, key, seq_message,
               1, -1, out);
  }
  free(firsts.v);
  return rc;
}

static int sequence(vg_rules *r, rule *ru, vg_store *st, const mark *e, int mask, const char *key,
                    vg_alert_list *out) {
  size_t last = ru->nsteps - 1;
  int rc = 0;
  if (mask & (1 << last)) rc = sequence_end(r, ru, st, key, e, out);
  if (rc || !(mask & ((1 << last) - 1))) return rc;
  /* An earlier step arrived: every last-step event it may complete. */
  marks ends = {0};
  rc = lookup(st, ru, (int)last, key, e->last, e->first + ru->within, &ends);
  for (size_t i = 0; rc == 0 && i < ends.n; i++) {
    const mark *c = &ends.v[i];
    if (c->event == e->event || c->last > e->first + ru->within || seen_event(ends.v, i)) continue;
    rc = sequence_end(r, ru, st, key, c, out);
  }
  free(ends.v);
  return rc;
}

/* ---- threshold ---- */

/* The entries a threshold alert names: the latest NAMED_MAX reports of the
 * window, read from its last day back, the reports of one event together
 * so that an event is named with every report or not at all. */
typedef struct {
  int32_t day;              /* the window's last day */
  int64_t v[NAMED_MAX];     /* named so far, latest first */
  size_t n;
  int64_t group[NAMED_MAX]; /* the reports of the event being read */
  size_t ngroup;
  mark at;                  /* that event */
  size_t read;              /* marks read */
  int full, cut;            /* no room for another event; stopped reading early */
} namer;

/* Names the event read so far, if it fits; 0 once there is no more room. */
static int name_group(namer *nm) {
  if (nm->ngroup == 0) return 1;
  if (nm->n + nm->ngroup > NAMED_MAX && nm->n > 0) {
    nm->full = 1;
    return 0;
  }
  for (size_t i = 0; i < nm->ngroup && nm->n < NAMED_MAX; i++) nm->v[nm->n++] = nm->group[i];
  nm->ngroup = 0;
  return nm->n < NAMED_MAX;
}

static int name_mark(void *ud, const vg_mark *m) {
  namer *nm = ud;
  if (++nm->read > CANDIDATES_MAX) {
    nm->cut = 1;
    return 1;
  }
  if (m->last > nm->day) return 0; /* ends after the window */
  if (nm->ngroup && (m->event != nm->at.event || m->first != nm->at.first) && !name_group(nm))
    return 1;
  nm->at = *m;
  if (nm->ngroup < NAMED_MAX) nm->group[nm->ngroup++] = m->entry;
  return 0;
}

/* The spans of days of a threshold's marks, as the store tallies them. */
typedef struct {
  int32_t last, first;
  long long events;
  int64_t entry;
} span;

typedef struct {
  span *v;
  size_t n, cap;
} spans;

static int collect_span(void *ud, int32_t last, int32_t first, long long events, int64_t entry) {
  spans *sp = ud;
  if (sp->n == sp->cap) {
    size_t cap = sp->cap ? sp->cap * 2 : 32;
    span *v = realloc(sp->v, cap * sizeof *v);
    if (!v) return VG_ENOMEM;
    sp->v = v;
    sp->cap = cap;
  }
  sp->v[sp->n++] = (span){last, first, events, entry};
  return 0;
}

/* The events of the window [start, day]: those of the spans lying wholly in it. */
static long long window_events(const spans *sp, int32_t start, int32_t day) {
  long long n = 0;
  for (size_t i = 0; i < sp->n; i++)
    if (sp->v[i].last >= start && sp->v[i].last <= day && sp->v[i].first >= start)
      n += sp->v[i].events;
  return n;
}

/* A window to raise the alert of, and the entries it names. */
typedef struct {
  int64_t anchor;
  long long count;
  namer nm;
} window;

/* The windows of one new mark, and which of them have named all they will. */
typedef struct {
  window *v;
  size_t n;
  int32_t within;
  unsigned char *done;
} windows;

/* Feeds one reading of the marks, latest first, to every window's namer:
 * each sees the marks of its own days, in the order a reading of those
 * days alone would give. Stops once every namer is done. */
static int name_windows(void *ud, const vg_mark *m) {
  windows *ws = ud;
  int busy = 0;
  for (size_t i = 0; i < ws->n; i++) {
    namer *nm = &ws->v[i].nm;
    if (ws->done[i]) continue;
    if (m->first > nm->day) busy = 1; /* its days are still to come */
    else if (m->first < nm->day - ws->within) ws->done[i] = 1; /* its days are over */
    else if (name_mark(nm, m)) ws->done[i] = 1;
    else busy = 1;
  }
  return !busy;
}

static int threshold(vg_rules *r, rule *ru, vg_store *st, const mark *e, const char *key,
                     vg_alert_list *out) {
  /* Every window the new entry falls in: those ending on a day in
   * [e.last, e.first + within] on which some matching entry ends. All the
   * entries that end on one day share a window, and so one alert. One
   * reading of the spans counts them all, and one of the marks names the
   * entries of all that reach the count. */
  spans sp = {0};
  windows ws = {0};
  int32_t to = e->first + ru->within;
  /* A span longer than the window fits in none, but the day it ends on is
   * one more a window may end on: weighed too, whatever order marks came in. */
  if (to < e->last) to = e->last;
  int rc = vg_store_spans(st, ru->name, 0, key, e->last - ru->within, to, collect_span, &sp);
  size_t most = 0; /* windows: at most one per day the spans end on */
  for (size_t i = 0; rc == 0 && i < sp.n; i++)
    most += i + 1 == sp.n || sp.v[i + 1].last != sp.v[i].last;
  if (rc == 0 && most) {
    ws.v = malloc(most * sizeof *ws.v); /* a namer's lists need no clearing */
    ws.done = calloc(most, 1);
    if (!ws.v || !ws.done) rc = VG_ENOMEM;
  }
  /* The spans come by last day then first day: the last of a day's is the
   * latest-starting, whose first report anchors the window's alert. */
  for (size_t i = 0; rc == 0 && i < sp.n; i++) {
    int32_t day = sp.v[i].last;
    if (day < e->last || (i + 1 < sp.n && sp.v[i + 1].last == day)) continue;
    long long count = window_events(&sp, day - ru->within, day);
    if (count < ru->count || sp.v[i].entry <= 0) continue;
    window *w = &ws.v[ws.n++];
    w->anchor = sp.v[i].entry;
    w->count = count;
    w->nm.day = day;
    w->nm.n = w->nm.ngroup = w->nm.read = 0;
    w->nm.full = w->nm.cut = 0;
  }
  ws.within = ru->within;
  if (rc == 0 && ws.n)
    rc = vg_store_marks_by_event(st, ru->name, 0, key, ws.v[0].nm.day - ru->within,
                                 ws.v[ws.n - 1].nm.day, name_windows, &ws);
  if (rc > 0) rc = 0;
  for (size_t i = 0; rc == 0 && i < ws.n; i++) {
    window *w = &ws.v[i];
    namer *nm = &w->nm;
    /* An event cut short by the end of the reading may lack reports: not named. */
    if (!nm->full && (!nm->cut || nm->n == 0)) name_group(nm);
    int64_t named[NAMED_MAX];
    for (size_t k = 0; k < nm->n; k++) named[k] = nm->v[nm->n - 1 - k]; /* in date order */
    char base[600];
    snprintf(base, sizeof base, "%s\x1f%s\x1f%d\x1f%s", ru->name, "day", (int)nm->day, key);
    rc = raise(r, ru, st, 0, &w->anchor, 1, named, nm->n, 2, base, key, threshold_message, 1,
               w->count, out);
    if (rc > 0) rc = 0;
  }
  free(ws.v);
  free(ws.done);
  free(sp.v);
  return rc < 0 ? rc : 0;
}

/* ---- absence ---- */

/* Whether a second-step entry, of another event, follows a within the window. */
static int followed(vg_store *st, const rule *ru, const char *key, const mark *a, int *yes) {
  marks m = {0};
  int rc = lookup(st, ru, 1, key, a->last, a->first + ru->within, &m);
  *yes = 0;
  for (size_t i = 0; i < m.n && !*yes; i++)
    *yes = m.v[i].event != a->event && m.v[i].last <= a->first + ru->within;
  free(m.v);
  return rc;
}

/* Raises the alert of first-step entry a, the first report of its event,
 * naming every report; an alert already there gains the ones it lacks. */
static int absence_raise(vg_rules *r, rule *ru, vg_store *st, const char *key, const mark *a,
                         vg_alert_list *out) {
  reports rp;
  int rc = reports_of(st, ru, 0, key, a, &rp);
  if (rc) return rc;
  char base[600];
  snprintf(base, sizeof base, "%s\x1f%lld", ru->name, (long long)a->entry);
  return raise(r, ru, st, 0, &a->entry, 1, rp.v, rp.n, 0, base, key, absence_message, 0, -1, out);
}

static int absence_step(vg_rules *r, rule *ru, vg_store *st, const mark *e, int mask,
                        const char *key, vg_alert_list *out) {
  int rc = 0;
  if (mask & 1) {
    /* The event waits once, as its first report. */
    reports rp;
    if ((rc = reports_of(st, ru, 0, key, e, &rp))) return rc;
    if (rp.v[0] != e->entry) {
      /* Another report of it came first: if its alert fired, it names this
       * one too. */
      char state[16];
      int found = vg_store_absence_state(st, ru->name, rp.v[0], state);
      if (found < 0) return found;
      mark first = *e;
      first.entry = rp.v[0];
      if (found && strcmp(state, "fired") == 0) rc = absence_raise(r, ru, st, key, &first, out);
    } else {
      int yes;
      if ((rc = followed(st, ru, key, e, &yes)) == 0 &&
          (rc = vg_store_absence_add(st, ru->name, key, e->entry, e->first + ru->within)) == 0 &&
          yes)
        rc = vg_store_absence_set(st, ru->name, e->entry, "satisfied");
    }
  }
  if (rc == 0 && (mask & 2)) {
    /* Each first-step entry of another event this one answers is satisfied. */
    marks m = {0}; /* latest first: the ones this entry can answer are at that end */
    rc = lookup_order(st, ru, 0, key, e->last - ru->within - SPAN_SLACK, e->first, 1, &m);
    for (size_t i = 0; rc == 0 && i < m.n; i++) {
      const mark *a = &m.v[i];
      if (a->event != e->event && a->last <= e->first && e->last <= a->first + ru->within)
        rc = vg_store_absence_set(st, ru->name, a->entry, "satisfied");
    }
    free(m.v);
  }
  return rc;
}

typedef struct {
  vg_rules *r;
  rule *ru;
  vg_store *st;
  vg_alert_list *out;
} due_ctx;

static int fire(void *ud, const char *rule_name, const char *key, int64_t entry, int32_t deadline) {
  due_ctx *d = ud;
  (void)deadline;
  if (strcmp(rule_name, d->ru->name) != 0) return 0;
  mark a = {entry, 0, 0, 0};
  int found = vg_store_entry_span(d->st, entry, &a.first, &a.last);
  if (found < 0) return VG_EDB;
  if (!found) return vg_store_absence_set(d->st, d->ru->name, entry, "satisfied"); /* gone */
  found = vg_store_mark_event(d->st, d->ru->name, 0, key, a.first, entry, &a.event);
  if (found < 0) return found;
  if (found) {
    /* A later report of an event that was waiting already (stored before
     * events were told apart): its first report speaks for it. */
    reports rp;
    int rc = reports_of(d->st, d->ru, 0, key, &a, &rp);
    if (rc) return rc;
    if (rp.v[0] != entry) return vg_store_absence_set(d->st, d->ru->name, entry, "satisfied");
  }
  /* Look once more: the answer may have come in the same batch. */
  int yes = 0, rc = followed(d->st, d->ru, key, &a, &yes);
  if (rc) return rc;
  if (yes) return vg_store_absence_set(d->st, d->ru->name, entry, "satisfied");
  rc = absence_raise(d->r, d->ru, d->st, key, &a, d->out);
  return rc ? rc : vg_store_absence_set(d->st, d->ru->name, entry, "fired");
}

int vg_correlate_due(vg_rules *r, vg_store *st, int32_t today, vg_alert_list *out) {
  int rc = 0;
  int64_t cause = r->cause;
  for (size_t i = 0; i < r->n && rc == 0; i++) {
    rule *ru = &r->v[i];
    if (ru->kind != RK_ABSENCE || ru->disabled) continue;
    int64_t mark_day = r->has_max_day ? r->max_day : INT32_MIN;
    r->cause = cause;
    if (ru->wall_clock && today > mark_day) {
      mark_day = today;
      r->cause = r->correcting; /* the clock's doing, not an entry's */
    }
    if (mark_day == INT32_MIN) continue;
    /* Past the deadline by more than the lateness allowed: fire. */
    int32_t watermark = (int32_t)(mark_day - ru->lateness);
    due_ctx d = {r, ru, st, out};
    rc = vg_store_absences_due(st, watermark, fire, &d);
  }
  r->cause = cause;
  return rc;
}

/* ---- first occurrence ---- */

static int stop_at_first(void *ud, const vg_mark *x) {
  *(mark *)ud = *x;
  return 1;
}

static int first_seen(vg_rules *r, rule *ru, vg_store *st, const mark *e, const char *key,
                      vg_alert_list *out) {
  /* The earliest mark of the key, by day then id, is the first occurrence,
   * whatever order entries came in: when it is this entry, or another
   * report of its event, the alert is raised (naming every report), or
   * moved here from a later entry that arrived before it. */
  mark earliest = {0, 0, 0, 0};
  int rc = vg_store_marks(st, ru->name, 0, key, INT32_MIN, INT32_MAX, 0, stop_at_first, &earliest);
  if (rc < 0) return rc;
  if (earliest.event != e->event) return 0; /* another event came first */
  reports rp;
  if ((rc = reports_of(st, ru, 0, key, &earliest, &rp))) return rc;
  char base[600];
  snprintf(base, sizeof base, "%s\x1fkey\x1f%s", ru->name, key);
  return raise(r, ru, st, 0, &rp.v[0], 1, rp.v, rp.n, 0, base, key, first_message, 1, -1, out);
}

/* ---- dispatch ---- */

int vg_correlate(vg_rules *r, rule *ru, vg_store *st, vg_entry_ctx *ctx, int entry_idx,
                 vg_alert_list *out) {
  const vg_rule_entry *e = ctx->e;
  char key[KEY_MAX];
  int mask = steps_of(r, ru, ctx, entry_idx);
  if (mask <= 0) return 0;
  atomic_fetch_add_explicit(&ru->stats->matches, 1, memory_order_relaxed);
  if (key_of(r, ru, e, entry_idx, key) <= 0) return 0;
  /* The event its reports share: grouped with reports in other words
   * (core/events.c) once the tagging rules have run. */
  mark me = {e->id, e->first, e->last,
             ctx->has_event ? ctx->event : vg_entry_event(e->text, e->text_len, e->first, e->last)};
  int rc = 0;
  if (ru->kind == RK_FIRST) {
    rc = vg_store_mark_untallied(st, ru->name, 0, key, &me);
    return rc ? rc : first_seen(r, ru, st, &me, key, out);
  }
  /* Only a threshold counts the events of spans: the others skip the tally. */
  for (size_t i = 0; i < ru->nsteps && rc == 0; i++)
    if (mask & (1 << i))
      rc = ru->kind == RK_THRESHOLD ? vg_store_mark(st, ru->name, (int)i, key, &me)
                                    : vg_store_mark_untallied(st, ru->name, (int)i, key, &me);
  if (rc) return rc;
  switch (ru->kind) {
  case RK_SEQUENCE: return sequence(r, ru, st, &me, mask, key, out);
  case RK_THRESHOLD: return threshold(r, ru, st, &me, key, out);
  case RK_ABSENCE: return absence_step(r, ru, st, &me, mask, key, out);
  default: return 0;
  }
}

/* ---- working out again, after a correction or a retraction ---- */

/* Every mark of a step whose first day lies in [from, to], none left out. */
static int lookup_all(vg_store *st, const rule *ru, int step, const char *key, int32_t from,
                      int32_t to, marks *out) {
  out->n = 0;
  out->max = 0;
  int rc = vg_store_marks(st, ru->name, step, key, from, to, 0, collect, out);
  return rc > 0 ? 0 : rc;
}

/* Whether event ev is among the first n of v (a few per look-up). */
static int seen_before(const int64_t *v, size_t n, int64_t ev) {
  for (size_t i = 0; i < n; i++)
    if (v[i] == ev) return 1;
  return 0;
}

/* The absence of first-step mark a, judged on the marks as they are now:
 * satisfied when a later step answers it, fired (its alert raised) when the
 * watermark has passed its deadline, else waiting. */
/* Whether the change being worked out touches the absence of first-step
 * mark a, whose reports are rp: one of them changed, or a changed entry
 * lay, or lies now, within its window. */
static int touches(const vg_rules *r, const rule *ru, const mark *a, const reports *rp) {
  for (size_t i = 0; i < r->nchanged; i++)
    for (size_t k = 0; k < rp->n; k++)
      if (rp->v[k] == r->changed[i]) return 1;
  for (size_t i = 0; i < r->nspans; i++)
    if (r->changed_spans[2 * i + 1] >= a->last &&
        r->changed_spans[2 * i] <= (int64_t)a->first + ru->within)
      return 1;
  return 0;
}

/* Notes that the absence of entry under ru is answered or not due. */
static int judged(vg_rules *r, rule *ru, int64_t entry) {
  if (r->njudged == r->cjudged) {
    size_t cap = r->cjudged ? r->cjudged * 2 : 16;
    struct vg_judged *v = realloc(r->judged, cap * sizeof *v);
    if (!v) return VG_ENOMEM;
    r->judged = v;
    r->cjudged = cap;
  }
  r->judged[r->njudged++] = (struct vg_judged){ru, entry};
  return 0;
}

static int absence_again(vg_rules *r, rule *ru, vg_store *st, const char *key, const mark *a,
                         vg_alert_list *out) {
  reports rp;
  int rc = reports_of(st, ru, 0, key, a, &rp);
  if (rc || rp.v[0] != a->entry) return rc; /* its event's first report speaks for it */
  int32_t deadline = a->first + ru->within;
  char was[16] = "";
  int found = vg_store_absence_state(st, ru->name, a->entry, was);
  if (found < 0) return found;
  int yes = 0;
  if ((rc = vg_store_absence_add(st, ru->name, key, a->entry, deadline)) ||
      (rc = followed(st, ru, key, a, &yes)))
    return rc;
  int64_t mark_day = r->has_max_day ? r->max_day : INT32_MIN;
  if (ru->wall_clock) {
    int64_t today = (int64_t)time(NULL) / 86400;
    if (today > mark_day) mark_day = today;
  }
  int due = mark_day > INT32_MIN && (int64_t)deadline < mark_day - ru->lateness;
  /* Fired before, and nothing of this change near it: it stays as it fired
   * (an answer that came after it fired does not take it back). */
  int keep = found && !strcmp(was, "fired") && due && !touches(r, ru, a, &rp);
  if (!keep && (yes || !due)) {
    if ((rc = judged(r, ru, a->entry))) return rc;
    return vg_store_absence_force(st, ru->name, a->entry, yes ? "satisfied" : "waiting");
  }
  rc = absence_raise(r, ru, st, key, a, out);
  return rc ? rc : vg_store_absence_force(st, ru->name, a->entry, "fired");
}

int vg_correlate_again(vg_rules *r, rule *ru, vg_store *st, const char *key, int32_t lo,
                       int32_t hi, int32_t slack, vg_alert_list *out) {
  marks m = {0};
  int64_t *events = NULL;
  size_t nevents = 0;
  int rc = 0;
  switch (ru->kind) {
  case RK_SEQUENCE:
  case RK_ABSENCE: {
    int step = ru->kind == RK_SEQUENCE ? (int)ru->nsteps - 1 : 0;
    rc = lookup_all(st, ru, step, key, lo, hi, &m);
    if (rc == 0 && m.n && !(events = malloc(m.n * sizeof *events))) rc = VG_ENOMEM;
    for (size_t i = 0; rc == 0 && i < m.n; i++) {
      if (seen_before(events, nevents, m.v[i].event)) continue;
      events[nevents++] = m.v[i].event;
      rc = ru->kind == RK_SEQUENCE ? sequence_end(r, ru, st, key, &m.v[i], out)
                                   : absence_again(r, ru, st, key, &m.v[i], out);
    }
    break;
  }
  case RK_THRESHOLD: {
    /* threshold() weighs the windows ending on the days [e.last, e.first +
     * within]: made to span [lo, hi + slack], where the windows of every
     * alert dated in [lo, hi] end (an alert's day is its anchor's first,
     * the window's the anchor's last). */
    mark e = {0, (int32_t)((int64_t)hi + slack - ru->within), lo, 0};
    rc = threshold(r, ru, st, &e, key, out);
    break;
  }
  case RK_FIRST: {
    mark earliest = {0, 0, 0, 0};
    rc = vg_store_marks(st, ru->name, 0, key, INT32_MIN, INT32_MAX, 0, stop_at_first, &earliest);
    if (rc >= 0 && earliest.entry) rc = first_seen(r, ru, st, &earliest, key, out);
    break;
  }
  default: break;
  }
  free(m.v);
  free(events);
  return rc < 0 ? rc : 0;
}

/* ---- for explanations (core/explain.c) ---- */

int vg_correlate_steps(vg_rules *r, rule *ru, const vg_entry_ctx *ctx, int entry_idx) {
  return steps_of(r, ru, ctx, entry_idx);
}

int vg_correlate_key(vg_rules *r, rule *ru, const vg_rule_entry *e, int entry_idx,
                     char key[VG_FIELD_MAX]) {
  return key_of(r, ru, e, entry_idx, key);
}
