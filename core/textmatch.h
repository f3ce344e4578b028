/* textmatch.h — finding words and phrases in entry text as a reader would:
 * case-insensitive (ASCII), on word boundaries, blanks in a phrase matching
 * any run of blanks. Pure functions over bytes; safe from any thread. */
#ifndef VIGIL_TEXTMATCH_H
#define VIGIL_TEXTMATCH_H

#include <stddef.h>

/* Whether the word or phrase needle[0..nn) occurs in hay[0..hn) with no
 * word character right before or after it. Letters and digits are word
 * characters, and so is any non-ASCII character except punctuation and
 * spaces (so "Korea’s" holds the word "Korea"). An empty needle never
 * matches. An acronym (at most six characters, every letter a capital:
 * US, ROK, ICBM, U.S.) matches only as written, so "US" does not find "us". */
int vg_text_has(const char *hay, size_t hn, const char *needle, size_t nn);

#endif
