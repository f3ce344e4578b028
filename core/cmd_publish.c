/* cmd_publish.c — `vigil publish`: the lines of files or standard input to
 * the JetStream stream of entries, for daemons that read it (source_nats.c).
 *
 * Lines are read and parsed as `vigil ingest` reads them (reader.h, on a
 * thread of its own); a line that does not parse is said and not
 * published. Each good line goes, as it was written, to the subject
 * vigil.entries.P: P is 0 without partitions, else the partition of the
 * text of a field of its entry (vg_entry_field_text, vg_bus_partition), the
 * field correlation rules group by, so that every entry of one key reaches
 * the one daemon that consumes its partition. Publishing is asynchronous,
 * with a bounded number of messages awaiting JetStream's ack; the command
 * waits for every ack before it ends. Each message carries a Nats-Msg-Id
 * made of the line's bytes and number, so that a run repeated (after a
 * crash, say) is dropped by the stream's duplicate window. */
#include "bus.h"
#include "cli.h"
#include "entry.h"
#include "framer.h"
#include "interrupt.h"
#include "reader.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define IN_FLIGHT 4096    /* messages published and not yet acknowledged, at most */
#define STALL_MS 30000    /* how long a publish waits for room among them */
#define COMPLETE_MS 60000 /* how long the end waits for the last acks */
#define SAY_FAILURES 10   /* refused messages said one by one, at most */
#define HEADER_BYTES 80   /* a message's headers, Nats-Msg-Id and all, at most */

static const char help[] =
    "usage: vigil publish [--nats URL] [--partition-by FIELD --partitions N] [--no-msg-id]\n"
    "                     [--json] [--config FILE] FILE...|-\n"
    "Publishes each line of the files (or of standard input, '-') that reads as an entry\n"
    "(a chronology line or a JSON record, as `vigil ingest` reads them; the `format`\n"
    "setting applies) to the JetStream stream nats_stream (VIGIL_ENTRIES, made when\n"
    "missing), for daemons that read it (vigil run --nats). A line that does not read is\n"
    "reported as FILE:LINE: reason and not published; the others still are.\n"
    "  --nats URL          the NATS server(s) (default: nats_url)\n"
    "  --partition-by FIELD\n"
    "                      send each entry to subject vigil.entries.P, P the partition of\n"
    "                      the text of its FIELD: FNV-1a (32 bits) of its bytes modulo N.\n"
    "                      FIELD is `source` (the record's \"source\", else nats, as the\n"
    "                      daemon sees it) or a member of the JSON record other than date\n"
    "                      and text; an entry without it goes to the partition of the\n"
    "                      empty text (default: nats_partition_by)\n"
    "  --partitions N      how many partitions (default: nats_partitions); without\n"
    "                      partitions every line goes to vigil.entries.0\n"
    "  --no-msg-id         no Nats-Msg-Id header (by default vigil-HASH-LINE, so that a\n"
    "                      run repeated within the stream's duplicate window stores\n"
    "                      nothing twice)\n"
    "  --json              one JSON object a line: each rejected line {\"type\":\"reject\",\n"
    "                      file, line, reason}, then {\"type\":\"summary\", files, published,\n"
    "                      duplicates, rejected, failed, interrupted}\n"
    "Prints 'N published, N duplicates, N rejected' (duplicates: dropped by the stream as\n"
    "published before); none with --quiet. SIGINT or SIGTERM stops reading; what was\n"
    "published is waited for, and the exit status is 130 (143 for SIGTERM).\n"
    "Exit status: 0 when every line was published, 1 when any was rejected, 2 on a usage\n"
    "error, 3 when a file could not be read, the server could not be reached or refused a\n"
    "message.\n";

/* What the acks tell, counted on libnats's threads. */
typedef struct {
  atomic_ullong published;  /* stored by the stream */
  atomic_ullong duplicates; /* dropped by its duplicate window */
  atomic_ullong failed;     /* refused, or not acknowledged */
  atomic_ullong handled;    /* messages on_ack is done with */
} acks;

/* One run of the command. */
typedef struct {
  jsCtx *js;              /* the bus's connection, with the asynchronous options */
  const char *field;      /* --partition-by, or NULL */
  unsigned partitions;    /* 1 without */
  int msg_id;             /* set the Nats-Msg-Id header */
  int64_t max_payload;    /* the server's limit on a message, its headers counted */
  const atomic_int *stop; /* a signal came */
  acks acks;
  uint64_t rejected, sent;
  int failed;    /* a publish call failed: the rest is not sent */
  char why[768]; /* what the failed call said */
  /* A table format's header row of the file being read, sent before each
   * of its rows so that the daemon maps their cells as the file does. */
  char *header;
  size_t header_len;
} run;

/* Called by libnats for each message JetStream acknowledged or refused. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *ud) {
  (void)js;
  run *x = ud;
  if (pa) {
    atomic_fetch_add(pa->Duplicate ? &x->acks.duplicates : &x->acks.published, 1);
  } else if (pae) {
    unsigned long long n = atomic_fetch_add(&x->acks.failed, 1);
    if (n < SAY_FAILURES) {
      const char *id = NULL;
      natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
      vg_cli_eprintf("vigil publish: the stream refused a message to %s%s%s: %s (JetStream error"
                     " %d)\n",
                     natsMsg_GetSubject(msg), id ? " with Nats-Msg-Id " : "", id ? id : "",
                     pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err), (int)pae->ErrCode);
    }
  }
  natsMsg_Destroy(msg);
  atomic_fetch_add(&x->acks.handled, 1);
}

static int publish_bytes(run *x, vg_parsed *p, const char *data, size_t len);

/* Publishes one parsed line; 0, 1 when it is too large for the server
 * (said as a reject, in p->res.reason), or -1 with why in x->why. */
static int publish_line(run *x, vg_parsed *p) {
  /* A row of a table with a header goes with its header: "HEADER\nROW". */
  char *payload = NULL;
  size_t len = p->line.len;
  const char *data = p->line.data;
  if (x->header) {
    if (!(payload = malloc(x->header_len + 1 + len + 1))) {
      snprintf(x->why, sizeof x->why, "out of memory");
      return -1;
    }
    memcpy(payload, x->header, x->header_len);
    payload[x->header_len] = '\n';
    memcpy(payload + x->header_len + 1, data, len);
    data = payload;
    len += x->header_len + 1;
  }
  int rc = publish_bytes(x, p, data, len);
  free(payload);
  return rc;
}

/* Publishes data[0..len) for the parsed line p, as publish_line says. */
static int publish_bytes(run *x, vg_parsed *p, const char *data, size_t len) {
  /* NATS/1.0, the Nats-Msg-Id header and its id: under 80 bytes. */
  int64_t size = (int64_t)len + (x->msg_id ? HEADER_BYTES : 0);
  if (x->max_payload > 0 && size > x->max_payload) {
    snprintf(p->res.reason, sizeof p->res.reason,
             "%zu bytes: over the %lld bytes the server takes in a message%s", len,
             (long long)x->max_payload,
             x->header ? " (with the table's header row)" : x->msg_id ? " (with its header)" : "");
    return 1;
  }
  char subject[64], field[VG_FIELD_MAX];
  unsigned part = 0;
  if (x->field) {
    long n = vg_entry_field_text(p->e.source, p->e.fields, x->field, field);
    part = vg_bus_partition(field, n > 0 ? (size_t)n : 0, x->partitions);
  }
  snprintf(subject, sizeof subject, "%s.%u", VG_BUS_ENTRIES_PREFIX, part);
  natsMsg *m = NULL;
  natsStatus s = natsMsg_Create(&m, subject, NULL, data, (int)len);
  if (s == NATS_OK && x->msg_id) {
    char id[64];
    snprintf(id, sizeof id, "vigil-%016llx-%llu",
             (unsigned long long)XXH3_64bits(data, len),
             (unsigned long long)p->line.line_no);
    s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
  }
  if (s == NATS_OK) s = js_PublishMsgAsync(x->js, &m, NULL);
  natsMsg_Destroy(m); /* NULL once libnats took it */
  if (s != NATS_OK) {
    vg_bus_why(x->why, sizeof x->why, "nats: publishing", s, 0);
    return -1;
  }
  x->sent++;
  return 0;
}

static void on_reject(const char *name, const vg_parsed *p) {
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "reject");
    cJSON_AddStringToObject(o, "file", name);
    cJSON_AddNumberToObject(o, "line", (double)p->line.line_no);
    cJSON_AddStringToObject(o, "reason", p->res.reason);
    vg_cli_json_line(o);
    return;
  }
  vg_cli_eprintf("%s:%llu: %s\n", name, (unsigned long long)p->line.line_no, p->res.reason);
}

/* The bytes of fd from where it stands to its end, when it is a regular
 * file; 0 when that is not known. */
static uint64_t bytes_left(int fd) {
  struct stat sb;
  off_t at = lseek(fd, 0, SEEK_CUR);
  if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || at < 0 || sb.st_size <= at) return 0;
  return (uint64_t)(sb.st_size - at);
}

/* Publishes the lines of fd (name for messages). 0; -1 when the file could
 * not be read to its end or a publish failed (said). */
static int publish_fd(run *x, const vg_config *cfg, int fd, const char *name) {
  vg_reader_opts ro = {.format = cfg->format,
                       .source = VG_BUS_SOURCE,
                       .origin = name,
                       .max_line = cfg->max_line,
                       .stop = x->stop};
  vg_progress pr;
  vg_progress_init(&pr, name, "lines", bytes_left(fd), vg_cli.quiet || vg_cli.json);
  vg_reader *r = vg_reader_start(fd, &ro);
  if (!r) {
    vg_cli_eprintf("%s: cannot start a thread to read it\n", name);
    return -1;
  }
  int rc = 0, prc;
  uint64_t bytes = 0, line = 0;
  vg_chunk *ch;
  while (!x->failed && (ch = vg_reader_next(r))) {
    for (size_t i = 0; i < ch->n && !x->failed && !atomic_load(x->stop); i++) {
      vg_parsed *p = &ch->v[i];
      bytes += p->line.total + !(p->line.flags & VG_LINE_NO_EOL);
      line = p->line.line_no;
      if (!p->parsed && p->res.status == VG_HEADER) { /* a table's header: sent with each row */
        free(x->header);
        x->header_len = p->line.len;
        if (!(x->header = malloc(x->header_len ? x->header_len : 1))) {
          snprintf(x->why, sizeof x->why, "out of memory");
          x->failed = 1;
          continue;
        }
        memcpy(x->header, p->line.data, x->header_len);
        continue;
      }
      if (!p->parsed) {
        vg_progress_clear(&pr);
        on_reject(name, p);
        x->rejected++;
      } else if ((prc = publish_line(x, p)) > 0) {
        vg_progress_clear(&pr);
        on_reject(name, p);
        x->rejected++;
      } else if (prc < 0) {
        x->failed = 1;
      }
    }
    vg_progress_show(&pr, line, bytes);
    int end = ch->end;
    if (end < 0 && !x->failed) {
      vg_progress_clear(&pr);
      vg_cli_eprintf("%s: %s\n", name, ch->why);
      rc = -1;
    }
    vg_reader_recycle(r, ch);
    if (end || atomic_load(x->stop)) break;
  }
  vg_reader_stop(r);
  free(x->header); /* each file has its own */
  x->header = NULL;
  x->header_len = 0;
  vg_progress_clear(&pr);
  if (x->failed) {
    vg_cli_eprintf("vigil publish: %s: at line %llu: %s\n", name, (unsigned long long)line, x->why);
    rc = -1;
  }
  return rc;
}

/* Waits for the acks of every message sent; the ones that never come count
 * as failed. */
static void wait_acks(run *x) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = COMPLETE_MS;
  natsStatus s = js_PublishAsyncComplete(x->js, &po);
  if (s == NATS_OK) {
    /* libnats counts a message acknowledged before its handler has run:
     * the last handlers may still be queued, far behind on a busy machine
     * (a message whose handler never ran is never freed). Waited for as
     * long as the acks themselves may take. */
    int64_t until = nats_Now() + COMPLETE_MS;
    while (atomic_load(&x->acks.handled) < x->sent && nats_Now() < until) nats_Sleep(1);
    return;
  }
  natsMsgList pending = {0};
  if (js_PublishAsyncGetPendingList(&pending, x->js) == NATS_OK) {
    atomic_fetch_add(&x->acks.failed, (unsigned long long)pending.Count);
    vg_cli_eprintf("vigil publish: %d messages were not acknowledged within %d s; publish"
                   " again to send them (the stream drops those it has)\n",
                   pending.Count, COMPLETE_MS / 1000);
    natsMsgList_Destroy(&pending);
  }
}

static void summary(run *x, int files, const char *signal) {
  unsigned long long pub = atomic_load(&x->acks.published), dup = atomic_load(&x->acks.duplicates),
                     bad = atomic_load(&x->acks.failed);
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "summary");
    cJSON_AddNumberToObject(o, "files", files);
    cJSON_AddNumberToObject(o, "published", (double)pub);
    cJSON_AddNumberToObject(o, "duplicates", (double)dup);
    cJSON_AddNumberToObject(o, "rejected", (double)x->rejected);
    cJSON_AddNumberToObject(o, "failed", (double)bad);
    cJSON_AddBoolToObject(o, "interrupted", signal != NULL);
    if (signal) cJSON_AddStringToObject(o, "signal", signal);
    vg_cli_json_line(o);
    return;
  }
  if (vg_cli.quiet) return;
  printf("%llu published, %llu duplicates, %llu rejected", pub, dup,
         (unsigned long long)x->rejected);
  if (bad) printf(", %llu failed", bad);
  if (signal) printf("; interrupted by %s: the rest was not read", signal);
  putchar('\n');
  fflush(stdout); /* out before the connection and the library are torn down */
}

int vg_cmd_publish(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  enum { OPT_NATS = 0x200, OPT_BY, OPT_PARTS, OPT_NO_ID };
  static const struct option opts[] = {{"nats", required_argument, NULL, OPT_NATS},
                                       {"partition-by", required_argument, NULL, OPT_BY},
                                       {"partitions", required_argument, NULL, OPT_PARTS},
                                       {"no-msg-id", no_argument, NULL, OPT_NO_ID},
                                       VG_CLI_GLOBAL_OPTIONS,
                                       {0}};
  const char *url = NULL, *field = NULL, *parts = NULL;
  int opt, status = VG_EXIT_OK, msg_id = 1;
  vg_bus *bus = NULL;
  run x = {.msg_id = 1};
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    switch (opt) {
    case OPT_NATS: url = optarg; break;
    case OPT_BY: field = optarg; break;
    case OPT_PARTS: parts = optarg; break;
    case OPT_NO_ID: msg_id = 0; break;
    case 'h': fputs(help, stdout); goto done;
    default:
      fputs(help, stderr);
      status = VG_EXIT_USAGE;
      goto done;
    }
  }
  vg_config_resolve(&cfg);
  if (optind >= argc) {
    fputs(help, stderr);
    status = VG_EXIT_USAGE;
    goto done;
  }
  if (!url) url = cfg.nats_url;
  if (!field && cfg.nats_partition_by && cfg.nats_partition_by[0]) field = cfg.nats_partition_by;
  unsigned long n = cfg.nats_partitions ? cfg.nats_partitions : 1;
  if (parts) {
    char *end;
    errno = 0;
    n = strtoul(parts, &end, 10);
    if (errno || *end || !parts[0] || parts[0] == '-' || n < 1 || n > VG_BUS_PARTITIONS_MAX) {
      vg_cli_eprintf("vigil publish: --partitions must be a whole number from 1 to %d, not '%s'\n",
                     VG_BUS_PARTITIONS_MAX, parts);
      status = VG_EXIT_USAGE;
      goto done;
    }
  }
  if (field && !vg_entry_field_name_ok(field)) {
    vg_cli_eprintf("vigil publish: --partition-by '%s' names no field: source, or a member of"
                   " the JSON record other than date and text\n",
                   field);
    status = VG_EXIT_USAGE;
    goto done;
  }
  if (n > 1 && !field) {
    fprintf(stderr,
            "vigil publish: %lu partitions, but no --partition-by FIELD to choose one"
            " (nor nats_partition_by)\n",
            n);
    status = VG_EXIT_USAGE;
    goto done;
  }
  if (!url || !url[0]) {
    fprintf(stderr, "vigil publish: no NATS server: give --nats URL, or set nats_url\n");
    status = VG_EXIT_USAGE;
    goto done;
  }
  char err[1024];
  if (!(bus = vg_bus_connect(url, "vigil publish", 5000, err, sizeof err)) ||
      vg_bus_stream(bus, cfg.nats_stream, (const char *const *)cfg.nats_subjects,
                    VG_BUS_DUPLICATE_WINDOW_MS, err, sizeof err)) {
    vg_cli_eprintf("vigil publish: %s\n", err);
    status = VG_EXIT_FAIL;
    goto done;
  }
  x.field = field;
  x.partitions = (unsigned)n;
  x.msg_id = msg_id;
  x.max_payload = natsConnection_GetMaxPayload(bus->nc);
  x.stop = vg_interrupt_catch();
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = IN_FLIGHT;
  jo.PublishAsync.StallWait = STALL_MS;
  jo.PublishAsync.AckHandler = on_ack;
  jo.PublishAsync.AckHandlerClosure = &x;
  natsStatus s = natsConnection_JetStream(&x.js, bus->nc, &jo);
  if (s != NATS_OK) {
    vg_bus_why(err, sizeof err, "nats: JetStream", s, 0);
    vg_cli_eprintf("vigil publish: %s\n", err);
    status = VG_EXIT_FAIL;
    goto done;
  }
  int files = 0;
  for (int i = optind; i < argc && !x.failed && !vg_interrupt_signal(); i++) {
    const char *path = argv[i];
    int std = strcmp(path, "-") == 0;
    int fd = std ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      vg_cli_eprintf("%s: cannot open: %s\n", path, strerror(errno));
      status = VG_EXIT_FAIL;
      continue;
    }
    if (publish_fd(&x, &cfg, fd, std ? "stdin" : path)) status = VG_EXIT_FAIL;
    if (!std) close(fd);
    files++;
  }
  wait_acks(&x);
  summary(&x, files, vg_interrupt_name());
  if (atomic_load(&x.acks.failed)) status = VG_EXIT_FAIL;
  if (status == VG_EXIT_OK && x.rejected) status = VG_EXIT_REJECTS;
  status = vg_interrupt_status(status);
done:
  jsCtx_Destroy(x.js);
  vg_bus_close(bus);
  if (bus) nats_CloseAndWait(VG_BUS_CLOSE_WAIT_MS);
  vg_config_free(&cfg);
  return status;
}
