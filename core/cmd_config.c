/* cmd_config.c — `vigil config`: checks a configuration file, or shows
 * every setting in force and where it came from. Both read the one table
 * of settings in config.c. */
#include "cli.h"
#include "vigil.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil config --check [FILE]\n"
    "       vigil config --show [--json] [--rules PATH]... [--db PATH] [--log-level L]\n"
    "  --check [FILE]  loads FILE (default: the --config file) as the daemon would and\n"
    "                  says every problem on stderr, one a line, naming the file, the\n"
    "                  line where known and the setting: a syntax error, an unknown\n"
    "                  setting or field (with the nearest known name), a value of the\n"
    "                  wrong type or out of range. Prints 'FILE: ok' and exits 0 when\n"
    "                  it is good; exits 2 when not.\n"
    "  --show          prints every setting in force, one a line: its name, where it\n"
    "                  came from and its value, aligned. Settings come from the default,\n"
    "                  then the --config file, then the flags given here (--db,\n"
    "                  --log-level, --rules). Strings are printed as they are, other\n"
    "                  values as JSON; tcp_token, when set, as (hidden).\n"
    "  --json          with --show: one JSON object a line, with the fields\n"
    "                    key     the setting's name\n"
    "                    value   its value: a string, a number, a list or an object\n"
    "                    origin  \"default\", \"file\" or \"flag\"\n"
    "                    file    the configuration file's path (origin \"file\" only)\n"
    "Every other command refuses a configuration file that --check refuses, with the\n"
    "same messages.\n";

/* Whether argv holds word before any "--". */
static int has_word(int argc, char **argv, const char *word) {
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], word) == 0) return 1;
  return 0;
}

static int check(const char *path) {
  vg_config cfg;
  vg_config_defaults(&cfg);
  char err[8192];
  int rc = vg_config_load(&cfg, path, err, sizeof err);
  vg_config_free(&cfg);
  if (rc) {
    fprintf(stderr, "%s\n", err);
    return VG_EXIT_USAGE;
  }
  vg_cli_printf("%s: ok\n", path);
  return VG_EXIT_OK;
}

static const char *origin_name(const vg_config *cfg, size_t i) {
  switch (cfg->origin[i]) {
  case VG_ORIGIN_FILE: return "file";
  case VG_ORIGIN_FLAG: return "flag";
  default: return "default";
  }
}

static int show(const vg_config *cfg) {
  const vg_setting_info *s;
  int width = 0, owidth = (int)strlen("default");
  for (size_t i = 0; (s = vg_config_setting(i)); i++) {
    if ((int)strlen(s->name) > width) width = (int)strlen(s->name);
    if (cfg->origin[i] == VG_ORIGIN_FILE && (int)strlen(cfg->file) + 5 > owidth)
      owidth = (int)strlen(cfg->file) + 5;
  }
  for (size_t i = 0; (s = vg_config_setting(i)); i++) {
    cJSON *v = vg_config_value(cfg, i);
    if (!v) {
      fprintf(stderr, "vigil config: out of memory\n");
      return VG_EXIT_FAIL;
    }
    if (vg_cli.json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "key", s->name);
      cJSON_AddItemToObject(o, "value", v);
      cJSON_AddStringToObject(o, "origin", origin_name(cfg, i));
      if (cfg->origin[i] == VG_ORIGIN_FILE) cJSON_AddStringToObject(o, "file", cfg->file);
      char *line = cJSON_PrintUnformatted(o);
      if (line) puts(line); /* JSON escapes every control character */
      free(line);
      cJSON_Delete(o);
      continue;
    }
    char *text = cJSON_IsString(v) ? NULL : cJSON_PrintUnformatted(v);
    const char *shown = text ? text : cJSON_GetStringValue(v);
    int file = cfg->origin[i] == VG_ORIGIN_FILE;
    vg_cli_printf("%-*s  %s%s%-*s  %s\n", width, s->name, origin_name(cfg, i), file ? " " : "",
                  owidth - (int)strlen(origin_name(cfg, i)) - file, file ? cfg->file : "",
                  shown && shown[0] ? shown : "''");
    free(text);
    cJSON_Delete(v);
  }
  return VG_EXIT_OK;
}

int vg_cmd_config(int argc, char **argv) {
  int checking = has_word(argc, argv, "--check");
  vg_config cfg;
  if (checking)
    vg_config_defaults(&cfg); /* the file is what --check looks at */
  else if (vg_cli_setup(&cfg, argc, argv))
    return VG_EXIT_USAGE;
  static const struct option opts[] = {{"check", no_argument, NULL, 'c'},
                                       {"show", no_argument, NULL, 's'},
                                       VG_CLI_RULES_OPTION,
                                       VG_CLI_GLOBAL_OPTIONS,
                                       {0}};
  int opt, status = VG_EXIT_OK, showing = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    switch (opt) {
    case 'c': break;
    case 's': showing = 1; break;
    case 'r': vg_cli_flag("vigil config", &cfg, "rules", optarg); break;
    case 'h': fputs(help, stdout); goto done;
    default:
      fputs(help, stderr);
      status = VG_EXIT_USAGE;
      goto done;
    }
  }
  const char *file = optind < argc ? argv[optind] : vg_cli_config_path(argc, argv);
  if (checking == showing || optind + (checking ? 1 : 0) < argc) {
    fprintf(stderr, "vigil config: give --check [FILE] or --show\n%s", help);
    status = VG_EXIT_USAGE;
  } else if (checking && !file) {
    fprintf(stderr, "vigil config --check: which file? Give FILE or --config FILE\n");
    status = VG_EXIT_USAGE;
  } else {
    if (!checking) vg_config_resolve(&cfg); /* the derived paths, as commands use them */
    status = checking ? check(file) : show(&cfg);
  }
done:
  vg_config_free(&cfg);
  return status;
}
