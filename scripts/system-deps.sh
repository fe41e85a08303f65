#!/usr/bin/env bash
# Debian packages the tests drive as a person would: headless Chromium renders the HTML
# reports. Installed only when missing and when we may (root with apt-get); otherwise the
# test that needs it fails in CI (CI=true) and skips with this script's name elsewhere.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "▶ installing chromium (apt-get)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
else
  echo "note: chromium is missing; install it (apt-get install chromium) to run the report screenshot test" >&2
fi
