"""The challenger's way through the replay: champion → shadow → canary → promoted or rolled back.

Every ``check_every_days`` the policy's check runs on the event clock as of that day
(drift on the newest window, performance on the newest window whose labels have
arrived) and its decision is carried out (``lifecycle.checks.run_check``): a passing
retrained candidate waits as challenger in shadow, goes to canary after
``shadow_days``, and after ``canary_days`` is promoted through the gate, unless the
API rolled it back by itself on its live figures.
"""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import date, timedelta
from typing import Any

from lifecycle.checks import CheckWindow, run_check
from lifecycle.loop.build import midnight
from lifecycle.loop.config import LoopConfig, LoopEvent
from monitoring.config import MonitoringConfig
from skewless.modes import DeploymentMode
from skewless.progress import Progress
from skewless.registry import CHALLENGER, MlflowModelRegistry
from skewless.settings import Settings
from training.config import TrainingConfig
from training.registry import promote

__all__ = ["ChallengerStages"]


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def _wait_for(url: str, path: str, key: str, value: Any, timeout_s: float = 20.0) -> None:
    """Wait until the API's ``GET path`` shows ``key == value`` (it polls the registry)."""
    deadline = time.monotonic() + timeout_s
    while _get(f"{url}{path}").get(key) != value:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the API did not show {key}={value} on {path} within {timeout_s:.0f} s")
        time.sleep(0.2)


class ChallengerStages:
    """The state machine of one run, against the API at ``url`` and the shared ``registry``."""

    def __init__(
        self,
        settings: Settings,
        registry: MlflowModelRegistry,
        config: LoopConfig,
        progress: Progress,
        url: str,
        first_day: date,
    ) -> None:
        self.settings, self.registry, self.config = settings, registry, config
        self.progress, self.url, self.first_day = progress, url, first_day
        self.events: list[LoopEvent] = []
        self.checks: list[dict[str, Any]] = []
        self.stage = "champion"
        self.until: date | None = None

    def event(self, day: date, stage: str, detail: str, page: str | None = None) -> None:
        self.events.append(LoopEvent(day.isoformat(), stage, detail, page))
        self.progress.info(f"  {day} · {stage}: {detail}")

    def deploy(self, mode: DeploymentMode, reason: str) -> None:
        self.registry.request_deployment(mode, self.config.canary_share, reason)
        _wait_for(self.url, "/deployment", "mode", mode.value)

    def advance(self, day: date) -> None:
        """At the end of ``day``: move the challenger along if its time has come."""
        if self.stage == "shadow" and self.until is not None and day >= self.until:
            self.deploy(DeploymentMode.CANARY, f"the loop: shadow held for {self.config.shadow_days} days")
            self.stage, self.until = "canary", day + timedelta(days=self.config.canary_days)
            self.event(day, "canary", f"challenger answers {self.config.canary_share:.0%} of customers")
        elif self.stage == "canary":
            live = _get(f"{self.url}/deployment")
            if live.get("mode") != DeploymentMode.CANARY.value:
                self.stage = "champion"
                self.event(day, "rolled back", str(live.get("requested_reason") or live))
            elif self.until is not None and day >= self.until:
                as_of = midnight(day + timedelta(days=1))
                challenger = self.registry.alias_version(CHALLENGER)
                gate = promote(self.registry, TrainingConfig(cutoff=as_of), self.progress, challenger)
                self.deploy(DeploymentMode.SINGLE, "the loop: canary finished")
                self.stage = "champion"
                if gate.passed:
                    _wait_for(self.url, "/model", "model_version", gate.candidate_version)
                    self.event(day, "promoted", f"v{gate.candidate_version} is champion (gate passed live)")
                else:
                    self.event(day, "kept champion", "gate refused: " + "; ".join(gate.reasons))

    def check(self, day: date) -> None:
        """The policy's check as of the end of ``day``, carried out and recorded."""
        as_of = midnight(day + timedelta(days=1))
        config = MonitoringConfig(clock="event", skew_sample=100)
        start = max(as_of - timedelta(days=self.config.check_span_days), midnight(self.first_day))
        window = CheckWindow(start, as_of, as_of, every=timedelta(days=self.config.window_days))
        outcome = run_check(self.settings, self.registry, config, window, self.progress)
        decision, report = outcome.decision, outcome.report
        newest = report.report.windows[-1]
        self.checks.append(
            {
                "day": day.isoformat(),
                "model_version": report.report.model_version,
                "decision": decision.action,
                "reasons": decision.reasons,
                "drift_verdict": newest.verdict,
                "drifted": newest.drifted,
                "score_drift": newest.score.status if newest.score else None,
                "performance_status": decision.evidence.get("performance_status"),
                "auc": decision.evidence.get("auc"),
                "skew": decision.evidence.get("skew"),
                "outcome": decision.outcome,
                "report_html": str(report.html_path),
            }
        )
        self.event(day, f"check: {decision.action}", "; ".join(decision.reasons))
        retrained = decision.outcome
        if retrained.get("candidate_version") is not None:
            verdict = (
                "gate passed"
                if retrained["gate_passed"]
                else "gate refused: " + "; ".join(retrained["gate_reasons"])
            )
            champion = retrained.get("champion") or {}
            against = f" against the champion's {champion['roc_auc']:.3f}" if "roc_auc" in champion else ""
            self.event(
                day,
                "retrained",
                f"v{retrained['candidate_version']}: AUC {retrained['holdout_auc']:.3f}{against} on the "
                f"newest labelled days ({retrained.get('labels', 'matured')} labels); {verdict}",
                retrained.get("evaluation_report"),
            )
        elif retrained.get("why") or retrained.get("error"):
            self.event(day, "not retrained", str(retrained.get("why") or retrained.get("error")))
        if decision.outcome.get("deployment") == "shadow":
            self.stage, self.until = "shadow", day + timedelta(days=self.config.shadow_days)
            self.event(day, "shadow", f"v{decision.outcome['candidate_version']} scores beside the champion")
