"""Shadow and canary with a real challenger, over HTTP, and the canary's automatic rollback.

The challenger is trained on shuffled labels: a deliberately bad model, as in the
rollback rehearsal. Each test sets its deployment through the admin endpoint, which
records it in the registry, so the tests do not depend on each other's state.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pandas as pd
import pytest

from serving.deployment_events import read_events
from serving.lineup import canary_point
from skewless.registry import CANARY_ROLLBACK_TAG
from tests.conftest import QUIET
from tests.serving.client import call, transaction
from tests.serving.conftest import LiveApi, api_in_process, served_log
from tests.worlds import TrainedWorld
from training.job import train_and_register

pytestmark = pytest.mark.integration
TOKEN = "routing-token"


@pytest.fixture(scope="module")
def bad_challenger(served: TrainedWorld) -> int:
    """A challenger trained on shuffled labels (registered, alias ``challenger``)."""
    config = replace(served.config, shuffle_labels=True)
    outcome = train_and_register(served.settings, served.registry, config, QUIET)
    return outcome.run.version


@pytest.fixture(scope="module")
def customers(served: TrainedWorld) -> list[pd.Series]:
    """One recent transaction for each of 300 distinct customers."""
    frame = served.training_set.frame
    latest = frame.sort_values("transaction_time").drop_duplicates("customer_id", keep="last")
    return [row for _, row in latest.head(300).iterrows()]


@pytest.fixture
def routing_api(served: TrainedWorld, request: pytest.FixtureRequest) -> Iterator[LiveApi]:
    overrides = {"admin_token": TOKEN, "reload_interval_s": 0, "log_flush_seconds": 0.2}
    overrides.update(getattr(request, "param", {}))
    with api_in_process(served.settings, **overrides) as api:
        yield api


def champion_version(api: LiveApi) -> int:
    return int(call(api, "GET", "/model")[1]["model_version"])


def test_shadow_scores_every_request_in_the_background_and_logs_both(
    routing_api: LiveApi, served: TrainedWorld, bad_challenger: int, customers: list[pd.Series]
) -> None:
    status, deployment = call(routing_api, "PUT", "/admin/deployment", {"mode": "shadow"}, token=TOKEN)
    assert status == 200, deployment
    assert deployment["mode"] == "shadow" and deployment["challenger_version"] == bad_challenger
    champion = champion_version(routing_api)
    ids = []
    for row in customers[:40]:
        status, body = call(routing_api, "POST", "/predict", transaction(row))
        assert status == 200 and body["model_version"] == champion  # the caller gets the champion's
        ids.append(body["request_id"])
    deadline = time.monotonic() + 20
    while True:
        log = served_log(served.settings)
        mine = log[log["request_id"].isin(ids)] if not log.empty else log
        if len(mine) == 2 * len(ids) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    foreign = log[~log["request_id"].isin(ids)]  # the module's first requests: nothing else was sent
    assert foreign.empty, (
        foreign[["transaction_id", "customer_id", "transaction_time", "role"]].head().to_dict()
    )
    by_role = {str(role): group for role, group in mine.groupby("role")}
    assert set(by_role) == {"champion", "shadow"}
    assert set(by_role["champion"]["request_id"]) == set(by_role["shadow"]["request_id"]) == set(ids)
    assert by_role["champion"]["served"].all() and not by_role["shadow"]["served"].any()
    assert set(by_role["shadow"]["model_version"]) == {bad_challenger}
    assert set(by_role["champion"]["model_version"]) == {champion}
    status, live = call(routing_api, "GET", "/deployment")
    assert live["challenger"]["answers"] >= 40 and live["champion"]["answers"] >= 40
    text = call(routing_api, "GET", "/metrics")[1]
    routed = [line for line in text.splitlines() if line.startswith("skewless_routed")]
    assert 'skewless_routed_predictions_total{role="shadow"} 40.0' in routed, routed


@pytest.mark.parametrize("routing_api", [{"canary_min_requests": 1_000_000}], indirect=True)
def test_canary_share_is_sticky_by_customer(
    routing_api: LiveApi, bad_challenger: int, customers: list[pd.Series]
) -> None:
    status, deployment = call(
        routing_api, "PUT", "/admin/deployment", {"mode": "canary", "canary_share": 0.3}, token=TOKEN
    )
    assert status == 200 and deployment["mode"] == "canary", deployment
    champion = champion_version(routing_api)
    served_by: dict[int, set[int]] = {}
    for _ in range(2):
        for row in customers:
            status, body = call(routing_api, "POST", "/predict", transaction(row))
            assert status == 200
            served_by.setdefault(int(row["customer_id"]), set()).add(body["model_version"])
    assert all(len(versions) == 1 for versions in served_by.values())  # sticky
    on_canary = {customer for customer, versions in served_by.items() if versions == {bad_challenger}}
    assert on_canary == {customer for customer in served_by if canary_point(customer) < 0.3}
    assert 0.2 < len(on_canary) / len(served_by) < 0.4
    assert {v for versions in served_by.values() for v in versions} == {champion, bad_challenger}
    text = call(routing_api, "GET", "/metrics")[1]
    assert "skewless_canary_share 0.3" in text and 'skewless_deployment_mode{mode="canary"} 1.0' in text


@pytest.mark.parametrize(
    "routing_api",
    [{"canary_min_requests": 60, "canary_check_interval_s": 0.2}],
    indirect=True,
)
def test_a_departing_canary_is_rolled_back_automatically(
    routing_api: LiveApi, served: TrainedWorld, bad_challenger: int, customers: list[pd.Series]
) -> None:
    status, deployment = call(
        routing_api, "PUT", "/admin/deployment", {"mode": "canary", "canary_share": 0.5}, token=TOKEN
    )
    assert status == 200 and deployment["mode"] == "canary", deployment
    champion = champion_version(routing_api)
    deadline, sent = time.monotonic() + 90, 0
    while call(routing_api, "GET", "/deployment")[1]["mode"] == "canary":
        assert time.monotonic() < deadline and sent < 5_000, "the bad canary was never rolled back"
        for row in customers[sent % 300 : sent % 300 + 50]:
            assert call(routing_api, "POST", "/predict", transaction(row))[0] == 200
        sent += 50
    status, live = call(routing_api, "GET", "/deployment")
    assert live["mode"] == "single" and "automatic canary rollback" in live["requested_reason"]
    assert any("ranks transactions unlike the champion" in r for r in live["requested_reason"].split("; "))
    # After the rollback every customer is answered by the champion.
    for row in customers[:30]:
        assert call(routing_api, "POST", "/predict", transaction(row))[1]["model_version"] == champion
    assert "skewless_canary_rollbacks_total 1.0" in call(routing_api, "GET", "/metrics")[1]
    events = [
        e for e in read_events(served.settings.layout.deployment_events) if e["event"] == "canary_rollback"
    ]
    assert events and events[-1]["challenger_version"] == bad_challenger and events[-1]["reasons"]
    # Recorded in the registry: no worker or restart puts this version back on canary.
    assert CANARY_ROLLBACK_TAG in served.registry.version_tags(bad_challenger)
    status, refused = call(routing_api, "PUT", "/admin/deployment", {"mode": "canary"}, token=TOKEN)
    assert status == 409 and "rolled back from canary" in refused["detail"]


def test_admin_deployment_needs_the_token_and_a_valid_body(routing_api: LiveApi) -> None:
    assert call(routing_api, "PUT", "/admin/deployment", {"mode": "shadow"})[0] == 401
    assert call(routing_api, "PUT", "/admin/deployment", {"mode": "shadow"}, token="wrong")[0] == 401
    status, body = call(routing_api, "PUT", "/admin/deployment", {"mode": "sideways"}, token=TOKEN)
    assert status == 422 and "mode" in body["detail"][0]["loc"]
    body = {"mode": "canary", "canary_share": 1.5}
    assert call(routing_api, "PUT", "/admin/deployment", body, token=TOKEN)[0] == 422
