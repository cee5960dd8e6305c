"""Schemathesis against our own OpenAPI document: generated requests to every operation, read
and write, must never get a 5xx nor a response that breaks its documented schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from .conftest import make_app, new_token


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory, seeded_template: Path):
    """One app (and token) for the whole fuzz run, on its own copy of the seeded database."""
    import shutil

    db_path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    shutil.copy(seeded_template, db_path)
    app = make_app(db_path, AUTO_SEED=False, DNS_RESOLVER=_no_dns)
    return app, new_token(app, name="fuzzer")


def _no_dns(host: str, port: int) -> list[str]:
    """Webhook URLs are resolved when registered; generated host names must not hit DNS."""
    import ipaddress

    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        raise OSError(f"no DNS in tests: {host}") from None


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_survives_generated_requests(fuzz_target) -> None:
    # Driven with hypothesis directly: schemathesis's pytest plugin does not load on pytest 9.
    app, token = fuzz_target
    operations = _operations(app)
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            case.call_and_validate(
                # schemathesis's WSGI transport sends requests' default Accept-Encoding but does
                # not decode gzip as an HTTP client does; compression has its own tests.
                headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"},
                checks=[not_a_server_error, response_schema_conformance],
            )

        check()
