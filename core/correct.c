/* correct.c — corrections and retractions of stored entries (correct.h).
 *
 * The entry changes in the store first (its old version kept); then what
 * rested on it is undone and done again:
 *   1. its tags, marks, event and absence waits go, and so do the events of
 *      the other reports of its event (the entry may have been what held
 *      them together);
 *   2. the rules run again on the new version (none for a retraction), then
 *      on each of those other reports, so that they group among themselves
 *      as a clean run would group them;
 *   3. the watermark is the latest day of the entries in force again;
 *   4. every alert of each (rule, key) the entry or those reports were or
 *      are marked under, dated within reach of their dates, is worked out
 *      again from the marks as they are now (vg_correlate_again); each one
 *      in force there that is not raised again, and each one naming the
 *      entry that no rule raised again, is retracted with the reason.
 * All of it inside the caller's transaction, so it happens whole or not. */
#include "correct.h"

#include "rules_impl.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest a date spans (a year and a day: a leap year), and how far
 * apart the reports of one event may lie (a day). */
#define SPAN_MAX 366
#define REPORTS_APART 1

/* A (rule, key) to work out again over a range of days. */
typedef struct {
  char *rule, *key;
  int32_t lo, hi; /* days of its own (ranged), besides the changed entries' (marked) */
  int ranged, marked;
} pair;

typedef struct {
  pair *v;
  size_t n, cap;
  int32_t lo, hi; /* the days the changed entries spanned, before and after */
  int have_span;
  int32_t *spans; /* each of those spans, first and last */
  size_t nspans, cspans;
} pairs;

typedef struct {
  int64_t *v;
  size_t n, cap;
} ids;

static int ids_add(void *ud, int64_t id) {
  ids *x = ud;
  for (size_t i = 0; i < x->n; i++)
    if (x->v[i] == id) return 0;
  if (x->n == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 8;
    int64_t *v = realloc(x->v, cap * sizeof *v);
    if (!v) return VG_ENOMEM;
    x->v = v;
    x->cap = cap;
  }
  x->v[x->n++] = id;
  return 0;
}

/* Notes (rule, key): over the days [lo, hi] when `ranged`, else over the
 * changed entries' span (marked). */
static int pair_add(pairs *p, const char *rule_name, const char *key, int ranged, int32_t lo,
                    int32_t hi) {
  pair *x = NULL;
  for (size_t i = 0; i < p->n && !x; i++)
    if (strcmp(p->v[i].rule, rule_name) == 0 && strcmp(p->v[i].key, key) == 0) x = &p->v[i];
  if (x) {
    if (ranged && (!x->ranged || lo < x->lo)) x->lo = lo;
    if (ranged && (!x->ranged || hi > x->hi)) x->hi = hi;
    x->ranged |= ranged;
    x->marked |= !ranged;
    return 0;
  }
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    pair *v = realloc(p->v, cap * sizeof *v);
    if (!v) return VG_ENOMEM;
    p->v = v;
    p->cap = cap;
  }
  x = &p->v[p->n];
  x->rule = strdup(rule_name);
  x->key = strdup(key);
  x->lo = lo;
  x->hi = hi;
  x->ranged = ranged;
  x->marked = !ranged;
  if (!x->rule || !x->key) {
    free(x->rule);
    free(x->key);
    return VG_ENOMEM;
  }
  p->n++;
  return 0;
}

static void pairs_free(pairs *p) {
  for (size_t i = 0; i < p->n; i++) {
    free(p->v[i].rule);
    free(p->v[i].key);
  }
  free(p->v);
  free(p->spans);
}

/* Widens the span of the changed entries by entry id's span. */
static int span_of(vg_store *st, int64_t id, pairs *p) {
  int32_t first, last;
  int found = vg_store_entry_span(st, id, &first, &last);
  if (found <= 0) return found;
  if (p->nspans == p->cspans) {
    size_t cap = p->cspans ? p->cspans * 2 : 8;
    int32_t *v = realloc(p->spans, cap * 2 * sizeof *v);
    if (!v) return VG_ENOMEM;
    p->spans = v;
    p->cspans = cap;
  }
  p->spans[2 * p->nspans] = first;
  p->spans[2 * p->nspans + 1] = last;
  p->nspans++;
  if (!p->have_span || first < p->lo) p->lo = first;
  if (!p->have_span || last > p->hi) p->hi = last;
  p->have_span = 1;
  return 0;
}

static int note_mark(void *ud, const char *rule_name, int step, const char *key) {
  (void)step;
  pairs *p = ud;
  return pair_add(p, rule_name, key, 0, 0, 0);
}

/* The (rule, key) pairs the entries of x are marked under now. */
static int note_marks(vg_store *st, const ids *x, pairs *p) {
  int rc = 0;
  for (size_t i = 0; i < x->n && rc == 0; i++) {
    rc = vg_store_entry_marks(st, x->v[i], note_mark, p);
    if (rc == 0) rc = span_of(st, x->v[i], p);
  }
  return rc;
}

/* The other reports of the event entry id reports, added to x. */
static int mates_of(vg_store *st, int64_t id, ids *x) {
  int64_t event;
  int found = vg_store_entry_event(st, id, &event);
  if (found <= 0) return found;
  return vg_store_event_members(st, event, ids_add, x);
}

/* Runs the rules again on stored entry id. */
static int rerun(vg_rules *r, vg_store *st, int64_t id, vg_alert_list *out) {
  vg_loaded slot;
  int rc = vg_rules_load_stored(st, id, 0, &slot);
  if (rc) return rc;
  rc = vg_rules_rerun(r, st, &slot.e, out);
  vg_rules_unload(&slot);
  return rc;
}

/* Forgets what entry id set: its tags, marks, event and absence waits. */
static int undo(vg_store *st, int64_t id) {
  int rc = vg_store_clear_tags(st, id);
  if (rc == 0) rc = vg_store_clear_marks(st, id);
  if (rc == 0) rc = vg_store_event_forget(st, id);
  if (rc == 0) rc = vg_store_absence_drop(st, id);
  return rc;
}

/* A fired absence that a lowered watermark may make not due again. */
static int note_fired(void *ud, const char *rule_name, const char *key, int64_t entry,
                      int32_t deadline) {
  (void)entry;
  return pair_add(ud, rule_name, key, 1, deadline, deadline);
}

/* Moves the watermark to the latest day of the entries in force; when it
 * went back, the absences fired past the new one are worked out again. */
static int rewind_watermark(vg_rules *r, vg_store *st, pairs *p, size_t nold) {
  int64_t was;
  int had = vg_store_state_get(st, "max_day", &was);
  if (had < 0) return VG_EDB;
  r->store_serial = vg_store_serial(st);
  r->has_max_day = had;
  r->max_day = had ? (int32_t)was : INT32_MIN;
  /* Only an entry that reached it could have held it there. */
  int held = !had;
  for (size_t i = 0; i < nold && !held; i++) held = p->spans[2 * i + 1] >= was;
  if (!held) return 0;
  int32_t now;
  int found = vg_store_watermark(st, &now);
  if (found < 0) return found;
  r->store_serial = vg_store_serial(st);
  r->has_max_day = found || had;
  r->max_day = found ? now : had ? (int32_t)was : INT32_MIN;
  if (!had || !found || now >= was) return 0;
  int32_t least = INT32_MAX;
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].kind == RK_ABSENCE && now - r->v[i].lateness < least)
      least = now - r->v[i].lateness;
  return least == INT32_MAX ? 0 : vg_store_absences_fired(st, least, note_fired, p);
}

/* The retraction of alerts no rule raised again. */
typedef struct {
  vg_rules *r;
  vg_store *st;
  vg_alert_list *out;
  const char *reason;
  int64_t cause;
} sweep;

static int find_rule_of(void *ud, const vg_alert_row *row) {
  char *name = ud;
  snprintf(name, 256, "%s", row->rule);
  return 0;
}

static int retract_unless_touched(void *ud, int64_t id) {
  sweep *sw = ud;
  for (size_t i = 0; i < sw->r->ntouched; i++)
    if (sw->r->touched[i] == id) return 0;
  char name[256] = "";
  vg_alert_query q = {.id = id, .limit = 1};
  int rc = vg_store_alerts(sw->st, &q, find_rule_of, name);
  if (rc) return rc;
  const rule *ru = vg_rule_find(sw->r, name);
  if (!ru || ru->disabled) return 0; /* not here to judge it: stays as it is */
  rc = vg_store_alert_retract(sw->st, id, sw->reason, sw->cause);
  if (rc == VG_AMENDED && sw->out) return vg_rule_alert_out(sw->out, sw->st, id, ru);
  return rc < 0 ? rc : 0;
}

static int32_t clamp(int64_t v) {
  return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

/* The days whose alerts of rule ru and key may rest on marks in [x->lo,
 * x->hi]: an alert's day is that of its anchor, which lies within the
 * rule's window of every mark it rests on, give or take the longest span
 * among the marks near them (*slack: 0 for dates to the day) and a day
 * between reports of one event. Every day for a first occurrence. 0 or
 * VG_EDB. */
static int reach(vg_store *st, const rule *ru, const pair *x, int32_t *lo, int32_t *hi,
                 int32_t *slack) {
  *slack = 0;
  if (ru->kind == RK_FIRST) {
    *lo = INT32_MIN;
    *hi = INT32_MAX;
    return 0;
  }
  int32_t from = clamp((int64_t)x->lo - ru->within - SPAN_MAX - REPORTS_APART);
  int32_t to = clamp((int64_t)x->hi + ru->within + REPORTS_APART);
  for (size_t step = 0; step < (ru->nsteps ? ru->nsteps : 1); step++) {
    int32_t s = vg_store_mark_span_max(st, ru->name, (int)step, x->key, from, to);
    if (s < 0) return VG_EDB;
    if (s > *slack) *slack = s;
  }
  *lo = clamp((int64_t)x->lo - ru->within - *slack - REPORTS_APART);
  *hi = clamp((int64_t)x->hi + ru->within + *slack + REPORTS_APART);
  return 0;
}

/* Works out again the alerts resting on the changed entries, and retracts
 * those no rule raises now. */
static int work_out(vg_rules *r, vg_store *st, const pairs *p, const ids *changed,
                    vg_alert_list *out, const char *reason, int64_t cause) {
  int rc = 0;
  int32_t (*days)[2] = calloc(p->n + 1, sizeof *days);
  if (!days) return VG_ENOMEM;
  r->again = 1;
  for (size_t i = 0; i < p->n && rc == 0; i++) {
    rule *ru = vg_rule_find(r, p->v[i].rule);
    if (!ru || ru->disabled || ru->kind == RK_RULE) continue;
    int32_t slack;
    if ((rc = reach(st, ru, &p->v[i], &days[i][0], &days[i][1], &slack))) break;
    rc = vg_correlate_again(r, ru, st, p->v[i].key, days[i][0], days[i][1], slack, out);
  }
  r->again = 0;
  sweep sw = {r, st, out, reason, cause};
  for (size_t i = 0; i < p->n && rc == 0; i++) {
    const rule *ru = vg_rule_find(r, p->v[i].rule);
    if (!ru || ru->disabled || ru->kind == RK_RULE) continue;
    rc = vg_store_alerts_held(st, ru->name, p->v[i].key, days[i][0], days[i][1], 0,
                              retract_unless_touched, &sw);
  }
  free(days);
  /* Whatever names the changed entries and was not raised again: a plain
   * rule's alert on an entry it no longer matches, say. */
  for (size_t i = 0; i < changed->n && rc == 0; i++)
    rc = vg_store_alerts_held(st, NULL, NULL, 0, 0, changed->v[i], retract_unless_touched, &sw);
  /* The alerts of absences now answered or not due, whatever key their
   * alert function gave them. */
  for (size_t i = 0; i < r->njudged && rc == 0; i++)
    rc = vg_store_alerts_held(st, r->judged[i].ru->name, NULL, 0, 0, r->judged[i].entry,
                              retract_unless_touched, &sw);
  return rc;
}

int vg_correct(vg_rules *r, vg_store *st, const vg_correction *c, vg_alert_list *out, char *err,
               size_t cap) {
  int version, retracted;
  int found = vg_store_entry_state(st, c->id, &version, &retracted);
  if (found < 0) return found;
  if (!found) {
    snprintf(err, cap, "there is no such entry");
    return VG_EINVAL;
  }
  if (retracted && !c->next) return VG_UNCHANGED;
  if (retracted) {
    snprintf(err, cap, "it is retracted: it cannot be corrected");
    return VG_EINVAL;
  }
  ids changed = {0}; /* the entry, then the other reports of its event */
  pairs p = {0};
  char reason[512];
  int rc = ids_add(&changed, c->id);
  if (rc == 0) rc = mates_of(st, c->id, &changed);
  if (rc == 0) rc = note_marks(st, &changed, &p);
  if (rc) goto done;
  size_t nold = p.nspans; /* the spans they had */
  if (c->next) {
    int64_t other;
    rc = vg_store_entry_amend(st, c->id, c->next, c->reason, c->origin ? c->origin : "", &other);
    if (rc == VG_DUPLICATE) {
      snprintf(err, cap, "corrected so, it would say what entry %lld says", (long long)other);
      rc = VG_EINVAL;
    }
    if (rc == 0) rc = VG_UNCHANGED;
    if (rc != VG_AMENDED) goto done;
    snprintf(reason, sizeof reason, "entry %lld corrected%s%s", (long long)c->id,
             c->reason ? ": " : "", c->reason ? c->reason : "");
  } else {
    rc = vg_store_entry_retract(st, c->id, c->reason);
    if (rc <= 0) {
      if (rc == 0) rc = VG_UNCHANGED;
      goto done;
    }
    snprintf(reason, sizeof reason, "entry %lld retracted%s%s", (long long)c->id,
             c->reason ? ": " : "", c->reason ? c->reason : "");
  }
  /* Cut short, the reason ends on a whole character. */
  long bad = vg_utf8_check(reason, strlen(reason));
  if (bad >= 0) reason[bad] = '\0';
  rc = 0;
  if (!r || r->exhausted) {
    /* No rules to work anything out again with (`--no-rules`, or a rule
     * state out of memory): a corrected entry keeps what its rules set, to
     * be set again by `vigil replay`; a retracted one is out of every
     * correlation at once. The other reports of its event are left alone. */
    if (!c->next) rc = undo(st, c->id);
    if (rc == 0) rc = VG_CORRECTED;
    goto done;
  }
  for (size_t i = 0; i < changed.n && rc == 0; i++) rc = undo(st, changed.v[i]);
  if (rc == 0) {
    r->correcting = r->cause = c->id;
    r->noting = 1; /* the alerts plain rules raise from here on are noted */
    r->ntouched = 0;
    r->njudged = 0;
    /* The new version first, then the other reports, one by one: each
     * groups with those before it, as in a clean run in id order. The
     * correlations' alerts raised meanwhile, on events not yet whole, are
     * not noted: work_out decides alone which of those stand. */
    for (size_t i = c->next ? 0 : 1; i < changed.n && rc == 0; i++)
      rc = rerun(r, st, changed.v[i], out);
    r->noting = 0;
    if (rc == 0) rc = note_marks(st, &changed, &p);
    if (rc == 0) rc = rewind_watermark(r, st, &p, nold);
    for (size_t i = 0; i < p.n; i++) { /* the ranges: the entries' spans, before and after */
      pair *x = &p.v[i];
      if (x->marked && (!x->ranged || p.lo < x->lo)) x->lo = p.lo;
      if (x->marked && (!x->ranged || p.hi > x->hi)) x->hi = p.hi;
    }
    r->changed = changed.v;
    r->nchanged = changed.n;
    r->changed_spans = p.spans;
    r->nspans = p.nspans;
    if (rc == 0) rc = work_out(r, st, &p, &changed, out, reason, c->id);
    r->changed = NULL;
    r->nchanged = r->nspans = 0;
    r->changed_spans = NULL;
    r->correcting = 0;
    r->again = r->noting = 0;
  }
  if (rc == 0) rc = VG_CORRECTED;
done:
  pairs_free(&p);
  free(changed.v);
  return rc;
}
