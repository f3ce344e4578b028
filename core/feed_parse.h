/* feed_parse.h — a fetched feed body to items: RSS 2.0, RSS 1.0 (RDF) and
 * Atom 1.0 through libxml2, or JSON Lines and chronology lines as they are.
 * Nothing here touches the store; the caller ingests the items it gets,
 * and only when the whole body parsed. */
#ifndef VIGIL_FEED_PARSE_H
#define VIGIL_FEED_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { VG_FEED_AUTO, VG_FEED_RSS, VG_FEED_ATOM, VG_FEED_JSON, VG_FEED_CHRONO } vg_feed_format;

/* "auto", "rss", "atom", "json" or "chrono"; returns 0 or VG_EINVAL. */
int vg_feed_format_parse(const char *name, vg_feed_format *out);

typedef struct {
  char *guid;    /* guid, id, link, or a hash of title and date */
  char *title;   /* plain text, or "" */
  char *summary; /* plain text (HTML reduced), or "" */
  char *link;    /* or "" */
  char *date;    /* the item's own date as ISO 8601, or NULL */
  uint8_t content[16]; /* hash of title, summary and link: tells an update */
} vg_feed_item;

typedef struct {
  vg_feed_item *v;
  size_t n, cap;
  vg_feed_format kind; /* what the body turned out to be */
  char *lines;         /* for JSON and chronology bodies: the body itself */
  size_t lines_len;
} vg_feed_items;

/* Parses body[0..n) as fmt (auto: by the content type, then by the body).
 * Returns 0, or VG_EPARSE with why in err (malformed XML, an HTML page, an
 * unknown kind of document); *out is then empty. */
int vg_feed_parse(const char *body, size_t n, const char *content_type, vg_feed_format fmt,
                  vg_feed_items *out, char *err, size_t cap);
void vg_feed_items_free(vg_feed_items *items);

/* The text of an HTML fragment: tags dropped, entities decoded, runs of
 * blanks folded. The result is malloc'd (NULL when out of memory). */
char *vg_html_text(const char *html, size_t n);

#endif
