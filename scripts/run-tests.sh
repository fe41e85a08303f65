#!/usr/bin/env bash
# The test suite, on one worker per core (at most four; SKEWLESS_TEST_WORKERS=0 runs it in
# this process). A worker takes whole modules, the modules sharing a world built once per
# session together, longest first (tests/scheduling.py). Redis tests start their own
# redis-server on a free port when the binary exists; production-profile tests create (and
# drop) PostgreSQL databases. Extra arguments go to pytest, e.g. -m "not slow".
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec python -m pytest --numprocesses "${SKEWLESS_TEST_WORKERS:-auto}" --maxprocesses 4 --dist loadscope "$@"
