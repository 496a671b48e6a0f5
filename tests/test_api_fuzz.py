"""Schema-driven fuzzing of the HTTP API with schemathesis (in-process, ASGI).

Every operation in the OpenAPI document gets ~30 generated requests (valid and
invalid), deterministic (derandomized, no example database). Each response must not
be a 5xx, must have a documented status code and content type, and must match the
documented response schema.
"""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from locator.api import create_app
from locator.store import open_store
from tests.test_api import fake_geocoder

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# A store seeded from the bundled sample in a temp dir (the write endpoints need one),
# a deterministic geocoder; an admin token reaches every endpoint's own checks.
_store = open_store(f"sqlite:///{tempfile.mkdtemp(prefix='locator-fuzz-')}/network.db", seed=True)
ADMIN = {"Authorization": f"Bearer {_store.tokens.create('fuzz-admin', 'admin')[0]}"}
app = create_app(_store, geocoder=fake_geocoder())
schema = schemathesis.openapi.from_asgi("/openapi.json", app)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "admin"])
def test_api_conforms_to_its_schema(case: schemathesis.Case, signed_in: bool) -> None:
    """No generated request gets a 5xx or a response the schema does not describe,
    without a token (writes: 401) and with an admin's (every write's own checks)."""
    if not app.state.locator.ready:  # warm once, in the test, not at collection
        app.state.locator.warm()  # /healthz then answers 200 (ready), as after start-up
    case.call_and_validate(headers=ADMIN if signed_in else None, checks=CHECKS)
