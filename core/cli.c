/* cli.c — what every subcommand shares: the global options and the
 * configuration layers (defaults, then --config FILE, then flags). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

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

