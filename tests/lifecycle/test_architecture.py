"""The layers of docs/architecture.md hold, and a forbidden import breaks the build.

``lint-imports`` checks the contracts in pyproject.toml (as ``.ci/run`` does) on the
tree as it is, then on a copy with one forbidden import added per contract kind.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import PROJECT_ROOT

PACKAGES = ("skewless", "simulation", "feature_repo", "training", "serving", "monitoring", "lifecycle")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for package in PACKAGES:
        shutil.copytree(PROJECT_ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_tree_keeps_every_contract() -> None:
    result = _lint(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 4 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("monitoring/policy.py", "import training.job", "layers"),  # a stage importing another
        ("skewless/settings.py", "import lifecycle.locks", "layers"),  # the base importing the top
        ("training/dataset.py", "import simulation.run", "layers"),  # training needing the simulator
        ("serving/scorer.py", "import feature_repo.operations.online", "feature_repo.operations"),
        ("simulation/world.py", "import feature_repo", "the simulated world"),
    ],
)
def test_a_forbidden_import_breaks_the_check(tmp_path: Path, module: str, line: str, contract: str) -> None:
    root = _copy(tmp_path)
    path = root / module
    path.write_text(path.read_text() + f"\n{line}  # added by the test\n")
    result = _lint(root)
    assert result.returncode != 0, result.stdout[-2000:]
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken and module.removesuffix(".py").replace("/", ".") in broken
