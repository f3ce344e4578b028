/* explain.c — why an alert fired, why an entry did or did not (explain.h).
 *
 * The window semantics are correlate.c's (see its header comment): "A lies
 * within W days before B" when A.last <= B.first and A.first >= B.last - W,
 * and, for a sequence with a least gap, B.first - A.last >= that gap; an
 * absence's first step is answered by a later step lying so within its
 * window; a threshold counts the events of the spans lying wholly in
 * [D - W, D], for a day D some matching span ends on. Every number said is
 * one of the numbers those tests compare, on the spans of days of the
 * entries' dates, so that a coarse date (a month) is explained by the days
 * it spans. */
#include "explain.h"

#include "cli.h"
#include "date.h"
#include "rules_impl.h"
#include "vigil.h"

#include <cJSON.h>
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLACK 366     /* the longest span a date may have, in days */
#define NEAR_MAX 200  /* marks of another step looked at, nearest first */
#define MISSES_MAX 3  /* near misses told */
#define PARTNERS_MAX 20

static const char *const kind_names[] = {"rule", "sequence", "threshold", "absence", "first"};

/* ---- small helpers ---- */

/* Appends the formatted string to array a. */
static void addf(cJSON *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(cJSON *a, const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n >= 0) cJSON_AddItemToArray(a, cJSON_CreateString(s));
  free(s);
}

static const char *day_text(int32_t day, char buf[11]) {
  vg_day_format(day, buf);
  return buf;
}

/* A stored entry, as an explanation names it. */
typedef struct {
  int64_t id;
  char date[64], precision[16];
  int32_t first, last;
  char *text;
} ent;

static int got_ent(void *ud, const vg_row *row) {
  ent *e = ud;
  e->id = row->id;
  snprintf(e->date, sizeof e->date, "%s", row->date);
  snprintf(e->precision, sizeof e->precision, "%s", row->precision);
  e->first = row->day_first;
  e->last = row->day_last;
  e->text = strdup(row->text);
  return e->text ? 0 : VG_ENOMEM;
}

/* Loads entry id: 0, VG_EINVAL (none), VG_EDB or VG_ENOMEM. */
static int load_ent(vg_store *st, int64_t id, ent *e) {
  memset(e, 0, sizeof *e);
  return vg_store_entry_untagged(st, id, got_ent, e);
}

/* The span of e as said: "2023-11-21", or "2023-12 (2023-12-01..2023-12-31)". */
static const char *span_text(const ent *e, char buf[128]) {
  char a[11], b[11];
  if (e->first == e->last) snprintf(buf, 128, "%s", day_text(e->first, a));
  else
    snprintf(buf, 128, "%s (%s..%s)", e->date, day_text(e->first, a), day_text(e->last, b));
  return buf;
}

/* "the month 2023-12 (2023-12-01..2023-12-31)" for a coarse date. */
static const char *coarse_text(const ent *e, char buf[160]) {
  char s[128];
  snprintf(buf, 160, "the %s %s", e->precision, span_text(e, s));
  return buf;
}

static rule *find(vg_rules *r, const char *name) {
  for (size_t i = 0; r && i < r->n; i++)
    if (strcmp(r->v[i].name, name) == 0) return &r->v[i];
  return NULL;
}

/* The name of step k of ru: its tags for a tagged"..." step, else
 * "step K" (1-based); "match" for a rule of one step given as a function. */
static const char *step_name(const rule *ru, size_t k, char buf[128]) {
  if (ru && k < ru->nsteps && ru->step_tags && ru->step_tags[k]) {
    buf[0] = '\0';
    for (char **t = ru->step_tags[k]; *t; t++)
      snprintf(buf + strlen(buf), 128 - strlen(buf), "%s%s", t == ru->step_tags[k] ? "" : "|", *t);
    return buf;
  }
  if (ru && ru->nsteps <= 1) snprintf(buf, 128, "match");
  else snprintf(buf, 128, "step %zu", k + 1);
  return buf;
}

/* The plural of a step's name: "launches", "show-of-forces". */
static const char *plural(const char *name, char buf[160]) {
  size_t n = strlen(name);
  int es = n && (name[n - 1] == 's' || name[n - 1] == 'x' ||
                 (n > 1 && name[n - 1] == 'h' && (name[n - 2] == 'c' || name[n - 2] == 's')));
  snprintf(buf, 160, "%s%s", name, es ? "es" : "s");
  return buf;
}

static const char *quoted_key(const char *key, char buf[300]) {
  if (!key || !*key) snprintf(buf, 300, "(none)");
  else snprintf(buf, 300, "`%s`", key);
  return buf;
}

/* The rule's parameters, as an object. */
static cJSON *rule_json(const rule *ru) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "name", ru->name);
  cJSON_AddStringToObject(o, "kind", kind_names[ru->kind]);
  cJSON_AddStringToObject(o, "file", ru->file);
  cJSON_AddNumberToObject(o, "line", ru->line);
  if (ru->kind != RK_RULE) {
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    char buf[128];
    for (size_t k = 0; k < (ru->nsteps ? ru->nsteps : 1); k++)
      cJSON_AddItemToArray(steps, cJSON_CreateString(step_name(ru, k, buf)));
    if (ru->kind != RK_FIRST) cJSON_AddNumberToObject(o, "within", ru->within);
    if (ru->kind == RK_THRESHOLD) cJSON_AddNumberToObject(o, "count", (double)ru->count);
    if (ru->kind == RK_ABSENCE) cJSON_AddNumberToObject(o, "lateness", ru->lateness);
    if (ru->kind == RK_SEQUENCE && ru->min_gap) cJSON_AddNumberToObject(o, "min_gap", ru->min_gap);
    if (ru->by_field) cJSON_AddStringToObject(o, "by", ru->by_field);
    else if (ru->by != LUA_NOREF) cJSON_AddStringToObject(o, "by", "(a function)");
  }
  cJSON_AddNumberToObject(o, "quiet", ru->quiet);
  return o;
}

/* ---- the marks an entry left under a rule ---- */

typedef struct {
  const char *name, *key;
  unsigned steps; /* bit mask */
} mark_steps;

static int got_mark(void *ud, const char *rule_name, int step, const char *key) {
  mark_steps *m = ud;
  if (strcmp(rule_name, m->name) == 0 && (!m->key || strcmp(key, m->key) == 0) && step < 32)
    m->steps |= 1u << step;
  return 0;
}

/* ---- alerts of a rule and key near a day ---- */

typedef struct {
  const char *key;
  int64_t except;
  cJSON *list; /* [{id, date}] */
} near_alerts;

static int got_near_alert(void *ud, const vg_alert_row *a) {
  near_alerts *n = ud;
  if (a->id == n->except || strcmp(a->key ? a->key : "", n->key) != 0) return 0;
  cJSON *o = cJSON_CreateObject();
  if (!o) return VG_ENOMEM;
  cJSON_AddNumberToObject(o, "id", (double)a->id);
  cJSON_AddStringToObject(o, "date", a->date);
  cJSON_AddItemToArray(n->list, o);
  return 0;
}

/* The alerts in force of rule and key whose day lies in [from, to], other
 * than `except`, as [{id, date}] (a new array; NULL when out of memory). */
static cJSON *alerts_near(vg_store *st, const char *rule_name, const char *key, int32_t from,
                          int32_t to, int64_t except, int *rc) {
  near_alerts n = {key, except, cJSON_CreateArray()};
  if (!n.list) {
    *rc = VG_ENOMEM;
    return NULL;
  }
  vg_alert_query q = {.has_since = 1, .since = from, .has_until = 1, .until = to, .rule = rule_name};
  *rc = vg_store_alerts(st, &q, got_near_alert, &n);
  return n.list;
}

/* Says in lines the first alert of rule and key in [from, to] whose quiet
 * days would drop another. 0 or what the look-up failed with. */
static int say_quiet(vg_store *st, const rule *ru, const char *key, int32_t from, int32_t to,
                     cJSON *lines) {
  int rc = 0;
  cJSON *near = alerts_near(st, ru->name, key, from, to, 0, &rc);
  const cJSON *it = near ? near->child : NULL;
  if (it)
    addf(lines, "suppressed by quiet (alert %.0f on %s within %d days)",
         cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "id")),
         cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "date")), (int)ru->quiet);
  cJSON_Delete(near);
  return rc;
}

/* ---- silences ---- */

static int got_silence(void *ud, const vg_silence_row *s) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return VG_ENOMEM;
  cJSON_AddNumberToObject(o, "id", (double)s->id);
  cJSON_AddStringToObject(o, "rule", s->rule);
  if (s->key) cJSON_AddStringToObject(o, "key", s->key);
  else cJSON_AddNullToObject(o, "key");
  cJSON_AddStringToObject(o, "author", s->author);
  cJSON_AddStringToObject(o, "reason", s->reason);
  cJSON_AddStringToObject(o, "until", s->until);
  cJSON_AddBoolToObject(o, "active", s->active);
  *(cJSON **)ud = o;
  return 0;
}

/* The silence id as an object into *out (NULL when there is none). */
static int silence_json(vg_store *st, int64_t id, cJSON **out) {
  *out = NULL;
  int rc = vg_store_silence(st, id, got_silence, out);
  return rc < 0 ? rc : 0;
}

static void say_silence(cJSON *lines, const cJSON *s) {
  addf(lines, "silenced by silence %.0f (%s, %s), until %s%s",
       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "id")),
       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "author")),
       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "reason")),
       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "until")),
       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "active")) ? "" : " (no longer active)");
}

/* ---- pairs: whether a (step k) lies within the window before b (step k+1) ---- */

/* A mark with its entry and key, as the pair tests read it. */
typedef struct {
  ent e;
  int64_t event;
  char key[VG_FIELD_MAX];
  int step;
} side;

/* Whether a and b pair under ru; when not, why into why (";"-joined),
 * told from the side of `self` (a or b). */
static int pairs(const rule *ru, const side *a, const side *b, const side *self, char *why,
                 size_t cap) {
  const side *other = self == a ? b : a;
  char sn[128], on[128], sa[160], sb[160], d1[11], d2[11];
  step_name(ru, (size_t)self->step, sn);
  step_name(ru, (size_t)other->step, on);
  why[0] = '\0';
#define WHY(...)                                                                                   \
  snprintf(why + strlen(why), cap - strlen(why), "%s", why[0] ? "; " : ""),                        \
      snprintf(why + strlen(why), cap - strlen(why), __VA_ARGS__)
  if (strcmp(a->key, b->key) != 0)
    WHY("the %s's key is `%s`, the %s's `%s`", on, other->key, sn, self->key);
  if (a->event == b->event) WHY("it reports the same event as this entry");
  if (a->e.last > b->e.first) {
    if (a->e.first <= b->e.last) { /* the spans overlap: a coarse date */
      const side *coarse = a->e.first != a->e.last ? a : b;
      char cn[128];
      step_name(ru, (size_t)coarse->step, cn);
      if (coarse == a)
        WHY("the %s's date is %s: it may fall after the %s (%s)", cn, coarse_text(&a->e, sa),
            step_name(ru, (size_t)b->step, on), span_text(&b->e, sb));
      else
        WHY("the %s's date is %s: it may fall before the %s (%s)", cn, coarse_text(&b->e, sb),
            step_name(ru, (size_t)a->step, on), span_text(&a->e, sa));
    } else {
      WHY("the %s comes %d days before the %s (%s < %s)", step_name(ru, (size_t)b->step, on),
          (int)(a->e.first - b->e.last), step_name(ru, (size_t)a->step, sn),
          day_text(b->e.last, d1), day_text(a->e.first, d2));
    }
  } else if ((int64_t)b->e.last - a->e.first > ru->within) {
    int days = (int)(b->e.last - a->e.first);
    if (self == a)
      WHY("a %s %d days later: %d days beyond within = days(%d)", on, days,
          days - (int)ru->within, (int)ru->within);
    else
      WHY("a %s %d days earlier: %d days beyond within = days(%d)", on, days,
          days - (int)ru->within, (int)ru->within);
    if (a->e.first != a->e.last || b->e.first != b->e.last)
      WHY("counted from the first day of %s to the last of %s",
          span_text(&a->e, sa), span_text(&b->e, sb));
  } else if (ru->kind == RK_SEQUENCE && (int64_t)b->e.first - a->e.last < ru->min_gap) {
    WHY("%d days apart, less than the least gap of %d days", (int)(b->e.first - a->e.last),
        (int)ru->min_gap);
  }
#undef WHY
  return why[0] == '\0';
}

/* "launch 2023-11-21, show-of-force 2023-12-01: 10 days <= 14" (a pair that holds). */
static void say_pair(cJSON *lines, const rule *ru, const side *a, const side *b) {
  char an[128], bn[128], sa[128], sb[128], d1[11], d2[11];
  step_name(ru, (size_t)a->step, an);
  step_name(ru, (size_t)b->step, bn);
  addf(lines, "%s %s, %s %s: %d days <= %d", an, span_text(&a->e, sa), bn, span_text(&b->e, sb),
       (int)(b->e.last - a->e.first), (int)ru->within);
  if (a->e.first != a->e.last || b->e.first != b->e.last || ru->min_gap)
    addf(lines, "  counted from the %s's first day %s to the %s's last day %s; the %s ends %s, "
                "on or before the %s starts %s (a gap of %d days%s)",
         an, day_text(a->e.first, d1), bn, day_text(b->e.last, d2), an,
         day_text(a->e.last, d1), bn, day_text(b->e.first, d2), (int)(b->e.first - a->e.last),
         ru->min_gap ? ", at least the rule's least gap" : "");
}

/* ---- vg_explain_alert ---- */

typedef struct {
  cJSON *alert;     /* vg_cli_alert_json's fields, gathered here */
  char *rule, *key, *entries, *rule_file, *rule_hash, *reason, *date;
  int64_t silence_id, cause;
  long long count;
  int retracted, version;
  int32_t day;
} alert_copy;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int got_alert(void *ud, const vg_alert_row *a) {
  alert_copy *c = ud;
  c->alert = vg_cli_alert_json(a);
  c->rule = strdup(a->rule);
  c->key = strdup(a->key ? a->key : "");
  c->entries = strdup(a->entries ? a->entries : "");
  c->date = strdup(a->date);
  c->rule_file = dup_or_null(a->rule_file);
  c->rule_hash = dup_or_null(a->rule_hash);
  c->reason = dup_or_null(a->retract_reason);
  c->silence_id = a->silence_id;
  c->cause = a->cause;
  c->count = a->count;
  c->retracted = a->retracted;
  c->version = a->version;
  c->day = a->day;
  return c->alert && c->rule && c->key && c->entries && c->date ? 1 : VG_ENOMEM;
}

static void alert_copy_free(alert_copy *c) {
  cJSON_Delete(c->alert);
  free(c->rule);
  free(c->key);
  free(c->entries);
  free(c->date);
  free(c->rule_file);
  free(c->rule_hash);
  free(c->reason);
}

/* The versions of an alert, with the entry that wrote each. */
typedef struct {
  vg_store *st;
  cJSON *list, *lines;
} history;

static int got_change(void *ud, int64_t seq, int version, const char *kind, const char *at,
                      int64_t entry) {
  history *h = ud;
  cJSON *o = cJSON_CreateObject();
  if (!o) return VG_ENOMEM;
  cJSON_AddItemToArray(h->list, o);
  cJSON_AddNumberToObject(o, "seq", (double)seq);
  cJSON_AddNumberToObject(o, "version", version);
  cJSON_AddStringToObject(o, "kind", kind);
  cJSON_AddStringToObject(o, "at", at);
  const char *verb = strcmp(kind, "alert") == 0    ? "raised"
                     : strcmp(kind, "retract") == 0 ? "retracted"
                                                    : "amended";
  if (!entry) {
    cJSON_AddNullToObject(o, "entry_id");
    addf(h->lines, "version %d: %s at %s (by no entry: the watermark passed a window)", version,
         verb, at);
    return 0;
  }
  cJSON_AddNumberToObject(o, "entry_id", (double)entry);
  ent e;
  int rc = load_ent(h->st, entry, &e);
  if (rc == 0) {
    cJSON_AddStringToObject(o, "entry_date", e.date);
    cJSON_AddStringToObject(o, "entry_text", e.text);
    addf(h->lines, "version %d: %s at %s by entry %lld (%s %s)", version, verb, at,
         (long long)entry, e.date, e.text);
  } else if (rc == VG_EINVAL) {
    addf(h->lines, "version %d: %s at %s by entry %lld (no longer stored)", version, verb, at,
         (long long)entry);
  }
  free(e.text);
  return rc == VG_EINVAL ? 0 : rc;
}

/* The named entries of an alert, with the steps each matched under its key. */
typedef struct {
  side *v;
  unsigned *steps;
  size_t n;
} named_list;

static void named_free(named_list *nl) {
  for (size_t i = 0; i < nl->n; i++) free(nl->v[i].e.text);
  free(nl->v);
  free(nl->steps);
}

static int load_named(vg_store *st, const alert_copy *c, named_list *nl, cJSON *list,
                      const rule *ru) {
  size_t cap = 1;
  for (const char *p = c->entries; *p; p++) cap += *p == ',';
  nl->v = calloc(cap, sizeof *nl->v);
  nl->steps = calloc(cap, sizeof *nl->steps);
  nl->n = 0;
  if (!nl->v || !nl->steps) return VG_ENOMEM;
  for (const char *p = c->entries; *p && nl->n < cap;) {
    char *end;
    long long id = strtoll(p, &end, 10);
    if (end == p) break;
    p = *end == ',' ? end + 1 : end;
    side *s = &nl->v[nl->n];
    int rc = load_ent(st, id, &s->e);
    cJSON *o = cJSON_CreateObject();
    if (!o) return VG_ENOMEM;
    cJSON_AddItemToArray(list, o);
    cJSON_AddNumberToObject(o, "id", (double)id);
    if (rc == VG_EINVAL) {
      cJSON_AddBoolToObject(o, "stored", 0);
      continue;
    }
    if (rc) return rc;
    mark_steps ms = {c->rule, c->key, 0};
    if ((rc = vg_store_entry_marks(st, id, got_mark, &ms))) return rc;
    snprintf(s->key, sizeof s->key, "%s", c->key);
    if (vg_store_entry_event(st, id, &s->event) <= 0)
      s->event = vg_entry_event(s->e.text, strlen(s->e.text), s->e.first, s->e.last);
    nl->steps[nl->n++] = ms.steps;
    char buf[128], d[11];
    cJSON_AddStringToObject(o, "date", s->e.date);
    cJSON_AddStringToObject(o, "precision", s->e.precision);
    cJSON_AddStringToObject(o, "first_day", day_text(s->e.first, d));
    cJSON_AddStringToObject(o, "last_day", day_text(s->e.last, d));
    cJSON_AddStringToObject(o, "text", s->e.text);
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    for (int k = 0; k < 32; k++)
      if (ms.steps & (1u << k)) {
        cJSON *so = cJSON_CreateObject();
        cJSON_AddNumberToObject(so, "step", k + 1);
        cJSON_AddStringToObject(so, "name", step_name(ru, (size_t)k, buf));
        cJSON_AddItemToArray(steps, so);
      }
  }
  return 0;
}

static int stop_at_first(void *ud, const vg_mark *x) {
  *(vg_mark *)ud = *x;
  return 1;
}

/* The window arithmetic of alert c under ru, into lines. */
static int alert_window(vg_store *st, const rule *ru, const alert_copy *c, named_list *nl,
                        cJSON *lines) {
  char buf[160], nb[128], pb[160], d1[11], d2[11], kb[300];
  switch (ru->kind) {
  case RK_SEQUENCE: {
    int said = 0;
    for (size_t k = 0; k + 1 < ru->nsteps; k++)
      for (size_t i = 0; i < nl->n; i++) {
        if (!(nl->steps[i] & (1u << k))) continue;
        for (size_t j = 0; j < nl->n; j++) {
          if (i == j || !(nl->steps[j] & (1u << (k + 1)))) continue;
          side a = nl->v[i], b = nl->v[j];
          a.step = (int)k;
          b.step = (int)k + 1;
          char why[1024];
          if (!pairs(ru, &a, &b, &a, why, sizeof why)) continue;
          say_pair(lines, ru, &a, &b);
          said++;
        }
      }
    if (!said) addf(lines, "no pair of the entries it names lies within %d days now",
                    (int)ru->within);
    return 0;
  }
  case RK_THRESHOLD: {
    int32_t end = INT32_MIN;
    for (size_t i = 0; i < nl->n; i++)
      if (nl->v[i].e.last > end) end = nl->v[i].e.last;
    if (end == INT32_MIN) return 0;
    int32_t start = end - ru->within;
    long long now = vg_store_span_events(st, ru->name, 0, c->key, start, end);
    if (now < 0) return VG_EDB;
    long long count = c->count >= 0 ? c->count : now;
    addf(lines, "%lld %s within %d days (%s..%s) >= %ld", count,
         count == 1 ? step_name(ru, 0, nb) : plural(step_name(ru, 0, nb), pb), (int)ru->within, day_text(start, d1),
         day_text(end, d2), ru->count);
    if (now != count)
      addf(lines, "the window holds %lld now (%s %ld)", now, now >= ru->count ? ">=" : "<",
           ru->count);
    return 0;
  }
  case RK_ABSENCE: {
    const side *a = NULL;
    for (size_t i = 0; i < nl->n && !a; i++)
      if (nl->steps[i] & 1u) a = &nl->v[i];
    if (!a && nl->n) a = &nl->v[0];
    if (!a) return 0;
    int32_t deadline = a->e.first + ru->within;
    addf(lines, "no %s from %s to %s (%d days) after the %s of %s", step_name(ru, 1, nb),
         day_text(a->e.last, d1), day_text(deadline, d2), (int)ru->within, step_name(ru, 0, buf),
         span_text(&a->e, pb));
    addf(lines, "the window closed once entries passed %s (%s + lateness %d days)",
         day_text(deadline + ru->lateness, d1), day_text(deadline, d2), (int)ru->lateness);
    char state[16];
    int found = vg_store_absence_state(st, ru->name, a->e.id, state);
    if (found < 0) return found;
    if (found) addf(lines, "its absence is %s", state);
    return 0;
  }
  case RK_FIRST: {
    vg_mark earliest = {0, 0, 0, 0};
    int rc = vg_store_marks(st, ru->name, 0, c->key, INT32_MIN, INT32_MAX, 0, stop_at_first,
                            &earliest);
    if (rc < 0) return rc;
    int named = 0;
    for (size_t i = 0; i < nl->n; i++) named |= nl->v[i].e.id == earliest.entry;
    if (!earliest.entry) addf(lines, "no mark of key %s is left", quoted_key(c->key, kb));
    else if (named)
      addf(lines, "no earlier mark of key %s: entry %lld (%s) is its first",
           quoted_key(c->key, kb), (long long)earliest.entry, day_text(earliest.first, d1));
    else
      addf(lines, "entry %lld (%s) is now the first mark of key %s", (long long)earliest.entry,
           day_text(earliest.first, d1), quoted_key(c->key, kb));
    return 0;
  }
  default:
    if (nl->n)
      addf(lines, "raised by the rule's alert on entry %lld (%s)", (long long)nl->v[0].e.id,
           span_text(&nl->v[0].e, buf));
    return 0;
  }
}

int vg_explain_alert(vg_rules *r, vg_store *st, int64_t id, cJSON **out) {
  *out = NULL;
  alert_copy c = {0};
  named_list nl = {0};
  vg_alert_query q = {.id = id, .retracted = VG_ALERT_ANY};
  int rc = vg_store_alerts(st, &q, got_alert, &c);
  if (rc == 1) rc = 0;
  if (rc == 0 && !c.alert) rc = VG_EINVAL;
  cJSON *o = rc ? NULL : cJSON_CreateObject();
  if (rc == 0 && !o) rc = VG_ENOMEM;
  if (rc) goto done;
  rule *ru = find(r, c.rule);
  cJSON_AddItemToObject(o, "alert", c.alert);
  c.alert = NULL;
  /* The rule, and the file it was in when the alert was last written. */
  if (ru) cJSON_AddItemToObject(o, "rule", rule_json(ru));
  else cJSON_AddNullToObject(o, "rule");
  const char *now_hash = ru ? vg_rule_hash(r, ru) : NULL;
  cJSON *file = cJSON_AddObjectToObject(o, "rule_file");
  char kb[300];
  if (c.rule_file) cJSON_AddStringToObject(file, "path", c.rule_file);
  else cJSON_AddNullToObject(file, "path");
  if (c.rule_hash) cJSON_AddStringToObject(file, "hash", c.rule_hash);
  else cJSON_AddNullToObject(file, "hash");
  if (now_hash) cJSON_AddStringToObject(file, "loaded_hash", now_hash);
  else cJSON_AddNullToObject(file, "loaded_hash");
  const char *verdict;
  if (!ru) verdict = "the rule is not among the rules loaded now";
  else if (!c.rule_hash || !now_hash) verdict = "unknown (the alert predates kept hashes)";
  else if (c.rule_file && strcmp(c.rule_file, ru->file) != 0)
    verdict = "the rule is now declared in another file";
  else if (strcmp(c.rule_hash, now_hash) == 0) verdict = "the file loaded now has that hash";
  else verdict = "the file changed since: the one loaded now has another hash";
  cJSON_AddBoolToObject(file, "unchanged",
                        ru && c.rule_hash && now_hash && strcmp(c.rule_hash, now_hash) == 0 &&
                            (!c.rule_file || strcmp(c.rule_file, ru->file) == 0));
  cJSON_AddStringToObject(file, "verdict", verdict);
  cJSON_AddStringToObject(o, "key", c.key);
  /* The entries, their steps, and the window. */
  cJSON *entries = cJSON_AddArrayToObject(o, "entries");
  cJSON *why = cJSON_AddArrayToObject(o, "why");
  if (!file || !entries || !why) {
    rc = VG_ENOMEM;
    goto done;
  }
  if ((rc = load_named(st, &c, &nl, entries, ru))) goto done;
  if (ru && (rc = alert_window(st, ru, &c, &nl, why))) goto done;
  if (!ru) addf(why, "rule '%s' is not loaded now: its window cannot be worked out", c.rule);
  /* Its versions. */
  history h = {st, cJSON_AddArrayToObject(o, "versions"), cJSON_AddArrayToObject(o, "history")};
  if (!h.list || !h.lines) {
    rc = VG_ENOMEM;
    goto done;
  }
  if ((rc = vg_store_alert_history(st, id, got_change, &h))) goto done;
  cJSON_AddStringToObject(o, "state", c.retracted ? "retracted" : "active");
  if (c.retracted) cJSON_AddStringToObject(o, "retract_reason", c.reason ? c.reason : "");
  else cJSON_AddNullToObject(o, "retract_reason");
  /* Its silence, and the quiet period. */
  cJSON *sil = NULL;
  if (c.silence_id && (rc = silence_json(st, c.silence_id, &sil))) goto done;
  if (sil) cJSON_AddItemToObject(o, "silence", sil);
  else cJSON_AddNullToObject(o, "silence");
  cJSON *quiet = cJSON_AddObjectToObject(o, "quiet");
  cJSON *ql = cJSON_AddArrayToObject(quiet, "lines");
  if (ru && ru->quiet > 0) {
    char d1[11], d2[11];
    cJSON *near = alerts_near(st, c.rule, c.key, c.day - ru->quiet, c.day + ru->quiet, id, &rc);
    if (!near || rc) {
      cJSON_Delete(near);
      goto done;
    }
    cJSON_AddNumberToObject(quiet, "days", ru->quiet);
    cJSON_AddItemToObject(quiet, "alerts", near);
    addf(ql, "quiet = days(%d): an alert of key %s within %d days after another is dropped",
         (int)ru->quiet, quoted_key(c.key, kb), (int)ru->quiet);
    if (!cJSON_GetArraySize(near))
      addf(ql, "no other alert of this key from %s to %s", day_text(c.day - ru->quiet, d1),
           day_text(c.day + ru->quiet, d2));
    const cJSON *it;
    cJSON_ArrayForEach(it, near) {
      const char *date = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "date"));
      addf(ql, "alert %.0f on %s is within %d days %s this one",
           cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "id")), date,
           (int)ru->quiet, strcmp(date, c.date) < 0 ? "before" : "after");
    }
  } else {
    cJSON_AddNumberToObject(quiet, "days", 0);
    addf(ql, "no quiet period");
  }
done:
  named_free(&nl);
  alert_copy_free(&c);
  if (rc) cJSON_Delete(o);
  else *out = o;
  return rc;
}

/* ---- vg_explain_entry ---- */

/* What explaining one entry shares between the rules. */
typedef struct {
  vg_rules *r;
  vg_store *st;
  vg_loaded slot;
  int entry_idx;
  side me;
  char error[512]; /* the last failure of a rule on the entry, or "" */
} asking;

static void caught(void *ud, const char *rule_name, const char *file, int line, int64_t entry,
                   const char *why) {
  asking *a = ud;
  (void)entry;
  snprintf(a->error, sizeof a->error, "rule '%s' (%s:%d) failed: %s", rule_name, file, line, why);
}

/* The alerts of rule ru that name the entry, as lines and ids. */
typedef struct {
  vg_store *st;
  const char *name;
  cJSON *ids, *lines;
  int rc;
} entry_alerts;

static int got_entry_alert(void *ud, const vg_alert_row *a) {
  entry_alerts *ea = ud;
  if (strcmp(a->rule, ea->name) != 0) return 0;
  cJSON_AddItemToArray(ea->ids, cJSON_CreateNumber((double)a->id));
  addf(ea->lines, "alert %lld (%s, version %d%s): %s", (long long)a->id, a->date, a->version,
       a->retracted ? ", retracted" : "", a->message);
  if (a->silence_id) {
    cJSON *s = NULL;
    if ((ea->rc = silence_json(ea->st, a->silence_id, &s))) return ea->rc;
    if (s) say_silence(ea->lines, s);
    cJSON_Delete(s);
  }
  return 0;
}

/* The marks of the other step, nearest first, judged against the entry. */
typedef struct {
  asking *ak;
  const rule *ru;
  int my_step, other_step; /* other_step = my_step +- 1 */
  cJSON *partners, *misses;
  int npartners, nmisses;
  int rc;
} judging;

static int judge(void *ud, const vg_mark *m, const char *key) {
  judging *j = ud;
  asking *ak = j->ak;
  if (m->entry == ak->me.e.id) return 0;
  side other = {.event = m->event, .step = j->other_step};
  snprintf(other.key, sizeof other.key, "%s", key);
  int rc = load_ent(ak->st, m->entry, &other.e);
  if (rc == VG_EINVAL) return 0;
  if (rc) return rc;
  other.e.first = m->first; /* as marked */
  other.e.last = m->last;
  side me = ak->me;
  me.step = j->my_step;
  const side *a = j->other_step < j->my_step ? &other : &me;
  const side *b = a == &me ? &other : &me;
  char why[1024], span[128], on[128];
  int ok = pairs(j->ru, a, b, &me, why, sizeof why);
  cJSON *o = NULL;
  if (ok && j->npartners < PARTNERS_MAX) {
    o = cJSON_CreateObject();
    cJSON_AddItemToArray(j->partners, o);
    j->npartners++;
    cJSON *lines = cJSON_CreateArray();
    say_pair(lines, j->ru, a, b);
    cJSON_AddStringToObject(o, "why", cJSON_GetStringValue(cJSON_GetArrayItem(lines, 0)));
    cJSON_Delete(lines);
  } else if (!ok && j->nmisses < MISSES_MAX) {
    o = cJSON_CreateObject();
    cJSON_AddItemToArray(j->misses, o);
    j->nmisses++;
    cJSON_AddStringToObject(o, "why", why);
    cJSON_AddNumberToObject(o, "days", (double)(m->first - me.e.first));
  }
  if (o) {
    cJSON_AddNumberToObject(o, "entry", (double)m->entry);
    cJSON_AddNumberToObject(o, "step", j->other_step + 1);
    cJSON_AddStringToObject(o, "step_name", step_name(j->ru, (size_t)j->other_step, on));
    cJSON_AddStringToObject(o, "date", span_text(&other.e, span));
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddStringToObject(o, "text", other.e.text);
  }
  free(other.e.text);
  return j->npartners >= PARTNERS_MAX ? 1 : 0;
}

/* Partners and near misses of the entry at step k against step other. */
static int judge_step(asking *ak, const rule *ru, int k, int other, cJSON *partners,
                      cJSON *misses) {
  judging j = {ak, ru, k, other, partners, misses, 0, 0, 0};
  int32_t day = ak->me.e.first;
  int64_t span = (int64_t)ru->within + SLACK;
  int32_t from = (int32_t)(day - span > INT32_MIN ? day - span : INT32_MIN);
  int32_t to = (int32_t)(day + span < INT32_MAX ? day + span : INT32_MAX);
  int rc = vg_store_marks_near(ak->st, ru->name, other, day, from, to, NEAR_MAX, judge, &j);
  return rc < 0 ? rc : 0;
}

/* A threshold on the entry: the windows that hold it. */
typedef struct {
  int32_t *v;
  size_t n, cap;
} days;

static int got_span_end(void *ud, int32_t last, int32_t first, long long events, int64_t entry) {
  days *d = ud;
  (void)first, (void)events, (void)entry;
  if (d->n && d->v[d->n - 1] == last) return 0;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    int32_t *v = realloc(d->v, cap * sizeof *v);
    if (!v) return VG_ENOMEM;
    d->v = v;
    d->cap = cap;
  }
  d->v[d->n++] = last;
  return 0;
}

static int threshold_entry(asking *ak, const rule *ru, const char *key, cJSON *lines,
                           int alerted) {
  const side *me = &ak->me;
  days d = {0};
  int rc = vg_store_spans(ak->st, ru->name, 0, key, me->e.last, me->e.first + ru->within,
                          got_span_end, &d);
  if (rc < 0) {
    free(d.v);
    return rc;
  }
  long long best = -1;
  int32_t best_day = me->e.last;
  for (size_t i = 0; i < d.n; i++) {
    long long n = vg_store_span_events(ak->st, ru->name, 0, key, d.v[i] - ru->within, d.v[i]);
    if (n < 0) {
      free(d.v);
      return VG_EDB;
    }
    if (n > best) best = n, best_day = d.v[i];
  }
  free(d.v);
  if (best < 0) best = 0;
  char nb[128], pb[160], d1[11], d2[11];
  addf(lines, "the fullest window of %d days that holds it, %s..%s, holds %lld %s: %lld %s %ld%s",
       (int)ru->within, day_text(best_day - ru->within, d1), day_text(best_day, d2), best,
       best == 1 ? step_name(ru, 0, nb) : plural(step_name(ru, 0, nb), pb), best, best >= ru->count ? ">=" : "<", ru->count,
       best >= ru->count ? "" : ": not enough");
  if (best >= ru->count && !alerted && ru->quiet > 0) {
    rc = say_quiet(ak->st, ru, key, best_day - ru->within - ru->quiet, best_day, lines);
  }
  return rc;
}

/* An absence on an entry of its first step: waiting, satisfied or fired. */
static int absence_entry(asking *ak, const rule *ru, cJSON *lines, int npartners) {
  char state[16], nb[128], d1[11], d2[11];
  int found = vg_store_absence_state(ak->st, ru->name, ak->me.e.id, state);
  if (found < 0) return found;
  int32_t deadline = ak->me.e.first + ru->within;
  if (!found) {
    addf(lines, "no absence waits on it (another report of its event waits for it)");
    return 0;
  }
  if (strcmp(state, "waiting") == 0) {
    int64_t max_day = 0;
    int has = vg_store_state_get(ak->st, "max_day", &max_day);
    if (has < 0) return VG_EDB;
    addf(lines, "waiting: a %s may answer it until %s; it fires once entries pass %s "
                "(lateness %d days)%s%s",
         step_name(ru, 1, nb), day_text(deadline, d1), day_text(deadline + ru->lateness, d2),
         (int)ru->lateness, has ? "; the latest entry day now: " : "",
         has ? day_text((int32_t)max_day, d1) : "");
  } else if (strcmp(state, "satisfied") == 0) {
    addf(lines, npartners ? "satisfied: answered within %d days (below)"
                          : "satisfied: no answer is left within %d days (it was answered, or "
                            "another report of its event was)",
         (int)ru->within);
  } else {
    addf(lines, "fired: no %s from %s to %s (%d days)", step_name(ru, 1, nb),
         day_text(ak->me.e.last, d1), day_text(deadline, d2), (int)ru->within);
  }
  return 0;
}

static int first_entry(asking *ak, const rule *ru, const char *key, cJSON *lines) {
  vg_mark earliest = {0, 0, 0, 0};
  char kb[300], d1[11];
  int rc = vg_store_marks(ak->st, ru->name, 0, key, INT32_MIN, INT32_MAX, 0, stop_at_first,
                          &earliest);
  if (rc < 0) return rc;
  if (!earliest.entry) addf(lines, "no mark of key %s", quoted_key(key, kb));
  else if (earliest.entry == ak->me.e.id || earliest.event == ak->me.event)
    addf(lines, "no earlier mark of key %s: this entry's event is its first",
         quoted_key(key, kb));
  else
    addf(lines, "entry %lld (%s) came first with key %s", (long long)earliest.entry,
         day_text(earliest.first, d1), quoted_key(key, kb));
  return 0;
}

static int tag_of_rule(void *ud, const char *tag, const char *rule_name) {
  cJSON *o = ud;
  const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "rule"));
  if (want && strcmp(want, rule_name) == 0)
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(o, "tags"), cJSON_CreateString(tag));
  return 0;
}

/* A tagging rule on the entry: its `when`, the tags it set. */
static int plain_entry(asking *ak, rule *ru, cJSON *o, cJSON *lines) {
  lua_State *L = ak->r->sb->L;
  if (ru->when == LUA_NOREF) {
    addf(lines, "no `when`: it applies to every entry");
    cJSON_AddBoolToObject(o, "when", 1);
  } else {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ru->when);
    lua_pushvalue(L, ak->entry_idx);
    if (vg_rule_call(ak->r, ru, ak->me.e.id, 1)) {
      cJSON_AddNullToObject(o, "when");
      cJSON_AddStringToObject(o, "error", ak->error);
      addf(lines, "when(e) failed: %s", ak->error);
    } else {
      int yes = lua_toboolean(L, -1);
      lua_pop(L, 1);
      cJSON_AddBoolToObject(o, "when", yes);
      addf(lines, "when(e) is %s on it", yes ? "true" : "false");
    }
  }
  if (!cJSON_AddArrayToObject(o, "tags")) return VG_ENOMEM;
  int rc = vg_store_entry_tags(ak->st, ak->me.e.id, tag_of_rule, o);
  if (rc) return rc;
  cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
  if (cJSON_GetArraySize(tags)) {
    char all[1024] = "";
    const cJSON *t;
    cJSON_ArrayForEach(t, tags) {
      snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", all[0] ? ", " : "",
               t->valuestring);
    }
    addf(lines, "tags it set on the entry: %s", all);
  }
  return 0;
}

/* A correlation on the entry. */
static int correlation_entry(asking *ak, rule *ru, cJSON *o, cJSON *lines, int alerted) {
  char nb[128], kb[300];
  ak->error[0] = '\0';
  int mask = vg_correlate_steps(ak->r, ru, &ak->slot.ctx, ak->entry_idx);
  cJSON *matched = cJSON_AddArrayToObject(o, "steps");
  if (mask < 0) {
    cJSON_AddStringToObject(o, "error", ak->error);
    addf(lines, "a step failed: %s", ak->error);
    return 0;
  }
  size_t nsteps = ru->nsteps ? ru->nsteps : 1;
  for (size_t k = 0; k < nsteps; k++) {
    if (mask & (1 << k)) cJSON_AddItemToArray(matched, cJSON_CreateNumber((double)k + 1));
    const char *name = step_name(ru, k, nb);
    if (ru->nsteps && ru->step_tags && ru->step_tags[k])
      addf(lines, "step %zu (%s): %s", k + 1, name,
           mask & (1 << k) ? "matches (it carries the tag)" : "no match: it lacks the tag");
    else
      addf(lines, "step %zu (%s): %s", k + 1, name, mask & (1 << k) ? "matches" : "no match");
  }
  if (!mask) return 0;
  char key[VG_FIELD_MAX];
  int has = vg_correlate_key(ak->r, ru, &ak->slot.e, ak->entry_idx, key);
  if (has < 0) {
    cJSON_AddStringToObject(o, "error", ak->error);
    addf(lines, "its key failed: %s", ak->error);
    return 0;
  }
  if (has == 0) {
    cJSON_AddNullToObject(o, "key");
    addf(lines, "no key: %s gives nothing for it, so the rule does not apply",
         ru->by_field ? "the field `by` names" : "by(e)");
    return 0;
  }
  cJSON_AddStringToObject(o, "key", key);
  addf(lines, "key: %s", quoted_key(key, kb));
  snprintf(ak->me.key, sizeof ak->me.key, "%s", key);
  cJSON *partners = cJSON_AddArrayToObject(o, "partners");
  cJSON *misses = cJSON_AddArrayToObject(o, "near_misses");
  if (!partners || !misses) return VG_ENOMEM;
  int rc = 0;
  if (ru->kind == RK_SEQUENCE || ru->kind == RK_ABSENCE) {
    for (size_t k = 0; k < ru->nsteps && rc == 0; k++) {
      if (!(mask & (1 << k))) continue;
      if (k + 1 < ru->nsteps) rc = judge_step(ak, ru, (int)k, (int)k + 1, partners, misses);
      if (rc == 0 && k > 0) rc = judge_step(ak, ru, (int)k, (int)k - 1, partners, misses);
    }
    if (rc) return rc;
    if (cJSON_GetArraySize(partners)) { /* near misses only when nothing pairs */
      cJSON_DeleteItemFromObjectCaseSensitive(o, "near_misses");
      cJSON_AddArrayToObject(o, "near_misses");
    }
    if (ru->kind == RK_ABSENCE && (mask & 1))
      rc = absence_entry(ak, ru, lines, cJSON_GetArraySize(partners));
    if (rc == 0 && ru->kind == RK_SEQUENCE && cJSON_GetArraySize(partners) && !alerted &&
        ru->quiet > 0) {
      rc = say_quiet(ak->st, ru, key, ak->me.e.first - ru->quiet - ru->within,
                     ak->me.e.first + ru->within, lines);
    }
  } else if (ru->kind == RK_THRESHOLD) {
    rc = threshold_entry(ak, ru, key, lines, alerted);
  } else if (ru->kind == RK_FIRST) {
    rc = first_entry(ak, ru, key, lines);
  }
  return rc;
}

int vg_explain_entry(vg_rules *r, vg_store *st, int64_t id, const char *rule_name, cJSON **out) {
  *out = NULL;
  if (!r) return VG_EINVAL;
  lua_State *L = r->sb->L;
  int base = lua_gettop(L);
  asking ak = {.r = r, .st = st};
  int rc = vg_rules_push_stored(r, st, id, &ak.slot);
  if (rc) return rc;
  ak.entry_idx = lua_gettop(L);
  cJSON *o = cJSON_CreateObject(), *list = NULL;
  const vg_rule_entry *e = &ak.slot.e;
  ak.me.e.id = e->id;
  ak.me.e.first = e->first;
  ak.me.e.last = e->last;
  snprintf(ak.me.e.date, sizeof ak.me.e.date, "%s", e->date);
  snprintf(ak.me.e.precision, sizeof ak.me.e.precision, "%s", e->precision);
  ak.me.e.text = (char *)e->text;
  int grouped = vg_store_entry_event(st, id, &ak.me.event);
  if (grouped < 0) rc = VG_EDB;
  if (grouped <= 0) ak.me.event = vg_entry_event(e->text, e->text_len, e->first, e->last);
  ak.slot.ctx.grouped = 1;
  ak.slot.ctx.has_event = grouped > 0;
  ak.slot.ctx.event = ak.me.event;
  char span[128], d[11];
  if (!o) rc = VG_ENOMEM;
  if (rc == 0) {
    cJSON *eo = cJSON_AddObjectToObject(o, "entry");
    cJSON_AddNumberToObject(eo, "id", (double)id);
    cJSON_AddStringToObject(eo, "date", e->date);
    cJSON_AddStringToObject(eo, "precision", e->precision);
    cJSON_AddStringToObject(eo, "first_day", day_text(e->first, d));
    cJSON_AddStringToObject(eo, "last_day", day_text(e->last, d));
    cJSON_AddStringToObject(eo, "span", span_text(&ak.me.e, span));
    cJSON_AddStringToObject(eo, "text", e->text);
    cJSON *tags = cJSON_AddArrayToObject(eo, "tags");
    for (size_t i = 0; i < ak.slot.ctx.ntags; i++)
      cJSON_AddItemToArray(tags, cJSON_CreateString(ak.slot.ctx.tags[i]));
    if (!(list = cJSON_AddArrayToObject(o, "rules"))) rc = VG_ENOMEM;
  }
  vg_rules_on_failure(r, caught, &ak);
  r->store = st; /* for rules that read history */
  for (size_t i = 0; rc == 0 && i < r->n; i++) {
    rule *ru = &r->v[i];
    if (rule_name && strcmp(ru->name, rule_name) != 0) continue;
    cJSON *ro = cJSON_CreateObject(), *lines = NULL;
    if (!ro || !cJSON_AddItemToArray(list, ro) || !(lines = cJSON_CreateArray())) {
      cJSON_Delete(ro);
      rc = VG_ENOMEM;
      break;
    }
    cJSON_AddStringToObject(ro, "rule", ru->name);
    cJSON_AddStringToObject(ro, "kind", kind_names[ru->kind]);
    cJSON_AddStringToObject(ro, "file", ru->file);
    ak.error[0] = '\0';
    entry_alerts ea = {st, ru->name, cJSON_CreateArray(), cJSON_CreateArray(), 0};
    vg_alert_query q = {.entry = id};
    if (!ea.ids || !ea.lines) rc = VG_ENOMEM;
    if (rc == 0) rc = vg_store_alerts(st, &q, got_entry_alert, &ea);
    if (rc == 0 && ea.rc) rc = ea.rc;
    int alerted = cJSON_GetArraySize(ea.ids) > 0;
    if (rc == 0) {
      if (ru->kind == RK_RULE) rc = plain_entry(&ak, ru, ro, lines);
      else rc = correlation_entry(&ak, ru, ro, lines, alerted);
    }
    lua_settop(L, ak.entry_idx);
    cJSON_AddItemToObject(ro, "why", lines);
    if (ea.ids) cJSON_AddItemToObject(ro, "alerts", ea.ids);
    if (ea.lines) cJSON_AddItemToObject(ro, "alert_lines", ea.lines);
  }
  r->store = NULL;
  vg_rules_on_failure(r, NULL, NULL);
  vg_lua_entry_invalidate(L, ak.entry_idx);
  lua_settop(L, base);
  vg_rules_unload(&ak.slot);
  if (rc) cJSON_Delete(o);
  else *out = o;
  return rc;
}
