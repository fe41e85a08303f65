"""The main job: the whole loop on simulated days, from raw data to a promoted retrain.

A world is simulated with a drift story; a champion learns from the days before the
replay; the API serves it on loopback while the simulated days are replayed one by
one (``skewless.day_replay``: materialized at each day's start, customer statistics
pushed as transactions happen). Every ``check_every_days`` the policy's check runs
on the event clock as of that day (drift on the newest week, performance on the
newest week whose labels have arrived) and its decision is carried out: a passing
retrained candidate waits as challenger in shadow, goes to canary after
``shadow_days``, and after ``canary_days`` is promoted through the gate, unless the
API rolled it back by itself on its live figures.

A rerun starts clean, so two runs never mix: the previous run's served log, reports,
deployment events and online store are moved to ``data/previous-run/``, and the
registered model loses its aliases and deployment tag (its versions and MLflow runs
stay, so the MLflow UI shows every run's history).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pandas as pd

from feature_repo.operations import (
    ApplySummary,
    apply_feature_repo,
    lookup_online_features,
    materialize_features,
    open_feature_store,
)
from feature_repo.pipeline import FeatureBuildSummary, build_features
from monitoring.config import MonitoringConfig
from monitoring.job import run_report
from monitoring.performance import auc_with_error
from monitoring.policy import decide, record_decision
from serving.app import create_app
from serving.runner import serve_in_background
from simulation import SimulationConfig, SimulationSummary, simulate
from skewless.contract import CUSTOMER_KEY, FEATURE_SERVICE_V1, MERCHANT_KEY
from skewless.day_replay import replay_day
from skewless.deployment import DEPLOYMENT_TAG, request_deployment
from skewless.layout import DataLayout
from skewless.progress import Progress
from skewless.retraining import carry_out
from skewless.settings import DeploymentMode, Settings
from skewless.tracking import CHALLENGER, CHAMPION, alias_version, configure_mlflow, mlflow_ui_hint
from training.config import TrainingConfig
from training.job import TrainingOutcome, train_and_register
from training.registry import GateDecision, promote

__all__ = ["LoopConfig", "LoopEvent", "LoopResult", "Start", "run_loop"]

MOVED_ASIDE = ("served", "monitoring", "deployments", "locks", "online_store.db", "loop")


@dataclass(frozen=True)
class LoopConfig:
    """The story the loop tells and its pace."""

    scenario: str = "concept"
    scale: float = 0.1
    seed: int = 42
    end: date | None = None  # the last simulated day is the day before (default: today)
    history_days: int = 90  # simulated before the replay: warm-up, training, validation, holdout
    replay_days: int = 70
    drift_after_days: int = 7  # the scenario's change starts this many days into the replay
    per_day: int = 150  # transactions sent to the API per simulated day
    check_every_days: int = 7
    window_days: int = 14  # each check cuts its span into windows this long (15 frauds make a verdict)
    check_span_days: int = 42  # each check reads the last six weeks
    shadow_days: int = 3
    canary_days: int = 4
    canary_share: float = 0.5


@dataclass(frozen=True)
class LoopEvent:
    """One thing that happened on one simulated day, and the page that shows it (if any)."""

    day: str
    stage: str
    detail: str
    page: str | None = None


@dataclass(frozen=True)
class Start:
    """What was built before the first replayed day: data, features, the first champion."""

    simulation: SimulationSummary
    features: FeatureBuildSummary
    applied: ApplySummary
    request: dict[str, Any]  # one incoming transaction of the first replayed day
    online_features: dict[str, Any]  # what the API reads for it
    training: TrainingOutcome
    promotion: GateDecision


@dataclass(frozen=True)
class LoopResult:
    """What the loop did, day by day, and where its pages are."""

    config: LoopConfig
    start: Start
    events: list[LoopEvent]
    checks: list[dict[str, Any]]
    weeks: list[dict[str, Any]]
    periods: list[dict[str, Any]]  # AUC per version serving, before and after the change, weeks pooled
    summary_json: Path
    summary_html: Path
    seconds: float
    champion_version: int | None
    previous: list[str] = field(default_factory=list)


def _move_previous_run(layout: DataLayout) -> list[str]:
    """Move the last run's state aside so that this run starts clean; returns what moved."""
    target = layout.root / "previous-run"
    present = [name for name in MOVED_ASIDE if (layout.root / name).exists()]
    if present:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in present:
            shutil.move(str(layout.root / name), str(target / name))
    return present


def _forget_deployment(settings: Settings) -> list[str]:
    """Drop the champion and challenger aliases and the deployment tag of the last run."""
    from mlflow.exceptions import MlflowException

    client, name = configure_mlflow(settings), settings.model_name
    try:
        model = client.get_registered_model(name)
    except MlflowException:
        return []
    dropped = []
    for alias in (CHAMPION, CHALLENGER):
        if alias in (model.aliases or {}):
            client.delete_registered_model_alias(name, alias)
            dropped.append(f"alias {alias}")
    if DEPLOYMENT_TAG in (model.tags or {}):
        client.delete_registered_model_tag(name, DEPLOYMENT_TAG)
        dropped.append("deployment tag")
    return dropped


def _moment(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


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


class _Loop:
    """The state machine of one run: champion → shadow → canary → promoted or rolled back."""

    def __init__(
        self, settings: Settings, config: LoopConfig, progress: Progress, url: str, first_day: date
    ) -> None:
        self.settings, self.config, self.progress, self.url = settings, config, progress, url
        self.first_day = first_day
        self.client = configure_mlflow(settings)
        self.events: list[LoopEvent] = []
        self.checks: list[dict[str, Any]] = []
        self.stage = "champion"
        self.until: date | None = None

    def event(self, day: date, stage: str, detail: str, page: str | None = None) -> None:
        self.events.append(LoopEvent(day.isoformat(), stage, detail, page))
        self.progress.info(f"  {day} · {stage}: {detail}")

    def deploy(self, mode: DeploymentMode, reason: str) -> None:
        name = self.settings.model_name
        request_deployment(self.client, name, mode, self.config.canary_share, reason)
        _wait_for(self.url, "/deployment", "mode", mode.value)

    def advance(self, day: date) -> None:
        """At the end of ``day``: move the challenger along if its time has come."""
        name = self.settings.model_name
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
                as_of = _moment(day + timedelta(days=1))
                challenger = alias_version(self.client, name, CHALLENGER)
                gate = promote(
                    self.settings, TrainingConfig(model_name=name, cutoff=as_of), self.progress, challenger
                )
                self.deploy(DeploymentMode.SINGLE, "the loop: canary finished")
                self.stage = "champion"
                if gate.passed:
                    _wait_for(self.url, "/model", "model_version", gate.candidate_version)
                    self.event(day, "promoted", f"v{gate.candidate_version} is champion (gate passed live)")
                else:
                    self.event(day, "kept champion", "gate refused: " + "; ".join(gate.reasons))

    def check(self, day: date) -> None:
        """The policy's check as of the end of ``day``, carried out."""
        as_of = _moment(day + timedelta(days=1))
        config = MonitoringConfig(model_name=self.settings.model_name, clock="event", skew_sample=100)
        start = max(as_of - timedelta(days=self.config.check_span_days), _moment(self.first_day))
        time.sleep(self.settings.log_flush_seconds + 0.3)  # let the API's log writer flush
        outcome = run_report(
            self.settings, config, start, as_of, self.progress, as_of=as_of,
            every=timedelta(days=self.config.window_days),
        )  # fmt: skip
        decision = decide(outcome.report, outcome.reference, config.policy, as_of)
        decision = carry_out(self.settings, decision, config.policy, as_of, self.progress)
        record_decision(decision, self.settings.layout.policy_decisions)
        newest = outcome.report.windows[-1]
        self.checks.append(
            {
                "day": day.isoformat(),
                "model_version": outcome.report.model_version,
                "decision": decision.action,
                "reasons": decision.reasons,
                "drift_verdict": newest.verdict,
                "drifted": newest.drifted,
                "performance_status": decision.evidence.get("performance_status"),
                "auc": decision.evidence.get("auc"),
                "skew": decision.evidence.get("skew"),
                "outcome": decision.outcome,
                "report_html": str(outcome.html_path),
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
            self.event(
                day,
                "retrained",
                f"v{retrained['candidate_version']}: holdout AUC {retrained['holdout_auc']:.3f}; {verdict}",
                retrained.get("evaluation_report"),
            )
        elif retrained.get("why") or retrained.get("error"):
            self.event(day, "not retrained", str(retrained.get("why") or retrained.get("error")))
        if decision.outcome.get("deployment") == "shadow":
            self.stage, self.until = "shadow", day + timedelta(days=self.config.shadow_days)
            self.event(day, "shadow", f"v{decision.outcome['candidate_version']} scores beside the champion")


def _auc_cell(labels: Any, scores: Any) -> dict[str, float | None]:
    """AUC and the half-width of its 95% interval (Hanley-McNeil), None without both classes."""
    measured = auc_with_error(labels, scores)
    if measured is None:
        return {"auc": None, "ci": None}
    return {"auc": round(measured[0], 3), "ci": round(1.96 * measured[1], 3)}


def _served_with_labels(settings: Settings) -> pd.DataFrame:
    """Every answer a caller got, with its final label and the oracle's score."""
    import duckdb

    layout = settings.layout
    sql = (
        "SELECT s.transaction_time, s.model_version, s.score, l.is_fraud, t.oracle_score "
        f"FROM read_parquet('{layout.served_log_dir}/date=*/*.parquet', hive_partitioning = true) s "
        f"JOIN read_parquet('{layout.labels}') l ON s.transaction_id = CAST(l.transaction_id AS VARCHAR) "
        f"JOIN read_parquet('{layout.transactions}') t ON l.transaction_id = t.transaction_id WHERE s.served"
    )
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        served: pd.DataFrame = connection.execute(sql).df()
    return served


def _scored(part: pd.DataFrame) -> dict[str, Any]:
    labels = part["is_fraud"].to_numpy()
    model, oracle = (
        _auc_cell(labels, part["score"].to_numpy()),
        _auc_cell(labels, part["oracle_score"].to_numpy()),
    )
    return {
        "served": int(len(part)),
        "frauds": int(labels.sum()),
        "auc": model["auc"],
        "auc_ci": model["ci"],
        "oracle_auc": oracle["auc"],
        "oracle_auc_ci": oracle["ci"],
    }


def _week_rows(
    served: pd.DataFrame, first: date, days: int, checks: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per replayed week: versions serving, AUC of the served scores and of the oracle, verdicts."""
    rows = []
    for week in range(0, days, 7):
        low, high = (
            pd.Timestamp(first + timedelta(days=week), tz=UTC),
            pd.Timestamp(first + timedelta(days=min(days, week + 7)), tz=UTC),
        )
        part = served[(served["transaction_time"] >= low) & (served["transaction_time"] < high)]
        check = next((c for c in checks if low.date() <= date.fromisoformat(c["day"]) < high.date()), None)
        rows.append(
            {"week": f"{low.date()} – {(high - pd.Timedelta(days=1)).date()}"}
            | _scored(part)
            | {
                "versions": sorted(int(v) for v in part["model_version"].unique()),
                "drift": check["drift_verdict"] if check else None,
                "skew": check["skew"] if check else None,
                "decision": check["decision"] if check else None,
                "report": check["report_html"] if check else None,
            }
        )
    return rows


def _period_rows(served: pd.DataFrame, change: pd.Timestamp | None) -> list[dict[str, Any]]:
    """AUC per model version, before and after the scenario's change: weeks pooled, so the
    intervals are narrower than a week's."""
    phase = (
        pd.Series("no change", index=served.index)
        if change is None
        else (served["transaction_time"] >= change).map(
            {False: "before the change", True: "after the change"}
        )
    )
    rows = []
    for (version, when), part in served.groupby([served["model_version"].astype(int), phase], sort=False):
        rows.append(
            {
                "version": int(cast(int, version)),
                "phase": str(when),
                "from": str(part["transaction_time"].min().date()),
                "to": str(part["transaction_time"].max().date()),
            }
            | _scored(part)
        )
    return sorted(rows, key=lambda row: (row["from"], row["version"]))


def format_auc(auc: float | None, ci: float | None) -> str:
    """``0.824 ± 0.061``, or ``-`` when the week had no fraud (or nothing but fraud)."""
    return "-" if auc is None else f"{auc:.3f} ± {ci:.3f}"


_PAGE_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1150px;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;font-size:14px;vertical-align:top}th{background:#f3f3f3}.num{text-align:right}
code{background:#f6f6f6;padding:1px 4px}p.note{color:#555;font-size:14px;max-width:900px}"""


def _write_summary(folder: Path, result: dict[str, Any]) -> tuple[Path, Path]:
    import html

    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "summary.json", folder / "summary.html"
    json_path.write_text(json.dumps(result, indent=2, default=str))

    def cell(value: Any) -> str:
        return html.escape("" if value is None else str(value))

    def link(path: str | None, text: str) -> str:
        return f'<a href="{html.escape(Path(path).as_uri())}">{cell(text)}</a>' if path else ""

    weeks = "".join(
        f"<tr><td>{cell(w['week'])}</td><td class=num>{w['served']}</td><td class=num>{w['frauds']}</td>"
        f"<td>{cell(', '.join(f'v{v}' for v in w['versions']))}</td>"
        f"<td class=num>{cell(format_auc(w['auc'], w['auc_ci']))}</td>"
        f"<td class=num>{cell(format_auc(w['oracle_auc'], w['oracle_auc_ci']))}</td>"
        f"<td>{cell(w['drift'])}</td><td>{cell(w['skew'])}</td><td>{cell(w['decision'])}</td>"
        f"<td>{link(w['report'], 'monitoring report')}</td></tr>"
        for w in result["weeks"]
    )
    periods = "".join(
        f"<tr><td>v{p['version']}</td><td>{cell(p['phase'])}</td><td>{cell(p['from'])} – {cell(p['to'])}</td>"
        f"<td class=num>{p['served']}</td><td class=num>{p['frauds']}</td>"
        f"<td class=num>{cell(format_auc(p['auc'], p['auc_ci']))}</td>"
        f"<td class=num>{cell(format_auc(p['oracle_auc'], p['oracle_auc_ci']))}</td></tr>"
        for p in result["periods"]
    )
    events = "".join(
        f"<tr><td>{cell(e['day'])}</td><td>{cell(e['stage'])}</td><td>{cell(e['detail'])}</td>"
        f"<td>{link(e['page'], 'report')}</td></tr>"
        for e in result["events"]
    )
    start = result["start"]
    config = result["config"]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Skewless · the whole loop</title>
<style>{_PAGE_STYLE}</style></head>
<body><h1>Skewless · the whole loop · scenario {cell(config["scenario"])}</h1>
<p>{start["transactions"]:,} simulated transactions; {config["replay_days"]} days replayed through the
API ({config["per_day"]} a day, from {cell(config["first_day"])}), the scenario's change from day
{config["drift_after_days"] + 1}. Champion at the end: <b>v{cell(result["champion_version"])}</b>.
Wall time {cell(result["seconds"])} s.</p>
<p>First champion: v{cell(start["version"])}, holdout ROC-AUC {cell(start["holdout_auc"])} against the
oracle's {cell(start["oracle_auc"])} · {link(start["evaluation_report"], "evaluation report")} ·
decisions: <code>{cell(result["decisions"])}</code> · runs and models:
<code>{cell(result["mlflow_ui"])}</code></p>
<h2>Weeks</h2>
<table><tr><th>week</th><th>served</th><th>frauds</th><th>versions</th><th>AUC (95% interval)</th>
<th>oracle AUC</th><th>drift</th><th>skew</th><th>decision</th><th></th></tr>{weeks}</table>
<p class="note">AUC of the scores the callers got, against the labels known at the end, beside the
oracle (the simulator's true fraud probability) on the same transactions. With a few frauds a week the
interval is wide: read the trend across weeks. Drift, skew and decision come from the check run at the
end of the week, on the event clock.</p>
<h2>Each model, before and after the change</h2>
<table><tr><th>model</th><th>phase</th><th>days</th><th>answers</th><th>frauds</th>
<th>AUC (95% interval)</th><th>oracle AUC</th></tr>{periods}</table>
<h2>What happened</h2>
<table><tr><th>day</th><th>stage</th><th>detail</th><th></th></tr>{events}</table>
</body></html>"""
    html_path.write_text(page)
    return json_path, html_path


def sample_request(transactions: pd.DataFrame, day: date) -> dict[str, Any]:
    """The first transaction of ``day``: what the API is asked first when the replay begins."""
    start = pd.Timestamp(day, tz=UTC)
    first = transactions[transactions["transaction_time"] >= start].sort_values("transaction_time").iloc[0]
    return {
        CUSTOMER_KEY: int(first[CUSTOMER_KEY]),
        MERCHANT_KEY: int(first[MERCHANT_KEY]),
        "amount": float(first["amount"]),
        "merchant_country": str(first["merchant_country"]),
        "channel": str(first["channel"]),
        "transaction_time": first["transaction_time"].to_pydatetime(),
    }


def _build(settings: Settings, config: LoopConfig, first: date, end: date, progress: Progress) -> Start:
    """Simulate, build the features, apply, materialize up to the replay, train and promote."""
    layout = settings.layout
    world = SimulationConfig(
        start=first - timedelta(days=config.history_days), end=end, scale=config.scale, seed=config.seed,
        scenario=config.scenario, drift_start=first + timedelta(days=config.drift_after_days),
    )  # fmt: skip
    simulation = simulate(world, layout, progress)
    features = build_features(layout, progress)
    with progress.step(f"feast apply ({settings.profile})"):
        applied = apply_feature_repo(settings)
    store = open_feature_store(settings)
    cutoff = _moment(first)
    longest_ttl = max((view.ttl or timedelta(0)) for view in store.list_feature_views())
    with progress.step(f"materialize up to the replay's first day {first}"):
        with contextlib.redirect_stdout(io.StringIO()):  # Feast prints a line per view
            materialize_features(store, end=cutoff, start=cutoff - longest_ttl)
    request = sample_request(pd.read_parquet(layout.transactions), first)
    with progress.step(f"one online lookup of '{FEATURE_SERVICE_V1}'"):
        values = lookup_online_features(store, FEATURE_SERVICE_V1, [request])
    training = TrainingConfig(model_name=settings.model_name, cutoff=cutoff)
    trained = train_and_register(settings, training, progress)
    promotion = promote(settings, training, progress)
    online = {name: column[0] for name, column in values.items()}
    return Start(simulation, features, applied, request, online, trained, promotion)


def run_loop(settings: Settings, config: LoopConfig, progress: Progress) -> LoopResult:
    """Run the whole loop on ``settings``'s workspace (embedded or production profile).

    Raises:
        SkewlessError: a stage failed (its message says which and why); what was
            written before it stays.
    """
    started = time.perf_counter()
    layout = settings.layout
    progress.info(
        f"Skewless · the whole loop · scenario {config.scenario} · profile {settings.profile} · "
        f"workspace {settings.root_dir}"
    )
    previous = _move_previous_run(layout) + _forget_deployment(settings)
    if previous:
        progress.info(f"a fresh loop; the previous run's state set aside: {', '.join(previous)}")
    end = config.end or datetime.now(UTC).date()
    first = end - timedelta(days=config.replay_days)
    start = _build(settings, config, first, end, progress)
    store = open_feature_store(settings)
    serving = settings.model_copy(
        update={"reload_interval_s": 0.3, "log_flush_seconds": 0.2, "canary_check_interval_s": 0.5}
    )
    with serve_in_background(create_app(serving)) as url:
        loop = _Loop(serving, config, progress, url, first)
        loop.event(
            first,
            "champion",
            f"v{alias_version(loop.client, settings.model_name, CHAMPION)} serves",
            str(start.training.report_html),
        )
        for index in range(config.replay_days):
            day = first + timedelta(days=index)
            with progress.step(
                f"day {index + 1}/{config.replay_days} {day}: replay {config.per_day} transactions"
            ):
                replay_day(store, layout, url, day, config.per_day, seed=index)
            loop.advance(day)
            if (index + 1) % config.check_every_days == 0:
                loop.check(day)
        time.sleep(serving.log_flush_seconds + 0.3)
    champion = alias_version(loop.client, settings.model_name, CHAMPION)
    served = _served_with_labels(settings)
    weeks = _week_rows(served, first, config.replay_days, loop.checks)
    change = (
        None
        if config.scenario == "none"
        else pd.Timestamp(first + timedelta(days=config.drift_after_days), tz=UTC)
    )
    periods = _period_rows(served, change)
    seconds = round(time.perf_counter() - started, 1)
    evaluation = start.training.evaluation
    summary = {
        "config": asdict(config) | {"end": end.isoformat(), "first_day": first.isoformat()},
        "start": {
            "transactions": start.simulation.transactions,
            "version": start.training.run.version,
            "holdout_auc": round(evaluation.roc_auc, 4),
            "oracle_auc": round(evaluation.oracle_roc_auc, 4),
            "evaluation_report": str(start.training.report_html),
        },
        "champion_version": champion,
        "seconds": seconds,
        "decisions": str(layout.policy_decisions),
        "mlflow_ui": mlflow_ui_hint(settings),
        "weeks": weeks,
        "periods": periods,
        "checks": loop.checks,
        "events": [asdict(e) for e in loop.events],
    }
    json_path, html_path = _write_summary(layout.root / "loop", summary)
    return LoopResult(
        config,
        start,
        loop.events,
        loop.checks,
        weeks,
        periods,
        json_path,
        html_path,
        seconds,
        champion,
        previous,
    )
