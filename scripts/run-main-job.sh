#!/usr/bin/env bash
# The main job on the embedded profile, no servers needed:
# simulate → feature pipeline → feast apply → materialize → online lookup.
# Extra arguments go to `skewless run` (e.g. --scale 10, --scenario covariate).
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec skewless run "$@"
