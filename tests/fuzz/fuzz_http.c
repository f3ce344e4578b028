/* fuzz_http.c — libFuzzer harness for the HTTP server (core/http.c): the
 * input is what one client sends on a connection, byte for byte.
 *
 * One server runs on a loop of the harness's own, on a loopback port the
 * system picks, with a token, a host and an origin set and small limits.
 * Its handler answers at once, or from the loop's next turn, or with a
 * stream it writes to and ends, by the request's path. Each input is sent
 * over a real TCP connection in pieces while the loop runs; the client
 * then half-closes and reads until the server closes. Every connection
 * must be gone afterwards (none stuck, none leaked): the harness traps
 * otherwise. The sanitizers catch the rest. */
#include "http.h"
#include "vigil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static vg_http *server;
static int port;
static uv_timer_t later;       /* answers the request parked in `parked` */
static vg_http_req *parked;

static void on_later(uv_timer_t *t) {
  (void)t;
  if (parked) vg_http_reply(parked, 202, "text/plain", "later\n", 6, NULL);
  parked = NULL;
}

static void on_gone(vg_http_req *r, void *ud) {
  (void)r, (void)ud;
}

static void handle(vg_http_req *r, void *ud) {
  (void)ud;
  char v[64];
  vg_http_query(r->query, "x", v, sizeof v);
  if (strcmp(r->path, "/later") == 0 && !parked) {
    parked = r;
    uv_timer_start(&later, on_later, 0, 0);
  } else if (strcmp(r->path, "/stream") == 0) {
    vg_http_stream_start(r, "text/event-stream", NULL, on_gone, NULL);
    vg_http_stream_write(r, "data: 1\n\n", 9, 1 << 20);
    vg_http_stream_end(r);
  } else if (strcmp(r->path, "/release") == 0) {
    vg_http_release_body(r);
    vg_http_reply(r, 200, "application/json", "{}\n", 3, "X-A: b\r\n");
  } else {
    vg_http_reply(r, 200, "text/plain", r->body, r->body_len, NULL);
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  vg_log_set_level(getenv("FUZZ_HTTP_DEBUG") ? VG_LOG_DEBUG : VG_LOG_ERROR + 1);
  uv_loop_init(&loop);
  uv_timer_init(&loop, &later);
  static char *hosts[] = {"vigil.example.org", NULL};
  static char *origins[] = {"https://ops.example.org", NULL};
  vg_http_conf c = {.listen = "127.0.0.1:0",
                    .token = "fuzz-token-0123456789abcdef",
                    .hosts = hosts,
                    .origins = origins,
                    .max_body = 4096,
                    .max_conns = 4,
                    .request_timeout_ms = 50,
                    .idle_timeout_ms = 50};
  char err[256];
  if (!(server = vg_http_start(&loop, &c, handle, NULL, err, sizeof err))) abort();
  port = vg_http_port(server);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) abort();
  fcntl(fd, F_SETFL, O_NONBLOCK);
  size_t sent = 0;
  char sink[65536];
  int open = 1;
  /* Send in pieces of at most 512 bytes, the loop turning between them. */
  for (int turns = 0; open && turns < 100000; turns++) {
    if (sent < size) {
      size_t n = size - sent < 512 ? size - sent : 512;
      ssize_t w = send(fd, data + sent, n, MSG_NOSIGNAL);
      if (w > 0) sent += (size_t)w;
      else if (w < 0 && errno != EAGAIN) sent = size; /* the server closed: stop sending */
      if (sent == size) shutdown(fd, SHUT_WR);
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    ssize_t got = recv(fd, sink, sizeof sink, 0);
    if (got == 0 || (got < 0 && errno != EAGAIN)) open = 0;
    if (sent == size && size == 0 && turns == 0) shutdown(fd, SHUT_WR);
    if (open && sent == size) { /* wait a little for the client's socket or the server's timers */
      struct pollfd pf = {fd, POLLIN, 0};
      poll(&pf, 1, 1);
    }
  }
  close(fd);
  /* Every connection closes: the server frees each once it saw the end. */
  for (int turns = 0; vg_http_connections(server) && turns < 100000; turns++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    if (vg_http_connections(server)) poll(NULL, 0, 1);
  }
  if (vg_http_connections(server) || parked) __builtin_trap();
  return 0;
}
