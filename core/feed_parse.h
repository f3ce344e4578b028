/* feed_parse.h — a fetched feed body to items: RSS 2.0, RSS 1.0 (RDF) and
 * Atom 1.0 through libxml2, or JSON Lines and chronology lines as they are.
 * Nothing here touches the store; the caller ingests the items it gets,
 * and only when the whole body parsed.
 *
 * What the parser produces is capped, not only the bytes it reads: an
 * internal entity may hold at most VG_FEED_ENTITY_MAX bytes, one part of
 * an item (title, summary, link, guid, date) at most max_text bytes once
 * its entities are expanded (a larger one makes that item a reject, the
 * others go through), all items together at most max_expanded, and the
 * whole parse may be given a time limit. */
#ifndef VIGIL_FEED_PARSE_H
#define VIGIL_FEED_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { VG_FEED_AUTO, VG_FEED_RSS, VG_FEED_ATOM, VG_FEED_JSON, VG_FEED_CHRONO } vg_feed_format;

/* "auto", "rss", "atom", "json" or "chrono"; returns 0 or VG_EINVAL. */
int vg_feed_format_parse(const char *name, vg_feed_format *out);

/* Bytes an internal entity of a feed may hold: a document that declares a
 * larger one is refused. */
#define VG_FEED_ENTITY_MAX 1024

/* What one parse may produce. */
typedef struct {
  size_t max_text;     /* bytes one part of an item may hold; 0: no cap */
  size_t max_expanded; /* text bytes and nodes read from all items together; 0: no cap */
  uint64_t time_ns;    /* how long parsing may take, in nanoseconds; 0: no limit */
} vg_feed_limits;

typedef struct {
  char *guid;    /* guid, id, link, or a hash of title and date */
  char *title;   /* plain text, or "" */
  char *summary; /* plain text (HTML reduced), or "" */
  char *link;    /* or "" */
  char *date;    /* the item's own date as ISO 8601, or NULL */
  uint8_t content[16]; /* hash of title, summary and link: tells an update */
  long line;           /* the line of the document the item starts on (0 if unknown) */
  char *reject;        /* why the item cannot become an entry (a part over max_text), or
                          NULL; its parts are then cut at the cap */
} vg_feed_item;

typedef struct {
  vg_feed_item *v;
  size_t n, cap;
  vg_feed_format kind; /* what the body turned out to be */
  char *lines;         /* for JSON and chronology bodies: the body itself */
  size_t lines_len;
} vg_feed_items;

/* Parses body[0..n) as fmt (auto: by the content type, then by the body)
 * within lim (NULL: no caps but VG_FEED_ENTITY_MAX). Returns 0, or
 * VG_EPARSE with why in err (malformed XML, an HTML page, an unknown kind
 * of document, an entity over VG_FEED_ENTITY_MAX, items over
 * lim->max_expanded, a parse past lim->time_ns); *out is then empty. An
 * item with a part over lim->max_text is returned with its reject set. */
int vg_feed_parse(const char *body, size_t n, const char *content_type, vg_feed_format fmt,
                  const vg_feed_limits *lim, vg_feed_items *out, char *err, size_t cap);
void vg_feed_items_free(vg_feed_items *items);

/* The text of an HTML fragment: tags dropped, entities decoded, runs of
 * blanks folded. The result is malloc'd (NULL when out of memory). */
char *vg_html_text(const char *html, size_t n);

#endif
