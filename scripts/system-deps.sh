#!/usr/bin/env bash
# Debian packages the tests drive as a person would: headless Chromium renders the HTML
# reports, and a real Prometheus scrapes the API's /metrics. Installed only when missing
# and when we may (root with apt-get); otherwise the tests that need them fail in CI
# (CI=true) and skip with this script's name elsewhere.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "▶ installing ${missing[*]} (apt-get)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: missing ${missing[*]}; install with apt-get install ${missing[*]} to run the screenshot and scrape tests" >&2
fi
