/* source_nats.c — entries from a NATS JetStream stream (nats_url, or
 * `vigil run --nats URL`). server.c starts it, asks it for jobs like every
 * source (daemon.h) and stops it.
 *
 * A thread of its own (libnats calls block, and its libuv adapter is not
 * used) makes sure the stream nats_stream exists, binds the durable pull
 * consumer nats_durable (explicit acks; made when missing), fetches up to
 * nats_batch messages at a time and hands them to the loop through a
 * uv_async_t. It waits while `window` messages are fetched and not yet
 * acknowledged, so a slow store holds JetStream back rather than memory
 * filling up. A job stores the messages fetched in one transaction: each
 * message's data is one line (the `format` setting; source "nats" unless a
 * JSON record names one); a line refused is kept in rejects with the origin
 * nats:STREAM:SEQ; and each message is noted in nats_msgs in the same
 * transaction. Only once that transaction has committed are its messages
 * acknowledged (and the rejected ones republished to nats_dead_letter):
 * a crash before loses nothing, since JetStream delivers them again, and a
 * message delivered again whose row is in nats_msgs is acknowledged without
 * being stored twice.
 *
 * The server may be down when the daemon starts (libnats keeps trying) or
 * go away later (libnats reconnects): the thread waits, backs off and
 * tries again, and says so once per outage. A consumer deleted on the
 * server is made again from the message after the last one committed. A
 * consumer that owes messages to a run before this one (a crash left them
 * unacknowledged) is made again from its acknowledgement floor, so that
 * they come again at once and in order instead of after the AckWait. On a
 * stop, the messages fetched and not yet stored are not acknowledged:
 * JetStream delivers them to the next run. */
#include "bus.h"
#include "daemon.h"
#include "metrics.h"
#include "nats_entry.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_MS 1000     /* how long one fetch waits for messages: a stop is seen within it */
#define ACK_WAIT_S 30     /* how long JetStream waits for an ack before it delivers again */
#define RETRY_MIN_MS 250  /* the first wait after a failure, doubled each time */
#define RETRY_MAX_MS 5000 /* up to this */
#define WINDOW_BATCHES 4  /* fetches in flight at most (within max_pending) */
#define IDLE_CHECK_FETCHES 5 /* fetches that got nothing before the consumer is looked up */
#define ORIGIN_MAX 300    /* "nats:STREAM:SEQ" */

/* What a message was found to be: taken before this delivery. */
enum { SEEN = 4 }; /* beside VG_STORED, VG_DUPLICATE, VG_REJECTED, VG_CORRECTION, VG_RETRACTION */

/* One message fetched, and what its job made of it. */
typedef struct {
  natsMsg *msg; /* owned; acknowledged once its transaction has committed */
  uint64_t seq; /* its sequence number in the stream */
  unsigned gen; /* the consumer it came from (ns.gen when it was fetched) */
  int64_t created; /* when its stream was made (ns.created when it was fetched) */
  int status;   /* VG_STORED, VG_DUPLICATE, VG_REJECTED, VG_CORRECTION, VG_RETRACTION, SEEN,
                 * or VG_E* (not acked); 0 before */
  char *reason; /* why its line was rejected (owned), for the dead-letter subject */
} nmsg;

typedef struct {
  nmsg *v;
  size_t n, cap;
} nmsg_vec;

static struct {
  vg_bus *bus;      /* NULL: the source is off */
  uv_async_t async; /* the thread pokes the loop with it */
  uv_thread_t thread;
  int have_thread;  /* started and not yet joined */
  int have_lock;    /* lock and cond are made */
  uv_mutex_t lock;  /* guards the five fields below */
  uv_cond_t cond;   /* the thread waits on it for room, or for a retry */
  nmsg_vec fetched; /* fetched, not yet in a job */
  size_t inflight;  /* fetched, not yet acknowledged nor dropped */
  uint64_t last;    /* the highest seq committed: where a lost consumer goes on from */
  /* The lowest seq of this run a job did not commit (rolled back), 0 for
   * none: a consumer made again starts there if it is below last, since
   * a later job may have committed meanwhile. Those committed since are
   * recognised. */
  uint64_t hole;
  /* When the stream read was made (ns since 1970), 0 before it is known: a
   * stream deleted and made again under the same name numbers from 1 anew,
   * and only this tells its messages from those of the one before. */
  int64_t created;
  /* Counts the consumers this run made: a message is acknowledged only to
   * the one it came from. An ack meant for a consumer deleted since would
   * reach its successor of the same name, whose acknowledgement floor it
   * could move past a message not yet stored. */
  unsigned gen;
  int stop, ended; /* the thread is to end; it has */
  natsSubscription *kept_sub; /* the thread's, once it has ended */
  nmsg_vec job;    /* the running job's messages (the loop's and the worker's) */
  size_t window;   /* messages in flight at most */
  /* The settings, copied at the start: a reload changes none of them. */
  char *stream, *durable, *filter, *dead_letter;
  char **subjects; /* NULL-ended */
  size_t batch;
  /* The stream's making time this database holds messages of (its meta
   * nats_created:STREAM), 0 for none; the jobs' alone after the start. */
  int64_t created_db;
} ns;

static void nmsg_drop(nmsg_vec *v) {
  for (size_t i = 0; i < v->n; i++) {
    natsMsg_Destroy(v->v[i].msg);
    free(v->v[i].reason);
  }
  v->n = 0;
}

/* ---- the fetching thread ---- */

/* Waits up to ms for a stop; 1 when the thread is to end. */
static int pause_ms(int64_t ms) {
  uv_mutex_lock(&ns.lock);
  if (!ns.stop) uv_cond_timedwait(&ns.cond, &ns.lock, (uint64_t)ms * 1000000u);
  int stop = ns.stop;
  uv_mutex_unlock(&ns.lock);
  return stop;
}

/* Waits for room in the window; how many messages to fetch, 0 on a stop. */
static int room(void) {
  uv_mutex_lock(&ns.lock);
  while (!ns.stop && ns.inflight >= ns.window)
    uv_cond_wait(&ns.cond, &ns.lock);
  size_t free_ = ns.window - ns.inflight;
  int want = ns.stop ? 0 : (int)(free_ < ns.batch ? free_ : ns.batch);
  uv_mutex_unlock(&ns.lock);
  return want;
}

/* Ends the subscription; the consumer stays on the server. The messages it
 * delivered point at it, so no ack is written for them from now on (gen
 * moves on, under the lock the acks are written under): they come again,
 * and are recognised. */
static void drop_sub(natsSubscription **sub) {
  if (!*sub) return;
  uv_mutex_lock(&ns.lock);
  ns.gen++;
  uv_mutex_unlock(&ns.lock);
  natsSubscription_Destroy(*sub);
  *sub = NULL;
}

/* Makes the consumer, delivering from seq `from` (0 or 1: from the first). */
static int add_consumer(natsSubscription **sub, uint64_t from, char *err, size_t cap) {
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = ns.durable;
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = (int64_t)ACK_WAIT_S * 1000000000;
  /* Room for a window owed to a run that crashed beside this run's own. */
  cc.MaxAckPending = (int64_t)ns.window * 2;
  if (ns.filter[0]) cc.FilterSubject = ns.filter;
  if (from > 1) {
    cc.DeliverPolicy = js_DeliverByStartSequence;
    cc.OptStartSeq = from;
  } else {
    cc.DeliverPolicy = js_DeliverAll;
  }
  jsConsumerInfo *ci = NULL;
  jsErrCode jerr = 0;
  /* What the old one delivered and the subscription still buffers is not
   * taken (it comes again from the new one), nor is any ack written from
   * now on for what was taken from it. */
  drop_sub(sub);
  natsStatus s = js_AddConsumer(&ci, ns.bus->js, ns.stream, &cc, NULL, &jerr);
  jsConsumerInfo_Destroy(ci);
  if (s != NATS_OK) {
    char what[300];
    snprintf(what, sizeof what, "nats: making consumer %s of stream %s", ns.durable, ns.stream);
    vg_bus_why(err, cap, what, s, jerr);
    return -1;
  }
  return 0;
}

static int bound_before; /* the thread's: a consumer was bound in this run */

/* The stream, the consumer and the subscription bound to it (when *sub is
 * NULL). With *recheck (at the start, and once the connection is back
 * after an outage), a consumer that owes more messages than this run holds
 * (to a run killed before, or lost with the connection) is made again from
 * its acknowledgement floor: they come again now and in order, rather than
 * after the AckWait behind later ones; those stored already are recognised.
 * 0, or -1 with why in err. */
static int setup(natsSubscription **sub, int *recheck, char *err, size_t cap) {
  if (vg_bus_stream(ns.bus, ns.stream, (const char *const *)ns.subjects, VG_BUS_DUPLICATE_WINDOW_MS,
                    err, cap))
    return -1;
  jsConsumerInfo *ci = NULL;
  jsErrCode jerr = 0;
  char what[300];
  /* Messages are known by stream name and seq: a stream deleted and made
   * again numbers from 1 anew. Its making time tells the two apart: the
   * new one is read from its first message (the jobs keep the rows of the
   * one before under another name). */
  jsStreamInfo *si = NULL;
  jerr = 0;
  natsStatus s = js_GetStreamInfo(&si, ns.bus->js, ns.stream, NULL, &jerr);
  if (s != NATS_OK) {
    snprintf(what, sizeof what, "nats: looking up stream %s", ns.stream);
    vg_bus_why(err, cap, what, s, jerr);
    return -1;
  }
  int64_t created = si->Created;
  jsStreamInfo_Destroy(si);
  uv_mutex_lock(&ns.lock);
  int anew = ns.created && created != ns.created;
  if (anew) ns.last = ns.hole = 0;
  ns.created = created;
  uv_mutex_unlock(&ns.lock);
  if (anew)
    vg_warn("nats: stream %s was made anew since this database last read it; its messages are"
            " read from seq 1 (those of the one before stay recorded apart)",
            ns.stream);
  jerr = 0;
  s = js_GetConsumerInfo(&ci, ns.bus->js, ns.stream, ns.durable, NULL, &jerr);
  if (s == NATS_OK) {
    uint64_t owed = (uint64_t)ci->NumAckPending, floor = ci->AckFloor.Stream;
    const char *has = ci->Config && ci->Config->FilterSubject ? ci->Config->FilterSubject : "";
    if (strcmp(has, ns.filter) != 0) {
      /* Another daemon's (of another partition), or made with other
       * settings: reading it would take messages meant for someone else,
       * or leave the partition's own unread. */
      snprintf(err, cap,
               "nats: consumer %s of stream %s takes '%s', not '%s' as configured: another"
               " daemon's? give this one its own nats_durable, or delete the consumer on the"
               " server to have it made again",
               ns.durable, ns.stream, has[0] ? has : "every subject",
               ns.filter[0] ? ns.filter : "every subject");
      jsConsumerInfo_Destroy(ci);
      return -1;
    }
    jsConsumerInfo_Destroy(ci);
    uv_mutex_lock(&ns.lock);
    size_t held = ns.inflight;
    uv_mutex_unlock(&ns.lock);
    if (*recheck && owed > held) {
      vg_info("nats: consumer %s owes %llu messages and this run holds %zu; making it again"
              " from seq %llu so that the others come now, in order",
              ns.durable, (unsigned long long)owed, held, (unsigned long long)floor + 1);
      jerr = 0;
      s = js_DeleteConsumer(ns.bus->js, ns.stream, ns.durable, NULL, &jerr);
      if (s != NATS_OK && s != NATS_NOT_FOUND) {
        snprintf(what, sizeof what, "nats: deleting consumer %s", ns.durable);
        vg_bus_why(err, cap, what, s, jerr);
        return -1;
      }
      if (add_consumer(sub, floor + 1, err, cap)) return -1;
    }
  } else if (s == NATS_NOT_FOUND) {
    /* However it was found missing (a fetch that failed, or one that went
     * unanswered, or a reconnection), it is said once here. */
    if (bound_before)
      vg_warn("nats: consumer %s of stream %s is gone; making it again after the last message"
              " stored",
              ns.durable, ns.stream);
    uv_mutex_lock(&ns.lock);
    uint64_t from = ns.hole && ns.hole <= ns.last ? ns.hole : ns.last + 1;
    uv_mutex_unlock(&ns.lock);
    if (add_consumer(sub, from, err, cap)) return -1;
    vg_notice("nats: made consumer %s of stream %s%s%s, from seq %llu", ns.durable, ns.stream,
              ns.filter[0] ? " on " : "", ns.filter, (unsigned long long)from);
  } else {
    snprintf(what, sizeof what, "nats: looking up consumer %s of stream %s", ns.durable, ns.stream);
    vg_bus_why(err, cap, what, s, jerr);
    return -1;
  }
  *recheck = 0;
  if (*sub) return 0;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = ns.stream;
  so.Consumer = ns.durable;
  jerr = 0;
  s = js_PullSubscribe(sub, ns.bus->js, NULL, ns.durable, NULL, &so, &jerr);
  if (s != NATS_OK) {
    *sub = NULL;
    snprintf(what, sizeof what, "nats: binding consumer %s of stream %s", ns.durable, ns.stream);
    vg_bus_why(err, cap, what, s, jerr);
    return -1;
  }
  bound_before = 1;
  return 0;
}

/* Queues what a fetch got for the loop, and pokes it. */
static void hand(natsMsgList *list) {
  uv_mutex_lock(&ns.lock);
  for (int i = 0; i < list->Count; i++) {
    natsMsg *m = list->Msgs[i];
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
      vg_warn("nats: a message on %s without JetStream metadata; ignored", natsMsg_GetSubject(m));
      continue; /* left in the list: destroyed below */
    }
    uint64_t seq = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
    nmsg_vec *v = &ns.fetched;
    if (v->n == v->cap) {
      size_t cap = v->cap ? v->cap * 2 : 64;
      nmsg *nv = realloc(v->v, cap * sizeof *nv);
      if (!nv) break; /* out of memory: the rest comes again after the AckWait */
      v->v = nv;
      v->cap = cap;
    }
    v->v[v->n++] = (nmsg){.msg = m, .seq = seq, .gen = ns.gen, .created = ns.created};
    list->Msgs[i] = NULL; /* queued: no longer the list's */
    ns.inflight++;
  }
  uv_mutex_unlock(&ns.lock);
  natsMsgList_Destroy(list);
  uv_async_send(&ns.async);
}

/* How many times the connection was made again since it was opened (0
 * when that cannot be read). */
static uint64_t reconnects(void) {
  natsStatistics *st = NULL;
  uint64_t n = 0;
  if (natsStatistics_Create(&st) == NATS_OK && natsConnection_GetStats(ns.bus->nc, st) == NATS_OK)
    natsStatistics_GetCounts(st, NULL, NULL, NULL, NULL, &n);
  natsStatistics_Destroy(st);
  return n;
}

static void fetcher(void *arg) {
  (void)arg;
  natsSubscription *sub = NULL;
  int recheck = 1, outage = 0, waiting = 0, idle = 0;
  uint64_t seen_reconnects = 0;
  int64_t backoff = RETRY_MIN_MS;
  char err[768];
  for (;;) {
    if (!vg_bus_connected(ns.bus)) { /* the bus says when it goes and comes back */
      if (!waiting)
        vg_info("nats: waiting for the connection to %s to fetch from %s", ns.bus->url, ns.stream);
      waiting = 1;
      if (pause_ms(RETRY_MIN_MS)) break;
      continue;
    }
    uint64_t r = reconnects();
    if (r != seen_reconnects) recheck = 1; /* what was in flight may be lost */
    seen_reconnects = r;
    waiting = 0;
    if ((!sub || recheck) && setup(&sub, &recheck, err, sizeof err)) {
      if (!outage) vg_warn("%s; trying again (every %d s at most)", err, RETRY_MAX_MS / 1000);
      outage = 1;
      if (pause_ms(backoff)) break;
      backoff = backoff * 2 < RETRY_MAX_MS ? backoff * 2 : RETRY_MAX_MS;
      continue;
    }
    int want = room();
    if (!want) break;
    natsMsgList list = {0};
    jsErrCode jerr = 0;
    natsStatus s = natsSubscription_Fetch(&list, sub, want, FETCH_MS, &jerr);
    /* A timeout while connected: the server answered that nothing came. */
    if (s == NATS_OK || (s == NATS_TIMEOUT && vg_bus_connected(ns.bus))) {
      if (s == NATS_OK) hand(&list);
      if (outage) vg_notice("nats: fetching from stream %s again", ns.stream);
      outage = 0;
      backoff = RETRY_MIN_MS;
      /* Quiet for a while: is the consumer still there? A pull request
       * to one deleted meanwhile may go unanswered rather than fail. */
      idle = s == NATS_OK ? 0 : idle + 1;
      if (idle < IDLE_CHECK_FETCHES) continue;
      idle = 0;
    } else if (s == NATS_TIMEOUT) {
      continue; /* the connection went meanwhile: waited for above */
    }
    /* Is the consumer (or its stream) still there? */
    jsConsumerInfo *ci = NULL;
    jsErrCode cerr = 0;
    natsStatus cs = js_GetConsumerInfo(&ci, ns.bus->js, ns.stream, ns.durable, NULL, &cerr);
    jsConsumerInfo_Destroy(ci);
    if (cs == NATS_NOT_FOUND) { /* setup says so, and makes it again */
      drop_sub(&sub);
      continue;
    }
    if (s == NATS_TIMEOUT) continue; /* quiet, and the consumer is there (or unknown) */
    char what[300];
    snprintf(what, sizeof what, "nats: fetching from stream %s", ns.stream);
    vg_bus_why(err, sizeof err, what, s, jerr);
    if (!outage) vg_warn("%s; trying again (every %d s at most)", err, RETRY_MAX_MS / 1000);
    outage = 1;
    drop_sub(&sub); /* bound again next time, in case the subscription is what failed */
    if (pause_ms(backoff)) break;
    backoff = backoff * 2 < RETRY_MAX_MS ? backoff * 2 : RETRY_MAX_MS;
  }
  /* Kept until vg_source_nats_free: the last job's messages are acked
   * through it once their transaction has committed. */
  uv_mutex_lock(&ns.lock);
  ns.kept_sub = sub;
  ns.ended = 1;
  uv_mutex_unlock(&ns.lock);
  uv_async_send(&ns.async);
}

/* ---- on the loop ---- */

static void on_async(uv_async_t *h) {
  server *srv = h->data;
  uv_mutex_lock(&ns.lock);
  int ended = ns.ended;
  uv_mutex_unlock(&ns.lock);
  if (ended && ns.have_thread) {
    uv_thread_join(&ns.thread);
    ns.have_thread = 0;
    uv_close((uv_handle_t *)&ns.async, NULL);
    size_t n = ns.fetched.n;
    nmsg_drop(&ns.fetched); /* not acknowledged: the next run has them */
    if (n) vg_info("nats: %zu messages fetched were not stored; JetStream delivers them again", n);
  }
  vg_daemon_kick(srv);
}

static void warn_partition(void *ud, const char *rule, const char *file, int line,
                           const char *why) {
  const vg_config *c = ud;
  vg_warn("nats: partition %s: rule '%s' (%s:%d) %s", c->nats_partition, rule, file, line, why);
}

void vg_source_nats_check_rules(server *srv) {
  const vg_config *c = &srv->cfg;
  if (!c->nats_url || !c->nats_url[0] || vg_config_partition(c) < 0) return;
  vg_rules_partition_check(srv->rules, c->nats_partition_by, warn_partition, (void *)c);
}

int vg_source_nats_start(server *srv) {
  const vg_config *c = &srv->cfg;
  if (!c->nats_url || !c->nats_url[0]) return 0;
  size_t n = 0;
  while (c->nats_subjects && c->nats_subjects[n])
    n++;
  ns.subjects = calloc(n + 1, sizeof *ns.subjects);
  for (size_t i = 0; ns.subjects && i < n; i++)
    if (!(ns.subjects[i] = strdup(c->nats_subjects[i]))) abort();
  ns.stream = strdup(c->nats_stream);
  char durable[96];
  ns.durable = strdup(vg_config_durable(c, durable, sizeof durable));
  ns.dead_letter = strdup(c->nats_dead_letter ? c->nats_dead_letter : "");
  ns.filter = vg_nats_entry_filter(c);
  if (!ns.subjects || !ns.stream || !ns.durable || !ns.dead_letter || !ns.filter)
    abort(); /* a few bytes at the start: nothing sensible is left to do */
  ns.batch = c->nats_batch ? c->nats_batch : 1;
  ns.window = ns.batch * WINDOW_BATCHES;
  if (ns.window > c->max_pending) ns.window = c->max_pending > ns.batch ? c->max_pending : ns.batch;
  char err[768], name[96];
  snprintf(name, sizeof name, "vigil %s", ns.durable);
  if (!(ns.bus = vg_bus_open(c->nats_url, name, 2000, VG_BUS_RETRY_CONNECT, err, sizeof err))) {
    vg_error("%s", err);
    return -1;
  }
  int64_t last = vg_store_nats_last(srv->store, ns.stream); /* no job runs yet */
  if (last < 0) {
    vg_error("nats: cannot read the last message stored from %s: %s", ns.stream,
             vg_strerror((int)last));
    return -1;
  }
  ns.last = (uint64_t)last;
  char key[300], val[32];
  vg_nats_created_key(ns.stream, key, sizeof key);
  if (vg_store_meta(srv->store, key, val, sizeof val) == 1) ns.created_db = strtoll(val, NULL, 10);
  ns.created = ns.created_db;
  if (uv_mutex_init(&ns.lock) || uv_cond_init(&ns.cond)) abort();
  ns.have_lock = 1;
  uv_async_init(srv->loop, &ns.async, on_async);
  ns.async.data = srv;
  if (uv_thread_create(&ns.thread, fetcher, NULL)) {
    vg_error("nats: cannot start the fetching thread");
    uv_close((uv_handle_t *)&ns.async, NULL);
    return -1;
  }
  ns.have_thread = 1;
  vg_source_nats_check_rules(srv);
  vg_metrics_nats_declare();
  vg_info("nats: ingesting stream %s from %s through consumer %s%s%s (stored up to seq %llu"
          " before)",
          ns.stream, c->nats_url, ns.durable, ns.filter[0] ? " on " : "", ns.filter,
          (unsigned long long)last);
  return 0;
}

void vg_source_nats_stop(server *srv) {
  (void)srv;
  if (!ns.have_thread) return;
  uv_mutex_lock(&ns.lock);
  ns.stop = 1;
  uv_cond_broadcast(&ns.cond);
  uv_mutex_unlock(&ns.lock);
}

void vg_source_nats_free(void) {
  nmsg_drop(&ns.fetched);
  nmsg_drop(&ns.job);
  free(ns.fetched.v);
  free(ns.job.v);
  if (ns.bus) {
    /* The acknowledgements written last go out before the connection closes. */
    if (vg_bus_connected(ns.bus)) natsConnection_FlushTimeout(ns.bus->nc, 2000);
    natsSubscription_Destroy(ns.kept_sub);
    vg_bus_close(ns.bus);
    nats_CloseAndWait(VG_BUS_CLOSE_WAIT_MS); /* libnats's threads and memory, its last connection closed */
  }
  if (ns.have_lock) {
    uv_mutex_destroy(&ns.lock);
    uv_cond_destroy(&ns.cond);
  }
  for (size_t i = 0; ns.subjects && ns.subjects[i]; i++)
    free(ns.subjects[i]);
  free(ns.subjects);
  free(ns.stream);
  free(ns.durable);
  free(ns.filter);
  free(ns.dead_letter);
  memset(&ns, 0, sizeof ns);
}

/* ---- the source ---- */

static int take(server *srv) {
  if (!ns.bus || srv->stopping) return SOURCE_NONE; /* what is fetched waits for the next run */
  uv_mutex_lock(&ns.lock);
  int got = ns.fetched.n > 0;
  if (got) {
    nmsg_vec t = ns.job; /* empty: its job is done */
    ns.job = ns.fetched;
    ns.fetched = t;
  }
  uv_mutex_unlock(&ns.lock);
  return got ? SOURCE_TAKEN : SOURCE_NONE;
}

/* Stores one message (not seen before) inside the open transaction and notes
 * it in nats_msgs. 0, or VG_EDB / VG_ENOMEM (roll back). */
static int store_one(server *srv, vg_batch *t, nmsg *m) {
  const char *data = natsMsg_GetData(m->msg);
  size_t len = data ? (size_t)natsMsg_GetDataLength(m->msg) : 0;
  vg_result res;
  int rc = vg_nats_entry_store(&t->ig, srv->js.format, srv->js.max_line, ns.stream, m->seq, data,
                               len, &res);
  if (rc) return rc;
  m->status = res.status;
  if (res.status == VG_REJECTED && ns.dead_letter[0] && !(m->reason = strdup(res.reason)))
    return VG_ENOMEM;
  return 0;
}

/* The message comes from a stream made at `created`, not the one this
 * database holds messages of: notes its making time, and renames the rows
 * of the one before (if any) to STREAM@TIME, inside the open transaction.
 * 0 or VG_EDB. */
static int switch_stream(vg_store *st, int64_t before, int64_t created) {
  char key[300], val[32], as[300];
  vg_nats_created_key(ns.stream, key, sizeof key);
  snprintf(val, sizeof val, "%lld", (long long)created);
  int64_t n = 0;
  if (before) {
    snprintf(as, sizeof as, "%s@%lld", ns.stream, (long long)before);
    if ((n = vg_store_nats_retire(st, ns.stream, as)) < 0) return (int)n;
  }
  if (vg_store_meta_set(st, key, val)) return VG_EDB;
  if (n > 0)
    vg_notice("nats: the %lld messages taken from the stream %s made before are recorded as"
              " from '%s'",
              (long long)n, ns.stream, as);
  return 0;
}

static void work(server *srv) {
  vg_batch *t = &srv->txn;
  t->ig.rules = srv->rules; /* a reload may have changed them */
  int rc = vg_batch_begin(t);
  int64_t created = ns.created_db;
  /* A stop is honoured between two messages: those done are committed and
   * acknowledged, the others come again in the next run. */
  for (size_t i = 0; i < ns.job.n; i++) {
    nmsg *m = &ns.job.v[i];
    if (rc || vg_ingest_stopped(&t->ig)) {
      m->status = VG_ESTOPPED;
      continue;
    }
    if (m->created && m->created != created) {
      if ((rc = switch_stream(t->ig.st, created, m->created))) continue;
      created = m->created;
    }
    int r = vg_store_nats_seen(t->ig.st, ns.stream, m->seq, NULL);
    if (r < 0)
      rc = r;
    else if (r == 1)
      m->status = SEEN; /* delivered again: taken before */
    else
      rc = store_one(srv, t, m);
  }
  if (!(rc = vg_batch_end(t, rc, NULL, NULL))) ns.created_db = created;
  else {
    char why[VG_REASON_MAX];
    vg_batch_why(t, rc, why, sizeof why);
    vg_error("nats: %zu messages were not stored (JetStream delivers them again): %s", ns.job.n,
             why + 12);
    for (size_t i = 0; i < ns.job.n; i++)
      ns.job.v[i].status = rc;
  }
}

/* Republishes a rejected message to nats_dead_letter, saying why. Core NATS:
 * at most once; the reject is kept in the database all the same. */
static void dead_letter(const nmsg *m) {
  char origin[ORIGIN_MAX];
  snprintf(origin, sizeof origin, "nats:%s:%llu", ns.stream, (unsigned long long)m->seq);
  natsMsg *out = NULL;
  natsStatus s = natsMsg_Create(&out, ns.dead_letter, NULL, natsMsg_GetData(m->msg),
                                natsMsg_GetDataLength(m->msg));
  if (s == NATS_OK) s = natsMsgHeader_Set(out, "Vigil-Reject", m->reason ? m->reason : "rejected");
  if (s == NATS_OK) s = natsMsgHeader_Set(out, "Vigil-Origin", origin);
  if (s == NATS_OK) s = natsConnection_PublishMsg(ns.bus->nc, out);
  natsMsg_Destroy(out);
  if (s != NATS_OK) {
    char err[512];
    vg_bus_why(err, sizeof err, "nats: republishing a reject to the dead-letter subject", s, 0);
    vg_warn("%s (%s; kept in rejects all the same)", err, origin);
  }
}

/* The transaction is over: what it committed is acknowledged. */
static void done(server *srv) {
  (void)srv;
  size_t seen = 0, acked = 0, counts[VG_RETRACTION + 1] = {0};
  uint64_t last = 0, hole = 0;
  for (size_t i = 0; i < ns.job.n; i++) {
    nmsg *m = &ns.job.v[i];
    if (m->status >= VG_STORED && m->status <= VG_RETRACTION) { /* committed */
      if (m->status == VG_REJECTED && ns.dead_letter[0]) dead_letter(m);
      /* Under the lock, so that no consumer is made again between the look
       * at gen and the ack (a publish: it does not wait). */
      uv_mutex_lock(&ns.lock);
      natsStatus s = m->gen == ns.gen ? natsMsg_Ack(m->msg, NULL) : NATS_OK;
      uv_mutex_unlock(&ns.lock);
      if (s != NATS_OK) /* delivered again later, and recognised then */
        vg_debug("nats: acknowledging seq %llu: %s", (unsigned long long)m->seq,
                 natsStatus_GetText(s));
      acked++;
      counts[m->status]++;
      seen += m->status == SEEN;
      if (m->seq > last) last = m->seq;
    } else if (!hole || m->seq < hole) {
      hole = m->seq;
    }
  }
  size_t n = ns.job.n;
  nmsg_drop(&ns.job);
  uv_mutex_lock(&ns.lock);
  ns.inflight -= n;
  if (last > ns.last) ns.last = last;
  if (hole && (!ns.hole || hole < ns.hole)) ns.hole = hole;
  uv_cond_signal(&ns.cond);
  uv_mutex_unlock(&ns.lock);
  vg_metrics_nats("stored", counts[VG_STORED]);
  vg_metrics_nats("duplicate", counts[VG_DUPLICATE]);
  vg_metrics_nats("rejected", counts[VG_REJECTED]);
  vg_metrics_nats("corrected", counts[VG_CORRECTION] + counts[VG_RETRACTION]);
  vg_metrics_nats("redelivered", seen);
  if (seen)
    vg_info("nats: %zu messages of %s delivered again were recognised as stored before;"
            " acknowledged, not stored again",
            seen, ns.stream);
  vg_debug("nats: %zu messages: %zu stored, %zu duplicates, %zu rejected, %zu corrected or"
           " retracted, %zu seen before, %zu not stored",
           n, counts[VG_STORED], counts[VG_DUPLICATE], counts[VG_REJECTED],
           counts[VG_CORRECTION] + counts[VG_RETRACTION], seen, n - acked);
}

const vg_source vg_source_nats = {.name = "nats", .take = take, .work = work, .done = done};
