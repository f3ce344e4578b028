/* api_dashboard.c — the dashboard: `GET /` answers the one page of
 * scripts/dashboard.html, built into the binary (build/pages.c, by
 * scripts/embed.sh). The page is static: everything it shows it fetches
 * from the API (/v1/...) and the alert stream, from the same origin. Its
 * headers hold it to that origin: a Content-Security-Policy that allows no
 * other host and nothing inline but the page's own script and style (by
 * their hashes, computed at build by scripts/csp.sh), no framing, no
 * Referer sent on (http.c adds nosniff and no-store to every reply).
 * Called from api.c's route table. */
#include "api.h"
#include "embedded.h"

#include <stdio.h>
#include <string.h>

static const vg_embedded *page(const char *name) {
  for (int i = 0; i < vg_pages_count; i++)
    if (strcmp(vg_pages[i].name, name) == 0) return &vg_pages[i];
  return NULL;
}

void vg_api_dashboard(server *srv, vg_http_req *r, char *const *args) {
  (void)srv, (void)args;
  const vg_embedded *p = page("dashboard.html");
  if (!p) {
    vg_api_error(r, 500, "the dashboard is not built into this binary");
    return;
  }
  char headers[1024];
  snprintf(headers, sizeof headers,
           "Content-Security-Policy: %s\r\n"
           "X-Frame-Options: DENY\r\n"
           "Referrer-Policy: no-referrer\r\n",
           vg_dashboard_csp);
  vg_http_reply(r, 200, "text/html; charset=utf-8", p->text, strlen(p->text), headers);
}
