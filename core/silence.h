/* silence.h — what `vigil silence` (cmd_silence.c) and the HTTP API's
 * /v1/silences (api_silences.c) share about silences: reading the time a
 * silence lasts until (a UTC time, or a duration from now) and the JSON
 * object of a silence. The silences themselves live in the store
 * (store.h, db/013_silences.sql), which marks the alerts they silence.
 * Safe on any thread. */
#ifndef VIGIL_SILENCE_H
#define VIGIL_SILENCE_H

#include "date.h"
#include "store.h"

#include <stddef.h>
#include <time.h>

/* Bytes of a time as the store keeps it ("2026-12-03T19:45:25Z"), with its NUL. */
#define VG_SILENCE_TIME_MAX VG_UTC_ISO_MAX

/* The longest a silence may last: ten years. */
#define VG_SILENCE_MAX_SECONDS (10LL * 366 * 86400)

/* Reads an ISO 8601 time with its zone, "2026-12-04T08:00Z",
 * "2026-12-04T08:00:00Z" or "2026-12-04T17:00:00+09:00", into *t (seconds
 * since 1970, UTC). 0, or -1 with why in err. */
int vg_silence_parse_time(const char *text, time_t *t, char *err, size_t cap);
/* Reads a duration: a whole number and a unit (s, m, h, d or w), or
 * several ("1d12h"), more than zero and at most VG_SILENCE_MAX_SECONDS.
 * 0 with its seconds in *secs, or -1 with why in err. */
int vg_silence_parse_duration(const char *text, long long *secs, char *err, size_t cap);
/* The `until` of a new silence, from a time (until_text) or a duration from
 * now (for_text); exactly one of them is not NULL. It must lie after now
 * and at most VG_SILENCE_MAX_SECONDS ahead. 0 with it in out; -1 when the
 * text cannot be read, -2 when it is read but not after now or too far
 * ahead; why in err, naming "until" or "for". */
int vg_silence_until(const char *until_text, const char *for_text, time_t now,
                     char out[VG_SILENCE_TIME_MAX], char *err, size_t cap);

/* The JSON object of a silence: id, rule, key (null: any key), until,
 * author, reason, created_at, expired_at (null until expired), state
 * ("active" or "expired"). NULL when out of memory. */
struct cJSON;
struct cJSON *vg_silence_json(const vg_silence_row *s);

#endif
