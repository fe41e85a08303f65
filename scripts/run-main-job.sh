#!/usr/bin/env bash
# The main job on the embedded profile, no servers needed: the whole loop on simulated days
# (simulate → features → apply → materialize → train → promote → serve → replay day by day →
# weekly checks → retrain → shadow → canary → promote or roll back), then a summary page.
# Extra arguments go to `skewless run` (e.g. --scenario covariate, --end 2026-06-01).
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec skewless run "$@"
