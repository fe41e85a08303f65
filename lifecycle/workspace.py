"""Workspaces: a folder holding its own ``feature_repo/`` and ``data/`` side by side.

Feast's definitions resolve ``data/`` beside the repo (as ``feast init`` does), so a
workspace made by :func:`create_workspace` is isolated from every other one. A copy
(:func:`copy_workspace`) must be re-pointed: Feast's file registry keeps the absolute
paths of the original's feature tables and MLflow's sqlite store the absolute paths of
its artifacts, so without that a copy would silently read (and write) the original.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import feature_repo
from skewless.modes import Profile
from skewless.settings import Settings

__all__ = ["copy_workspace", "create_workspace"]

_REPO_FILES = shutil.ignore_patterns("__pycache__", "pipeline", "operations", "__init__.py")


def create_workspace(root: Path, profile: Profile = Profile.EMBEDDED, **settings: Any) -> Settings:
    """A workspace at ``root`` with its own copy of the feature repo and an empty ``data/`` folder.

    ``settings`` are further :class:`Settings` fields (a Redis address, an MLflow server).
    """
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(Path(feature_repo.__file__).parent, root / "feature_repo", ignore=_REPO_FILES,
                    dirs_exist_ok=True)  # fmt: skip
    return Settings(root_dir=root, profile=profile, **settings)


def _repoint_sqlite(database: Path, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` in every text value of a sqlite database; returns the values changed."""
    changed = 0
    with sqlite3.connect(database) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in connection.execute(f'PRAGMA table_info("{table}")').fetchall():
                name, kind = str(column[1]), str(column[2]).upper()
                if "CHAR" not in kind and "TEXT" not in kind and kind != "":
                    continue
                cursor = connection.execute(
                    f'UPDATE "{table}" SET "{name}" = replace("{name}", ?, ?) WHERE instr("{name}", ?) > 0',
                    (old, new, old),
                )
                changed += cursor.rowcount
    return changed


def copy_workspace(source: Settings, root: Path) -> Settings:
    """A copy of an embedded-profile workspace at ``root`` that reads and writes only itself.

    The feature repo and ``data/`` are copied; MLflow's sqlite store is re-pointed at the
    copy's artifacts, and the feature repo applied again so that Feast's registry names
    the copy's feature tables.

    Raises:
        ConfigurationError: ``source`` is not on the embedded profile (servers cannot be copied).
    """
    from feature_repo.operations import apply_feature_repo
    from skewless.errors import ConfigurationError

    if source.profile is not Profile.EMBEDDED:
        raise ConfigurationError("only an embedded-profile workspace can be copied (its servers cannot)")
    root.mkdir(parents=True, exist_ok=True)
    no_cache = shutil.ignore_patterns("__pycache__")
    shutil.copytree(source.feature_repo_dir, root / "feature_repo", ignore=no_cache)
    shutil.copytree(source.layout.root, root / "data", ignore=shutil.ignore_patterns("locks"))
    copied = source.model_copy(update={"root_dir": root.resolve()})
    if copied.layout.mlflow_db.exists():
        _repoint_sqlite(copied.layout.mlflow_db, str(source.root_dir), str(copied.root_dir))
    if source.layout.registry_db.exists():
        apply_feature_repo(copied)
    return copied
