# Sourced by run-main-job.sh, run-tests.sh and .ci/run: make .venv from the lock file.
# Needs only Python 3.11 and pip. Reinstalls only when requirements.lock or pyproject.toml change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3 python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "error: Skewless needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  echo "▶ creating $VENV with $(find_python)" >&2
  "$(find_python)" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat requirements.lock pyproject.toml | "$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')"
if [ ! -f "$stamp" ]; then
  echo "▶ installing pinned dependencies from requirements.lock (first run: a minute or two)" >&2
  # The lock pins every package, so pip need not resolve anything (--no-deps); `pip check`
  # then fails loudly if the lock ever misses one. Bytecode is compiled on every core at once.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
    -r requirements.lock
  "$VENV/bin/python" -m pip check >&2
  packages="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  "$VENV/bin/python" -m compileall -q -j 0 "$packages" >/dev/null || echo "note: some files did not compile" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"
