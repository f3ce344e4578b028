/* lua_entry.h — the entry as rules see it: a read-only userdata.
 *
 * Fields: id, date (ISO text), precision, day and last_day (day numbers of
 * its span), text, source, fields (the extra JSON members, as read-only
 * tables), tags (a list of the tags set so far). Methods: e:find(words),
 * e:has_tag(tags), e:match(regex); trusted setup code may add more to the
 * methods table. The object is valid only while its rules run: a rule that
 * keeps it and uses it later gets an error. */
#ifndef VIGIL_LUA_ENTRY_H
#define VIGIL_LUA_ENTRY_H

#include "textmatch.h"

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

/* What the rules read of an entry, from an ingested line or a stored row. */
typedef struct {
  int64_t id;            /* its id in the store */
  const char *date;      /* normalised ISO text */
  const char *precision; /* time, day, range, month or year */
  int32_t first, last;   /* the span of days */
  const char *text;
  size_t text_len;
  const char *source;
  const char *fields;    /* JSON object text, or NULL */
} vg_rule_entry;

/* One entry while its rules run: the entry, the tags set so far, and what
 * the rules' searches of its text share. Start it zeroed but for e. */
typedef struct {
  const vg_rule_entry *e;
  char **tags;       /* owned copies, in the order they were set */
  size_t ntags, cap;
  int paired;        /* pairs is made (on the first search of the text) */
  vg_text_pairs pairs; /* the character pairs of e->text */
  int grouped;       /* its event was looked for (core/events.c, once its tags are set) */
  int has_event;     /* and found: event is the event it reports, grouped with other
                      * reports; else it is the one vg_entry_event gives it */
  int64_t event;
} vg_entry_ctx;

/* Registers the entry metatable and pushes the methods table (kept in the
 * registry too), for setup code to extend. */
void vg_lua_entry_open(lua_State *L);
/* Pushes the table of frozen lists (weak keys), for setup code: each key a
 * read-only view, its value the table the view shows, which nothing else
 * reaches and nobody changes. e:find and e:has_tag read such a list's
 * strings once, not at each call. */
void vg_lua_entry_push_views(lua_State *L);
/* Pushes a new entry object for ctx. */
void vg_lua_entry_push(lua_State *L, vg_entry_ctx *ctx);
/* Makes the entry object at idx unusable from now on. */
void vg_lua_entry_invalidate(lua_State *L, int idx);
/* The entry of the entry object at idx while its rules run; NULL when the
 * value there is no entry object (a table passed for one) or is no longer
 * valid. */
const vg_entry_ctx *vg_lua_entry_at(lua_State *L, int idx);
/* Points the entry object at idx at ctx (NULL: unusable) and forgets what it
 * cached of the entry before. Allocates nothing, so it is safe outside a
 * protected call. */
void vg_lua_entry_reset(lua_State *L, int idx, vg_entry_ctx *ctx);

/* Adds tag to ctx unless present; returns 1 if added, 0 if there, -1 when
 * out of memory. */
int vg_entry_ctx_add_tag(vg_entry_ctx *ctx, const char *tag);
int vg_entry_ctx_has_tag(const vg_entry_ctx *ctx, const char *tag);
/* Frees the tags and empties ctx. */
void vg_entry_ctx_clear(vg_entry_ctx *ctx);

#endif
