/* reader.c — reading and parsing a file ahead of its store; see reader.h. */
#include "reader.h"

#include "framer.h"
#include "tabular.h"
#include "vigil.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

/* A chunk closes at this many lines or bytes, whichever comes first. */
#define CHUNK_LINES 1024
#define CHUNK_BYTES (256u << 10)
/* Chunks read ahead of the store at most. */
#define QUEUE_MAX 4
/* How often a consumer waiting for a chunk looks at the stop flag. */
#define STOP_POLL_NS (100 * 1000 * 1000ull)

struct vg_reader {
  int fd;
  int wake;                    /* an eventfd: vg_reader_stop wakes a read that waits */
  uint64_t lines;              /* lines handed on so far (reader thread) */
  vg_reader_opts o;
  uv_thread_t thread;
  uv_mutex_t mu;
  uv_cond_t more, room;        /* a chunk was queued; one was taken (or stop) */
  vg_chunk *queue[QUEUE_MAX];  /* under mu: the chunks read, oldest first */
  size_t head, count;
  int stop;                    /* under mu: the consumer wants no more */
  int ended;                   /* under mu: the last chunk was queued */
  vg_chunk *spent[QUEUE_MAX + 2]; /* under mu: chunks stored, for the reader to empty and reuse */
  size_t nspent;
  vg_chunk *cur;               /* the reader thread's chunk being filled */
  vg_chunk nomem;              /* handed on when not even a chunk could be made */
  vg_tabular *table;             /* a table format's rows: the input's column map (reader thread) */
};

enum { STOPPED = 2, LIMIT = 3 }; /* on_line: the consumer stopped it; max_lines reached */

void vg_chunk_free(vg_chunk *c) {
  if (!c || c->borrowed) return;
  for (size_t i = 0; i < c->n; i++)
    if (c->v[i].parsed) vg_entry_clear(&c->v[i].e);
  free(c->v);
  free(c->bytes);
  free(c);
}

/* Empties a chunk for reuse: the entries it holds are released here, on
 * the thread that made them. */
static void chunk_reset(vg_chunk *c) {
  for (size_t i = 0; i < c->n; i++)
    if (c->v[i].parsed) vg_entry_clear(&c->v[i].e);
  c->n = c->nbytes = 0;
  c->end = 0;
  c->why[0] = '\0';
}

static vg_chunk *chunk_new(vg_reader *r) {
  uv_mutex_lock(&r->mu);
  vg_chunk *c = r->nspent ? r->spent[--r->nspent] : NULL;
  uv_mutex_unlock(&r->mu);
  if (c) {
    chunk_reset(c);
    return c;
  }
  c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->v = malloc(CHUNK_LINES * sizeof *c->v);
  c->bytes = malloc(c->capbytes = CHUNK_BYTES);
  if (!c->v || !c->bytes) {
    vg_chunk_free(c);
    return NULL;
  }
  return c;
}

/* Parses every line of c once its bytes are all in (they move no more). */
static void chunk_parse(vg_chunk *c) {
  for (size_t i = 0; i < c->n; i++) {
    vg_parsed *p = &c->v[i];
    p->line.data = c->bytes + (size_t)p->line.data; /* an offset until now */
    p->parsed = vg_ingest_parse(&p->line, &p->e, &p->res) == 0;
  }
}

/* Queues c, waiting for room; returns STOPPED (c freed) when the consumer
 * stopped meanwhile. */
static int push(vg_reader *r, vg_chunk *c) {
  uv_mutex_lock(&r->mu);
  while (r->count == QUEUE_MAX && !r->stop) uv_cond_wait(&r->room, &r->mu);
  int stop = r->stop;
  if (!stop) {
    r->queue[(r->head + r->count) % QUEUE_MAX] = c;
    r->count++;
    if (c->end) r->ended = 1;
    uv_cond_signal(&r->more);
  }
  uv_mutex_unlock(&r->mu);
  if (stop) vg_chunk_free(c);
  return stop ? STOPPED : 0;
}

/* Closes the chunk being filled with `end` and queues it; a new one follows
 * unless it was the last. 0, STOPPED or VG_ENOMEM. */
static int flush(vg_reader *r, int end) {
  vg_chunk *c = r->cur;
  r->cur = NULL;
  c->end = end;
  chunk_parse(c);
  int rc = push(r, c);
  if (rc || end) return rc;
  return (r->cur = chunk_new(r)) ? 0 : VG_ENOMEM;
}

static int on_line(void *ud, const char *data, size_t len, uint64_t total, uint64_t line_no,
                   unsigned flags) {
  vg_reader *r = ud;
  vg_chunk *c = r->cur;
  if (c->nbytes + len > c->capbytes) {
    size_t cap = c->capbytes * 2;
    while (cap < c->nbytes + len) cap *= 2;
    char *b = realloc(c->bytes, cap);
    if (!b) return VG_ENOMEM;
    c->bytes = b;
    c->capbytes = cap;
  }
  memcpy(c->bytes + c->nbytes, data, len);
  vg_parsed *p = &c->v[c->n++];
  p->line = (vg_line){(const char *)(uintptr_t)c->nbytes, len, total, line_no, flags,
                      r->o.format, r->o.source, r->o.max_line, r->o.origin, r->table};
  p->parsed = 0; /* until chunk_parse: a chunk freed before then holds no entry */
  c->nbytes += len;
  if (r->o.max_lines && ++r->lines == r->o.max_lines) {
    int rc = flush(r, VG_CHUNK_LIMIT);
    return rc ? rc : LIMIT;
  }
  if (c->n == CHUNK_LINES || c->nbytes >= CHUNK_BYTES) return flush(r, 0);
  return 0;
}

/* Waits until fd can be read or the consumer stops the reader: a pipe or a
 * terminal may hold a read for ever. The lines read before such a wait are
 * handed on first: what came from a pipe cannot be read again, so a stop
 * during the wait must find them with the consumer, to be committed, not in
 * a chunk half filled. 0, STOPPED or VG_ENOMEM. */
static int wait_input(vg_reader *r) {
  struct pollfd p[2] = {{.fd = r->fd, .events = POLLIN}, {.fd = r->wake, .events = POLLIN}};
  if (r->cur && r->cur->n && poll(p, 1, 0) == 0) {
    int rc = flush(r, 0);
    if (rc) return rc;
  }
  while (poll(p, 2, -1) < 0)
    if (errno != EINTR) return 0; /* the read says what is wrong */
  return p[1].revents ? STOPPED : 0;
}

/* Takes the first row of the input as the table's header when reading
 * starts after it (the spool goes on where a file was left): read again
 * from the start of the file. */
static int take_header(void *ud, const char *data, size_t len, uint64_t total, uint64_t line_no,
                       unsigned flags) {
  vg_reader *r = ud;
  vg_entry e;
  char why[VG_REASON_MAX];
  (void)total;
  if (!(flags & VG_LINE_TOO_LONG) &&
      vg_tabular_row(r->table, data, len, line_no, r->o.source, &e, why) == 0)
    vg_entry_clear(&e); /* no header: the declared columns stand */
  return STOPPED;
}

static void reread_header(vg_reader *r) {
  vg_framer f;
  vg_framer_init(&f, r->o.max_line);
  vg_framer_quote(&f, vg_tabular_format_of(r->table)->quote,
                  vg_tabular_format_of(r->table)->delim);
  char buf[16384];
  off_t at = 0;
  ssize_t n;
  while ((n = pread(r->fd, buf, sizeof buf, at)) > 0 &&
         vg_framer_feed(&f, buf, (size_t)n, take_header, r) == 0)
    at += n;
  vg_framer_free(&f);
}

static void run(void *arg) {
  pthread_setname_np(pthread_self(), "vigil-read"); /* for top -H and perf */
  vg_reader *r = arg;
  vg_framer f;
  vg_framer_init(&f, r->o.max_line);
  f.line_no = r->o.first_line;
  if (r->table) {
    vg_framer_quote(&f, vg_tabular_format_of(r->table)->quote,
                  vg_tabular_format_of(r->table)->delim);
    if (r->o.first_line) reread_header(r);
  }
  static const size_t bufsize = 65536;
  char *buf = malloc(bufsize);
  int rc = buf ? 0 : VG_ENOMEM;
  while (rc == 0) {
    if ((rc = wait_input(r))) break;
    ssize_t n = read(r->fd, buf, bufsize);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      snprintf(r->cur->why, sizeof r->cur->why, "read failed after line %llu: %s",
               (unsigned long long)f.line_no, strerror(errno));
      rc = flush(r, VG_EIO);
      break;
    }
    if (n == 0) {
      if ((rc = vg_framer_finish(&f, on_line, r)) == 0) rc = flush(r, VG_CHUNK_LAST);
      break;
    }
    rc = vg_framer_feed(&f, buf, (size_t)n, on_line, r);
  }
  if (rc == VG_ENOMEM) { /* what was read goes on, then the failure */
    if (r->cur) {
      snprintf(r->cur->why, sizeof r->cur->why, "out of memory after line %llu",
               (unsigned long long)f.line_no);
      flush(r, VG_ENOMEM);
    } else {
      r->nomem.end = VG_ENOMEM;
      r->nomem.borrowed = 1;
      snprintf(r->nomem.why, sizeof r->nomem.why, "out of memory after line %llu",
               (unsigned long long)f.line_no);
      push(r, &r->nomem);
    }
  }
  vg_chunk_free(r->cur); /* stopped while filling it */
  r->cur = NULL;
  free(buf);
  vg_framer_free(&f);
}

vg_reader *vg_reader_start(int fd, const vg_reader_opts *o) {
  vg_reader *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->fd = fd;
  r->o = *o;
  const vg_tabular_format *tf = vg_tabular_of(o->format);
  if (tf && !(r->table = vg_tabular_new(tf))) goto no_wake;
  if ((r->wake = eventfd(0, EFD_CLOEXEC)) < 0) goto no_wake;
  if (uv_mutex_init(&r->mu)) goto no_mutex;
  if (!(r->cur = chunk_new(r))) goto no_chunk;
  if (uv_cond_init(&r->more)) goto no_more;
  if (uv_cond_init(&r->room)) goto no_room;
  if (uv_thread_create(&r->thread, run, r) == 0) return r;
  uv_cond_destroy(&r->room);
no_room:
  uv_cond_destroy(&r->more);
no_more:
  vg_chunk_free(r->cur);
no_chunk:
  uv_mutex_destroy(&r->mu);
no_mutex:
  close(r->wake);
no_wake:
  vg_tabular_free(r->table);
  free(r);
  return NULL;
}

vg_chunk *vg_reader_next(vg_reader *r) {
  uv_mutex_lock(&r->mu);
  while (r->count == 0 && !r->ended) {
    if (!r->o.stop) {
      uv_cond_wait(&r->more, &r->mu);
    } else if (atomic_load(r->o.stop)) {
      break;
    } else {
      (void)uv_cond_timedwait(&r->more, &r->mu, STOP_POLL_NS);
    }
  }
  vg_chunk *c = NULL;
  if (r->count) {
    c = r->queue[r->head];
    r->head = (r->head + 1) % QUEUE_MAX;
    r->count--;
    uv_cond_signal(&r->room);
  }
  uv_mutex_unlock(&r->mu);
  return c;
}

void vg_reader_recycle(vg_reader *r, vg_chunk *c) {
  if (!c) return;
  uv_mutex_lock(&r->mu);
  int kept = !c->borrowed && r->nspent < sizeof r->spent / sizeof r->spent[0];
  if (kept) r->spent[r->nspent++] = c;
  uv_mutex_unlock(&r->mu);
  if (!kept) vg_chunk_free(c);
}

void vg_reader_stop(vg_reader *r) {
  if (!r) return;
  uv_mutex_lock(&r->mu);
  r->stop = 1;
  uv_cond_signal(&r->room);
  uv_mutex_unlock(&r->mu);
  uint64_t one = 1;
  if (write(r->wake, &one, sizeof one) < 0) vg_error("reader: cannot wake its thread: %s", strerror(errno));
  uv_thread_join(&r->thread);
  close(r->wake);
  while (r->count) {
    vg_chunk *c = r->queue[r->head];
    r->head = (r->head + 1) % QUEUE_MAX;
    r->count--;
    vg_chunk_free(c);
  }
  while (r->nspent) vg_chunk_free(r->spent[--r->nspent]);
  uv_cond_destroy(&r->room);
  uv_cond_destroy(&r->more);
  uv_mutex_destroy(&r->mu);
  vg_tabular_free(r->table);
  free(r);
}
