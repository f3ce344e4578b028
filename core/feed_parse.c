/* feed_parse.c — RSS and Atom items through libxml2; see feed_parse.h. */
#include "feed_parse.h"
#include "date.h"

#include "vigil.h"

#include <ctype.h>
#include <curl/curl.h>
#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

/* The XML goes to libxml2's push parser in chunks of this many bytes, so
 * that the time limit and the cap below are looked at as it goes. */
#define XML_CHUNK 65536
/* Bytes the parser may hold back waiting for the end of one tag, comment or
 * declaration. libxml2 2.9 looks for a repeated attribute in time that grows
 * with the square of the attributes of a tag: a tag of 10 MB would take
 * hours, one of this size a second or two. */
#define XML_PENDING_MAX (256 * 1024)
/* HTML in one part of an item is reduced to text from this many bytes at
 * most: the entry keeps 2000 bytes of a summary, and libxml2's HTML parser
 * is quadratic in the attributes of a tag too. */
#define HTML_MAX (64 * 1024)
/* Elements and entities nested deeper than this in one part of an item stop
 * the parse (libxml2 allows 256 elements and 40 entities). */
#define DEPTH_MAX 1024

int vg_feed_format_parse(const char *name, vg_feed_format *out) {
  static const char *const names[] = {"auto", "rss", "atom", "json", "chrono"};
  for (int i = 0; i < 5; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = (vg_feed_format)i;
      return 0;
    }
  return VG_EINVAL;
}

void vg_feed_items_free(vg_feed_items *items) {
  for (size_t i = 0; i < items->n; i++) {
    vg_feed_item *it = &items->v[i];
    free(it->guid);
    free(it->title);
    free(it->summary);
    free(it->link);
    free(it->date);
    free(it->reject);
  }
  free(items->v);
  free(items->lines);
  memset(items, 0, sizeof *items);
}

/* Folds runs of blanks (no-break spaces too) to one space and trims, in place. */
static char *fold_blanks(char *s) {
  char *o = s;
  int blank = 1;
  for (char *p = s; *p; p++) {
    int nbsp = (unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0;
    if (nbsp) p++;
    if (nbsp || isspace((unsigned char)*p)) {
      if (!blank) *o++ = ' ';
      blank = 1;
    } else {
      *o++ = *p;
      blank = 0;
    }
  }
  if (o > s && o[-1] == ' ') o--;
  *o = '\0';
  return s;
}

/* The text of an HTML tree: scripts and styles dropped, a space at every
 * block boundary so that words of two paragraphs do not run together. */
static void html_walk(xmlNodePtr n, xmlBufferPtr out) {
  static const char *const blocks[] = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4",
                                       "h5", "h6", "tr", "td", "th", "table", "blockquote", "hr",
                                       "section", "article", "header", "footer", "dd", "dt", NULL};
  for (; n; n = n->next) {
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      xmlBufferCat(out, n->content);
    } else if (n->type == XML_ELEMENT_NODE) {
      const char *name = (const char *)n->name;
      if (strcasecmp(name, "script") == 0 || strcasecmp(name, "style") == 0) continue;
      int block = 0;
      for (const char *const *b = blocks; *b && !block; b++) block = strcasecmp(name, *b) == 0;
      if (block) xmlBufferCCat(out, " ");
      html_walk(n->children, out);
      if (block) xmlBufferCCat(out, " ");
    }
  }
}

char *vg_html_text(const char *html, size_t n) {
  htmlDocPtr doc = htmlReadMemory(html, (int)n, NULL, "UTF-8",
                                  HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  char *out = NULL;
  if (doc) {
    xmlBufferPtr buf = xmlBufferCreate();
    if (buf) {
      html_walk(xmlDocGetRootElement(doc), buf);
      out = strdup((const char *)xmlBufferContent(buf));
      xmlBufferFree(buf);
    }
    xmlFreeDoc(doc);
  } else {
    out = strndup(html, n);
  }
  return out ? fold_blanks(out) : NULL;
}

static int named(xmlNodePtr n, const char *name) {
  return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name) {
  for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
    if (named(c, name)) return c;
  return NULL;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- reading the text of a parsed document, within caps ---- */

/* Why reading stopped: a cap of the whole parse was reached. */
typedef enum { GO_ON, STOP_EXPANDED, STOP_DEEP, STOP_TIME, STOP_NOMEM } stop_reason;

/* Reads the items of one document. Entities stay references in the tree
 * (no XML_PARSE_NOENT); they are expanded here, counted against the caps,
 * never by libxml2's xmlNodeGetContent, which has none. */
typedef struct {
  xmlDocPtr doc;
  size_t max_text;   /* bytes one part of an item may hold */
  size_t left;       /* what all parts may still take: a byte of text or a node is one */
  uint64_t deadline; /* CLOCK_MONOTONIC nanoseconds past which reading stops; 0: none */
  stop_reason stop;
} reader;

/* The text of one part of an item, as it is gathered. */
typedef struct {
  char *p;  /* NUL-terminated, or NULL while empty */
  size_t n, cap;
  int over; /* it went over max_text: p holds what came before, cut between characters */
} text_buf;

static void text_add(reader *r, text_buf *b, const char *s, size_t len) {
  if (len > r->left) {
    r->stop = STOP_EXPANDED;
    return;
  }
  r->left -= len;
  if (len > r->max_text - b->n) {
    len = r->max_text - b->n;
    while (len && ((unsigned char)s[len] & 0xc0) == 0x80) len--;
    b->over = 1;
  }
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + len + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      r->stop = STOP_NOMEM;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n] = '\0';
}

/* Adds the text of the nodes from n on (and of their children, and of the
 * entities they refer to) to b, as xmlNodeGetContent would, until a cap. */
static void gather(reader *r, xmlNodePtr n, text_buf *b, int depth) {
  for (; n && r->stop == GO_ON && !b->over; n = n->next) {
    if (r->left == 0) {
      r->stop = STOP_EXPANDED;
      return;
    }
    r->left--;
    if (depth > DEPTH_MAX) {
      r->stop = STOP_DEEP;
      return;
    }
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      if (n->content) text_add(r, b, (const char *)n->content, strlen((const char *)n->content));
    } else if (n->type == XML_ELEMENT_NODE) {
      gather(r, n->children, b, depth + 1);
    } else if (n->type == XML_ENTITY_REF_NODE) {
      xmlEntityPtr e = xmlGetDocEntity(r->doc, n->name);
      if (e) gather(r, e->children, b, depth + 1); /* an external entity has none: not loaded */
    }
  }
}

/* One item's parts as read, owned here until add_item takes them. */
typedef struct {
  char *title, *summary, *link, *guid, *date; /* NULL: none */
  const char *over;                           /* the first part over max_text, or NULL */
  long line;                                  /* where the item starts */
} parts;

static void parts_free(parts *p) {
  free(p->title);
  free(p->summary);
  free(p->link);
  free(p->guid);
  free(p->date);
  memset(p, 0, sizeof *p);
}

/* The text of the nodes from `first` on, malloc'd ("" for none); with
 * `html`, any HTML in it reduced to plain text, else as it is. A part over
 * max_text is noted in p->over by its name. NULL when reading stopped. */
static char *text_of(reader *r, xmlNodePtr first, int html, const char *name, parts *p) {
  text_buf b = {0};
  gather(r, first, &b, 0);
  if (r->stop != GO_ON) {
    free(b.p);
    return NULL;
  }
  if (b.over && !p->over) p->over = name;
  if (!b.p && !(b.p = strdup(""))) {
    r->stop = STOP_NOMEM;
    return NULL;
  }
  char *out = b.p;
  if (html && (strchr(b.p, '<') || strchr(b.p, '&'))) {
    size_t n = b.n;
    if (n > HTML_MAX) { /* cut between two characters, not inside one */
      n = HTML_MAX;
      while (n && ((unsigned char)b.p[n] & 0xc0) == 0x80) n--;
    }
    out = vg_html_text(b.p, n);
    free(b.p);
  } else if (html) {
    fold_blanks(out);
  }
  if (!out) r->stop = STOP_NOMEM;
  return out;
}

/* The text of an element's content (NULL: ""), as text_of. */
static char *element_text(reader *r, xmlNodePtr n, int html, const char *name, parts *p) {
  return text_of(r, n ? n->children : NULL, html, name, p);
}

/* The value of attribute `attr` of n, entities expanded, or NULL when n has
 * none (or reading stopped: see r->stop). */
static char *attr_text(reader *r, xmlNodePtr n, const char *attr, const char *name, parts *p) {
  for (xmlAttrPtr a = n->properties; a; a = a->next)
    if (strcmp((const char *)a->name, attr) == 0) return text_of(r, a->children, 0, name, p);
  return NULL;
}

/* Whether reading is past its time; stops it if so. */
static int past_deadline(reader *r) {
  if (r->deadline && now_ns() > r->deadline) r->stop = STOP_TIME;
  return r->stop != GO_ON;
}

/* An RFC 822 date (RSS pubDate) as ISO 8601 in UTC, or NULL. */
static char *rfc822(const char *s) {
  time_t t = curl_getdate(s, NULL);
  if (t == (time_t)-1) return NULL;
  char buf[VG_UTC_ISO_MAX];
  vg_utc_iso(t, buf);
  return strdup(buf);
}

/* A date as read (an element's text, blanks folded; or an RFC 822 one
 * turned into ISO 8601), or NULL when there is none. */
static char *date_of(reader *r, xmlNodePtr n, int is_rfc822, parts *p) {
  if (!n) return NULL;
  char *s = element_text(r, n, 0, "date", p);
  if (!s) return NULL;
  char *date = is_rfc822 ? rfc822(s) : strdup(fold_blanks(s));
  free(s);
  return date;
}

/* Makes an item of p (whose strings it takes, whatever it returns). */
static int add_item(vg_feed_items *out, parts *p, size_t max_text) {
  if (out->n == out->cap) {
    size_t cap = out->cap ? out->cap * 2 : 32;
    vg_feed_item *v = realloc(out->v, cap * sizeof *v);
    if (!v) {
      parts_free(p);
      return VG_ENOMEM;
    }
    out->v = v;
    out->cap = cap;
  }
  vg_feed_item *it = &out->v[out->n++];
  memset(it, 0, sizeof *it);
  it->title = p->title ? p->title : strdup("");
  it->summary = p->summary ? p->summary : strdup("");
  it->link = p->link ? p->link : strdup("");
  it->date = p->date;
  it->line = p->line;
  char *guid = p->guid;
  int over = p->over != NULL;
  if (over) {
    char why[160];
    snprintf(why, sizeof why, "the item's %s is over the %zu-byte cap", p->over, max_text);
    it->reject = strdup(why);
  }
  memset(p, 0, sizeof *p);
  if (!it->title || !it->summary || !it->link) {
    free(guid);
    return VG_ENOMEM;
  }
  XXH3_state_t st;
  XXH3_128bits_reset(&st);
  XXH3_128bits_update(&st, it->title, strlen(it->title) + 1);
  XXH3_128bits_update(&st, it->summary, strlen(it->summary) + 1);
  XXH3_128bits_update(&st, it->link, strlen(it->link) + 1);
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
  memcpy(it->content, c.digest, 16);
  if (guid && *guid) {
    it->guid = guid;
  } else {
    free(guid);
    if (*it->link) {
      it->guid = strdup(it->link);
    } else { /* neither guid nor link: title and date name it */
      uint64_t seed = it->date ? XXH3_64bits(it->date, strlen(it->date)) : 0;
      XXH128_hash_t h = XXH3_128bits_withSeed(it->title, strlen(it->title), seed);
      char hex[40];
      snprintf(hex, sizeof hex, "hash:%016llx%016llx", (unsigned long long)h.high64,
               (unsigned long long)h.low64);
      it->guid = strdup(hex);
    }
  }
  return it->guid && (!over || it->reject) ? 0 : VG_ENOMEM;
}

/* Adds p as an item unless reading stopped on the way. */
static int finish_item(reader *r, vg_feed_items *out, parts *p) {
  if (r->stop != GO_ON) {
    parts_free(p);
    return r->stop == STOP_NOMEM ? VG_ENOMEM : VG_EPARSE;
  }
  return add_item(out, p, r->max_text);
}

static int rss_items(reader *r, xmlNodePtr parent, vg_feed_items *out) {
  int rc = 0;
  for (xmlNodePtr n = parent->children; n && rc == 0; n = n->next) {
    if (!named(n, "item")) continue;
    if (past_deadline(r)) return VG_EPARSE;
    parts p = {.line = xmlGetLineNo(n)};
    xmlNodePtr d = child(n, "pubDate"), enc = child(n, "encoded"), guid = child(n, "guid");
    /* pubDate is RFC 822; dc:date is ISO 8601 already */
    p.date = d ? date_of(r, d, 1, &p) : date_of(r, child(n, "date"), 0, &p);
    p.title = element_text(r, child(n, "title"), 1, "title", &p);
    p.summary = element_text(r, enc ? enc : child(n, "description"), 1, "summary", &p);
    p.link = element_text(r, child(n, "link"), 1, "link", &p);
    if (guid) p.guid = element_text(r, guid, 1, "guid", &p);
    rc = finish_item(r, out, &p);
  }
  return rc;
}

static int atom_items(reader *r, xmlNodePtr feed, vg_feed_items *out) {
  int rc = 0;
  for (xmlNodePtr n = feed->children; n && rc == 0; n = n->next) {
    if (!named(n, "entry")) continue;
    if (past_deadline(r)) return VG_EPARSE;
    parts p = {.line = xmlGetLineNo(n)};
    for (xmlNodePtr l = n->children; l && r->stop == GO_ON; l = l->next) {
      if (!named(l, "link")) continue;
      char *rel = attr_text(r, l, "rel", "link", &p);
      char *href = attr_text(r, l, "href", "link", &p);
      int alternate = !rel || strcmp(rel, "alternate") == 0;
      if (href && (alternate || !p.link)) {
        free(p.link);
        p.link = href;
        href = NULL;
      }
      free(rel);
      free(href);
      if (p.link && alternate) break;
    }
    xmlNodePtr d = child(n, "published") ? child(n, "published") : child(n, "updated");
    xmlNodePtr body = child(n, "summary") ? child(n, "summary") : child(n, "content");
    p.date = date_of(r, d, 0, &p);
    p.title = element_text(r, child(n, "title"), 1, "title", &p);
    p.summary = element_text(r, body, 1, "summary", &p);
    if (child(n, "id")) p.guid = element_text(r, child(n, "id"), 1, "guid", &p);
    rc = finish_item(r, out, &p);
  }
  return rc;
}

static int starts_with_ci(const char *s, const char *prefix) {
  return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* What one XML parse found wrong, beside libxml2's own errors. */
typedef struct {
  xmlParserCtxtPtr main; /* the parse of the document (entities get contexts of their own) */
  xmlError first;        /* the first error libxml2 reported: the later ones follow from it */
  int line;              /* where the document was refused */
  char why[200];         /* why it was refused (an entity or a construct too big), or "" */
} xml_state;

/* Keeps the first error libxml2 reports. One met inside an entity's text
 * gets the line of the document it was expanded from, not its line in the
 * entity. */
static void first_error(void *ud, xmlErrorPtr e) {
  xml_state *st = ud;
  if (st->first.code == 0 && e) {
    const xmlParserCtxt *m = st->main;
    int in_entity = m && (e->ctxt != m || m->inputNr > 1) && m->inputNr > 0 && m->inputTab[0];
    st->first.code = e->code ? e->code : 1;
    st->first.line = in_entity ? m->inputTab[0]->line : e->line;
    st->first.message = e->message ? strdup(e->message) : NULL;
  }
}

/* libxml2's entityDecl, refusing an internal entity over
 * VG_FEED_ENTITY_MAX: its expansions would multiply it (one entity of
 * 200,000 bytes used 2,000 times makes 400 MB of a 200 KB body). The parse
 * stops there. */
static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content) {
  xmlParserCtxtPtr ctxt = ctx;
  xml_state *st = ctxt->_private;
  size_t len = content ? strlen((const char *)content) : 0;
  if ((type == XML_INTERNAL_GENERAL_ENTITY || type == XML_INTERNAL_PARAMETER_ENTITY) &&
      len > VG_FEED_ENTITY_MAX) {
    if (st && !st->why[0]) {
      st->line = ctxt->input ? ctxt->input->line : 0;
      snprintf(st->why, sizeof st->why,
               "the entity '%.64s' holds %zu bytes, over the %d an internal entity may hold",
               (const char *)name, len, VG_FEED_ENTITY_MAX);
    }
    xmlStopParser(ctxt);
    return;
  }
  xmlSAX2EntityDecl(ctx, name, type, public_id, system_id, content);
}

/* Whether the body is an HTML page, by its type or its first tag. */
static int html_page(const char *body, size_t n, const char *content_type) {
  if (content_type && strncasecmp(content_type, "text/html", 9) == 0) return 1;
  return (n >= 9 && strncasecmp(body, "<!DOCTYPE", 9) == 0 &&
          n >= 14 && strncasecmp(body + 9, " html", 5) == 0) ||
         (n >= 5 && strncasecmp(body, "<html", 5) == 0);
}

/* Parses body[0..n) into a tree through libxml2's push parser, a chunk at
 * a time: no entity substitution and no network (so no external entity is
 * ever loaded), libxml2's own limits kept (no XML_PARSE_HUGE), internal
 * entities capped (on_entity_decl), and between chunks the time limit and
 * the bytes held back for one construct looked at. Returns the document,
 * or NULL with st saying why (st->why, or st->first, or neither when out
 * of memory); *timed_out when the deadline passed. */
static xmlDocPtr parse_xml(const char *body, size_t n, uint64_t deadline, xml_state *st,
                           int *timed_out) {
  size_t first = n < 4 ? n : 4; /* enough for libxml2 to tell the encoding */
  xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(NULL, NULL, body, (int)first, NULL);
  if (!ctxt) return NULL;
  xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                              XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES);
  ctxt->_private = st;
  st->main = ctxt;
  ctxt->sax->entityDecl = on_entity_decl;
  xmlSetStructuredErrorFunc(st, first_error);
  size_t off = first;
  int done = 0;
  while (!done) {
    size_t k = n - off < XML_CHUNK ? n - off : XML_CHUNK;
    int last = off + k == n;
    xmlParseChunk(ctxt, body + off, (int)k, last);
    off += k;
    if (last || st->first.code || st->why[0] || ctxt->instate == XML_PARSER_EOF) break;
    const xmlParserInput *in = ctxt->input;
    if (in && in->end - in->cur > XML_PENDING_MAX) {
      st->line = in->line;
      snprintf(st->why, sizeof st->why, "a tag, comment or declaration runs over %d bytes",
               XML_PENDING_MAX);
      done = 1;
    } else if (deadline && now_ns() > deadline) {
      *timed_out = done = 1;
    }
  }
  xmlSetStructuredErrorFunc(NULL, NULL);
  st->main = NULL;
  xmlDocPtr doc = ctxt->myDoc;
  int good = ctxt->wellFormed && !done && !st->why[0] && !st->first.code;
  ctxt->myDoc = NULL;
  xmlFreeParserCtxt(ctxt);
  if (!good && doc) {
    xmlFreeDoc(doc);
    doc = NULL;
  }
  return doc;
}

int vg_feed_parse(const char *body, size_t n, const char *content_type, vg_feed_format fmt,
                  const vg_feed_limits *lim, vg_feed_items *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  size_t i = 0;
  if (n >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) i = 3; /* a byte order mark */
  while (i < n && isspace((unsigned char)body[i])) i++;
  if (fmt == VG_FEED_AUTO) {
    if (starts_with_ci(content_type, "application/json") ||
        starts_with_ci(content_type, "application/x-ndjson") ||
        starts_with_ci(content_type, "application/jsonl") || (i < n && body[i] == '{'))
      fmt = VG_FEED_JSON;
    else if (i < n && body[i] == '<')
      fmt = VG_FEED_RSS; /* RSS or Atom: the root element says which */
    else if (starts_with_ci(content_type, "text/html")) {
      snprintf(err, cap, "the server sent an HTML page (%s), not a feed", content_type);
      return VG_EPARSE;
    } else
      fmt = VG_FEED_CHRONO;
  }
  if ((fmt == VG_FEED_RSS || fmt == VG_FEED_ATOM) && html_page(body + i, n - i, content_type)) {
    snprintf(err, cap, "the server sent an HTML page (%s), not a feed",
             content_type ? content_type : "no content type");
    return VG_EPARSE;
  }
  if (fmt == VG_FEED_JSON || fmt == VG_FEED_CHRONO) {
    out->kind = fmt;
    if (!(out->lines = malloc(n + 1))) return VG_ENOMEM;
    memcpy(out->lines, body, n);
    out->lines[n] = '\0';
    out->lines_len = n;
    return 0;
  }
  /* From the first tag on (a blank line before <?xml ...?> is no reason to
   * refuse a feed), reporting the first error, not the last. */
  uint64_t deadline = lim && lim->time_ns ? now_ns() + lim->time_ns : 0;
  double seconds = lim ? (double)lim->time_ns / 1e9 : 0;
  xml_state st = {0};
  int timed_out = 0;
  xmlDocPtr doc = parse_xml(body + i, n - i, deadline, &st, &timed_out);
  int skipped = 0; /* lines before the first tag, which the parser did not see */
  for (size_t k = 0; k < i; k++) skipped += body[k] == '\n';
  if (!doc) {
    if (timed_out)
      snprintf(err, cap, "XML refused: parsing took longer than the %g s allowed", seconds);
    else if (st.why[0])
      snprintf(err, cap, "XML refused at line %d: %s", st.line + skipped, st.why);
    else if (st.first.code)
      snprintf(err, cap, "malformed XML at line %d: %s", st.first.line + skipped,
               st.first.message ? st.first.message : "error");
    else
      snprintf(err, cap, "malformed XML");
    char *nl = strchr(err, '\n');
    if (nl) *nl = '\0';
    free(st.first.message);
    return VG_EPARSE;
  }
  reader r = {doc, lim && lim->max_text ? lim->max_text : SIZE_MAX,
              lim && lim->max_expanded ? lim->max_expanded : SIZE_MAX, deadline, GO_ON};
  xmlNodePtr root = xmlDocGetRootElement(doc);
  int rc = 0;
  if (root && named(root, "rss")) {
    out->kind = VG_FEED_RSS;
    xmlNodePtr channel = child(root, "channel");
    rc = channel ? rss_items(&r, channel, out) : 0;
  } else if (root && named(root, "RDF")) {
    out->kind = VG_FEED_RSS;
    rc = rss_items(&r, root, out);
  } else if (root && named(root, "feed")) {
    out->kind = VG_FEED_ATOM;
    rc = atom_items(&r, root, out);
  } else if (root && strcasecmp((const char *)root->name, "html") == 0) {
    snprintf(err, cap, "the server sent an HTML page, not a feed");
    rc = VG_EPARSE;
  } else {
    snprintf(err, cap, "not a feed: the document is <%s>, not <rss> or <feed>",
             root ? (const char *)root->name : "?");
    rc = VG_EPARSE;
  }
  xmlFreeDoc(doc);
  if (r.stop == STOP_EXPANDED)
    snprintf(err, cap,
             "XML refused: its items hold over %zu bytes of text once their entities are expanded",
             lim ? lim->max_expanded : (size_t)0);
  else if (r.stop == STOP_DEEP)
    snprintf(err, cap, "XML refused: its items nest elements and entities over %d deep", DEPTH_MAX);
  else if (r.stop == STOP_TIME)
    snprintf(err, cap, "XML refused: parsing took longer than the %g s allowed", seconds);
  if (rc) {
    if (rc == VG_ENOMEM) snprintf(err, cap, "out of memory");
    vg_feed_items_free(out);
  }
  return rc;
}
