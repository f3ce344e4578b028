/* correct.h — corrections and retractions of stored entries.
 *
 * A correction makes a new version of an entry (a date fixed, a text
 * changed) under the same id; a retraction takes an entry out of
 * consideration. Either way its tags, its event and its marks are made
 * again (or dropped), the reports of its event are grouped again, and every
 * alert that rested on it is worked out again from the marks as they are
 * now: amended, raised, or retracted (kept, with the reason). The alerts in
 * force then equal those a clean ingest of the entries' final versions would
 * give (core/correlate.c: an alert is a function of the marks), but for the
 * `quiet` of a rule, which depends on the order alerts came in. */
#ifndef VIGIL_CORRECT_H
#define VIGIL_CORRECT_H

#include "entry.h"
#include "rules.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* One change of a stored entry. */
typedef struct {
  int64_t id;            /* the entry */
  const vg_entry *next;  /* its new version; NULL: retract it */
  const char *reason;    /* why, as the source or the person said (may be NULL) */
  const char *origin;    /* who: "cli", "api", "json", a feed's URL */
} vg_correction;

/* What became of a correction. */
enum {
  VG_CORRECTED = 1, /* the entry changed, and what rested on it was worked out again */
  VG_UNCHANGED = 2, /* the new version says what the entry says, or it was retracted already */
};

/* Applies c inside the caller's open transaction, with the rules r (may
 * be NULL: the entry changes, nothing is worked out again); alerts that
 * change are appended to out (may be NULL) as new versions for the sinks.
 * Returns VG_CORRECTED or VG_UNCHANGED; VG_EINVAL with why in err (no such
 * entry, a retracted entry corrected, a version that says what another
 * entry says: nothing written); or VG_EDB / VG_ENOMEM (roll back). */
int vg_correct(vg_rules *r, vg_store *st, const vg_correction *c, vg_alert_list *out, char *err,
               size_t cap);

#endif
