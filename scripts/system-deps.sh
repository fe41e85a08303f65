#!/usr/bin/env bash
# Debian packages the tests drive as a person would: headless Chromium renders the HTML
# reports, a real Prometheus scrapes the API's /metrics, and the production profile's
# configuration is checked by the tools that will read it (promtool from prometheus, amtool
# from prometheus-alertmanager, `nginx -t`). Installed only when missing and when we may
# (root with apt-get); otherwise the tests that need them fail in CI (CI=true) and skip with
# this script's name elsewhere. wrk drives the serving benchmark (benchmarks/bench_serving.py);
# Java runs Spark (the spark profile and its tests).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
{ command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null 2>&1 || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# The spark profile's Spark (pyspark, from requirements.lock) runs on a Java 17 runtime.
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "▶ installing ${missing[*]} (apt-get)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: missing ${missing[*]}; install with apt-get install ${missing[*]} to run the screenshot, scrape and configuration tests" >&2
fi
