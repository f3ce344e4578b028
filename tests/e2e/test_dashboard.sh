#!/bin/sh
# End-to-end: the dashboard (GET /) in a real browser. The daemon runs with
# rules of this test's own: tag-nuclear tags "nuclear" and tag-reactor
# "reactor" on entries about the Yongbyon reactor, and reactor-watch raises
# a crit alert on each entry tagged nuclear. tests/e2e/dashboard.test.js
# then drives Debian's chromium (headless, through puppeteer-core) on the
# page: it loads with its Content-Security-Policy and a live alert stream;
# an entry POSTed to the API puts its alert at the top of the live list
# without a reload; a search finds the entry; its detail, opened from the
# keyboard, names each tag's rule and closes with Escape; /#alert/ID opens
# that alert; a silence made with the page's form is listed, and the next
# alert of the rule arrives marked silenced; the timeline has both days and
# filters by tag. Any console error, page error or failed request fails it.
# A write from the page's own origin passes the server's Origin check, one
# from another origin does not.
# A screenshot of the dashboard is saved in the scratch directory, and
# copied to docs/dashboard.png when VIGIL_UPDATE_SCREENSHOT is set.
#
# Needs chromium, node and npm (make test-deps installs them), and the npm
# registry once, to install tests/e2e/package-lock.json into
# tests/e2e/node_modules (npm ci; puppeteer-core downloads no browser).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
for tool in node npm curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "Bail out! $tool is needed for the browser test (make test-deps installs it)"
    exit 1
  fi
done
if [ ! -x "$CHROMIUM" ]; then
  echo "Bail out! $CHROMIUM is needed for the browser test (make test-deps installs Debian's chromium)"
  exit 1
fi

# puppeteer-core, as package-lock.json pins it, installed once (again when
# the lock changes).
if ! cmp -s "$E2E/package-lock.json" "$E2E/node_modules/.package-lock.ref" 2>/dev/null ||
  [ ! -f "$E2E/node_modules/puppeteer-core/package.json" ]; then
  if (cd "$E2E" && PUPPETEER_SKIP_DOWNLOAD=1 timeout 600 npm ci --no-audit --no-fund \
    --ignore-scripts) >"$T/npm.log" 2>&1; then
    cp "$E2E/package-lock.json" "$E2E/node_modules/.package-lock.ref"
  else
    echo "Bail out! npm ci could not install puppeteer-core into $E2E/node_modules:"
    tail -n 15 "$T/npm.log" | sed 's/^/# /'
    exit 1
  fi
fi
ok "puppeteer-core is installed (tests/e2e/node_modules)"

mkdir -p "$T/rules"
cat >"$T/rules/dash.lua" <<'LUA'
rule "tag-nuclear" {
  when = function(e) return e:find"Yongbyon" end,
  tags = {"nuclear"},
}

rule "tag-reactor" {
  when = function(e) return e:find"reactor" end,
  tags = {"reactor"},
}

rule "reactor-watch" {
  after = {"tag-nuclear"},
  when = function(e) return e:has_tag"nuclear" end,
  alert = function(e) return { severity = "crit", message = "reactor activity: " .. e.text } end,
}
LUA

start_daemon --rules "$T/rules" || done_testing
like "the daemon serves the dashboard at /" \
  "$(curl -s -m 60 -D - -o "$T/page.html" "$HTTP/" | tr -d '\r')" 'Content-Type: text/html; charset=utf-8'
like "... the page it serves is the dashboard" "$(grep -c 'EventSource' "$T/page.html")" '^[1-9]'

# The page's writes carry its own origin, which the server takes; another
# origin's are refused before any handler (an empty silence: refused by its
# handler if it gets that far, so nothing is stored).
post_from() {
  curl -s -m 60 -o /dev/null -w '%{http_code}' -X POST -H "Origin: $1" \
    -H 'Content-Type: application/json' --data '{}' "$HTTP/v1/silences"
}
isnt "a write from the dashboard's own origin passes the Origin check" "$(post_from "$HTTP")" 403
is "... one from another origin is refused" "$(post_from http://elsewhere.example)" 403
is "... and one naming the same port on another host" \
  "$(post_from "http://localhost:$HTTP_PORT")" 403

# The browser's checks, one line each: "PASS what" or "FAIL what<TAB>details".
VIGIL_HTTP=$HTTP SHOT=$T/dashboard.png CHROMIUM=$CHROMIUM NODE_PATH="$E2E/node_modules" \
  timeout 900 node "$E2E/dashboard.test.js" >"$T/browser.out" 2>"$T/browser.err"
rc=$?
while IFS= read -r line; do
  case $line in
  "PASS "*) ok "browser: ${line#PASS }" ;;
  "FAIL "*)
    rest=${line#FAIL }
    what=$(printf '%s' "$rest" | cut -f1)
    fail "browser: $what" "$(printf '%s' "$rest" | cut -f2- -s | tr '\t' '\n')"
    ;;
  esac
done <"$T/browser.out"
if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$T/browser.out"; then
  fail "the browser test ran" "node exited with status $rc:" "$(tail -n 20 "$T/browser.err")"
elif [ $rc -eq 0 ] && ! grep -q '^PASS no console error' "$T/browser.out"; then
  fail "the browser test ran to its end" "$(tail -n 20 "$T/browser.err")"
fi

if [ -s "$T/dashboard.png" ] && [ -n "${VIGIL_UPDATE_SCREENSHOT:-}" ]; then
  mkdir -p "$E2E/../../docs"
  cp "$T/dashboard.png" "$E2E/../../docs/dashboard.png"
  diag "docs/dashboard.png updated"
fi

stop_daemon
done_testing
