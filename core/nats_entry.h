/* nats_entry.h — what a message of the JetStream stream of entries becomes,
 * wherever it is read: the daemon's source (source_nats.c) and `vigil
 * replay --nats` (cmd_replay_nats.c) take the same subjects and store each
 * message the same way, so that both leave the same rows. */
#ifndef VIGIL_NATS_ENTRY_H
#define VIGIL_NATS_ENTRY_H

#include "config.h"
#include "ingest.h"

#include <stddef.h>
#include <stdint.h>

/* The subject a consumer of the stream takes: nats_filter, else the
 * partition's (vigil.entries.P for nats_partition P), else every subject of
 * the stream (""). malloc'd; NULL when out of memory. */
char *vg_nats_entry_filter(const vg_config *c);

/* Stores message seq of stream, its data[0..len) one line (a newline that
 * ends it is dropped; one inside it, or more than max_line bytes, is a
 * reject, kept with the origin nats:STREAM:SEQ), read as `format`, through
 * ig (rules run on a new entry), and notes it in nats_msgs, all inside the
 * caller's open transaction. Ask vg_store_nats_seen first: a message noted
 * already is a database error. res says what the line became. 0, or
 * VG_EDB / VG_ENOMEM (roll back). */
int vg_nats_entry_store(const vg_ingest *ig, vg_format format, size_t max_line, const char *stream,
                        uint64_t seq, const char *data, size_t len, vg_result *res);

/* The name of the fact (table meta) that holds when the stream the
 * database's messages of `stream` came from was made (ns since 1970, as
 * text): a stream made anew under that name numbers from 1 again, and only
 * this tells its messages from the old ones. */
void vg_nats_created_key(const char *stream, char *buf, size_t cap);

#endif
