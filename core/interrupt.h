/* interrupt.h — SIGINT and SIGTERM during a long one-shot command (ingest,
 * replay): the first one only raises a flag that the work reads between two
 * entries (vg_ingest.stop), so that what is batched is committed, the
 * summary is printed and the command exits 128 + the signal's number; a
 * second one ends the process at once, as the signal would have.
 *
 * Nothing here exits, locks or allocates in the handler. */
#ifndef VIGIL_INTERRUPT_H
#define VIGIL_INTERRUPT_H

#include <stdatomic.h>

/* Installs the handlers; returns the flag they set (0 until a signal comes,
 * then its number). Call once, from the main thread, before the work. */
const atomic_int *vg_interrupt_catch(void);
/* The signal caught (SIGINT or SIGTERM), or 0. */
int vg_interrupt_signal(void);
/* "SIGINT" or "SIGTERM" for the signal caught, or NULL. */
const char *vg_interrupt_name(void);
/* The exit status of a command a signal stopped: 128 + its number (130 for
 * SIGINT, 143 for SIGTERM); `status` when none came. */
int vg_interrupt_status(int status);

#endif
