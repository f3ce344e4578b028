/* cmd_replay_nats.c — `vigil replay --nats [URL]`: the JetStream stream of
 * entries read again, from a sequence number or a time, into a fresh
 * database, as the daemon's source would have stored it.
 *
 * vg_cmd_replay (cmd_rules.c) reads the flags and calls vg_replay_nats.
 * The stream is read through an ordered consumer: ephemeral, made by
 * libnats for this run and deleted when it ends (and, should the command
 * die, dropped by the server once nobody listens), so that no durable is
 * left behind and no daemon's consumer is touched. It takes the subject the
 * daemon would (nats_filter, else nats_partition's: nats_entry.h), stores
 * each message through the same path as the source (rules run, alerts
 * raised and sent to the sinks, nats_msgs rows), a batch of messages a
 * transaction, and stops at the stream's last sequence as it was when the
 * command started: what is published meanwhile is the daemon's. */
#include "cli.h"

#include "batch.h"
#include "bus.h"
#include "date.h"
#include "interrupt.h"
#include "nats_entry.h"
#include "sinks.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_MS 5000 /* how long the first connection may take */
#define NEXT_MS 1000    /* one wait for the next message: an interrupt is seen within it */
#define IDLE_MS 30000   /* how long the server may send nothing before the command gives up */
#define BATCH 1000      /* messages a transaction at most */
#define MAX_DAY 106750  /* 2262-04-10: the last day whose nanoseconds since 1970 fit 64 bits */
#define REPLAY_PENDING_BYTES (256 * 1024 * 1024) /* messages waiting to be stored, at most */

int vg_replay_nats_time(const char *arg, int64_t *ns) {
  int y, mo, d, h = 0, mi = 0, s = 0, used = 0;
  char err[128];
  if (!strpbrk(arg, "Tt:")) { /* a date, in any form vigil reads: its first moment, UTC */
    vg_date dt;
    if (vg_date_parse(arg, strlen(arg), &dt, err, sizeof err)) return -1;
    if (dt.first < 0 || dt.first > MAX_DAY) return -2;
    *ns = (int64_t)dt.first * 86400 * 1000000000LL;
    return 0;
  }
  if (sscanf(arg, "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6)
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > vg_days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || s < 0 || s > 60)
    return -1;
  const char *p = arg + used;
  int64_t frac = 0, scale = 100000000;
  if (*p == '.') {
    if (p[1] < '0' || p[1] > '9') return -1;
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
      frac += scale * (*p - '0');
  }
  int64_t offset = 0; /* seconds east of UTC */
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om, n = 0;
    if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 || om > 59) return -1;
    offset = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    p += 6;
  } else {
    return -1; /* RFC 3339 names its offset */
  }
  if (*p) return -1;
  int32_t day = vg_days_from_civil(y, mo, d);
  if (day < 0 || day > MAX_DAY) return -2;
  int64_t secs = (int64_t)day * 86400 + h * 3600 + mi * 60 + s - offset;
  if (secs < 0 || secs > (INT64_MAX - frac) / 1000000000LL) return -2;
  *ns = secs * 1000000000LL + frac;
  return 0;
}

/* What the run did. */
typedef struct {
  uint64_t messages, first, last; /* messages read; the first and last seq of them */
  vg_counts c;
  uint64_t raised, amended;
} tally;

static int count_row(void *ud, const vg_row *r) {
  (void)r;
  ++*(long *)ud;
  return 0;
}

/* Whether st holds what a run before left: entries, or messages noted from
 * the stream. 1 or 0; VG_EDB. */
static int used_before(vg_store *st, const char *stream) {
  vg_query q = {.limit = 1};
  long n = 0;
  int rc = vg_store_query(st, &q, count_row, &n);
  if (rc) return rc;
  int64_t last = vg_store_nats_last(st, stream);
  if (last < 0) return (int)last;
  return n > 0 || last > 0;
}

/* The subject to read: the daemon's filter, else the stream's one subject.
 * malloc'd, or NULL after saying why in err. */
static char *subject_of(const vg_config *cfg, const jsStreamInfo *si, char *err, size_t cap) {
  char *f = vg_nats_entry_filter(cfg);
  if (!f) {
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  if (f[0]) return f;
  free(f);
  const jsStreamConfig *sc = si->Config;
  if (sc && sc->SubjectsLen == 1 && sc->Subjects[0]) return strdup(sc->Subjects[0]);
  snprintf(err, cap,
           "stream %s has %d subjects; set nats_filter (or nats_partition) to say which to read",
           cfg->nats_stream, sc ? sc->SubjectsLen : 0);
  return NULL;
}

/* Says what became of a rejected message. */
static void said_reject(const char *stream, uint64_t seq, const vg_result *res) {
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    char origin[300];
    snprintf(origin, sizeof origin, "nats:%s:%llu", stream, (unsigned long long)seq);
    cJSON_AddStringToObject(o, "type", "reject");
    cJSON_AddStringToObject(o, "origin", origin);
    cJSON_AddNumberToObject(o, "seq", (double)seq);
    cJSON_AddStringToObject(o, "reason", res->reason);
    vg_cli_json_line(o);
    return;
  }
  vg_cli_eprintf("nats:%s:%llu: %s\n", stream, (unsigned long long)seq, res->reason);
}

/* The run itself, once everything is open. */
typedef struct {
  const vg_config *cfg;
  vg_batch *b;
  vg_sinks *sinks;
  vg_outbox *outbox;
  vg_alert_list *alerts;
  uv_loop_t *loop;
  vg_progress *progress;
} run;

/* Ends the open batch of n messages: committed, its alerts counted and
 * sent. 0, or the failure (said on stderr). */
static int end_batch(run *r, int rc, tally *t, size_t n, const vg_counts *c) {
  if ((rc = vg_batch_end(r->b, rc, NULL, NULL))) {
    vg_progress_clear(r->progress);
    fprintf(stderr, "vigil replay: %s\n", r->b->err);
    return rc;
  }
  t->messages += n;
  t->c.stored += c->stored;
  t->c.duplicates += c->duplicates;
  t->c.rejected += c->rejected;
  for (size_t i = 0; i < r->alerts->n; i++) {
    if (r->alerts->v[i].version > 1)
      t->amended++;
    else
      t->raised++;
  }
  vg_sinks_send_all(r->sinks, r->alerts);
  vg_sinks_pump(r->sinks, r->outbox, r->b->ig.st);
  uv_run(r->loop, UV_RUN_NOWAIT);
  vg_progress_show(r->progress, t->messages, 0);
  return 0;
}

/* Reads sub until the message of seq `last` (or the last the consumer
 * has), storing each. 0, or -1 after saying why. */
static int read_stream(run *r, natsSubscription *sub, vg_bus *bus, uint64_t last, tally *t) {
  const char *stream = r->cfg->nats_stream;
  vg_ingest *ig = &r->b->ig;
  int rc = 0, open = 0, end = 0;
  size_t n = 0;
  vg_counts c = {0};
  int64_t idle = 0;
  while (!end && !vg_ingest_stopped(ig)) {
    natsMsg *m = NULL;
    natsStatus s = natsSubscription_NextMsg(&m, sub, NEXT_MS);
    if (s == NATS_TIMEOUT) {
      idle += NEXT_MS;
      if (open && (rc = end_batch(r, 0, t, n, &c))) return -1; /* what came is kept */
      open = 0, n = 0, c = (vg_counts){0};
      if (idle < IDLE_MS) continue;
      vg_progress_clear(r->progress);
      fprintf(stderr,
              "vigil replay: nothing came from stream %s for %d s (%s) after seq %llu, before"
              " the last, %llu; what came is stored\n",
              stream, IDLE_MS / 1000, vg_bus_connected(bus) ? "connected" : "disconnected",
              (unsigned long long)t->last, (unsigned long long)last);
      return -1;
    }
    if (s != NATS_OK) {
      char err[512];
      vg_bus_why(err, sizeof err, "nats: reading the stream", s, 0);
      if (open) end_batch(r, 0, t, n, &c);
      vg_progress_clear(r->progress);
      fprintf(stderr, "vigil replay: %s\n", err);
      return -1;
    }
    idle = 0;
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) { /* a status or heartbeat: not a message */
      natsMsg_Destroy(m);
      continue;
    }
    uint64_t seq = meta->Sequence.Stream, pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
    if (seq > last) { /* published since the start: the daemon's */
      natsMsg_Destroy(m);
      break;
    }
    end = seq == last || pending == 0;
    if (!open && !(rc = vg_batch_begin(r->b))) open = 1;
    int seen = rc ? 0 : vg_store_nats_seen(ig->st, stream, seq, NULL);
    if (seen < 0) rc = seen;
    if (!rc && !seen) {
      vg_result res;
      const char *data = natsMsg_GetData(m);
      rc = vg_nats_entry_store(ig, r->cfg->format, r->cfg->max_line, stream, seq, data,
                               data ? (size_t)natsMsg_GetDataLength(m) : 0, &res);
      if (!rc && res.status == VG_STORED)
        c.stored++;
      else if (!rc && res.status == VG_DUPLICATE)
        c.duplicates++;
      else if (!rc && res.status == VG_REJECTED) {
        c.rejected++;
        vg_progress_clear(r->progress);
        said_reject(stream, seq, &res);
      }
    }
    natsMsg_Destroy(m);
    if (rc) {
      end_batch(r, rc, t, 0, &c); /* rolls back and says why */
      return -1;
    }
    if (!t->first) t->first = seq;
    t->last = seq;
    if (++n >= BATCH || end) {
      if (end_batch(r, 0, t, n, &c)) return -1;
      open = 0, n = 0, c = (vg_counts){0};
    }
  }
  if (open && end_batch(r, 0, t, n, &c)) return -1;
  return 0;
}

/* Subscribes to the stream through an ordered consumer from o's start. */
static natsSubscription *subscribe(vg_bus *bus, const char *stream, const char *subject,
                                   const vg_replay_nats_opts *o, char *err, size_t cap) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream;
  so.Ordered = true;
  if (o->has_seq && o->from_seq > 1) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = o->from_seq;
  } else if (o->has_time) {
    so.Config.DeliverPolicy = js_DeliverByStartTime;
    so.Config.OptStartTime = o->from_ns;
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  natsSubscription *sub = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_SubscribeSync(&sub, bus->js, subject, NULL, &so, &jerr);
  /* The server paces an ordered consumer by flow control, in bytes; small
   * messages would pass libnats's default count (65,536 waiting) first,
   * and be dropped as a slow consumer's. */
  if (s == NATS_OK) s = natsSubscription_SetPendingLimits(sub, -1, REPLAY_PENDING_BYTES);
  if (s != NATS_OK) {
    natsSubscription_Destroy(sub);
    char what[400];
    snprintf(what, sizeof what, "nats: reading stream %s on %s", stream, subject);
    vg_bus_why(err, cap, what, s, jerr);
    return NULL;
  }
  return sub;
}

/* Ends the subscription and deletes its consumer on the server: libnats
 * does on an unsubscribe, and the name is deleted again in case it did not
 * (an ordered consumer made anew after a gap has a name of its own). */
static void unsubscribe(vg_bus *bus, const char *stream, natsSubscription *sub) {
  jsConsumerInfo *ci = NULL;
  char *name = NULL;
  if (natsSubscription_GetConsumerInfo(&ci, sub, NULL, NULL) == NATS_OK && ci->Name)
    name = strdup(ci->Name);
  jsConsumerInfo_Destroy(ci);
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  if (name && vg_bus_connected(bus)) js_DeleteConsumer(bus->js, stream, name, NULL, NULL);
  free(name);
}

static void summary(const vg_config *cfg, const tally *t, size_t rules, const char *signal) {
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "summary");
    cJSON_AddStringToObject(o, "stream", cfg->nats_stream);
    cJSON_AddNumberToObject(o, "messages", (double)t->messages);
    if (t->messages) {
      cJSON_AddNumberToObject(o, "first_seq", (double)t->first);
      cJSON_AddNumberToObject(o, "last_seq", (double)t->last);
    } else {
      cJSON_AddNullToObject(o, "first_seq");
      cJSON_AddNullToObject(o, "last_seq");
    }
    cJSON_AddNumberToObject(o, "stored", (double)t->c.stored);
    cJSON_AddNumberToObject(o, "duplicates", (double)t->c.duplicates);
    cJSON_AddNumberToObject(o, "rejected", (double)t->c.rejected);
    cJSON_AddNumberToObject(o, "rules", (double)rules);
    cJSON_AddNumberToObject(o, "new_alerts", (double)t->raised);
    cJSON_AddNumberToObject(o, "amended", (double)t->amended);
    cJSON_AddBoolToObject(o, "interrupted", signal != NULL);
    if (signal) cJSON_AddStringToObject(o, "signal", signal);
    vg_cli_json_line(o);
    return;
  }
  if (vg_cli.quiet) return;
  vg_cli_printf("replayed %llu messages of stream %s", (unsigned long long)t->messages,
                cfg->nats_stream);
  if (t->messages)
    printf(" (seq %llu to %llu)", (unsigned long long)t->first, (unsigned long long)t->last);
  printf(": %llu stored, %llu duplicates, %llu rejected; %zu rules: %llu new alerts, %llu"
         " amended",
         (unsigned long long)t->c.stored, (unsigned long long)t->c.duplicates,
         (unsigned long long)t->c.rejected, rules, (unsigned long long)t->raised,
         (unsigned long long)t->amended);
  if (signal) printf("; interrupted by %s: the later messages were not replayed", signal);
  putchar('\n');
}

int vg_replay_nats(const vg_config *cfg, const vg_replay_nats_opts *o) {
  const char *url = o->url ? o->url : cfg->nats_url;
  if (!url || !url[0]) {
    fprintf(stderr, "vigil replay: --nats needs a server: give its URL (--nats URL) or set"
                    " nats_url\n");
    return VG_EXIT_USAGE;
  }
  vg_rules *rules = vg_cli_command_rules("vigil replay", cfg, o->skip_broken);
  if (!rules) return VG_EXIT_FAIL;
  int status = VG_EXIT_FAIL;
  char err[768];
  vg_store *st = vg_cli_open_store("vigil replay", cfg, 0);
  vg_bus *bus = NULL;
  jsStreamInfo *si = NULL;
  char *subject = NULL;
  natsSubscription *sub = NULL;
  if (!st) goto out;
  int used = used_before(st, cfg->nats_stream);
  if (used < 0) {
    fprintf(stderr, "vigil replay: %s\n", vg_store_errmsg(st));
    goto out;
  }
  if (used) {
    vg_cli_eprintf("vigil replay: %s holds entries already: --nats replays into a fresh"
                   " database (give --db a new path)\n",
                   cfg->db);
    status = VG_EXIT_USAGE;
    goto out;
  }
  if (!(bus = vg_bus_connect(url, "vigil replay", CONNECT_MS, err, sizeof err))) {
    vg_cli_eprintf("vigil replay: %s\n", err);
    goto out;
  }
  jsErrCode jerr = 0;
  natsStatus s = js_GetStreamInfo(&si, bus->js, cfg->nats_stream, NULL, &jerr);
  if (s != NATS_OK) {
    char what[300];
    snprintf(what, sizeof what, "nats: looking up stream %s", cfg->nats_stream);
    vg_bus_why(err, sizeof err, what, s, jerr);
    vg_cli_eprintf("vigil replay: %s\n", err);
    goto out;
  }
  uint64_t last = si->State.LastSeq;
  /* Which stream of that name the messages come from, as the daemon keeps
   * it: one made anew later is then read from its first message. */
  char key[300], val[32];
  vg_nats_created_key(cfg->nats_stream, key, sizeof key);
  snprintf(val, sizeof val, "%lld", (long long)si->Created);
  if (vg_store_begin(st) || vg_store_meta_set(st, key, val) || vg_store_commit(st)) {
    vg_store_rollback(st);
    vg_cli_eprintf("vigil replay: %s: cannot write to the database\n", cfg->db);
    goto out;
  }
  if (!(subject = subject_of(cfg, si, err, sizeof err))) {
    vg_cli_eprintf("vigil replay: %s\n", err);
    goto out;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  vg_sinks *sinks = vg_sinks_new(&loop, cfg, err, sizeof err);
  vg_outbox *outbox = sinks ? vg_sinks_outbox(sinks, st, 1) : NULL;
  vg_alert_list alerts = {0};
  vg_batch b;
  vg_batch_init(&b, &(vg_ingest){st, rules, &alerts, vg_interrupt_catch(), outbox});
  vg_progress progress;
  vg_progress_init(&progress, "replay", "messages", 0, vg_cli.quiet);
  tally t = {0};
  int ok = 0;
  if (!sinks || !outbox) {
    fprintf(stderr, "vigil replay: %s\n", sinks ? "out of memory" : err);
  } else if (last == 0 || (o->has_seq && o->from_seq > last)) {
    ok = 1; /* nothing to read: no consumer is made */
  } else if ((sub = subscribe(bus, cfg->nats_stream, subject, o, err, sizeof err))) {
    run r = {cfg, &b, sinks, outbox, &alerts, &loop, &progress};
    /* A start that nothing matches (a time after the last message, a
     * partition without messages): the consumer has none to deliver. */
    jsConsumerInfo *ci = NULL;
    int none = natsSubscription_GetConsumerInfo(&ci, sub, NULL, NULL) == NATS_OK &&
               ci->NumPending == 0 && ci->Delivered.Consumer == 0;
    jsConsumerInfo_Destroy(ci);
    ok = none || read_stream(&r, sub, bus, last, &t) == 0;
    unsubscribe(bus, cfg->nats_stream, sub);
  } else {
    vg_cli_eprintf("vigil replay: %s\n", err);
  }
  vg_progress_clear(&progress);
  const char *signal = vg_interrupt_name();
  if (ok) summary(cfg, &t, vg_rules_count(rules), signal);
  status = !ok ? VG_EXIT_FAIL : t.c.rejected ? VG_EXIT_REJECTS : VG_EXIT_OK;
  status = vg_interrupt_status(status);
  vg_sinks_finish(sinks, outbox, st, &loop);
  vg_batch_free(&b);
  vg_alert_list_clear(&alerts);
  free(alerts.v);
out:
  free(subject);
  jsStreamInfo_Destroy(si);
  if (bus) {
    if (vg_bus_connected(bus)) natsConnection_FlushTimeout(bus->nc, 2000);
    vg_bus_close(bus);
    nats_CloseAndWait(VG_BUS_CLOSE_WAIT_MS);
  }
  vg_store_close(st);
  vg_rules_free(rules);
  return status;
}
