/* rules.h — the rule engine: loads the rule files of directories and files
 * into one sandboxed Lua state and runs their rules on each entry as it is stored.
 *
 * A rule file declares rules and test cases:
 *   rule "name" { when = fn(e), tags = {...} | fn(e), alert = fn(e) | {...},
 *                 after = {"rule", ...}, severity = "info", sinks = {...} }
 *   test "name" { given = {...}, tags = {...}, alerts = {...} }
 * Rules run in a fixed order: file name, then declaration, moved only as far
 * as `after` requires. A rules object is used by one thread at a time. */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include "lua_entry.h"
#include "metrics.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct vg_rules vg_rules;

/* An alert raised while rules ran, kept for the sinks after the commit. */
typedef struct {
  int64_t id;                   /* its id in the store */
  char *rule, *key, *severity, *message, *date;
  char *sinks;                  /* the rule's extra sinks, joined by ',', or NULL */
  int64_t *entries;             /* the entries it concerns */
  size_t nentries;
  int version;                  /* 1 when raised; more for an amended alert */
  long long count;              /* the events of a threshold's window, or -1 */
  int64_t silence_id;           /* the silence that marked it when raised (the sinks skip
                                   it), or 0 */
  int retracted;                /* taken back: nothing holds it up any more */
  char *reason;                 /* why, when retracted; else NULL */
} vg_alert;

typedef struct {
  vg_alert *v;
  size_t n, cap;
} vg_alert_list;

void vg_alert_list_clear(vg_alert_list *l);

/* Limits of the rule state. */
typedef struct {
  size_t mem_max;       /* bytes the Lua state may hold */
  long budget;          /* instructions per rule call */
  unsigned max_failures; /* a rule failing this often is disabled until reload */
  double event_similarity; /* how alike two reports must be to be one event (events.h) */
  int detached;         /* what the rules do is counted nowhere (a set loaded beside the
                           daemon's to explain with), not in the daemon's metrics */
} vg_rules_limits;

#define VG_RULES_LIMITS_DEFAULT {32u << 20, 1000000, 10, 0.1, 0}

/* Told about each problem met while loading: file (may be NULL), the line
 * (0 when unknown) and the message, which already names file:line. */
typedef void (*vg_rules_report_fn)(void *ud, const char *file, const char *msg);

/* Loads the rule files of every path of `paths` (NULL-ended) as one set,
 * so that `after` names and every rule see across them: the paths in the
 * order given, a directory's *.lua files in name order (not its
 * subdirectories), a file as it is. A file reached twice (named itself and
 * through its directory, say) loads once, at its first place. A rule name
 * declared twice is an error of the second file, naming the first file
 * and line; that file then does not load. Files of the same name in two
 * directories are two files.
 * A file that fails to load is reported; if `prev` holds a good version of
 * it, that version is loaded instead, so a broken edit never takes rules
 * away. A path that cannot be read (missing, say) gives one report and the
 * rules prev loaded from it, as they were. Sets *errors to the number of
 * reports. Returns NULL only when the Lua state cannot be made. */
vg_rules *vg_rules_load_paths(char *const *paths, const vg_rules *prev,
                              const vg_rules_limits *lim, vg_rules_report_fn report, void *ud,
                              int *errors);
/* vg_rules_load_paths of the one path `path`. */
vg_rules *vg_rules_load(const char *path, const vg_rules *prev, const vg_rules_limits *lim,
                        vg_rules_report_fn report, void *ud, int *errors);
void vg_rules_free(vg_rules *r);
/* How many rules and test cases are loaded. */
size_t vg_rules_count(const vg_rules *r);
size_t vg_rules_test_count(const vg_rules *r);
/* How many files have no version loaded (they failed and prev had none of
 * them), plus the rules paths that could not be read. The rules they
 * declare are unknown: see vg_rules_rerun. */
size_t vg_rules_unloaded(const vg_rules *r);

/* Told about each failure of a rule on an entry (0 when none), besides the
 * log: the rule, the file and line that declared it, and why (a Lua error
 * names its own file:line). */
typedef void (*vg_rules_failure_fn)(void *ud, const char *rule, const char *file, int line,
                                    int64_t entry, const char *why);
/* Sets the function told of rule failures (NULL for none). */
void vg_rules_on_failure(vg_rules *r, vg_rules_failure_fn fn, void *ud);

/* Runs each enabled rule on e, inside the caller's open transaction: stores
 * the tags and alerts it sets and appends the alerts that are new to out
 * (may be NULL). Once the tagging rules have run, and before the
 * correlations, the event e reports is found and stored (core/events.h,
 * with the limits' event_similarity). A rule that fails is logged with file:line and the entry's
 * id, counted, and skipped. Returns 0, or VG_EDB / VG_ENOMEM (roll back). */
int vg_rules_run(vg_rules *r, vg_store *st, const vg_rule_entry *e, vg_alert_list *out);

/* Runs the rules again on a stored entry (vigil replay), inside the
 * caller's open transaction: its tags, its event and its correlation marks
 * are set anew by the rules that run, as vg_rules_run would set them (the
 * other reports of its old event keep it). What a rule that does
 * not run set is kept: the tags of a disabled rule or of a rule that fails
 * on this entry, and, when a file did not load (vg_rules_unloaded), the
 * tags of every rule not loaded and the marks of every correlation not
 * loaded. The rules that run see the kept tags of rules that do not run at
 * all. When every file loaded, the tags and marks of rules that no longer
 * exist are removed. Returns as vg_rules_run. */
int vg_rules_rerun(vg_rules *r, vg_store *st, const vg_rule_entry *e, vg_alert_list *out);

/* Whether the rule state ran out of memory held by rules (a rule that
 * hoards it): the rules are then skipped, entries are stored without them,
 * and the daemon reloads them. */
int vg_rules_exhausted(const vg_rules *r);

/* Fires the absence rules whose window the newest entry day (less their
 * lateness) has closed. Call it once a batch, before its commit, so that
 * the order of entries within a batch never matters. */
int vg_rules_flush(vg_rules *r, vg_store *st, vg_alert_list *out);
/* Fires the absence rules whose window the wall clock (day number `today`)
 * has closed, for rules that follow the wall clock; the daemon calls it now
 * and then, inside a transaction. Returns 0, or VG_EDB / VG_ENOMEM. */
int vg_rules_tick(vg_rules *r, vg_store *st, int32_t today, vg_alert_list *out);

/* Copies a stored row into e; returns the buffer e points into (the
 * caller frees it), or NULL when out of memory. */
char *vg_rule_entry_from_row(const vg_row *row, vg_rule_entry *e);

/* ---- the test cases that rule files carry ---- */

/* One test case, read out of its file. */
typedef struct {
  const char *name, *file;
  int line;
  char **given;        /* the entries, as input lines (chronology or JSON) */
  size_t ngiven;
  char ***tags;        /* per given entry, a NULL-ended list of tags expected */
  int has_tags;        /* whether the case states tags at all */
  struct vg_expected_alert {
    char *rule, *severity, *message; /* severity, message may be NULL: not checked */
    int64_t *entries;  /* 1-based indexes into given */
    size_t nentries;
  } *alerts;
  size_t nalerts;
  int has_alerts;
} vg_rule_test;

/* Reads test case i. Returns 0, or VG_EINVAL with why in err. */
int vg_rules_test_get(vg_rules *r, size_t i, vg_rule_test *t, char *err, size_t cap);
void vg_rule_test_free(vg_rule_test *t);
/* The file that declared rule i (in run order), or test case i; NULL past
 * the last. */
const char *vg_rules_rule_file(const vg_rules *r, size_t i);
const char *vg_rules_test_file(const vg_rules *r, size_t i);
/* What GET /v1/rules shows of loaded rule i (in run order). */
typedef struct {
  const char *name, *file; /* r's own strings */
  int line;
  const char *kind;        /* "rule", "sequence", "threshold", "absence" or "first" */
  char hash[33];           /* XXH3-128 of the text of its file as loaded, in hex */
  vg_rule_stats *stats;    /* what it did since the daemon started (metrics.h) */
} vg_rule_info;
/* Fills *out for rule i; 0, or -1 past the last. */
int vg_rules_info(const vg_rules *r, size_t i, vg_rule_info *out);

/* Checks the correlation rules (sequence, threshold, absence, first) of r
 * against the field the entries are partitioned by (`partition_by`, as
 * nats_partition_by names it; "" when none is named): a daemon that
 * consumes one partition sees only the entries of that partition, so a
 * correlation gives what one daemon over every entry would give only when
 * it groups by that same field. Calls say(ud, rule, file, line, why) for each
 * rule that does not: one whose `by` names another field, one whose `by` is
 * a function (which cannot be checked), one without `by` (it correlates
 * across all entries). The daemon logs them; `vigil check` prints them.
 * Returns how many it found. */
typedef void (*vg_rules_partition_fn)(void *ud, const char *rule, const char *file, int line,
                                      const char *why);
size_t vg_rules_partition_check(const vg_rules *r, const char *partition_by,
                                vg_rules_partition_fn say, void *ud);

/* The file a rule was declared in, or NULL for an unknown rule. */
const char *vg_rules_file_of(const vg_rules *r, const char *rule);

#endif
