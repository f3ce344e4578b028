/* events.h — one event from many reports. Reports of one event come worded
 * differently, from several sources, on the same day or a day apart; this
 * module finds which stored entries report the event a new entry reports,
 * and records the grouping in the store (db/012_event_groups.sql).
 *
 * Two entries report one event when their first days and their last days
 * each differ by a day at most, they carry the same non-empty set of event
 * tags (the tags without a ':': `launch`, `reaction`...; tags such as
 * `actor:us` describe an entry, not the kind of event), and their texts are
 * at least `similarity` alike (vg_text_similarity), and they come from
 * different sources (one source tells an event once: a daily chronology's
 * launches on successive days, or a feed's on one day, are as many events;
 * exact duplicates are one event by vg_entry_event all the same). An event is a connected
 * component of that relation, so one entry that is like two groups joins
 * them, with one bound: every report of an event begins within a day of its
 * earliest, so that launches on successive days told alike never chain into
 * one event (an entry joins no event that began more than a day from it,
 * and links only events that begin within a day of the earliest it links).
 * An event's id is the least of its members' ids, a member's id being its
 * first day (high 32 bits) and the low 32 bits of its vg_entry_event value:
 * the id of its earliest report. Neither depends on the order entries came
 * in, as long as the reports alike lie within a day of one another and no
 * day holds more than VG_EVENT_CANDIDATES entries of one kind within a day
 * of each other (past that, the nearest are compared: a bound on the cost
 * per entry on a dense feed). Reports alike over three days or more may
 * group by their order of arrival.
 *
 * rules.c calls it once per entry, after its tagging rules and before its
 * correlations, inside the caller's open transaction. */
#ifndef VIGIL_EVENTS_H
#define VIGIL_EVENTS_H

#include "lua_entry.h"
#include "store.h"

#include <stdint.h>

/* Stored entries a new entry is compared with at most. */
#define VG_EVENT_CANDIDATES 64

/* The event the entry of ctx reports, with the tags it has now. An entry
 * without an event tag reports the event vg_entry_event gives it: nothing
 * is looked up or recorded, and 0 is returned. Otherwise the entry is
 * recorded with its event, which goes to *event, the events it links are
 * merged into one (their marks and counts too: vg_store_event_merge), and
 * 1 is returned. VG_EDB / VG_ENOMEM on failure. */
int vg_events_group(vg_store *st, const vg_entry_ctx *ctx, double similarity, int64_t *event);

#endif
