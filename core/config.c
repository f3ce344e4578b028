/* config.c — defaults and the Lua configuration file; see config.h. */
#include "config.h"

#include "vigil.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vg_config_set(char **field, const char *value) {
  char *copy = strdup(value);
  if (!copy) abort(); /* a few bytes at start-up: nothing sensible is left to do */
  free(*field);
  *field = copy;
}

void vg_config_defaults(vg_config *c) {
  memset(c, 0, sizeof *c);
  vg_config_set(&c->db, "var/vigil.db");
  vg_config_set(&c->socket, "var/vigil.sock");
  vg_config_set(&c->listen, "127.0.0.1:7433");
  vg_config_set(&c->spool, "var/spool");
  vg_config_set(&c->rules, "rules");
  vg_config_set(&c->log_level, "info");
  vg_config_set(&c->durability, "full");
  c->format = VG_FORMAT_AUTO;
  c->max_line = 1 << 20;
  c->batch_max = 4096;
  c->batch_ms = 2;
  c->max_pending = 65536;
}

void vg_config_free(vg_config *c) {
  free(c->db);
  free(c->socket);
  free(c->listen);
  free(c->spool);
  free(c->rules);
  free(c->log_level);
  free(c->durability);
  memset(c, 0, sizeof *c);
}

/* The settings a file may assign, each with its type. */
typedef enum { T_STRING, T_SIZE, T_MS, T_FORMAT } kind;
typedef struct {
  const char *name;
  kind type;
  size_t offset;
} setting;

#define S(field, t) {#field, t, offsetof(vg_config, field)}
static const setting settings[] = {
    S(db, T_STRING),        S(socket, T_STRING),     S(listen, T_STRING),
    S(spool, T_STRING),     S(rules, T_STRING),      S(log_level, T_STRING),
    S(durability, T_STRING), S(format, T_FORMAT),    S(max_line, T_SIZE),
    S(batch_max, T_SIZE),   S(batch_ms, T_MS),       S(max_pending, T_SIZE),
};
#undef S
#define NSETTINGS (sizeof settings / sizeof settings[0])

int vg_config_load(vg_config *c, const char *path, char *err, size_t cap) {
  lua_State *L = luaL_newstate();
  if (!L) {
    snprintf(err, cap, "%s: out of memory", path);
    return VG_ENOMEM;
  }
  /* Only pure libraries: a config file computes values, it does no I/O. */
  luaL_requiref(L, "_G", luaopen_base, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  lua_settop(L, 0);
  static const char *const unsafe[] = {"dofile", "loadfile", "load", "require", "collectgarbage"};
  for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
    lua_pushnil(L);
    lua_setglobal(L, unsafe[i]);
  }
  int rc = VG_EINVAL;
  vg_config next = *c; /* strings are shared until replaced below */
  char *fresh[NSETTINGS] = {0};
  if (luaL_loadfilex(L, path, "t") || lua_pcall(L, 0, 0, 0)) {
    const char *msg = lua_tostring(L, -1);
    snprintf(err, cap, "%s", msg ? msg : "the file raised an error that is not a message");
    if (!msg) snprintf(err, cap, "%s: raised an error that is not a message", path);
    goto cleanup;
  }
  for (size_t i = 0; i < NSETTINGS; i++) {
    const setting *s = &settings[i];
    int t = lua_getglobal(L, s->name);
    char *field = (char *)&next + s->offset;
    if (t == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    if (s->type == T_STRING || s->type == T_FORMAT) {
      if (t != LUA_TSTRING) {
        snprintf(err, cap, "%s: '%s' must be a string", path, s->name);
        goto cleanup;
      }
      const char *v = lua_tostring(L, -1);
      if (s->type == T_FORMAT) {
        if (vg_format_parse(v, (vg_format *)(void *)field)) {
          snprintf(err, cap, "%s: 'format' must be auto, chrono or json, not '%s'", path, v);
          goto cleanup;
        }
      } else {
        if (!(fresh[i] = strdup(v))) goto cleanup;
        *(char **)(void *)field = fresh[i];
      }
    } else {
      int isnum;
      lua_Integer v = lua_tointegerx(L, -1, &isnum);
      if (!isnum || v < 0 || (s->type == T_SIZE && v == 0)) {
        snprintf(err, cap, "%s: '%s' must be a %s integer", path, s->name,
                 s->type == T_SIZE ? "positive" : "non-negative");
        goto cleanup;
      }
      if (s->type == T_SIZE) *(size_t *)(void *)field = (size_t)v;
      else *(unsigned *)(void *)field = (unsigned)v;
    }
    lua_pop(L, 1);
  }
  char why[256];
  if ((rc = vg_config_check(&next, why, sizeof why)) != 0) {
    snprintf(err, cap, "%s: %s", path, why);
  } else {
    for (size_t i = 0; i < NSETTINGS; i++) /* free the strings that were replaced */
      if (fresh[i]) free(*(char **)(void *)((char *)c + settings[i].offset));
    *c = next;
  }
cleanup:
  if (rc)
    for (size_t i = 0; i < NSETTINGS; i++) free(fresh[i]);
  lua_close(L);
  return rc;
}

int vg_config_check(const vg_config *c, char *err, size_t cap) {
  if (vg_log_level_parse(c->log_level) < 0) {
    snprintf(err, cap, "log_level must be debug, info, warn or error, not '%s'", c->log_level);
    return VG_EINVAL;
  }
  if (strcmp(c->durability, "full") != 0 && strcmp(c->durability, "normal") != 0) {
    snprintf(err, cap, "durability must be full or normal, not '%s'", c->durability);
    return VG_EINVAL;
  }
  if (!c->db[0]) {
    snprintf(err, cap, "db must name a file");
    return VG_EINVAL;
  }
  if (c->max_line < 64) {
    snprintf(err, cap, "max_line must be at least 64 bytes");
    return VG_EINVAL;
  }
  return 0;
}
