/* ingest.h — from raw lines to stored entries or kept rejects.
 *
 * The one path every input takes (CLI files, the spool, sockets): parse the
 * line, store the entry (or find its duplicate), or keep the line in the
 * rejects table with its reason. The caller owns the transaction: a
 * vg_batch (batch.h) opens and ends it, and vg_ingest_fd uses one of its
 * own. */
#ifndef VIGIL_INGEST_H
#define VIGIL_INGEST_H

#include "config.h"
#include "entry.h"
#include "feed_parse.h"
#include "outbox.h"
#include "rules.h"
#include "store.h"

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* Beside VG_STORED and VG_DUPLICATE: a line refused, a record that
 * corrected (amends) or retracted (retracts) a stored entry (correct.h),
 * and the header row of a table format (tabular.h), which names columns and
 * is no entry. A correction that changes nothing is a VG_DUPLICATE of its
 * entry; so is a row whose id is known and which was not edited since. */
enum { VG_REJECTED = 3, VG_CORRECTION = 5, VG_RETRACTION = 6, VG_HEADER = 7 };

/* What became of one line. */
typedef struct {
  int status;                  /* VG_STORED, VG_DUPLICATE, VG_REJECTED, or a VG_E* code */
  int64_t id;                  /* the entry's id when stored or a duplicate */
  char reason[VG_REASON_MAX];  /* why, when rejected or failed */
} vg_result;

typedef struct {
  uint64_t stored, duplicates, rejected;
  uint64_t corrected; /* entries corrected or retracted */
} vg_counts;

/* A line and where it came from. */
typedef struct {
  const char *data;   /* the bytes, without the newline */
  size_t len;         /* how many are here */
  uint64_t total;     /* the line's full length (more than len when cut at the cap) */
  uint64_t line_no;   /* 1-based, in its input */
  unsigned flags;     /* VG_LINE_* from framer.h */
  vg_format format;   /* how to read it */
  const char *source; /* the source entries get unless a JSON record names one */
  size_t max_line;    /* the cap, to name in the reason of an overlong line */
  const char *origin; /* the file or connection it came from, kept with a reject; may be NULL */
  /* For a table format: the input's reader of rows (its column map), owned
   * by whoever reads the input, used by one thread at a time; NULL for a
   * line format (or one row alone, read by its format's declared columns). */
  struct vg_tabular *table;
} vg_line;

/* Where lines go: the store, and the rules that run on each new entry. */
typedef struct {
  vg_store *st;           /* the store, with the caller's transaction open */
  vg_rules *rules;        /* run on every newly stored entry; NULL for none */
  /* Collects the new alerts for the sinks; may be NULL. vg_ingest_line adds
   * them as they are raised; vg_ingest_fd and vg_batch add them only once
   * their transaction has committed. */
  vg_alert_list *alerts;
  /* Set (by another thread, or a signal handler: interrupt.h) when the work
   * must end: a file or a feed is left between two of its entries, never
   * inside one, and a file waiting for input stops waiting. NULL: never. */
  const atomic_int *stop;
  /* Where the deliveries of the alerts go, written by vg_batch_end inside
   * each transaction (outbox.h); NULL: none are written. */
  vg_outbox *outbox;
} vg_ingest;

/* Whether the work of ig must end before its next entry. */
static inline int vg_ingest_stopped(const vg_ingest *ig) {
  return ig->stop && atomic_load(ig->stop);
}

/* Parses and stores one line inside the caller's open transaction, runs the
 * rules on it when it is new, fills res and adds to c (may be NULL).
 * Returns 0, or VG_EDB / VG_ENOMEM when the store failed: the caller must
 * then roll back, and nothing of the transaction counts. */
int vg_ingest_line(const vg_ingest *ig, const vg_line *line, vg_result *res, vg_counts *c);
/* The two halves of vg_ingest_line, for a caller that parses on one thread
 * and stores on another (reader.h). vg_ingest_parse reads line into e
 * (which may point into line->data: keep it alive) and returns 0, or fills
 * res with why it is refused (status VG_REJECTED) and returns VG_EPARSE; it
 * touches nothing else, so any thread may call it. vg_ingest_parsed then
 * stores e as vg_ingest_line would (the caller still clears e, on whatever
 * thread suits it), or, when e is NULL, keeps the line in rejects with
 * res->reason; same returns. */
int vg_ingest_parse(const vg_line *line, vg_entry *e, vg_result *res);
int vg_ingest_parsed(const vg_ingest *ig, const vg_line *line, const vg_entry *e,
                     vg_result *res, vg_counts *c);
/* Ends a batch before its commit: the rules conclude what waited for the
 * whole batch (absences). Returns 0, or VG_EDB / VG_ENOMEM (roll back). */
int vg_ingest_flush(const vg_ingest *ig);

/* Called for each line of a file that was rejected, with its result. */
typedef void (*vg_reject_fn)(void *ud, const vg_line *line, const vg_result *res);
/* Called after each chunk of a file (a thousand lines or 256 KiB) with the
 * last line number stored and the bytes read so far by this call. */
typedef void (*vg_progress_fn)(void *ud, uint64_t lines, uint64_t bytes);

typedef struct {
  vg_format format;        /* how lines are read */
  const char *source;      /* their default source */
  size_t max_line;         /* the line cap */
  size_t batch;            /* lines per transaction */
  vg_reject_fn on_reject;  /* may be NULL */
  vg_progress_fn progress; /* may be NULL */
  void (*on_commit)(void *ud); /* after each commit (sinks); may be NULL */
  /* Just before each commit, inside its transaction, with the lines read
   * and the offset of the end of the last one (counted from where the fd
   * stood plus `offset`); a non-zero return (VG_EDB) rolls back. May be NULL. */
  int (*before_commit)(void *ud, uint64_t lines, uint64_t offset);
  void *ud;                /* for all four */
  const char *origin;      /* kept with each reject; may be NULL */
  uint64_t first_line;     /* lines before the fd's position: numbering goes on from it */
  uint64_t offset;         /* the fd's position, for before_commit */
  uint64_t max_lines;      /* stop at the first commit after this many lines; 0: read to the end */
} vg_file_opts;

enum { VG_INGEST_MORE = 1 }; /* vg_ingest_fd stopped at max_lines or ig->stop: the rest is unread */

/* Reads fd to its end and ingests every line (read and parsed on a thread
 * of its own, a few chunks ahead: reader.h), committing every `batch`
 * lines through a vg_batch (each commit after vg_ingest_flush; the alerts of
 * a batch go to ig->alerts once it committed) and calling on_commit after
 * each commit. A last line without a newline is ingested too. Returns 0;
 * VG_INGEST_MORE when it stopped after a commit at o->max_lines, or when
 * ig->stop was set (what was read is then committed before the next line:
 * the position of the rest went to before_commit); VG_EIO when a read failed
 * (what came before is committed; err says after which line); or VG_EDB
 * (the open transaction is rolled back). */
int vg_ingest_fd(const vg_ingest *ig, int fd, const vg_file_opts *o, vg_counts *c, char *err,
                 size_t cap);

/* What one feed poll's items became, beside vg_counts. */
typedef struct {
  uint64_t updated;   /* items seen before whose content changed: kept as updates */
  uint64_t unchanged; /* items seen before, the same (rejects kept before included) */
} vg_feed_counts;

/* Ingests body[0..len), a CSV or TSV document in table format fmt, as one
 * poll of feed f inside the caller's open transaction: rows with an id
 * once across polls (a row edited since corrects its entry), rejects kept
 * with their row numbers, once per content (origin: `origin`, or f->url
 * when NULL). Returns 0, VG_EDB / VG_ENOMEM, or VG_ESTOPPED (roll back). */
int vg_ingest_feed_table(const vg_ingest *ig, const vg_feed_conf *f, vg_format fmt,
                         const char *origin, const char *body, size_t len, size_t max_line,
                         vg_counts *c, vg_feed_counts *fc);

/* Ingests the items of one poll of feed f inside the caller's open
 * transaction: each item once, by its guid, across polls (a changed item is
 * kept as an update of its entry, not as a new entry); an item without a
 * date of its own takes `polled` and says so in its fields. An item the
 * parser marked as a reject, or whose record is over max_line, or that does
 * not parse as an entry, is kept in rejects; an item or line rejected before
 * with the same content is not kept again but counted unchanged. JSON and
 * chronology bodies go line by line. Returns 0 or VG_EDB / VG_ENOMEM, or
 * VG_ESTOPPED when ig->stop was set between two items (roll back: the poll
 * is stored whole or not at all). */
int vg_ingest_feed(const vg_ingest *ig, const vg_feed_conf *f, const vg_feed_items *items,
                   time_t polled, size_t max_line, vg_counts *c, vg_feed_counts *fc);

#endif
