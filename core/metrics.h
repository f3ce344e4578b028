/* metrics.h — the daemon's counters, gauges and histograms, and their
 * rendering in Prometheus's text exposition format 0.0.4 (api_metrics.c
 * serves it at GET /metrics).
 *
 * Two layers:
 *   - a registry of metric families (vg_metrics_new, vg_metric_new), each
 *     with its label names and its series, one per combination of label
 *     values (vg_metric_series), rendered by vg_metrics_render. The unit
 *     tests use registries of their own;
 *   - vigil's own metrics in one process-wide registry (vg_metrics_init),
 *     updated through the vg_metrics_* helpers below by the parts of the
 *     daemon. Before vg_metrics_init (the commands other than `vigil run`)
 *     every helper does nothing.
 *
 * Threads: a series' value is a C11 atomic, so any thread may update it
 * (the ingest and the rules on the worker, sinks and feeds on the loop)
 * while the loop renders. Finding or making a series takes the family's
 * mutex: callers on hot paths keep the pointer (rules keep their
 * vg_rule_stats). Series are never freed before vg_metrics_free.
 *
 * Cardinality: a family holds at most its cap of series (VG_METRICS_CAP
 * unless said otherwise); past it, a new combination is counted in the
 * series whose first label value is "other" (the other values kept). The
 * per-rule statistics hold at most VG_METRICS_CAP rule names; later ones
 * share the statistics of the rule "other". */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define VG_METRICS_CAP 1000 /* distinct label values a family or the rules keep */
#define VG_METRICS_OTHER "other"
#define VG_METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

typedef enum { VG_COUNTER, VG_GAUGE, VG_HISTOGRAM } vg_metric_type;

typedef struct vg_metrics vg_metrics;
typedef struct vg_metric vg_metric;
typedef struct vg_series vg_series;

/* ---- the registry ---- */

/* A new, empty registry; NULL when out of memory. */
vg_metrics *vg_metrics_new(void);
/* Frees reg, its families and their series. NULL does nothing. */
void vg_metrics_free(vg_metrics *reg);

/* Adds a family to reg: name and help (static strings, the name valid per
 * Prometheus's rules), its label names (static, NULL-ended; NULL for
 * none), for a histogram its bucket bounds (ascending, without +Inf; the
 * array is copied), and cap (0: VG_METRICS_CAP). Families render in the
 * order they were added. NULL when out of memory. */
vg_metric *vg_metric_new(vg_metrics *reg, const char *name, const char *help, vg_metric_type type,
                         const char *const *labels, const double *buckets, size_t nbuckets,
                         size_t cap);

/* The series of m for these label values (as many as m has labels; NULL
 * for none), made at zero when new. Past the cap, the series whose first
 * value is "other". NULL only when out of memory. Any thread. */
vg_series *vg_metric_series(vg_metric *m, const char *const *values);

/* Adds n to a counter (or a gauge). NULL does nothing. Any thread. */
void vg_series_add(vg_series *s, uint64_t n);
/* Sets a gauge (or a counter read from elsewhere, as the CPU time). */
void vg_series_set(vg_series *s, double v);
/* Counts v into a histogram. */
void vg_series_observe(vg_series *s, double v);
/* The value of a counter or gauge; a histogram's count. */
double vg_series_value(const vg_series *s);

/* Renders every family of reg in the text format 0.0.4: HELP and TYPE
 * lines, then each series (histograms as cumulative _bucket lines ending
 * with le="+Inf", then _sum and _count). A family without series renders
 * its HELP and TYPE only. Returns a malloc'd NUL-terminated text and its
 * length in *len, or NULL when out of memory. */
char *vg_metrics_render(vg_metrics *reg, size_t *len);

/* Writes s into out as a label value of the text format (backslash, double
 * quote and newline escaped); the length, or what it would need when it
 * does not fit in cap (then out is cut, NUL-terminated when cap > 0). */
size_t vg_metrics_escape(char *out, size_t cap, const char *s);

/* ---- vigil's metrics ---- */

/* What one rule did since the daemon started (across reloads, by name).
 * Updated on the worker as the rule runs; read on the loop. */
typedef struct vg_rule_stats {
  atomic_uint_fast64_t calls;    /* times it ran on an entry */
  atomic_uint_fast64_t matches;  /* entries its predicate (or one of its steps) accepted */
  atomic_uint_fast64_t tags_set; /* tags it added to entries */
  atomic_uint_fast64_t failures; /* calls that failed */
  atomic_uint_fast64_t nanos;    /* time spent in its calls */
  atomic_int disabled;           /* disabled after failing too often, until a reload */
  vg_series *alerts[3];          /* vigil_alerts_total: info, warn, crit */
  vg_series *errors;             /* vigil_rule_errors_total */
  vg_series *silenced;           /* vigil_alerts_silenced_total */
} vg_rule_stats;

/* Why a line was refused, in the classes vigil_entries_rejected_total counts. */
typedef enum {
  VG_REJECT_NO_DATE,  /* no date where one is due */
  VG_REJECT_BAD_DATE, /* a date that does not parse */
  VG_REJECT_BAD_JSON, /* not JSON, or not a record vigil reads */
  VG_REJECT_TOO_LONG, /* over max_line */
  VG_REJECT_EMPTY,    /* no text */
  VG_REJECT_ENCODING, /* not UTF-8, or a NUL byte */
  VG_REJECT_OTHER,    /* anything else (a feed's own refusal, say) */
  VG_REJECT_NCLASSES
} vg_reject_class;

/* Makes the process-wide registry and vigil's families, with the series
 * known at the start at zero: the reject classes, the build. Call once, on the loop,
 * before any job. 0, or VG_ENOMEM. */
int vg_metrics_init(void);
/* Makes the series of a sink (by name) or a feed (by URL) at zero, for
 * each of its results, before anything is delivered or polled. */
void vg_metrics_sink_declare(const char *sink);
void vg_metrics_feed_declare(const char *feed);
/* Makes the series of the JetStream source at zero, each result. */
void vg_metrics_nats_declare(void);
/* Frees it, after the loop and the worker are done. */
void vg_metrics_shutdown(void);
/* Renders it, with the process's own metrics read now (see
 * vg_metrics_render); pending is the vigil_pending_lines gauge. On the
 * loop. NULL when out of memory, or before vg_metrics_init. */
char *vg_metrics_scrape(double pending, size_t *len);

/* The statistics of rule `name`, made at zero (with its series at zero,
 * each severity) when new; past VG_METRICS_CAP rules, those of "other".
 * Never NULL: before vg_metrics_init, a scratch record nobody reads. */
vg_rule_stats *vg_metrics_rule(const char *name);
/* A rule's statistics that count into nothing anyone reads: for rules
 * loaded beside the daemon's, whose calls must not show in its metrics. */
vg_rule_stats *vg_metrics_scratch_rule(void);

/* The class of a reject reason (the text vg_entry_parse or a feed gives). */
vg_reject_class vg_metrics_reject_class(const char *reason);

/* Lines of the transaction open on this thread: counted once it commits.
 * vg_metrics_entry counts an entry of `source` stored (VG_STORED) or found
 * a duplicate; vg_metrics_reject a line kept in rejects. */
void vg_metrics_entry(const char *source, int status);
void vg_metrics_reject(const char *reason);
/* The transaction open on this thread committed: what it counted counts.
 * Or it rolled back: what it counted is forgotten. (batch.c) */
void vg_metrics_commit(void);
void vg_metrics_rollback(void);

/* An alert committed (version 1: new), by rule and severity. On the loop. */
void vg_metrics_alert(const char *rule, const char *severity);
/* An alert of rule was silenced (not sent to the sinks). */
void vg_metrics_alert_silenced(const char *rule);
/* A delivery to sink: result is "ok" or "failed". */
void vg_metrics_sink(const char *sink, const char *result);
/* n messages of the JetStream source acknowledged, as result: "stored",
 * "duplicate", "rejected" or "redelivered" (stored before). On the loop. */
void vg_metrics_nats(const char *result, uint64_t n);
/* The rows of the outbox (the vigil_outbox_pending gauge); negative does
 * nothing. Any thread. */
void vg_metrics_outbox(int64_t rows);
/* A poll of feed (its URL): "ok", "not_modified" or "failed". */
void vg_metrics_feed(const char *feed, const char *result);
/* n archives of a gdelt feed (its URL) fetched and ingested; 0 makes the
 * series at zero. On the loop. */
void vg_metrics_feed_archives(const char *feed, uint64_t n);
/* How long a commit took (batch.c), and a line from its arrival on the
 * loop to its reply being written (source_lines.c), in seconds. */
void vg_metrics_commit_seconds(double s);
void vg_metrics_ack_seconds(double s);
/* How long one call of a rule took (rules.c), in nanoseconds. */
void vg_metrics_rule_call(vg_rule_stats *rs, uint64_t nanos);

/* A monotonic clock in nanoseconds, for the durations above. */
uint64_t vg_metrics_now_ns(void);

#endif
