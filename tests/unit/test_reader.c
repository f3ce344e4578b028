/* test_reader.c — a file read and parsed on the reader's thread.
 *
 * Covers that every line comes, in order and numbered from first_line, in
 * chunks that end with the file; that a line that does not parse comes with
 * its reason; that max_lines stops the reader there; that a failed read is
 * handed on with what came before it; that stopping the reader returns
 * while its thread waits on a pipe nobody writes to; that the lines read
 * from a pipe are handed on before the reader waits for more; and that the
 * stop flag ends a consumer's wait for a chunk that does not come. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "reader.h"
#include "vigil.h"

static const vg_reader_opts opts = {VG_FORMAT_AUTO, "desk", "test", 1 << 20, 0, 0, NULL};

/* An unlinked file holding text, read from its start. */
static int file_of(const char *text) {
  char path[] = "/tmp/vigil-reader-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  size_t n = strlen(text);
  assert_int_equal(write(fd, text, n), (ssize_t)n);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  return fd;
}

/* Reads every chunk of r; returns the lines seen and the last chunk's end. */
static size_t drain(vg_reader *r, int *end, int *bad) {
  size_t lines = 0;
  *bad = 0;
  vg_chunk *c;
  while ((c = vg_reader_next(r))) {
    for (size_t i = 0; i < c->n; i++) {
      if (c->v[i].line.line_no != lines + 1)
        fail_msg("line %zu came numbered %llu", lines + 1,
                 (unsigned long long)c->v[i].line.line_no);
      *bad += !c->v[i].parsed;
      lines++;
    }
    *end = c->end;
    vg_reader_recycle(r, c);
  }
  return lines;
}

static void test_every_line_in_order_in_chunks(void **state) {
  (void)state;
  size_t n = 5000; /* several chunks */
  char *text = malloc(n * 64), *o = text;
  for (size_t i = 0; i < n; i++)
    o += sprintf(o, i == 1234 ? "no date on line %zu\n" : "2023-07-%02zu: line %zu\n", i % 28 + 1, i);
  int fd = file_of(text);
  free(text);
  vg_reader *r = vg_reader_start(fd, &opts);
  assert_non_null(r);
  int end, bad;
  assert_int_equal(drain(r, &end, &bad), n);
  assert_int_equal(end, VG_CHUNK_LAST);
  assert_int_equal(bad, 1);
  vg_reader_stop(r);
  close(fd);
}

static void test_refused_line_keeps_its_reason(void **state) {
  (void)state;
  int fd = file_of("2023-07-12: fine\n{\"date\": \"2023-07-13\"}\n");
  vg_reader *r = vg_reader_start(fd, &opts);
  vg_chunk *c = vg_reader_next(r);
  assert_non_null(c);
  assert_int_equal(c->n, 2);
  assert_true(c->v[0].parsed);
  assert_int_equal((int)c->v[0].e.text_len, 4);
  assert_false(c->v[1].parsed);
  assert_int_equal(c->v[1].res.status, VG_REJECTED);
  assert_non_null(strstr(c->v[1].res.reason, "text"));
  vg_chunk_free(c);
  vg_reader_stop(r);
  close(fd);
}

static void test_max_lines_stops_the_reader(void **state) {
  (void)state;
  int fd = file_of("2023-01-01: a\n2023-01-02: b\n2023-01-03: c\n2023-01-04: d\n2023-01-05: e\n");
  vg_reader_opts o = opts;
  o.max_lines = 3;
  vg_reader *r = vg_reader_start(fd, &o);
  int end, bad;
  assert_int_equal(drain(r, &end, &bad), 3);
  assert_int_equal(end, VG_CHUNK_LIMIT);
  vg_reader_stop(r);
  close(fd);
}

static void test_failed_read_comes_after_the_lines_before_it(void **state) {
  (void)state;
  int fd = open(".", O_RDONLY | O_DIRECTORY); /* read() fails: EISDIR */
  assert_true(fd >= 0);
  vg_reader *r = vg_reader_start(fd, &opts);
  vg_chunk *c = vg_reader_next(r);
  assert_non_null(c);
  assert_int_equal(c->end, VG_EIO);
  assert_non_null(strstr(c->why, "read failed after line 0"));
  vg_chunk_free(c);
  assert_null(vg_reader_next(r));
  vg_reader_stop(r);
  close(fd);
}

static void test_stop_while_waiting_on_a_silent_pipe(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], "2023-07-12: one line, then nothing\n", 35), 35);
  vg_reader *r = vg_reader_start(p[0], &opts);
  /* Its thread now waits for more, the write end open: a stop must not. */
  alarm(120); /* a hang fails the test rather than the suite */
  vg_reader_stop(r);
  alarm(0);
  close(p[0]);
  close(p[1]);
}

/* Sets *stop after a tenth of a second, from another thread (as a signal
 * handler would). */
static void stop_soon(void *arg) {
  struct timespec ts = {0, 100 * 1000 * 1000};
  nanosleep(&ts, NULL);
  atomic_store((atomic_int *)arg, 1);
}

static void test_stop_flag_ends_a_wait_for_a_silent_pipe(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], "2023-07-12: one line, then nothing\n", 35), 35);
  atomic_int stop = 0;
  vg_reader_opts o = opts;
  o.stop = &stop;
  vg_reader *r = vg_reader_start(p[0], &o);
  alarm(120); /* a hang fails the test rather than the suite */
  /* The line read comes before the reader waits for more, in a chunk of
   * its own: what came from a pipe cannot be read again. */
  vg_chunk *c = vg_reader_next(r);
  assert_non_null(c);
  assert_int_equal(c->n, 1);
  assert_int_equal(c->end, 0);
  vg_reader_recycle(r, c);
  /* No chunk is ready now: the flag ends the wait. */
  uv_thread_t t;
  assert_int_equal(uv_thread_create(&t, stop_soon, &stop), 0);
  assert_null(vg_reader_next(r));
  alarm(0);
  assert_int_equal(atomic_load(&stop), 1);
  uv_thread_join(&t);
  vg_reader_stop(r);
  close(p[0]);
  close(p[1]);
}

int main(void) {
  vg_log_set_level(VG_LOG_WARN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_line_in_order_in_chunks),
      cmocka_unit_test(test_refused_line_keeps_its_reason),
      cmocka_unit_test(test_max_lines_stops_the_reader),
      cmocka_unit_test(test_failed_read_comes_after_the_lines_before_it),
      cmocka_unit_test(test_stop_while_waiting_on_a_silent_pipe),
      cmocka_unit_test(test_stop_flag_ends_a_wait_for_a_silent_pipe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
