/* flood.c — load generator for the daemon's Unix socket.
 *
 * usage: flood SOCKET FILE CONNS RATE
 *
 * Reads FILE (one entry a line), deals its lines round-robin to CONNS
 * connections to SOCKET and sends them: as fast as the daemon takes them when
 * RATE is 0, otherwise paced at RATE lines a second in total (each
 * connection RATE/CONNS, sent in 1 ms ticks). Each connection has a sender
 * thread and a reader thread; the daemon answers every line, in order on
 * its connection, once it is committed, so reply k belongs to line k.
 * The latency of a line runs from when it was sent (when paced: from when it
 * was due, so a sender that falls behind is not hidden) to when its reply
 * arrived. Prints one line:
 *   flood: conns=C rate=R lines=N ok=N duplicate=N error=N seconds=S
 *          acked_per_s=X p50_ms=X p99_ms=X max_ms=X
 * and exits 1 when a line got no reply or a reply that is not "ok". */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  char *data;        /* this connection's lines, back to back */
  size_t *end;       /* end offset of each line in data */
  size_t n;          /* lines */
  double rate;       /* lines a second on this connection, 0: unpaced */
  int64_t t0;        /* common start */
  int64_t *sent;     /* per line: ns it was sent (or due) */
  int64_t *recv;     /* per line: ns its reply arrived */
  size_t replies, ok, dup, err;
  int64_t last_reply;
} conn;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t) {
  struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

static int write_all(int fd, const char *p, size_t len) {
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

#define CHUNK (64 * 1024)

static void *sender(void *arg) {
  conn *c = arg;
  size_t i = 0;
  while (i < c->n) {
    size_t from = i, start = i ? c->end[i - 1] : 0;
    int64_t t;
    if (c->rate > 0) {
      /* Every line due by now, stamped with the time it was due. */
      t = now_ns();
      size_t due = (size_t)((double)(t - c->t0) * c->rate / 1e9) + 1;
      if (due > c->n) due = c->n;
      if (due <= i) {
        sleep_until(t + 1000000);
        continue;
      }
      for (; i < due; i++) c->sent[i] = c->t0 + (int64_t)((double)i * 1e9 / c->rate);
    } else {
      t = now_ns();
      while (i < c->n && (i == from || c->end[i] - start <= CHUNK)) c->sent[i++] = t;
    }
    if (write_all(c->fd, c->data + start, c->end[i - 1] - start)) {
      perror("flood: write");
      break;
    }
  }
  shutdown(c->fd, SHUT_WR);
  return NULL;
}

static void *reader(void *arg) {
  conn *c = arg;
  static __thread char buf[1 << 16];
  char line[64];
  size_t ll = 0;
  for (;;) {
    ssize_t r = read(c->fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    int64_t t = now_ns();
    for (ssize_t k = 0; k < r; k++) {
      char ch = buf[k];
      if (ch != '\n') {
        if (ll < sizeof line - 1) line[ll++] = ch;
        continue;
      }
      line[ll] = '\0';
      ll = 0;
      if (c->replies < c->n) c->recv[c->replies] = t;
      c->replies++;
      if (strncmp(line, "ok ", 3) == 0) c->ok++;
      else if (strncmp(line, "duplicate ", 10) == 0) c->dup++;
      else {
        if (c->err < 5) fprintf(stderr, "flood: reply: %s\n", line);
        c->err++;
      }
      c->last_reply = t;
    }
  }
  return NULL;
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: flood SOCKET FILE CONNS RATE\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* a connection the daemon closed fails the write instead */
  const char *path = argv[1];
  int nc = atoi(argv[3]);
  double rate = atof(argv[4]);
  if (nc < 1 || nc > 64 || rate < 0) {
    fprintf(stderr, "flood: CONNS is 1 to 64, RATE 0 or more\n");
    return 2;
  }
  FILE *f = fopen(argv[2], "r");
  struct stat sb;
  if (!f || fstat(fileno(f), &sb)) {
    perror(argv[2]);
    return 2;
  }
  char *all = malloc((size_t)sb.st_size + 1);
  if (!all || fread(all, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
    perror(argv[2]);
    return 2;
  }
  fclose(f);
  size_t size = (size_t)sb.st_size, total = 0;
  size_t *bytes = calloc((size_t)nc, sizeof *bytes), since = 0;
  for (size_t k = 0; k < size; k++)
    if (all[k] == '\n') {
      bytes[total++ % (size_t)nc] += k + 1 - since;
      since = k + 1;
    }
  conn *cs = calloc((size_t)nc, sizeof *cs);
  for (int j = 0; j < nc; j++) {
    conn *c = &cs[j];
    size_t cap = total / (size_t)nc + 1;
    c->data = malloc(bytes[j] + 1);
    c->end = malloc(cap * sizeof *c->end);
    c->sent = calloc(cap, sizeof *c->sent);
    c->recv = calloc(cap, sizeof *c->recv);
    c->rate = rate / nc;
    if (!c->data || !c->end || !c->sent || !c->recv) {
      fprintf(stderr, "flood: out of memory\n");
      return 2;
    }
  }
  /* Deal the lines round-robin: line i goes to connection i % nc. */
  size_t *used = calloc((size_t)nc, sizeof *used), i = 0;
  for (size_t p = 0; p < size; i++) {
    char *nl = memchr(all + p, '\n', size - p);
    if (!nl) break;
    size_t len = (size_t)(nl - (all + p)) + 1;
    conn *c = &cs[i % (size_t)nc];
    memcpy(c->data + used[i % (size_t)nc], all + p, len);
    used[i % (size_t)nc] += len;
    c->end[c->n++] = used[i % (size_t)nc];
    p += len;
  }
  free(all);
  for (int j = 0; j < nc; j++) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int rc = -1;
    for (int tries = 0; rc && tries < 100; tries++) { /* the daemon may still be starting */
      if (tries) usleep(100000);
      if ((cs[j].fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) break;
      if ((rc = connect(cs[j].fd, (struct sockaddr *)&a, sizeof a))) close(cs[j].fd);
    }
    if (rc) {
      perror(path);
      return 2;
    }
  }
  pthread_t ts[128];
  int64_t t0 = now_ns();
  for (int j = 0; j < nc; j++) {
    cs[j].t0 = t0;
    pthread_create(&ts[2 * j], NULL, reader, &cs[j]);
    pthread_create(&ts[2 * j + 1], NULL, sender, &cs[j]);
  }
  for (int j = 0; j < 2 * nc; j++) pthread_join(ts[j], NULL);
  size_t ok = 0, dup = 0, err = 0, replies = 0, lines = 0, k = 0;
  int64_t last = t0;
  for (int j = 0; j < nc; j++) {
    ok += cs[j].ok;
    dup += cs[j].dup;
    err += cs[j].err;
    replies += cs[j].replies < cs[j].n ? cs[j].replies : cs[j].n;
    lines += cs[j].n;
    if (cs[j].last_reply > last) last = cs[j].last_reply;
  }
  int64_t *lat = malloc((replies ? replies : 1) * sizeof *lat);
  for (int j = 0; j < nc; j++)
    for (size_t q = 0; q < cs[j].replies && q < cs[j].n; q++)
      lat[k++] = cs[j].recv[q] - cs[j].sent[q];
  qsort(lat, k, sizeof *lat, cmp64);
  double secs = (double)(last - t0) / 1e9;
  double p50 = k ? (double)lat[k / 2] / 1e6 : 0;
  double p99 = k ? (double)lat[(size_t)((double)(k - 1) * 0.99)] / 1e6 : 0;
  double mx = k ? (double)lat[k - 1] / 1e6 : 0;
  printf("flood: conns=%d rate=%.0f lines=%zu ok=%zu duplicate=%zu error=%zu seconds=%.3f "
         "acked_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
         nc, rate, lines, ok, dup, err, secs, secs > 0 ? (double)(ok + dup) / secs : 0, p50, p99,
         mx);
  if (replies < lines) fprintf(stderr, "flood: %zu lines got no reply\n", lines - replies);
  return replies == lines && ok == lines ? 0 : 1;
}
