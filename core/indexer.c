/* indexer.c — the full-text index brought up to date on its own thread,
 * which also checkpoints the write-ahead log after each commit it hears of. */
#include "indexer.h"

#include "store.h"
#include "vigil.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

/* How much lower than ingest the indexer's thread runs (nice). */
#define INDEX_NICE 10
/* How long it sleeps when nothing pokes it; after a failure, before trying
 * again. */
#define IDLE_MS 1000

struct vg_indexer {
  uv_thread_t thread;
  uv_mutex_t mu;
  uv_cond_t cv;
  int poked, stop; /* under mu */
  vg_store *st;    /* its own connection, used by the thread alone */
};

/* Waits until poked, stopped or IDLE_MS passed; returns whether to stop. */
static int wait_work(vg_indexer *ix) {
  uv_mutex_lock(&ix->mu);
  if (!ix->poked && !ix->stop) uv_cond_timedwait(&ix->cv, &ix->mu, (uint64_t)IDLE_MS * 1000000);
  ix->poked = 0;
  int stop = ix->stop;
  uv_mutex_unlock(&ix->mu);
  return stop;
}

static int stopping(vg_indexer *ix) {
  uv_mutex_lock(&ix->mu);
  int stop = ix->stop;
  uv_mutex_unlock(&ix->mu);
  return stop;
}

static void run(void *arg) {
  pthread_setname_np(pthread_self(), "vigil-index"); /* for top -H and perf */
  /* Ingest first: the index takes the CPU that storing leaves (searches
   * index what it has not reached, so they never depend on it). */
  if (setpriority(PRIO_PROCESS, (id_t)gettid(), INDEX_NICE) != 0)
    vg_debug("text index: cannot lower its thread's priority: %s", strerror(errno));
  vg_indexer *ix = arg;
  unsigned long long total = 0;
  int failing = 0;
  do {
    long long n = 0;
    int rc;
    while ((rc = vg_store_index_text(ix->st, VG_TEXT_CHUNK, &n)) == 0 && n > 0) {
      total += (unsigned long long)n;
      if (stopping(ix)) break;
    }
    if (rc == 0) rc = vg_store_checkpoint(ix->st);
    /* The store said why, once a spell; the next search indexes what is left. */
    if (rc && !failing) vg_warn("text index: not brought up to date; trying again");
    failing = rc != 0;
  } while (!wait_work(ix));
  vg_debug("text index: %llu texts of entries and updates indexed", total);
}

vg_indexer *vg_indexer_start(const char *path, char *err, size_t cap) {
  vg_indexer *ix = calloc(1, sizeof *ix);
  if (!ix) {
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  if (!(ix->st = vg_store_open(path, VG_STORE_READONLY | VG_STORE_TEXT_FILE, err, cap))) {
    free(ix);
    return NULL;
  }
  if (uv_mutex_init(&ix->mu)) goto no_thread;
  if (uv_cond_init(&ix->cv)) {
    uv_mutex_destroy(&ix->mu);
    goto no_thread;
  }
  if (uv_thread_create(&ix->thread, run, ix) == 0) return ix;
  uv_cond_destroy(&ix->cv);
  uv_mutex_destroy(&ix->mu);
no_thread:
  snprintf(err, cap, "cannot start the text indexer's thread");
  vg_store_close(ix->st);
  free(ix);
  return NULL;
}

void vg_indexer_poke(vg_indexer *ix) {
  uv_mutex_lock(&ix->mu);
  ix->poked = 1;
  uv_cond_signal(&ix->cv);
  uv_mutex_unlock(&ix->mu);
}

void vg_indexer_poke_fn(void *ud) { vg_indexer_poke(ud); }

void vg_indexer_stop(vg_indexer *ix) {
  if (!ix) return;
  uv_mutex_lock(&ix->mu);
  ix->stop = 1;
  uv_cond_signal(&ix->cv);
  uv_mutex_unlock(&ix->mu);
  uv_thread_join(&ix->thread);
  uv_cond_destroy(&ix->cv);
  uv_mutex_destroy(&ix->mu);
  vg_store_close(ix->st);
  free(ix);
}
