/* cmd_ingest.c — `vigil ingest`: batch ingestion of files or standard input. */
#include "cli.h"
#include "indexer.h"
#include "ingest.h"
#include "interrupt.h"
#include "tabular.h"
#include "sinks.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "usage: vigil ingest [--format auto|chrono|json|TABLE] [--source NAME]\n"
    "                    [--rules PATH... | --no-rules]\n"
    "                    [--skip-broken] [--json] [--db PATH] [--config FILE] FILE...|-\n"
    "Stores every dated entry of the files (or of standard input, '-'), one per line.\n"
    "Lines that cannot be read are reported as FILE:LINE: reason and kept in the\n"
    "rejects table; the others are still stored. The same entry twice is stored once.\n"
    "  --format F     chrono lines, JSON records, or auto (per line; the default); or\n"
    "                 the rows of a CSV or TSV table format: acled, gdelt, or one the\n"
    "                 configuration's formats table declares (a file whose name ends in\n"
    "                 a format's suffix, .acled.csv or .export.CSV, is read so unless\n"
    "                 --format says otherwise). Rejects then say FILE:ROW\n"
    "  --source NAME  the source of the entries (default: the file's name, or stdin)\n"
    "  --rules PATH   run the rules of PATH (a directory or a file; repeat it for more,\n"
    "                 loaded as one set) on each new entry, as the daemon does (default:\n"
    "                 the configured rules); their alerts go to the configured sinks\n"
    "  --no-rules     store only\n"
    "  --skip-broken  run the rules that load even if others do not (by default a\n"
    "                 rule file that does not load stops the command before any line)\n"
    "  --json         one JSON object a line on standard output: each rejected line\n"
    "                 {\"type\":\"reject\", file, line, reason}, each file {\"type\":\"file\",\n"
    "                 file, stored, duplicates, rejected}, then {\"type\":\"summary\", files,\n"
    "                 stored, duplicates, rejected, interrupted, and signal (SIGINT or\n"
    "                 SIGTERM) when it was}\n"
    "On a terminal, a progress line on standard error (lines, lines/s, and the percent\n"
    "and time left of a regular file); none with --quiet, which also drops the text\n"
    "summary. SIGINT or SIGTERM stops it cleanly: what was read is committed, the\n"
    "summary says it was interrupted, and the exit status is 130 (143 for SIGTERM).\n"
    "Exit status: 0 when every line was stored or a duplicate, 1 when any was\n"
    "rejected, 2 on a usage error, 3 when a rule file, a file or the database failed.\n";

/* What the callbacks of one file need. */
typedef struct {
  const char *name;      /* the file as given, for messages */
  vg_progress progress;  /* on standard error, when it is a terminal */
  vg_sinks *sinks;       /* where new alerts go after each commit */
  vg_alert_list *alerts; /* the alerts committed, not yet sent */
  uv_loop_t *loop;       /* runs the command sinks */
  vg_outbox *outbox;     /* the deliveries this command wrote */
  vg_store *st;
} ctx;

static void on_commit(void *ud) {
  ctx *x = ud;
  vg_sinks_send_all(x->sinks, x->alerts);
  if (x->outbox) vg_sinks_pump(x->sinks, x->outbox, x->st);
  uv_run(x->loop, UV_RUN_NOWAIT);
}

static void on_reject(void *ud, const vg_line *line, const vg_result *res) {
  ctx *x = ud;
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "reject");
    cJSON_AddStringToObject(o, "file", x->name);
    cJSON_AddNumberToObject(o, "line", (double)line->line_no);
    cJSON_AddStringToObject(o, "reason", res->reason);
    vg_cli_json_line(o);
    return;
  }
  vg_progress_clear(&x->progress);
  vg_cli_eprintf("%s:%llu: %s\n", x->name, (unsigned long long)line->line_no, res->reason);
}

static void on_progress(void *ud, uint64_t lines, uint64_t bytes) {
  ctx *x = ud;
  vg_progress_show(&x->progress, lines, bytes);
}

/* The bytes of fd from where it stands to its end, when it is a regular
 * file; 0 when that is not known. */
static uint64_t bytes_left(int fd) {
  struct stat sb;
  off_t at = lseek(fd, 0, SEEK_CUR);
  if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || at < 0 || sb.st_size <= at) return 0;
  return (uint64_t)(sb.st_size - at);
}

/* Says what became of the lines of one file (name) or of all (NULL): as
 * text, or as one JSON object. */
static void print_counts(const char *name, const vg_counts *c, int files, const char *signal) {
  if (vg_cli.json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", name ? "file" : "summary");
    if (name) cJSON_AddStringToObject(o, "file", name);
    else cJSON_AddNumberToObject(o, "files", files);
    cJSON_AddNumberToObject(o, "stored", (double)c->stored);
    cJSON_AddNumberToObject(o, "duplicates", (double)c->duplicates);
    cJSON_AddNumberToObject(o, "rejected", (double)c->rejected);
    cJSON_AddNumberToObject(o, "corrected", (double)c->corrected);
    if (!name) cJSON_AddBoolToObject(o, "interrupted", signal != NULL);
    if (signal) cJSON_AddStringToObject(o, "signal", signal);
    vg_cli_json_line(o);
    return;
  }
  if (vg_cli.quiet) return;
  if (name) vg_cli_printf("%s: ", name);
  printf("%llu stored, %llu duplicates, %llu rejected", (unsigned long long)c->stored,
         (unsigned long long)c->duplicates, (unsigned long long)c->rejected);
  if (c->corrected) printf(", %llu corrected or retracted", (unsigned long long)c->corrected);
  if (signal) printf("; interrupted by %s: the rest was not read", signal);
  putchar('\n');
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

int vg_cmd_ingest(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {"source", required_argument, NULL, 's'},
                                       VG_CLI_RULES_OPTION,
                                       {"no-rules", no_argument, NULL, 'n'},
                                       VG_CLI_SKIP_BROKEN_OPTION,
                                       VG_CLI_GLOBAL_OPTIONS,
                                       {0}};
  const char *source = NULL;
  int opt, status = VG_EXIT_OK, no_rules = 0, skip_broken = 0, format_given = 0;
  vg_rules *rules = NULL;
  vg_sinks *sinks = NULL;
  vg_outbox *outbox = NULL;
  vg_alert_list alerts = {0};
  uv_loop_t loop;
  uv_loop_init(&loop);
  optind = 1;
  while ((opt = getopt_long(argc, argv, "f:s:" VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    switch (opt) {
    case 'f':
      if (vg_format_parse(optarg, &cfg.format) == 0) {
        format_given = 1;
        break;
      }
      fprintf(stderr, "vigil ingest: --format must be auto, chrono, json or a table format "
              "(acled, gdelt, or one the configuration's formats table declares), not '%s'\n",
              optarg);
      status = VG_EXIT_USAGE;
      goto done;
    case 's': source = optarg; break;
    case 'r': vg_cli_flag("vigil ingest", &cfg, "rules", optarg); break;
    case 'n': no_rules = 1; break;
    case 'B': skip_broken = 1; break;
    case 'h': fputs(help, stdout); goto done;
    default: fputs(help, stderr); status = VG_EXIT_USAGE; goto done;
    }
  }
  vg_config_resolve(&cfg); /* every layer is in: derive the paths */
  if (optind >= argc) {
    fputs(help, stderr);
    status = VG_EXIT_USAGE;
    goto done;
  }
  char err[512];
  /* The rules first: broken ones stop the command before the database is touched. */
  if (!no_rules && !(rules = vg_cli_command_rules("vigil ingest", &cfg, skip_broken))) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  vg_store *st = vg_cli_open_store("vigil ingest", &cfg, 0);
  if (!st) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  if (!no_rules && !(sinks = vg_sinks_new(&loop, &cfg, err, sizeof err))) {
    fprintf(stderr, "vigil ingest: %s\n", err);
    status = VG_EXIT_FAIL;
    vg_store_close(st);
    goto done;
  }
  if (sinks && !(outbox = vg_sinks_outbox(sinks, st, 1))) {
    fprintf(stderr, "vigil ingest: out of memory\n");
    status = VG_EXIT_FAIL;
    vg_store_close(st);
    goto done;
  }
  /* The text index follows on the other core; what it has not reached when
   * the files are in is left to the daemon or the next text search. */
  vg_indexer *ix = vg_indexer_start(cfg.db, err, sizeof err);
  if (!ix) vg_warn("text index: %s; text searches index what they need", err);
  vg_store_on_commit(st, ix ? vg_indexer_poke_fn : NULL, ix);
  vg_ingest ig = {st, rules, &alerts, vg_interrupt_catch(), outbox};
  vg_counts total = {0};
  int files = 0;
  for (int i = optind; i < argc && !vg_interrupt_signal(); i++) {
    const char *path = argv[i];
    int std = strcmp(path, "-") == 0;
    ctx x = {.name = std ? "stdin" : path, .sinks = sinks, .alerts = &alerts, .loop = &loop,
             .outbox = outbox, .st = st};
    int fd = std ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      vg_cli_eprintf("%s: cannot open: %s\n", path, strerror(errno));
      status = VG_EXIT_FAIL;
      continue;
    }
    vg_progress_init(&x.progress, x.name, "lines", bytes_left(fd), vg_cli.quiet);
    const vg_tabular_format *by_name = format_given || std ? NULL
                                       : vg_tabular_by_suffix(base_name(path));
    vg_file_opts o = {.format = by_name ? vg_tabular_fmt(by_name) : cfg.format,
                      .source = source ? source : std ? "stdin" : base_name(path),
                      .max_line = cfg.max_line,
                      .batch = cfg.batch_max > 1000 ? cfg.batch_max : 10000,
                      .on_reject = on_reject, .progress = on_progress, .on_commit = on_commit,
                      .ud = &x, .origin = std ? "stdin" : path};
    vg_counts c = {0};
    int rc = vg_ingest_fd(&ig, fd, &o, &c, err, sizeof err);
    if (!std) close(fd);
    vg_progress_clear(&x.progress);
    if (rc < 0) { /* VG_INGEST_MORE: interrupted, said in the summary */
      vg_cli_eprintf("%s: %s\n", x.name, err);
      status = VG_EXIT_FAIL;
    }
    files++;
    if (argc - optind > 1 || vg_cli.json) print_counts(x.name, &c, 0, NULL);
    total.corrected += c.corrected;
    total.stored += c.stored;
    total.duplicates += c.duplicates;
    total.rejected += c.rejected;
  }
  if (outbox) vg_sinks_drain(sinks, outbox, st, &loop); /* what failed is the daemon's then */
  vg_indexer_stop(ix);
  vg_store_close(st);
  print_counts(NULL, &total, files, vg_interrupt_name());
  if (status == VG_EXIT_OK && total.rejected) status = VG_EXIT_REJECTS;
  status = vg_interrupt_status(status);
done:
  vg_sinks_close(sinks); /* commands still running finish below */
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  vg_outbox_free(outbox);
  vg_rules_free(rules);
  vg_alert_list_clear(&alerts);
  free(alerts.v);
  vg_config_free(&cfg);
  return status;
}
