#!/usr/bin/env bash
# The test suite. Redis tests start their own redis-server on a free port when the
# binary exists; production-profile tests create (and drop) a PostgreSQL database.
# Extra arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec python -m pytest "$@"
