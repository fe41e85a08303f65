"""Schema-driven fuzz of the running API: no input, valid or not, yields a 5xx.

Schemathesis reads the API's own OpenAPI document and sends generated requests to
every operation: valid bodies (positive) and bodies that break the schema
(negative). Each answer must not be a server error, must match the status codes and
response schema the document declares, and invalid input must be rejected (4xx).
The admin token is sent, so admin bodies reach validation too; the API serves a copy of
the world of this module's own, so the deployments the fuzz sets reach no other test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from serving.app import create_app
from skewless.settings import Settings
from tests.serving.conftest import LiveApi, api_in_process
from tests.worlds import TrainedWorld

pytestmark = pytest.mark.integration
TOKEN = "fuzz-token"
EXAMPLES = 40  # per operation and mode; derandomized, so a run is repeatable
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, negative_data_rejection]


@pytest.fixture(scope="module")
def fuzzed_api(served: TrainedWorld) -> Iterator[LiveApi]:
    with api_in_process(served.settings, admin_token=TOKEN, reload_interval_s=0, max_batch_size=20) as api:
        yield api


def _cases() -> list[tuple[str, str, GenerationMode]]:
    """Every operation of the API's OpenAPI document (built from the app, no server needed),
    with valid input, and with invalid input where there is a body to break."""
    document = create_app(Settings()).openapi()
    cases = []
    for result in schemathesis.openapi.from_dict(document).get_all_operations():
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        cases.append((method, path, GenerationMode.POSITIVE))
        if "requestBody" in document["paths"][path][operation.method.lower()]:
            cases.append((method, path, GenerationMode.NEGATIVE))
    return cases


@pytest.fixture(scope="module")
def api_schema(fuzzed_api: LiveApi) -> schemathesis.BaseSchema:
    """The document the running server publishes (the one fuzzed)."""
    return schemathesis.openapi.from_url(f"{fuzzed_api.url}/openapi.json")


@pytest.mark.parametrize(
    ("method", "path", "mode"), _cases(), ids=lambda value: getattr(value, "value", value)
)
def test_no_generated_request_yields_a_server_error(
    api_schema: schemathesis.BaseSchema, fuzzed_api: LiveApi, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_without_a_server_error(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=fuzzed_api.url, headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS
        )

    answers_without_a_server_error()
