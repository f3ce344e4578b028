/* reader.h — a file read and its lines parsed on a thread of their own.
 *
 * The first stage of ingesting a file: a thread reads the descriptor, cuts
 * the bytes into lines (framer.h) and parses each into an entry, or into
 * the reason it is refused (vg_ingest_parse), while the caller's thread
 * stores the chunks before it (vg_ingest_fd). Chunks go from one to the
 * other through a bounded queue, so the reader runs ahead by a few chunks
 * at most and memory stays bounded whatever the file's size. A chunk is
 * handed on when it is full, and before the reader waits for input (a pipe
 * or a terminal, which may hold it for ever): a line read is never left
 * behind in a chunk half filled. The reader touches neither the store nor
 * the rules. */
#ifndef VIGIL_READER_H
#define VIGIL_READER_H

#include "ingest.h"

#include <stdatomic.h>

/* One line of a chunk, parsed. */
typedef struct {
  vg_line line;  /* its bytes (held by the chunk), number, flags and where it came from */
  int parsed;    /* 1: e holds its entry; 0: res holds why it is refused (VG_REJECTED) */
  vg_entry e;    /* points into the chunk */
  vg_result res;
} vg_parsed;

/* Lines in the order of the file. */
typedef struct {
  vg_parsed *v;
  size_t n;
  char *bytes;         /* the lines' bytes, back to back */
  size_t nbytes, capbytes;
  /* 0: more chunks follow; VG_CHUNK_LAST or VG_CHUNK_LIMIT: no more (the
   * file ended, or max_lines were read); VG_EIO or VG_ENOMEM: reading failed
   * after these lines, why says so. */
  int end;
  char why[256];
  int borrowed;        /* the reader's own: vg_chunk_free leaves it */
} vg_chunk;

enum {
  VG_CHUNK_LAST = 1,  /* the file ends after this chunk */
  VG_CHUNK_LIMIT = 2, /* the reader stopped after max_lines: the rest is unread */
};

typedef struct {
  vg_format format;     /* how lines are read */
  const char *source;   /* their default source (outlives the reader) */
  const char *origin;   /* for their rejects; may be NULL (outlives the reader) */
  size_t max_line;      /* the line cap */
  uint64_t first_line;  /* lines before the descriptor's position */
  uint64_t max_lines;   /* read no more lines than this; 0: to the end */
  /* Set (by another thread or a signal handler) when the consumer must not
   * wait for more; NULL: never. */
  const atomic_int *stop;
} vg_reader_opts;

typedef struct vg_reader vg_reader;

/* Starts reading fd from where it stands. Returns NULL when the thread
 * cannot be made (the caller reads on its own thread instead). */
vg_reader *vg_reader_start(int fd, const vg_reader_opts *o);
/* The next chunk, waiting for it; the caller owns it until it gives it
 * back (vg_reader_recycle) or frees it (vg_chunk_free). NULL after a chunk
 * whose `end` was set, or when *stop is set while none is ready (the wait
 * looks at it a few times a second: a pipe may hold it for ever). */
vg_chunk *vg_reader_next(vg_reader *r);
/* Gives a chunk the caller is done with back to the reader, which empties
 * and reuses it (its entries are freed on the thread that made them). */
void vg_reader_recycle(vg_reader *r, vg_chunk *c);
/* Stops the reader wherever it is, even waiting in a read of a pipe (what it
 * read beyond the chunks taken is dropped), joins its thread and frees it.
 * NULL does nothing. */
void vg_reader_stop(vg_reader *r);
/* Frees a chunk and the entries it still holds. */
void vg_chunk_free(vg_chunk *c);

#endif
