#!/usr/bin/env bash
# Security scans of the container files: checkov on both Dockerfiles (its dockerfile
# policies), on the Kubernetes manifests in deploy/k8s (its kubernetes policies; a skip is an
# annotation on the resource with its reason), and on docker-compose.yml, .env.example and
# docker/ (its secrets policies:
# checkov has no compose policies; tests/lifecycle/test_compose.py checks the compose
# hardening itself). checkov runs from its own venv (.tools/checkov, from
# scripts/checkov.lock), offline (--skip-download). ruff's bandit rules (S) on the
# packages run with `ruff check` in .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh >/dev/null
TOOL=.tools/checkov
stamp="$TOOL/.installed-$(sha256sum scripts/checkov.lock | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "▶ installing checkov into $TOOL (pinned in scripts/checkov.lock)" >&2
  rm -rf "$TOOL"
  "$(find_python)" -m venv "$TOOL"
  "$TOOL/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r scripts/checkov.lock
  touch "$stamp"
fi
run_checkov() {
  "$TOOL/bin/checkov" --skip-download --quiet --compact --output cli "$@"
}
run_checkov --framework dockerfile -f Dockerfile -f docker/mlflow/Dockerfile
run_checkov --framework secrets -f docker-compose.yml -f .env.example -d docker
run_checkov --framework kubernetes -d deploy/k8s
echo "✓ checkov: no failed checks"
