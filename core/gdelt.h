/* gdelt.h — GDELT 2.0's update listing and the zip archives it names.
 *
 * GDELT publishes, every fifteen minutes, a listing (lastupdate.txt) of
 * three lines "SIZE MD5 URL": the event export, the mentions and the GKG
 * archives of the latest quarter hour. A feed whose format is "gdelt"
 * follows the export line (feed_store.c); this module reads the listing and
 * opens an archive from memory with libzip. Nothing here touches the
 * network or the store, so any thread may call it. */
#ifndef VIGIL_GDELT_H
#define VIGIL_GDELT_H

#include <stddef.h>
#include <stdint.h>

/* The export archive a listing names. */
typedef struct {
  uint64_t size;  /* its size in bytes, as the listing gives it */
  char md5[33];   /* its MD5, 32 lower-case hex digits */
  char url[1024]; /* where it is */
  char name[256]; /* the URL's last path segment: how it is recorded */
} vg_gdelt_archive;

/* Whether body[0..n) is an update listing: one or more lines (blank lines
 * aside) each "SIZE MD5 URL", and nothing else. Returns 1 when it is and
 * its .export.CSV.zip line was read into out; 0 when it is no listing (the
 * body is to be read as a table or an archive itself); VG_EPARSE, with why
 * in err, when it is a listing that names no export archive or whose
 * export line cannot be used (a URL with no name at its end, one too long). */
int vg_gdelt_listing(const char *body, size_t n, vg_gdelt_archive *out, char *err, size_t cap);

/* Whether body[0..n) is a zip archive (it starts with "PK\3\4"). */
int vg_gdelt_is_zip(const char *body, size_t n);

/* Reads the one member of the zip archive zip[0..n): the archive must hold
 * exactly one file, a .CSV (any case) whose name is no path, unpacking to
 * at most max bytes. *out (malloc'd, NUL-terminated; the caller frees it)
 * and *len get its bytes, *member (may be NULL) its name. Returns 0, or
 * VG_EPARSE with why in err (no zip, a broken one, a checksum that does not
 * match, a member over max, a path, more than one member), or VG_ENOMEM. */
int vg_gdelt_unzip(const char *zip, size_t n, size_t max, char **out, size_t *len,
                   char member[256], char *err, size_t cap);

/* The MD5 of data[0..n) as 32 lower-case hex digits and a NUL into hex,
 * through OpenSSL's libcrypto: for checking a download against the digest
 * its publisher lists beside it, never for anything that must resist a
 * forger (MD5 is broken as a cryptographic hash). */
void vg_md5_hex(const void *data, size_t n, char hex[33]);

#endif
