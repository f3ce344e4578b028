/* rules_impl.h — what rules.c (loading, plain rules) and correlate.c
 * (sequences, thresholds, absences, first occurrences) share. Not for
 * other modules: they use rules.h. */
#ifndef VIGIL_RULES_IMPL_H
#define VIGIL_RULES_IMPL_H

#include "metrics.h"
#include "rules.h"
#include "sandbox.h"

typedef enum { RK_RULE, RK_SEQUENCE, RK_THRESHOLD, RK_ABSENCE, RK_FIRST } rule_kind;

typedef struct {
  rule_kind kind;     /* a plain rule, or which correlation */
  char *name;         /* unique across the loaded files */
  char *file;         /* the file that declared it */
  int line;           /* where */
  int when;           /* registry refs, or LUA_NOREF: the predicate, */
  int tags;           /* the tags (list or function), */
  int alert;          /* the alert (function or table), */
  int by;             /* the key function of a correlation */
  char *by_field;     /* or the field whose text is its key (vg_entry_field_text), or NULL */
  int *steps;         /* refs of a correlation's step predicates, in order */
  char ***step_tags;  /* per step, NULL or the tags of a tagged"..." step (NULL-ended):
                       * any of them on the entry is a match, seen without a call */
  size_t nsteps;
  int32_t within;     /* days a correlation's window spans */
  int32_t min_gap;    /* days a sequence's steps must be apart at least */
  int32_t quiet;      /* days after an alert in which the same key raises none */
  int32_t lateness;   /* days an absence waits past its window for late entries */
  long count;         /* entries a threshold needs */
  int per_pair;       /* a sequence raises one alert per (first, last) pair */
  int wall_clock;     /* an absence's watermark follows the wall clock too */
  char **after;       /* rules it must run after */
  size_t nafter;
  char *severity;     /* default severity of its alerts */
  char *sinks;        /* extra sinks, joined by ',' or NULL */
  unsigned failures;  /* calls that failed since load */
  int disabled;       /* failed too often: skipped until reload */
  vg_rule_stats *stats; /* what it did since the daemon started, kept by name (metrics.h) */
  char hash[33];      /* XXH3-128 of its file's text as loaded, in hex; "" until asked */
} rule;

typedef struct {
  char *path;   /* as found in the directory, or as given */
  char *source; /* the rules path (a directory or the file) it was found through */
  char *text; /* the last version that loaded */
  size_t len;
} good_file;

typedef struct {
  char *name, *file;
  int line;
  int ref; /* the test table */
} test_decl;

struct vg_rules {
  vg_sandbox *sb;       /* the Lua state */
  vg_rules_limits lim;
  rule *v;              /* in run order once loading is done */
  size_t n, cap;
  good_file *files;
  size_t nfiles, fcap;
  test_decl *tests;
  size_t ntests, tcap;
  size_t unloaded;      /* files of which no version loaded, and rules paths that
                         * could not be read */
  const char *loading;  /* the file being loaded, while it runs */
  vg_store *store;      /* the store of the running call, for history queries */
  int entry_ref;        /* registry slot of the entry object of the running pass */
  int exhausted;        /* out of memory held by rules: skipped until reloaded */
  unsigned long store_serial; /* which store max_day belongs to */
  int32_t max_day;      /* the latest entry day seen in that store */
  int64_t max_day_entry; /* the entry that moved it there, or 0 when not known */
  int has_max_day;
  vg_rules_failure_fn on_failure; /* told of each failure of a rule, or NULL */
  int64_t cause;        /* the entry whose arrival or change the running call is about;
                         * 0: none (a watermark) */
  int64_t correcting;   /* the entry being corrected or retracted (the cause of all that
                         * its correction runs), or 0 */
  int again;            /* working alerts out again: each is written whole, and its id
                         * noted in touched */
  int64_t *touched;     /* the alerts written while `again` (or, while `noting`, those of
                         * plain rules) */
  size_t ntouched, ctouched;
  int noting;           /* note the alerts of plain rules in touched */
  /* What a correction changed, for the absences judged again: the entries
   * (the corrected one and the other reports of its event), the spans of
   * days they had and have (first, last pairs), and whether the watermark
   * went back. A fired absence none of it touches stays fired: it may have
   * fired before a late answer came, and that is history, not this change. */
  const int64_t *changed;
  size_t nchanged;
  const int32_t *changed_spans;
  size_t nspans;
  /* The first-step entries of absences judged again to be answered or not
   * due: their alerts, if any, are retracted unless raised again. */
  struct vg_judged { rule *ru; int64_t entry; } *judged;
  size_t njudged, cjudged;
  void *failure_ud;
};

/* Counts a failure of ru on an entry (0 when none), logs it with file:line,
 * and disables the rule when it fails too often. */
void vg_rule_failed(vg_rules *r, rule *ru, int64_t entry, const char *why);
/* Calls the function below its nargs arguments on the stack; leaves one
 * result and returns 0, or reports the failure and returns -1. */
int vg_rule_call(vg_rules *r, rule *ru, int64_t entry, int nargs);
/* Takes the alert value on top of the stack (nil, a message, or a table;
 * popped) and stores the alert it describes, anchored on `anchor` and
 * naming `entries`, with `count` (-1 for none: see vg_alert_in); its dedup
 * key is dedup_base plus the key the alert table gives, and its key column
 * that key or else by_key (may be NULL).
 * An alert whose dedup key exists is amended with any entry it lacked (or,
 * with `replace`, moved to this anchor, message and entries alone); one
 * within the rule's quiet days of another for the same key is dropped. A
 * new alert is appended to out. Returns 0, or VG_EDB / VG_ENOMEM. */
int vg_rule_alert(vg_rules *r, rule *ru, vg_store *st, const vg_rule_entry *anchor,
                  const int64_t *entries, size_t n, const char *dedup_base, const char *by_key,
                  int replace, long long count, vg_alert_list *out);
/* A stored entry, loaded: vg_rules_load_stored fills *slot (with the
 * entry's tags in ctx when `tagged`; without them it is the narrower
 * look-up), vg_rules_push_stored also pushes it as an entry object; either
 * way the caller releases the slot with vg_rules_unload, after invalidating
 * the object. Return 0, or VG_EDB / VG_EINVAL (no such entry) /
 * VG_ENOMEM. */
typedef struct {
  vg_rule_entry e;
  char *owned;
  vg_entry_ctx ctx;
} vg_loaded;
int vg_rules_load_stored(vg_store *st, int64_t id, int tagged, vg_loaded *slot);
int vg_rules_push_stored(vg_rules *r, vg_store *st, int64_t id, vg_loaded *slot);
void vg_rules_unload(vg_loaded *slot);

/* The XXH3-128 of the text of ru's file as loaded, in hex (kept in ru), or
 * NULL when the file is not among r's. */
const char *vg_rule_hash(const vg_rules *r, rule *ru);

/* Runs correlation rule ru on the entry of ctx (its object at entry_idx). */
int vg_correlate(vg_rules *r, rule *ru, vg_store *st, vg_entry_ctx *ctx, int entry_idx,
                 vg_alert_list *out);
/* Works out again every alert of correlation ru and key dated in [lo, hi]
 * (any date, for a first occurrence; `slack`: the longest span of days among
 * the marks there) from the marks as they are now, as a
 * clean run over them would leave it: each is raised, moved or left as it
 * is (with r->again set, so that vg_rule_alert writes each whole and notes
 * its id), and the absences of first-step entries in [lo, hi] are judged
 * again. What it does not raise, the caller retracts (core/correct.c). */
int vg_correlate_again(vg_rules *r, rule *ru, vg_store *st, const char *key, int32_t lo,
                       int32_t hi, int32_t slack, vg_alert_list *out);
/* Puts alert id, as stored now, in out for the sinks, in the place of an
 * earlier version of it there, or at the end. 0, VG_EDB or VG_ENOMEM. */
int vg_rule_alert_out(vg_alert_list *out, vg_store *st, int64_t id, const rule *ru);
/* The loaded rule of that name, or NULL. */
rule *vg_rule_find(const vg_rules *r, const char *name);

/* Fires the absences whose deadline the watermark has passed. */
int vg_correlate_due(vg_rules *r, vg_store *st, int32_t today, vg_alert_list *out);

/* For explanations (core/explain.c), what vg_correlate asks of an entry:
 * which steps of correlation rule ru the entry of ctx (its object at
 * entry_idx) matches, as a bit mask (-1 when a step failed); and its key
 * into key: 1, 0 when the rule does not apply (by(e) is nil, or the field
 * is missing), -1 when it failed. A failure goes through vg_rule_failed. */
int vg_correlate_steps(vg_rules *r, rule *ru, const vg_entry_ctx *ctx, int entry_idx);
int vg_correlate_key(vg_rules *r, rule *ru, const vg_rule_entry *e, int entry_idx,
                     char key[VG_FIELD_MAX]);

#endif
