#!/bin/sh
# Writes the C definition of the dashboard's Content-Security-Policy
# (vg_dashboard_csp, see core/embedded.h): the page's one inline <script>
# and one inline <style> are allowed by their SHA-256 (as a browser hashes
# them: what lies between the tags), nothing else inline, and nothing from
# another origin. The page must keep each tag alone on its line.
# Usage: csp.sh PAGE.html >> out.c
set -eu
page=$1

# hash TAG: the base64 SHA-256 of the text between <TAG> and </TAG>.
hash() {
  n=$(grep -c "^<$1>\$" "$page" || true)
  if [ "$n" != 1 ] || [ "$(grep -c "^</$1>\$" "$page" || true)" != 1 ]; then
    echo "csp.sh: $page must have one <$1> and one </$1>, each alone on its line" >&2
    exit 1
  fi
  { printf '\n'; sed -n "/^<$1>\$/,/^<\\/$1>\$/p" "$page" | sed '1d;$d'; } |
    sha256sum | cut -c1-64 | tr a-f A-F | basenc --base16 -d | base64
}
script=$(hash script)
style=$(hash style)
printf '\nconst char vg_dashboard_csp[] =\n'
printf '    "default-src '"'"'self'"'"'; script-src '"'"'sha256-%s'"'"'; "\n' "$script"
printf '    "style-src '"'"'sha256-%s'"'"'; connect-src '"'"'self'"'"'; img-src '"'"'self'"'"' data:; "\n' "$style"
printf '    "object-src '"'"'none'"'"'; base-uri '"'"'none'"'"'; form-action '"'"'self'"'"'; frame-ancestors '"'"'none'"'"'";\n'
