/* interrupt.c — a clean stop on SIGINT and SIGTERM; see interrupt.h. */
#include "interrupt.h"

#include <signal.h>
#include <string.h>

static atomic_int caught; /* lock-free: safe to store from a handler */

static void on_signal(int sig) {
  int none = 0;
  if (!atomic_compare_exchange_strong(&caught, &none, sig)) {
    signal(sig, SIG_DFL); /* the second one: asked twice, it ends the process */
    raise(sig);
  }
}

const atomic_int *vg_interrupt_catch(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART; /* reads and writes go on; the flag is read between entries */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  return &caught;
}

int vg_interrupt_signal(void) { return atomic_load(&caught); }

const char *vg_interrupt_name(void) {
  int sig = vg_interrupt_signal();
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : NULL;
}

int vg_interrupt_status(int status) {
  int sig = vg_interrupt_signal();
  return sig ? 128 + sig : status;
}
