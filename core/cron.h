/* cron.h — five-field cron schedules: minute hour day-of-month month
 * day-of-week. Each field is a star, a value, a range a-b, any of those
 * followed by a step (/n), or a comma-separated list of them; months and
 * weekdays may also be named (jan, mon). As in cron, when both day fields
 * are restricted a day matches either one. Times are local to the process
 * time zone (TZ). Pure functions. */
#ifndef VIGIL_CRON_H
#define VIGIL_CRON_H

#include <stdint.h>
#include <time.h>

typedef struct {
  uint64_t minutes;  /* bit m: minute m (0-59) */
  uint32_t hours;    /* bit h: hour h (0-23) */
  uint32_t mdays;    /* bit d: day of month d (1-31) */
  uint16_t months;   /* bit m: month m (1-12) */
  uint8_t wdays;     /* bit w: weekday w (0 = Sunday, 7 folds to 0) */
  int mday_any, wday_any; /* the day fields were '*' */
} vg_cron;

/* Parses spec; returns 0, or VG_EINVAL with why in err. A schedule that can
 * never fire (30 2 30 2 *: February 30) is refused too. */
int vg_cron_parse(const char *spec, vg_cron *c, char *err, size_t cap);
/* The first time strictly after `after` that the schedule fires, in the
 * process's local time; (time_t)-1 if none within eight years. */
time_t vg_cron_next(const vg_cron *c, time_t after);
/* The last time at or before `at` that it fired; (time_t)-1 if none within
 * eight years. */
time_t vg_cron_prev(const vg_cron *c, time_t at);

#endif
