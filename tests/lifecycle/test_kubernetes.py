"""The Kubernetes manifests (deploy/k8s): valid against the API schemas, wired to each other, and
running commands and probes the code has. checkov scans them in .ci/run (scripts/security-scan.sh)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from skewless.settings import Settings
from tests.factories import PROJECT_ROOT
from tests.lifecycle.test_docs_commands import _parse

BASE = PROJECT_ROOT / "deploy" / "k8s" / "base"
OVERLAY = PROJECT_ROOT / "deploy" / "k8s" / "overlays" / "production"
KUBERNETES_VERSION = "1.32.0"  # a release every managed cluster still runs


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _resources() -> list[dict[str, Any]]:
    listed = yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"]
    return [doc for name in listed for doc in _documents(BASE / name)]


def _by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in _resources() if doc["kind"] == kind]


def test_every_manifest_is_valid_and_listed_in_the_kustomization() -> None:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    files = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    for resource in _resources():
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == kustomization["namespace"] == "skewless"
    overlay = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    assert overlay["resources"] == ["../../base"]
    assert {image["name"] for image in overlay["images"]} == {"skewless-api"}


def test_a_broken_manifest_is_refused() -> None:
    [deployment] = _by_kind("Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def _pod(resource: dict[str, Any]) -> dict[str, Any]:
    spec = resource["spec"]
    if resource["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template: dict[str, Any] = spec["template"]
    return template


def test_the_api_is_probed_scaled_and_protected_by_what_it_really_serves() -> None:
    [deployment] = _by_kind("Deployment")
    labels = _pod(deployment)["metadata"]["labels"]
    [container] = _pod(deployment)["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["resources"]["requests"]["cpu"] == container["resources"]["limits"]["cpu"]
    command = container["command"]
    assert command[0] == "skewless"
    _parse(command[1:])  # the CLI accepts it
    [hpa] = _by_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    [pdb] = _by_kind("PodDisruptionBudget")
    [service] = _by_kind("Service")
    for selector in (pdb["spec"]["selector"]["matchLabels"], service["spec"]["selector"]):
        assert selector.items() <= labels.items()
    policies = {p["metadata"]["name"]: p for p in _by_kind("NetworkPolicy")}
    assert policies["skewless-api"]["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert (
        container["ports"][0]["containerPort"]
        == policies["skewless-api"]["spec"]["ingress"][0]["ports"][0]["port"]
    )


def test_the_scheduled_jobs_run_commands_the_cli_accepts_one_at_a_time() -> None:
    jobs = _by_kind("CronJob")
    assert {job["metadata"]["name"] for job in jobs} >= {"skewless-materialize", "skewless-monitor-check"}
    covered = set(
        next(p for p in _by_kind("NetworkPolicy") if p["metadata"]["name"] == "skewless-jobs")["spec"][
            "podSelector"
        ]["matchExpressions"][0]["values"]
    )
    for job in jobs:
        assert len(job["spec"]["schedule"].split()) == 5 and job["spec"]["concurrencyPolicy"] == "Forbid"
        [container] = _pod(job)["spec"]["containers"]
        assert container["command"][0] == "skewless"
        _parse(container["command"][1:])
        assert _pod(job)["metadata"]["labels"]["app.kubernetes.io/name"] in covered


def test_the_settings_the_manifests_set_are_settings_the_code_reads() -> None:
    [config] = _by_kind("ConfigMap")
    fields = {f"SKEWLESS_{name.upper()}" for name in Settings.model_fields}
    ours = {key for key in config["data"] if key.startswith("SKEWLESS_")}
    assert ours and ours <= fields, ours - fields
    Settings(**{key.removeprefix("SKEWLESS_").lower(): value for key, value in config["data"].items()
                if key in ours})  # fmt: skip


SPARK_OVERLAY = PROJECT_ROOT / "deploy" / "k8s" / "overlays" / "spark"


def test_the_spark_overlay_runs_the_pipeline_on_spark_with_what_it_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kustomization = yaml.safe_load((SPARK_OVERLAY / "kustomization.yaml").read_text())
    assert kustomization["resources"][0] == "../../base"
    added = [doc for name in kustomization["resources"][1:] for doc in _documents(SPARK_OVERLAY / name)]
    for resource in added:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        assert resource["metadata"]["namespace"] == "skewless"
    kinds = {doc["kind"]: doc for doc in added}
    job, service, binding = kinds["CronJob"], kinds["Service"], kinds["RoleBinding"]
    pod = _pod(job)
    [driver] = pod["spec"]["containers"]
    _parse(driver["command"][1:])  # a command the CLI accepts
    # The driver's pod is the one the headless Service reaches, on the ports the settings name.
    assert (
        service["spec"]["selector"]["app.kubernetes.io/name"]
        == pod["metadata"]["labels"]["app.kubernetes.io/name"]
    )
    assert (
        pod["spec"]["serviceAccountName"]
        == binding["subjects"][0]["name"]
        == kinds["ServiceAccount"]["metadata"]["name"]
    )
    # The patched settings, then the job's own, are real settings that a spark Settings object reads.
    [config] = _by_kind("ConfigMap")
    patch = yaml.safe_load((SPARK_OVERLAY / "settings-patch.yaml").read_text())
    sources = [ref["configMapRef"]["name"] for ref in driver["envFrom"] if "configMapRef" in ref]
    assert sources == ["skewless-settings", kinds["ConfigMap"]["metadata"]["name"]]
    data = config["data"] | patch["data"] | kinds["ConfigMap"]["data"]
    for key, value in data.items():  # as the pod's environment (envFrom), which pydantic-settings parses
        if key.startswith("SKEWLESS_"):
            monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.profile.value == "spark" and settings.redis_type.value == "redis_cluster"
    conf = settings.spark_conf
    assert conf["spark.driver.host"].startswith(f"{service['metadata']['name']}.skewless")
    assert {conf["spark.driver.port"], conf["spark.driver.blockManager.port"]} == {
        str(port["port"]) for port in service["spec"]["ports"]
    }
    assert conf["spark.kubernetes.authenticate.serviceAccountName"] == pod["spec"]["serviceAccountName"]
    claim = pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert conf["spark.kubernetes.executor.volumes.persistentVolumeClaim.data.options.claimName"] == claim
    # The scheduled jobs of the base run Spark in local mode, inside their own memory limit.
    monkeypatch.setenv("SKEWLESS_SPARK_CONF", patch["data"]["SKEWLESS_SPARK_CONF"])
    monkeypatch.delenv("SKEWLESS_SPARK_MASTER")
    local = Settings()
    assert local.spark_master.startswith("local") and local.spark_conf == {"spark.driver.memory": "2g"}
