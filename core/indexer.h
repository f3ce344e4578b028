/* indexer.h — keeps the full-text index up to date on a thread of its own.
 *
 * Ingest stores entries (and the updates of feed items) without indexing
 * their text (store.h); the indexer reads what has been committed, on its
 * own connection, and adds it to the text index in chunks, off the ingest
 * path and on the other core, then checkpoints the write-ahead log
 * (store.h: vg_store_on_commit). A text search does not wait for it:
 * vg_store_query indexes what is left first. */
#ifndef VIGIL_INDEXER_H
#define VIGIL_INDEXER_H

#include <stddef.h>

typedef struct vg_indexer vg_indexer;

/* Starts indexing the database at path (already created and migrated by the
 * caller's store). Returns NULL with the reason in err when the thread or
 * its connection cannot be made: ingest goes on without it. */
vg_indexer *vg_indexer_start(const char *path, char *err, size_t cap);
/* Says new entries were committed (cheap; any thread). */
void vg_indexer_poke(vg_indexer *ix);
/* For a store's commit hook (store.h): pokes ud, a vg_indexer. */
void vg_indexer_poke_fn(void *ud);
/* Stops after the chunk in hand (what is left stays for the next indexer or
 * search), joins the thread and frees it. NULL does nothing. */
void vg_indexer_stop(vg_indexer *ix);

#endif
