/* api_metrics.c — GET /metrics: vigil's metrics (metrics.h) in Prometheus's
 * text exposition format 0.0.4. Rendered on the loop from atomic values:
 * no job and no store access are needed, so a scrape never waits for the
 * worker. Called through api.c's route table. */
#include "api.h"
#include "metrics.h"

#include <stdlib.h>

void vg_api_metrics(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  static const char *const none[] = {NULL};
  if (vg_api_unknown_params(r, none)) return;
  size_t len = 0;
  char *text = vg_metrics_scrape((double)(srv->pending.n + vg_source_http_waiting()), &len);
  if (!text) {
    vg_api_error(r, 500, "cannot render the metrics: out of memory");
    return;
  }
  vg_http_reply(r, 200, VG_METRICS_CTYPE, text, len, NULL);
  free(text);
}
