/* textmatch.h — finding words and phrases in entry text as a reader would:
 * case-insensitive (ASCII), on word boundaries, blanks in a phrase matching
 * any run of blanks. Pure functions over bytes; safe from any thread. */
#ifndef VIGIL_TEXTMATCH_H
#define VIGIL_TEXTMATCH_H

#include <stddef.h>
#include <stdint.h>

/* Whether the word or phrase needle[0..nn) occurs in hay[0..hn) with no
 * word character right before or after it. Letters and digits are word
 * characters, and so is any non-ASCII character except punctuation and
 * spaces (so "Korea’s" holds the word "Korea"). An empty needle never
 * matches. An acronym (at most six characters, every letter a capital:
 * US, ROK, ICBM, U.S.) matches only as written, so "US" does not find "us". */
int vg_text_has(const char *hay, size_t hn, const char *needle, size_t nn);

/* The pairs of adjacent characters of a text (case folded, blank runs as
 * one space), as a bit set: made once per text, it rules most needles out
 * without a scan, since a needle can occur only where each of its pairs
 * does. */
typedef struct {
  uint64_t bits[64]; /* 4096 bits, one per hashed pair */
} vg_text_pairs;

/* Fills p from hay[0..hn). */
void vg_text_pairs_make(vg_text_pairs *p, const char *hay, size_t hn);
/* 0 when needle cannot occur in the text of p (vg_text_has would say 0);
 * 1 when it may. */
int vg_text_pairs_may_have(const vg_text_pairs *p, const char *needle, size_t nn);

#endif
