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
    {"run", vg_cmd_run, "run the daemon: sockets, spool directory, rules"},
    {"ingest", vg_cmd_ingest, "store the entries of files or standard input"},
    {"query", vg_cmd_query, "list stored entries in date order"},
};

static void usage(FILE *to) {
  fprintf(to, "usage: vigil COMMAND [OPTIONS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(to, "  %-8s %s\n", commands[i].name, commands[i].what);
  fprintf(to, "\nglobal options: --db PATH, --config FILE, --help (on each command)\n"
              "vigil COMMAND --help tells more.\n");
}

const char *vg_cli_config_path(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) return argv[i + 1];
    if (strncmp(argv[i], "--config=", 9) == 0) return argv[i] + 9;
  }
  return NULL;
}

int vg_cli_setup(vg_config *cfg, int argc, char **argv) {
  vg_config_defaults(cfg);
  const char *path = vg_cli_config_path(argc, argv);
  char err[512];
  if (path && vg_config_load(cfg, path, err, sizeof err)) {
    fprintf(stderr, "vigil: config: %s\n", err);
    return VG_EXIT_USAGE;
  }
  return 0;
}

int vg_cli_global(vg_config *cfg, int opt, const char *arg) {
  switch (opt) {
  case 'D': vg_config_set(&cfg->db, arg); return 1;
  case 'C': return 1; /* read by vg_cli_setup */
  default: return 0;
  }
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
