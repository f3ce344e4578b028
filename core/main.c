/* main.c — `vigil COMMAND [OPTIONS]`: dispatch, and the global options. */
#include "cli.h"
#include "vigil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *what;
} commands[] = {
    {"run", vg_cmd_run, "run the daemon: sockets, spool, feeds, rules, digests"},
    {"ingest", vg_cmd_ingest, "store the entries of files or standard input"},
    {"publish", vg_cmd_publish, "publish the lines of files to the JetStream stream of entries"},
    {"query", vg_cmd_query, "list stored entries in date order"},
    {"show", vg_cmd_show, "show entries in full by id: tags, alerts, updates"},
    {"alerts", vg_cmd_alerts, "list stored alerts in date order"},
    {"explain", vg_cmd_explain, "say why an alert fired, or why an entry raised none"},
    {"silence", vg_cmd_silence, "add, list or expire silences of a rule's alerts"},
    {"amend", vg_cmd_amend, "correct a stored entry; what rested on it is worked out again"},
    {"retract", vg_cmd_retract, "retract a stored entry; what rested on it is worked out again"},
    {"poll", vg_cmd_poll, "fetch feeds once and store their new items"},
    {"feeds", vg_cmd_feeds, "show the health of the feeds polled"},
    {"digest", vg_cmd_digest, "write a digest now, or list the scheduled ones"},
    {"check", vg_cmd_check, "load every rule file and report its errors"},
    {"test", vg_cmd_test, "run the test cases the rule files carry"},
    {"replay", vg_cmd_replay, "run the current rules again over stored entries"},
    {"eval", vg_cmd_eval, "measure rules against labelled entries"},
    {"config", vg_cmd_config, "check a configuration file, or show the settings in force"},
};

static void usage(FILE *to) {
  fprintf(to, "usage: vigil COMMAND [OPTIONS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(to, "  %-8s %s\n", commands[i].name, commands[i].what);
  fprintf(to, "\nglobal options, before or after the command word:\n"
              "  --db PATH         the database (default var/vigil.db, or vigil.db in state_dir);\n"
              "                    the socket, spool, alerts and digests default to beside it\n"
              "                    (query and alerts take it again and again: merged)\n"
              "  --config FILE     a configuration file (Lua)\n"
              "  --log-level L     debug, info, notice, warn or error\n"
              "  -q, --quiet       errors only: no summary, no progress\n"
              "  -v, --verbose     informational lines too\n"
              "  --json            records and summaries as one JSON object a line\n"
              "  --help            on each command, what it does and takes\n"
              "vigil COMMAND --help tells more.\n");
}

/* Moves the global options written before the command word to just after
 * it, where the command's getopt_long takes them: `vigil --db x query` is
 * `vigil query --db x`. Returns the index of the command word in argv, or
 * 0 after saying why when a word before it is no global option. */
static int hoist_globals(int argc, char **argv) {
  int i = 1;
  while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--help") != 0 &&
         strcmp(argv[i], "--version") != 0) {
    int kind = vg_cli_global_word(argv[i]);
    if (kind < 0) {
      vg_cli_eprintf("vigil: '%s' is no global option; a command's own options follow it\n",
                     argv[i]);
      return 0;
    }
    if (kind == 1 && ++i >= argc) {
      fprintf(stderr, "vigil: %s needs a value\n", argv[i - 1]);
      return 0;
    }
    i++;
  }
  if (i >= argc || argv[i][0] == '-') return i < argc ? i : -1;
  char *command = argv[i]; /* rotate: argv[1..i-1] after the command word */
  memmove(argv + 2, argv + 1, (size_t)(i - 1) * sizeof *argv);
  argv[1] = command;
  return 1;
}

/* Standard input, output and error closed by whoever started us are opened
 * on /dev/null: else the first file or socket opened would take their
 * number, and be read as the input or written over by messages. */
static void standard_fds(void) {
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      int got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (got >= 0 && got != fd) close(got); /* a lower one was closed too: taken above */
    }
}

int main(int argc, char **argv) {
  standard_fds();
  int at = hoist_globals(argc, argv);
  if (at == 0) {
    usage(stderr);
    return VG_EXIT_USAGE;
  }
  if (at < 0) { /* global options and no command */
    fprintf(stderr, "vigil: which command?\n");
    usage(stderr);
    return VG_EXIT_USAGE;
  }
  if (at > 1) { /* --help or --version after global options */
    argv[1] = argv[at];
  }
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("vigil %s\n", VIGIL_VERSION);
    return VG_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) {
      vg_cli.command = commands[i].name;
      int status = commands[i].run(argc - 1, argv + 1);
      free(vg_cli.dbs);
      return status;
    }
  vg_cli_eprintf("vigil: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return VG_EXIT_USAGE;
}
