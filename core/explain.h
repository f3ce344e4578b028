/* explain.h — why an alert fired, and why an entry did or did not raise one.
 *
 * vg_explain_alert gathers what a stored alert rests on: its rule (kind,
 * parameters, the file and the hash of its text when the alert was last
 * written, and whether the file loaded now still has that hash), its key,
 * the entries it names with their spans of days and the steps they
 * matched, the window arithmetic of its kind in days, its versions from
 * the alert log, its retraction, its silence and the rule's quiet period.
 *
 * vg_explain_entry asks of a stored entry, rule by rule, what the rules
 * would see in it now: a tagging rule's `when`, a correlation's steps and
 * key (run on the entry as stored, with its tags), the partners its marks
 * pair with inside the window, and, when there are none, the nearest marks
 * outside it and why each fails, in words and numbers.
 *
 * Both read the store and run rule code in r's Lua state: the caller's own
 * rules, loaded for the purpose (a command's, or a read job's), never a
 * set another thread runs. Both give one cJSON object, which `vigil
 * explain --json` prints and the HTTP API answers; the text output is drawn
 * from it (cmd_explain.c). Called by cmd_explain.c and api_explain.c. */
#ifndef VIGIL_EXPLAIN_H
#define VIGIL_EXPLAIN_H

#include "rules.h"
#include "store.h"

#include <stdint.h>

struct cJSON;

/* The explanation of alert id into *out (the caller deletes it). 0,
 * VG_EINVAL when there is no such alert, VG_ENOMEM or VG_EDB. r may be
 * NULL (no rules loaded): the parts that need the rule then say so. */
int vg_explain_alert(vg_rules *r, vg_store *st, int64_t id, struct cJSON **out);

/* The explanation of entry id into *out: for every loaded rule, or the one
 * named `rule` (NULL: all; the caller checks that it exists with
 * vg_rules_file_of). 0, VG_EINVAL when there is no such entry, VG_ENOMEM
 * or VG_EDB. */
int vg_explain_entry(vg_rules *r, vg_store *st, int64_t id, const char *rule,
                     struct cJSON **out);

#endif
