"""Schemathesis over the whole OpenAPI document: every operation, generated requests, every
response checked against the schema (statuses, content types, headers, bodies), valid requests
accepted; invalid ones (negative mode) must not break anything either.

The operations are driven through Hypothesis directly (`operation.as_strategy()`): schemathesis'
own pytest plugin does not load under this project's pytest version.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from accounts.models import ApiKey
from klout.wsgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = 30


def _runner(operation: Any, mode: GenerationMode, key: str, known_id: str) -> Callable[[], None]:
    positive = mode is GenerationMode.POSITIVE

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def run(case: schemathesis.Case) -> None:
        # Half the time ask about someone who exists, so 200s are checked too.
        if positive and "klout_id" in (case.path_parameters or {}) and hash(str(case.query)) % 2:
            case.path_parameters["klout_id"] = known_id
        case.call_and_validate(
            headers={"Authorization": f"Bearer {key}"},
            # Unknown query parameters are ignored on purpose (clients send extras), which
            # negative mode counts as accepting invalid data; every other check runs.
            excluded_checks=[] if positive else [negative_data_rejection],
        )

    return run


@pytest.mark.usefixtures("wsgi_keeps_the_test_connection")
def test_every_operation_keeps_the_schema(api_key, twitter_star, star_id, higgs_account) -> None:
    ApiKey.objects.update(per_second=1_000_000, per_day=1_000_000)  # quotas are tested elsewhere
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 7
    checked = []
    for operation, mode in itertools.product(operations, GenerationMode):
        _runner(operation, mode, api_key, star_id)()
        checked.append(f"{mode.value} {operation.label}")
    assert len(checked) == 2 * len(operations)
