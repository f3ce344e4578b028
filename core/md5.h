/* md5.h — MD5 (RFC 1321), for checking a download against the digest its
 * publisher lists beside it (gdelt.h). Not for anything that must resist a
 * forger: MD5 is broken as a cryptographic hash. */
#ifndef VIGIL_MD5_H
#define VIGIL_MD5_H

#include <stddef.h>

/* The MD5 of data[0..n) as 32 lower-case hex digits and a NUL into hex. */
void vg_md5_hex(const void *data, size_t n, char hex[33]);

#endif
