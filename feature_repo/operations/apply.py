"""`feast apply` as a library call: register the definitions and create online tables."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feast import Project
from feast.repo_contents import RepoContents
from feast.repo_operations import extract_objects_for_apply_delete, parse_repo

from feature_repo.operations.config import open_feature_store
from skewless.errors import FeatureRepoError
from skewless.settings import Settings

__all__ = ["ApplySummary", "apply_feature_repo"]


@dataclass(frozen=True)
class ApplySummary:
    """Names of what the registry holds after apply, and what was removed."""

    feature_views: list[str]
    on_demand_feature_views: list[str]
    feature_services: list[str]
    deleted: list[str]


@contextmanager
def _inside_repo(repo_dir: Path) -> Iterator[None]:
    """Feast imports repo files as modules named relative to the working directory."""
    previous_cwd = Path.cwd()
    # A definitions module cached from another workspace would hand back that
    # workspace's paths, so repo modules are always imported afresh.
    for module_file in repo_dir.glob("*.py"):
        sys.modules.pop(module_file.stem, None)
    sys.path.insert(0, str(repo_dir))
    os.chdir(repo_dir)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        sys.path.remove(str(repo_dir))


def _parse(repo_dir: Path) -> RepoContents:
    with _inside_repo(repo_dir):
        return parse_repo(repo_dir)


def apply_feature_repo(settings: Settings) -> ApplySummary:
    """Apply ``feature_repo/`` to the registry of ``settings.profile``, deleting stale objects.

    Raises:
        FeatureRepoError: the definitions fail to import or the registry refuses them.
    """
    repo_dir = settings.feature_repo_dir
    try:
        store = open_feature_store(settings)
        repo = _parse(repo_dir)
        if not repo.projects:
            repo.projects.append(Project(name=store.config.project))
        to_apply, to_delete, _, _ = extract_objects_for_apply_delete(store.project, store.registry, repo)
        objects: list[Any] = list(to_apply)
        if not any(isinstance(obj, Project) for obj in objects):
            objects.insert(0, repo.projects[0])
        store.apply(objects, objects_to_delete=to_delete, partial=False)
    except FeatureRepoError:
        raise
    except Exception as e:
        raise FeatureRepoError(f"feast apply failed for {repo_dir}: {type(e).__name__}: {e}") from e
    return ApplySummary(
        feature_views=sorted(view.name for view in store.list_feature_views()),
        on_demand_feature_views=sorted(view.name for view in store.list_on_demand_feature_views()),
        feature_services=sorted(service.name for service in store.list_feature_services()),
        deleted=sorted(obj.name for obj in to_delete),
    )
