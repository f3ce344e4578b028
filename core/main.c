/* main.c — `vigil COMMAND [OPTIONS]`: dispatch, and the global options. */
#include "cli.h"
#include "vigil.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *what;
} commands[] = {
    {"run", vg_cmd_run, "run the daemon: sockets, spool, feeds, rules, digests"},
    {"ingest", vg_cmd_ingest, "store the entries of files or standard input"},
    {"query", vg_cmd_query, "list stored entries in date order"},
    {"alerts", vg_cmd_alerts, "list stored alerts in date order"},
    {"poll", vg_cmd_poll, "fetch feeds once and store their new items"},
    {"feeds", vg_cmd_feeds, "show the health of the feeds polled"},
    {"digest", vg_cmd_digest, "write a digest now, or list the scheduled ones"},
    {"check", vg_cmd_check, "load every rule file and report its errors"},
    {"test", vg_cmd_test, "run the test cases the rule files carry"},
    {"replay", vg_cmd_replay, "run the current rules again over stored entries"},
};

static void usage(FILE *to) {
  fprintf(to, "usage: vigil COMMAND [OPTIONS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(to, "  %-8s %s\n", commands[i].name, commands[i].what);
  fprintf(to, "\nglobal options: --db PATH, --config FILE, --help (on each command)\n"
              "vigil COMMAND --help tells more.\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("vigil %s\n", VIGIL_VERSION);
    return VG_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "vigil: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return VG_EXIT_USAGE;
}
