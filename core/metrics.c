/* metrics.c — metric families, their series and their rendering in
 * Prometheus's text format (see metrics.h); and vigil's own metrics, which
 * server.c starts, the daemon's parts update and api_metrics.c serves. */
#include "metrics.h"

#include "store.h"
#include "vigil.h"

#include <assert.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#define LABELS_MAX 4 /* label names a family has at most */

struct vg_series {
  char **values;            /* its label values, as many as its family's labels */
  atomic_uint_fast64_t n;   /* a counter's count (added), a histogram's count */
  _Atomic uint64_t bits;    /* a set value (a gauge), or a histogram's sum, as double bits */
  atomic_uint_fast64_t *le; /* a histogram: observations per bucket (not cumulative) */
};

struct vg_metric {
  const char *name, *help;
  vg_metric_type type;
  const char *const *labels;
  size_t nlabels;
  double *bounds; /* a histogram's bucket bounds */
  size_t nbounds;
  size_t cap;      /* series kept at most, "other" ones aside */
  uv_mutex_t lock; /* guards the table below, not the values */
  vg_series **v;   /* in the order made */
  size_t n, vcap;
  size_t *slots; /* open addressing: index + 1 into v, 0 free */
  size_t nslots;
  struct vg_metric *next;
};

struct vg_metrics {
  vg_metric *first, *last;
};

/* ---- values ---- */

static double bits_double(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static uint64_t double_bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

void vg_series_add(vg_series *s, uint64_t n) {
  if (s) atomic_fetch_add_explicit(&s->n, n, memory_order_relaxed);
}

void vg_series_set(vg_series *s, double v) {
  if (s) atomic_store_explicit(&s->bits, double_bits(v), memory_order_relaxed);
}

static void add_double(_Atomic uint64_t *a, double v) {
  uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
  while (!atomic_compare_exchange_weak_explicit(a, &old, double_bits(bits_double(old) + v),
                                                memory_order_relaxed, memory_order_relaxed)) {
  }
}

/* A histogram's buckets hang off the series: its family is not at hand. */
typedef struct {
  size_t nbounds;
  const double *bounds;
} hist_shape;

void vg_series_observe(vg_series *s, double v) {
  if (!s || !s->le) return;
  const hist_shape *h = (const hist_shape *)(s->le - 2); /* see make_series */
  size_t i = 0;
  while (i < h->nbounds && v > h->bounds[i])
    i++;
  atomic_fetch_add_explicit(&s->le[i], 1, memory_order_relaxed);
  add_double(&s->bits, v);
  atomic_fetch_add_explicit(&s->n, 1, memory_order_relaxed);
}

double vg_series_value(const vg_series *s) {
  if (!s) return 0;
  uint64_t n = atomic_load_explicit(&((vg_series *)s)->n, memory_order_relaxed);
  if (s->le) return (double)n;
  return (double)n +
         bits_double(atomic_load_explicit(&((vg_series *)s)->bits, memory_order_relaxed));
}

/* ---- the registry ---- */

vg_metrics *vg_metrics_new(void) { return calloc(1, sizeof(vg_metrics)); }

static void series_free(vg_series *s, size_t nlabels) {
  if (!s) return;
  for (size_t i = 0; s->values && i < nlabels; i++)
    free(s->values[i]);
  free(s->values);
  if (s->le) free((char *)(s->le - 2));
  free(s);
}

void vg_metrics_free(vg_metrics *reg) {
  if (!reg) return;
  for (vg_metric *m = reg->first, *next; m; m = next) {
    next = m->next;
    for (size_t i = 0; i < m->n; i++)
      series_free(m->v[i], m->nlabels);
    free(m->v);
    free(m->slots);
    free(m->bounds);
    uv_mutex_destroy(&m->lock);
    free(m);
  }
  free(reg);
}

vg_metric *vg_metric_new(vg_metrics *reg, const char *name, const char *help, vg_metric_type type,
                         const char *const *labels, const double *buckets, size_t nbuckets,
                         size_t cap) {
  vg_metric *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->name = name;
  m->help = help;
  m->type = type;
  m->labels = labels;
  while (labels && labels[m->nlabels])
    m->nlabels++;
  assert(m->nlabels <= LABELS_MAX);
  m->cap = cap ? cap : VG_METRICS_CAP;
  m->nslots = 16;
  while (m->nslots < 2 * (m->cap + LABELS_MAX + 8))
    m->nslots *= 2;
  m->slots = calloc(m->nslots, sizeof *m->slots);
  if (type == VG_HISTOGRAM && nbuckets) {
    m->bounds = malloc(nbuckets * sizeof *m->bounds);
    if (m->bounds) memcpy(m->bounds, buckets, nbuckets * sizeof *m->bounds);
    m->nbounds = nbuckets;
  }
  if (!m->slots || (type == VG_HISTOGRAM && nbuckets && !m->bounds) || uv_mutex_init(&m->lock)) {
    free(m->slots);
    free(m->bounds);
    free(m);
    return NULL;
  }
  if (reg->last)
    reg->last->next = m;
  else
    reg->first = m;
  reg->last = m;
  return m;
}

static vg_series *make_series(const vg_metric *m, const char *const *values) {
  vg_series *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->values = calloc(m->nlabels + 1, sizeof *s->values);
  int bad = !s->values;
  for (size_t i = 0; !bad && i < m->nlabels; i++)
    bad = !(s->values[i] = strdup(values[i] ? values[i] : ""));
  if (!bad && m->type == VG_HISTOGRAM) {
    /* Two words before the buckets say their shape, so that observing
     * needs the series alone. */
    size_t words = 2 + m->nbounds + 1;
    atomic_uint_fast64_t *mem = calloc(words, sizeof *mem);
    if (mem) {
      hist_shape *h = (hist_shape *)mem;
      _Static_assert(sizeof(hist_shape) <= 2 * sizeof(atomic_uint_fast64_t), "shape fits");
      h->nbounds = m->nbounds;
      h->bounds = m->bounds;
      s->le = mem + 2;
    }
    bad = !mem;
  }
  if (bad) {
    series_free(s, m->nlabels);
    return NULL;
  }
  return s;
}

static uint64_t key_hash(const vg_metric *m, const char *const *values) {
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  for (size_t i = 0; i < m->nlabels; i++) {
    const char *v = values[i] ? values[i] : "";
    XXH3_64bits_update(&st, v, strlen(v) + 1);
  }
  return XXH3_64bits_digest(&st);
}

static int same_values(const vg_metric *m, const vg_series *s, const char *const *values) {
  for (size_t i = 0; i < m->nlabels; i++)
    if (strcmp(s->values[i], values[i] ? values[i] : "") != 0) return 0;
  return 1;
}

/* The series of values, or where it would go (*slot); with the lock held. */
static vg_series *lookup(vg_metric *m, const char *const *values, size_t *slot) {
  size_t i = (size_t)key_hash(m, values) & (m->nslots - 1);
  while (m->slots[i]) {
    vg_series *s = m->v[m->slots[i] - 1];
    if (same_values(m, s, values)) return s;
    i = (i + 1) & (m->nslots - 1);
  }
  *slot = i;
  return NULL;
}

static vg_series *insert(vg_metric *m, const char *const *values, size_t slot) {
  if (m->n == m->vcap) {
    size_t c = m->vcap ? 2 * m->vcap : 8;
    vg_series **nv = realloc(m->v, c * sizeof *nv);
    if (!nv) return NULL;
    m->v = nv;
    m->vcap = c;
  }
  vg_series *s = make_series(m, values);
  if (!s) return NULL;
  m->v[m->n++] = s;
  m->slots[slot] = m->n;
  return s;
}

vg_series *vg_metric_series(vg_metric *m, const char *const *values) {
  if (!m) return NULL;
  static const char *const none[LABELS_MAX] = {0};
  if (!values) values = none;
  uv_mutex_lock(&m->lock);
  size_t slot;
  vg_series *s = lookup(m, values, &slot);
  /* The table has room for cap series and the "other" ones made past it. */
  if (!s && m->n < m->cap) {
    s = insert(m, values, slot);
  } else if (!s) {
    const char *folded[LABELS_MAX];
    for (size_t i = 0; i < m->nlabels; i++)
      folded[i] = i ? values[i] : VG_METRICS_OTHER;
    s = lookup(m, folded, &slot);
    if (!s && m->n < m->cap + m->nslots / 4) s = insert(m, folded, slot);
  }
  uv_mutex_unlock(&m->lock);
  return s;
}

/* ---- rendering ---- */

typedef struct {
  char *p;
  size_t n, cap;
  int oom;
} buf;

static void put(buf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t c = b->cap ? b->cap : 4096;
    while (c < b->n + n + 1)
      c *= 2;
    char *np = realloc(b->p, c);
    if (!np) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = c;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static void printf_(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

size_t vg_metrics_escape(char *out, size_t cap, const char *s) {
  size_t n = 0, w = 0; /* needed, written */
  for (; *s; s++) {
    const char *e = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
    size_t k = e ? 2 : 1;
    if (w == n && n + k < cap) {
      memcpy(out + w, e ? e : s, k);
      w += k;
    }
    n += k;
  }
  if (cap) out[w] = '\0';
  return n;
}

static void put_escaped(buf *b, const char *s) {
  for (const char *p = s; *p;) {
    size_t run = strcspn(p, "\\\"\n");
    put(b, p, run);
    p += run;
    if (!*p) break;
    puts_(b, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
    p++;
  }
}

/* A value as the format writes it: integers whole, +Inf, NaN. */
static void put_value(buf *b, double v) {
  if (isnan(v))
    puts_(b, "NaN");
  else if (isinf(v))
    puts_(b, v > 0 ? "+Inf" : "-Inf");
  else if (v == floor(v) && fabs(v) < 1e15)
    printf_(b, "%.0f", v);
  else { /* the shortest form that reads back the same */
    char tmp[32];
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(tmp, sizeof tmp, "%.*g", prec, v);
      if (strtod(tmp, NULL) == v) break;
    }
    puts_(b, tmp);
  }
}

/* name{labels[,le="x"]} value */
static void put_sample(buf *b, const vg_metric *m, const vg_series *s, const char *suffix,
                       const char *le, double v) {
  puts_(b, m->name);
  puts_(b, suffix);
  if (m->nlabels || le) {
    puts_(b, "{");
    for (size_t i = 0; i < m->nlabels; i++) {
      printf_(b, "%s%s=\"", i ? "," : "", m->labels[i]);
      put_escaped(b, s->values[i]);
      puts_(b, "\"");
    }
    if (le) printf_(b, "%sle=\"%s\"", m->nlabels ? "," : "", le);
    puts_(b, "}");
  }
  puts_(b, " ");
  put_value(b, v);
  puts_(b, "\n");
}

static void put_help(buf *b, const char *help) {
  for (const char *p = help; *p;) { /* HELP escapes backslash and newline */
    size_t run = strcspn(p, "\\\n");
    put(b, p, run);
    p += run;
    if (!*p) break;
    puts_(b, *p == '\\' ? "\\\\" : "\\n");
    p++;
  }
}

static void render_family(buf *b, vg_metric *m) {
  static const char *const types[] = {"counter", "gauge", "histogram"};
  printf_(b, "# HELP %s ", m->name);
  put_help(b, m->help);
  printf_(b, "\n# TYPE %s %s\n", m->name, types[m->type]);
  uv_mutex_lock(&m->lock);
  size_t n = m->n; /* series are only added, never moved: those seen stay valid */
  uv_mutex_unlock(&m->lock);
  for (size_t i = 0; i < n; i++) {
    uv_mutex_lock(&m->lock);
    vg_series *s = m->v[i];
    uv_mutex_unlock(&m->lock);
    if (m->type != VG_HISTOGRAM) {
      put_sample(b, m, s, "", NULL, vg_series_value(s));
      continue;
    }
    uint64_t cum = 0;
    char le[32];
    for (size_t k = 0; k <= m->nbounds; k++) {
      cum += atomic_load_explicit(&s->le[k], memory_order_relaxed);
      if (k < m->nbounds)
        snprintf(le, sizeof le, "%.15g", m->bounds[k]);
      else
        snprintf(le, sizeof le, "+Inf");
      put_sample(b, m, s, "_bucket", le, (double)cum);
    }
    put_sample(b, m, s, "_sum", NULL, bits_double(atomic_load(&s->bits)));
    /* The count is the +Inf bucket, so that a scrape between the two
     * atomic adds of an observation is never inconsistent. */
    put_sample(b, m, s, "_count", NULL, (double)cum);
  }
}

char *vg_metrics_render(vg_metrics *reg, size_t *len) {
  buf b = {0};
  puts_(&b, "");
  for (vg_metric *m = reg ? reg->first : NULL; m; m = m->next)
    render_family(&b, m);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  *len = b.n;
  return b.p;
}

/* ---- vigil's metrics ---- */

static const char *const severities[3] = {"info", "warn", "crit"};
static const char *const reject_names[VG_REJECT_NCLASSES] = {
    "no_date", "bad_date", "bad_json", "too_long", "empty", "encoding", "other"};
static const char *const sink_results[] = {"ok", "failed", NULL};
static const char *const feed_results[] = {"ok", "not_modified", "failed", NULL};
static const char *const nats_results[] = {"stored",    "duplicate",   "rejected",
                                           "corrected", "redelivered", NULL};

static const char *const l_source[] = {"source", NULL};
static const char *const l_reason[] = {"reason", NULL};
static const char *const l_rule[] = {"rule", NULL};
static const char *const l_rule_sev[] = {"rule", "severity", NULL};
static const char *const l_sink[] = {"sink", "result", NULL};
static const char *const l_feed[] = {"feed", "result", NULL};
static const char *const l_feed_url[] = {"feed", NULL};
static const char *const l_result[] = {"result", NULL};
static const char *const l_version[] = {"version", NULL};

/* Seconds, from 50 microseconds to 10 s. */
static const double slow_buckets[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                      0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                      0.5,     1,      2.5,     5,      10};
/* Seconds, from a microsecond to a second: one rule call. */
static const double call_buckets[] = {0.000001, 0.0000025, 0.000005, 0.00001, 0.000025,
                                      0.00005,  0.0001,    0.00025,  0.0005,  0.001,
                                      0.0025,   0.005,     0.01,     0.1,     1};

/* The process-wide registry and its families. */
static struct {
  vg_metrics *reg;
  vg_metric *ingested, *rejected, *duplicate, *alerts, *rule_errors, *silenced, *sinks, *feeds,
      *archives, *pending, *commit, *ack, *rule_call, *build, *outbox;
  vg_metric *rss, *vsz, *fds, *max_fds, *cpu, *start;
  vg_metric *nats; /* vigil_nats_messages_total */
  vg_series *reject_series[VG_REJECT_NCLASSES], *dup_series, *commit_series, *ack_series,
      *call_series;
  uv_mutex_t rules_lock; /* guards the rule table */
  char **rule_names;     /* the rules with statistics of their own */
  vg_rule_stats **rule_stats;
  size_t nrules;
  vg_rule_stats *other_rule;
  double start_time; /* the process's start, Unix seconds */
} g;

static vg_rule_stats scratch; /* what rules count into before vg_metrics_init */

uint64_t vg_metrics_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The process's start time, from /proc/self/stat and the boot time. */
static double process_start(void) {
  double now = (double)time(NULL), start = now;
  FILE *f = fopen("/proc/self/stat", "r");
  char line[1024];
  unsigned long long ticks = 0;
  if (f && fgets(line, sizeof line, f)) {
    const char *p = strrchr(line, ')'); /* the command name may hold anything */
    /* Field 22 (starttime): the 20th after the ')' */
    for (int field = 2; p && field < 22; field++)
      p = strchr(p + 1, ' ');
    if (p) ticks = strtoull(p + 1, NULL, 10);
  }
  if (f) fclose(f);
  FILE *s = fopen("/proc/stat", "r");
  unsigned long long btime = 0;
  while (s && fgets(line, sizeof line, s))
    if (sscanf(line, "btime %llu", &btime) == 1) break;
  if (s) fclose(s);
  long hz = sysconf(_SC_CLK_TCK);
  if (btime && hz > 0) start = (double)btime + (double)ticks / (double)hz;
  return start;
}

void vg_metrics_sink_declare(const char *sink) {
  for (size_t k = 0; g.reg && sink_results[k]; k++)
    vg_metric_series(g.sinks, (const char *[]){sink, sink_results[k]});
}

void vg_metrics_nats_declare(void) {
  for (size_t k = 0; g.reg && nats_results[k]; k++)
    vg_metric_series(g.nats, (const char *[]){nats_results[k]});
}

void vg_metrics_feed_declare(const char *feed) {
  for (size_t k = 0; g.reg && feed_results[k]; k++)
    vg_metric_series(g.feeds, (const char *[]){feed, feed_results[k]});
}

int vg_metrics_init(void) {
  if (g.reg) return 0;
  if (!(g.reg = vg_metrics_new()) || uv_mutex_init(&g.rules_lock)) return VG_ENOMEM;
  vg_metrics *r = g.reg;
  g.ingested = vg_metric_new(r, "vigil_entries_ingested_total",
                             "Entries stored, by their source (duplicates not counted).",
                             VG_COUNTER, l_source, NULL, 0, 0);
  g.rejected = vg_metric_new(r, "vigil_entries_rejected_total",
                             "Lines kept in rejects, by the class of the reason.", VG_COUNTER,
                             l_reason, NULL, 0, 0);
  g.duplicate =
      vg_metric_new(r, "vigil_entries_duplicate_total", "Lines whose entry was stored already.",
                    VG_COUNTER, NULL, NULL, 0, 0);
  g.alerts =
      vg_metric_new(r, "vigil_alerts_total", "Alerts raised (committed), by rule and severity.",
                    VG_COUNTER, l_rule_sev, NULL, 0, 3 * (VG_METRICS_CAP + 1));
  g.rule_errors = vg_metric_new(r, "vigil_rule_errors_total", "Calls of a rule that failed.",
                                VG_COUNTER, l_rule, NULL, 0, VG_METRICS_CAP + 1);
  g.silenced = vg_metric_new(r, "vigil_alerts_silenced_total",
                             "Alerts a silence kept from the sinks, by rule.", VG_COUNTER, l_rule,
                             NULL, 0, VG_METRICS_CAP + 1);
  g.sinks = vg_metric_new(r, "vigil_sink_deliveries_total",
                          "Deliveries of an alert to a sink, by sink and result (ok, failed: a"
                          " failed one waits in the outbox and is tried again).",
                          VG_COUNTER, l_sink, NULL, 0, 0);
  g.feeds = vg_metric_new(r, "vigil_feed_polls_total",
                          "Polls of a feed, by feed URL and result (ok, not_modified, failed).",
                          VG_COUNTER, l_feed, NULL, 0, 0);
  g.archives = vg_metric_new(r, "vigil_feed_archives_total",
                             "Archives a gdelt feed's listing named, fetched and ingested, by feed"
                             " URL.",
                             VG_COUNTER, l_feed_url, NULL, 0, 0);
  g.nats = vg_metric_new(r, "vigil_nats_messages_total",
                         "JetStream messages acknowledged, by what they were (stored, duplicate,"
                         " rejected, redelivered: stored before).",
                         VG_COUNTER, l_result, NULL, 0, 0);
  g.pending =
      vg_metric_new(r, "vigil_pending_lines", "Lines received (socket and HTTP), waiting for a batch.",
                    VG_GAUGE, NULL, NULL, 0, 0);
  g.outbox = vg_metric_new(r, "vigil_outbox_pending",
                           "Deliveries of alerts to sinks waiting in the outbox (rows), in flight"
                           " included.",
                           VG_GAUGE, NULL, NULL, 0, 0);
  vg_metric_series(g.outbox, NULL); /* at zero until the outbox is first read */
  g.commit = vg_metric_new(r, "vigil_batch_commit_seconds",
                           "Time a transaction of ingestion took to commit.", VG_HISTOGRAM, NULL,
                           slow_buckets, sizeof slow_buckets / sizeof *slow_buckets, 0);
  g.ack = vg_metric_new(r, "vigil_ack_latency_seconds",
                        "Time from a line's arrival to its reply being written.", VG_HISTOGRAM,
                        NULL, slow_buckets, sizeof slow_buckets / sizeof *slow_buckets, 0);
  g.rule_call =
      vg_metric_new(r, "vigil_rule_call_seconds", "Time one call of a rule took.", VG_HISTOGRAM,
                    NULL, call_buckets, sizeof call_buckets / sizeof *call_buckets, 0);
  g.build = vg_metric_new(r, "vigil_build_info", "The version of vigil running; always 1.",
                          VG_GAUGE, l_version, NULL, 0, 0);
  g.rss = vg_metric_new(r, "process_resident_memory_bytes", "Resident memory size in bytes.",
                        VG_GAUGE, NULL, NULL, 0, 0);
  g.vsz = vg_metric_new(r, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                        VG_GAUGE, NULL, NULL, 0, 0);
  g.fds = vg_metric_new(r, "process_open_fds", "Number of open file descriptors.", VG_GAUGE, NULL,
                        NULL, 0, 0);
  g.max_fds = vg_metric_new(r, "process_max_fds", "Maximum number of open file descriptors.",
                            VG_GAUGE, NULL, NULL, 0, 0);
  g.cpu = vg_metric_new(r, "process_cpu_seconds_total",
                        "Total user and system CPU time spent in"
                        " seconds.",
                        VG_COUNTER, NULL, NULL, 0, 0);
  g.start = vg_metric_new(r, "process_start_time_seconds",
                          "Start time of the process since unix epoch in seconds.", VG_GAUGE, NULL,
                          NULL, 0, 0);
  if (!g.start) goto oom;
  for (int i = 0; i < VG_REJECT_NCLASSES; i++)
    if (!(g.reject_series[i] = vg_metric_series(g.rejected, (const char *[]){reject_names[i]})))
      goto oom;
  g.dup_series = vg_metric_series(g.duplicate, NULL);
  g.commit_series = vg_metric_series(g.commit, NULL);
  g.ack_series = vg_metric_series(g.ack, NULL);
  g.call_series = vg_metric_series(g.rule_call, NULL);
  vg_series *b = vg_metric_series(g.build, (const char *[]){VIGIL_VERSION});
  vg_series_set(b, 1);
  vg_series_set(vg_metric_series(g.pending, NULL), 0);
  g.start_time = process_start();
  if (!g.dup_series || !g.commit_series || !g.ack_series || !g.call_series || !b) goto oom;
  return 0;
oom:
  vg_metrics_shutdown();
  return VG_ENOMEM;
}

void vg_metrics_shutdown(void) {
  if (!g.reg) return;
  vg_metrics_free(g.reg);
  for (size_t i = 0; i < g.nrules; i++) {
    free(g.rule_names[i]);
    free(g.rule_stats[i]);
  }
  free(g.rule_names);
  free(g.rule_stats);
  free(g.other_rule);
  uv_mutex_destroy(&g.rules_lock);
  memset(&g, 0, sizeof g);
}

static vg_rule_stats *new_stats(const char *name) {
  vg_rule_stats *rs = calloc(1, sizeof *rs);
  if (!rs) return NULL;
  for (int i = 0; i < 3; i++)
    rs->alerts[i] = vg_metric_series(g.alerts, (const char *[]){name, severities[i]});
  rs->errors = vg_metric_series(g.rule_errors, (const char *[]){name});
  rs->silenced = vg_metric_series(g.silenced, (const char *[]){name});
  return rs;
}

/* The statistics of name, or NULL; with the lock held. */
static vg_rule_stats *find_stats(const char *name) {
  for (size_t i = 0; i < g.nrules; i++)
    if (strcmp(g.rule_names[i], name) == 0) return g.rule_stats[i];
  return NULL;
}

vg_rule_stats *vg_metrics_scratch_rule(void) { return &scratch; }

vg_rule_stats *vg_metrics_rule(const char *name) {
  if (!g.reg) return &scratch;
  uv_mutex_lock(&g.rules_lock);
  vg_rule_stats *rs = find_stats(name);
  if (!rs && g.nrules < VG_METRICS_CAP) {
    char **nn = realloc(g.rule_names, (g.nrules + 1) * sizeof *nn);
    if (nn) g.rule_names = nn;
    vg_rule_stats **ns = nn ? realloc(g.rule_stats, (g.nrules + 1) * sizeof *ns) : NULL;
    if (ns) g.rule_stats = ns;
    char *copy = ns ? strdup(name) : NULL;
    if (copy && (rs = new_stats(name))) {
      g.rule_names[g.nrules] = copy;
      g.rule_stats[g.nrules++] = rs;
    } else {
      free(copy);
    }
  }
  if (!rs) {
    if (!g.other_rule) g.other_rule = new_stats(VG_METRICS_OTHER);
    rs = g.other_rule ? g.other_rule : &scratch;
  }
  uv_mutex_unlock(&g.rules_lock);
  return rs;
}

vg_reject_class vg_metrics_reject_class(const char *r) {
  if (strstr(r, "-byte cap")) return VG_REJECT_TOO_LONG;
  if (strstr(r, "no date") || strstr(r, "has no \"date\"")) return VG_REJECT_NO_DATE;
  if (strcmp(r, "empty line") == 0 || strstr(r, "\"text\" is empty") ||
      strstr(r, "no text after the date"))
    return VG_REJECT_EMPTY;
  if (strstr(r, "UTF-8") || strstr(r, "NUL")) return VG_REJECT_ENCODING;
  static const char *const json[] = {"JSON",          "is given twice",  "has no \"text\"",
                                     "\"text\" must", "\"source\" must", NULL};
  for (size_t i = 0; json[i]; i++)
    if (strstr(r, json[i])) return VG_REJECT_BAD_JSON;
  static const char *const date[] = {"date",      "year",         "month",   "day",
                                     "time",      "range",        "instant", "is no ",
                                     "ambiguous", "unexpected '", NULL};
  for (size_t i = 0; date[i]; i++)
    if (strstr(r, date[i])) return VG_REJECT_BAD_DATE;
  return VG_REJECT_OTHER;
}

/* What the transaction open on this thread counted, by series. */
typedef struct {
  vg_series *s;
  uint64_t n;
} delta;

static _Thread_local struct {
  delta *v;
  size_t n, cap;
} pending;

static void count_later(vg_series *s) {
  if (!s) return;
  for (size_t i = pending.n; i-- > 0;)
    if (pending.v[i].s == s) {
      pending.v[i].n++;
      return;
    }
  if (pending.n == pending.cap) {
    size_t c = pending.cap ? 2 * pending.cap : 16;
    delta *nv = realloc(pending.v, c * sizeof *nv);
    if (!nv) { /* counted now rather than lost */
      vg_series_add(s, 1);
      return;
    }
    pending.v = nv;
    pending.cap = c;
  }
  pending.v[pending.n++] = (delta){s, 1};
}

void vg_metrics_entry(const char *source, int status) {
  if (!g.reg) return;
  if (status == VG_STORED)
    count_later(vg_metric_series(g.ingested, (const char *[]){source}));
  else
    count_later(g.dup_series);
}

void vg_metrics_reject(const char *reason) {
  if (g.reg) count_later(g.reject_series[vg_metrics_reject_class(reason)]);
}

void vg_metrics_commit(void) {
  for (size_t i = 0; i < pending.n; i++)
    vg_series_add(pending.v[i].s, pending.v[i].n);
  vg_metrics_rollback();
}

void vg_metrics_rollback(void) {
  /* Freed each time (one allocation a transaction): memory a thread keeps
   * past its end would be lost with it. */
  free(pending.v);
  pending.v = NULL;
  pending.n = pending.cap = 0;
}

void vg_metrics_alert(const char *rule, const char *severity) {
  if (!g.reg) return;
  vg_rule_stats *rs = vg_metrics_rule(rule);
  for (int i = 0; i < 3; i++)
    if (strcmp(severity, severities[i]) == 0) vg_series_add(rs->alerts[i], 1);
}

void vg_metrics_alert_silenced(const char *rule) {
  if (g.reg) vg_series_add(vg_metrics_rule(rule)->silenced, 1);
}

void vg_metrics_sink(const char *sink, const char *result) {
  if (g.reg) vg_series_add(vg_metric_series(g.sinks, (const char *[]){sink, result}), 1);
}

void vg_metrics_nats(const char *result, uint64_t n) {
  if (g.reg && n) vg_series_add(vg_metric_series(g.nats, (const char *[]){result}), n);
}

void vg_metrics_outbox(int64_t rows) {
  if (g.reg && rows >= 0) vg_series_set(vg_metric_series(g.outbox, NULL), (double)rows);
}

void vg_metrics_feed(const char *feed, const char *result) {
  if (g.reg) vg_series_add(vg_metric_series(g.feeds, (const char *[]){feed, result}), 1);
}

void vg_metrics_feed_archives(const char *feed, uint64_t n) {
  if (g.reg) vg_series_add(vg_metric_series(g.archives, (const char *[]){feed}), (double)n);
}

void vg_metrics_commit_seconds(double s) {
  if (g.reg) vg_series_observe(g.commit_series, s);
}

void vg_metrics_ack_seconds(double s) {
  if (g.reg) vg_series_observe(g.ack_series, s);
}

void vg_metrics_rule_call(vg_rule_stats *rs, uint64_t nanos) {
  atomic_fetch_add_explicit(&rs->calls, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&rs->nanos, nanos, memory_order_relaxed);
  if (g.reg) vg_series_observe(g.call_series, (double)nanos / 1e9);
}

/* Sets the process's metrics from /proc/self and getrlimit. */
static void read_process(void) {
  long page = sysconf(_SC_PAGESIZE);
  long hz = sysconf(_SC_CLK_TCK);
  FILE *f = fopen("/proc/self/stat", "r");
  char line[1024];
  if (f && fgets(line, sizeof line, f)) {
    const char *p = strrchr(line, ')');
    unsigned long long utime = 0, stime = 0, vsize = 0;
    long long rss = 0;
    /* After ')': state(3) ... utime(14) stime(15) ... vsize(23) rss(24). */
    if (p && sscanf(p + 2,
                    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d"
                    " %*d %*u %llu %lld",
                    &utime, &stime, &vsize, &rss) == 4) {
      if (hz > 0)
        vg_series_set(vg_metric_series(g.cpu, NULL), (double)(utime + stime) / (double)hz);
      vg_series_set(vg_metric_series(g.vsz, NULL), (double)vsize);
      vg_series_set(vg_metric_series(g.rss, NULL), (double)rss * (double)page);
    }
  }
  if (f) fclose(f);
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
      if (de->d_name[0] != '.') n++;
    closedir(d);
    vg_series_set(vg_metric_series(g.fds, NULL), (double)(n ? n - 1 : 0)); /* less opendir's own */
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    vg_series_set(vg_metric_series(g.max_fds, NULL),
                  rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur);
  vg_series_set(vg_metric_series(g.start, NULL), g.start_time);
}

char *vg_metrics_scrape(double pending_lines, size_t *len) {
  if (!g.reg) return NULL;
  vg_series_set(vg_metric_series(g.pending, NULL), pending_lines);
  read_process();
  return vg_metrics_render(g.reg, len);
}
