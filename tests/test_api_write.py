"""The authenticated write API: tokens and roles, optimistic concurrency, history,
revert, authorizations, imports and the rate limit on failed sign-ins, against a real
network store (a SQLite file in a temp dir; PostGIS too when the fixture is there)."""

from __future__ import annotations

import datetime as dt
import logging
import shlex
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from locator.api import create_app
from locator.api.auth import FailureLimiter
from locator.store import open_store
from tests.test_api import fake_geocoder

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

OID = "00001"  # an outlet of the bundled sample (seeded into every new store)


# ``store`` (tests/conftest.py): a fresh store seeded from the bundled sample, on SQLite
# and on PostgreSQL + PostGIS. The role matrix runs on SQLite only (``sqlite_store``):
# it checks the HTTP layer, which is the same on both.


@pytest.fixture
def sqlite_store(_sqlite_template: Path, tmp_path: Path) -> Iterator[Any]:
    path = tmp_path / "network.db"
    shutil.copyfile(_sqlite_template, path)
    s = open_store(f"sqlite:///{path}")
    yield s
    s.dispose()


@pytest.fixture
def tokens(store: Any) -> dict[str, str]:
    """One token per role: {role: secret}."""
    return {
        role: store.tokens.create(f"{role}-1", role)[0] for role in ("viewer", "editor", "admin")
    }


def _client(store: Any) -> Iterator[TestClient]:
    app = create_app(store, geocoder=fake_geocoder())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def client(store: Any) -> Iterator[TestClient]:
    yield from _client(store)


@pytest.fixture
def sqlite_client(sqlite_store: Any) -> Iterator[TestClient]:
    yield from _client(sqlite_store)


@pytest.fixture
def sqlite_tokens(sqlite_store: Any) -> dict[str, str]:
    return {
        role: sqlite_store.tokens.create(f"{role}-1", role)[0]
        for role in ("viewer", "editor", "admin")
    }


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def read(client: TestClient, oid: str = OID) -> tuple[dict[str, Any], str]:
    r = client.get(f"/v1/outlets/{oid}")
    assert r.status_code == 200, r.text
    return r.json(), r.headers["ETag"]


def nearest_ids(client: TestClient, lat: float, lon: float, k: int = 50) -> list[str]:
    r = client.get("/v1/nearest", params={"lat": lat, "lon": lon, "k": k})
    assert r.status_code == 200, r.text
    return [x["outlet_id"] for x in r.json()["results"]]


# --------------------------------------------------------------------- the role matrix
# (method, path, json body or None, role needed). Every request is valid for a
# caller holding the role, so anything but 401/403 there shows the role was enough.
ENDPOINTS: list[tuple[str, str, Any, str]] = [
    ("GET", f"/v1/outlets/{OID}/history", None, "viewer"),
    (
        "POST",
        "/v1/outlets",
        {"outlet": {"outlet_id": "N1", "name": "ACME 新网点", "lat": 31.2, "lon": 121.4}},
        "editor",
    ),
    ("PATCH", f"/v1/outlets/{OID}", {"changes": {"phone": "000-555-0000"}}, "editor"),
    ("POST", f"/v1/outlets/{OID}/close", {"reason": "moved"}, "editor"),
    ("POST", f"/v1/outlets/{OID}/reopen", {"reason": "back"}, "editor"),
    ("POST", f"/v1/outlets/{OID}/authorization", {"granted": False, "reason": "x"}, "admin"),
    ("POST", f"/v1/outlets/{OID}/revert", {"to_version": 1, "reason": "undo"}, "admin"),
    ("POST", "/v1/imports?dry_run=true", "FILE", "editor"),
]
CALLERS = [None, "bad", "viewer", "editor", "admin"]
RANK = {"viewer": 0, "editor": 1, "admin": 2}


def call(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if body == "FILE":
        data = client.app.state.store.network().frame.to_csv(index=False).encode()
        files = {"file": ("outlets.csv", data, "text/csv")}
        return client.request(method, path, files=files, headers=headers)
    if method == "PATCH":
        headers = {**headers, "If-Match": read(client)[1]}
    if path.endswith("/reopen"):  # reopen needs a closed outlet
        client.app.state.store.close(OID, reason="setup", actor="test")
    return client.request(method, path, json=body, headers=headers)


class TestRoles:
    @pytest.mark.parametrize("caller", CALLERS)
    @pytest.mark.parametrize(("method", "path", "body", "needed"), ENDPOINTS)
    def test_each_role_against_each_endpoint(
        self,
        sqlite_client: TestClient,
        sqlite_tokens: dict[str, str],
        caller: str | None,
        method: str,
        path: str,
        body: Any,
        needed: str,
    ) -> None:
        """No token or a bad one: 401 with a Bearer challenge; too low a role: 403
        naming the role needed; enough: the change is made (2xx)."""
        headers = {}
        if caller == "bad":
            headers = bearer("loc_not-a-real-token-at-all-0000000000000")
        elif caller is not None:
            headers = bearer(sqlite_tokens[caller])
        r = call(sqlite_client, method, path, body, headers)
        if caller in (None, "bad"):
            assert r.status_code == 401, r.text
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
            assert r.json()["required_role"] == needed
        elif RANK[caller] < RANK[needed]:
            assert r.status_code == 403, r.text
            assert r.json() == {
                "error": "forbidden",
                "reason": f"this needs the {needed} role",
                "required_role": needed,
                "role": caller,
            }
        else:
            assert 200 <= r.status_code < 300, r.text

    def test_reads_stay_public(self, client: TestClient) -> None:
        """Without a token, the read endpoints and one outlet answer as before."""
        assert client.get("/v1/nearest", params={"lat": 39.9, "lon": 116.4}).status_code == 200
        assert client.get("/v1/outlets").status_code == 200
        body, etag = read(client)
        assert body["outlet_id"] == OID and etag == f'"{body["version"]}"'
        assert "evidence" not in body["authorization"]  # evidence is for signed-in callers

    def test_revoked_token_is_refused(self, client: TestClient, store: Any) -> None:
        """A revoked token is a 401 from the next request on."""
        secret = store.tokens.create("carol", "editor")[0]
        assert client.get(f"/v1/outlets/{OID}/history", headers=bearer(secret)).status_code == 200
        store.tokens.revoke("carol")
        r = client.get(f"/v1/outlets/{OID}/history", headers=bearer(secret))
        assert r.status_code == 401
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]

    @pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "loc_abc", "Bearer  "])
    def test_malformed_authorization_header(self, client: TestClient, header: str) -> None:
        """A header that is not ``Bearer <token>`` is a 401, never a 500."""
        r = client.get(f"/v1/outlets/{OID}/history", headers={"Authorization": header})
        assert r.status_code == 401 and r.json()["error"] == "authentication required"


class TestPrivateMode:
    def test_everything_but_healthz_needs_a_viewer(self, store: Any, tokens: dict) -> None:
        """``private=True``: reads need a viewer token; /healthz stays open; the OpenAPI
        document is not served."""
        app = create_app(store, geocoder=fake_geocoder(), private=True)
        with TestClient(app) as c:
            for path in ("/v1/nearest?lat=39.9&lon=116.4", "/v1/outlets", f"/v1/outlets/{OID}"):
                r = c.get(path)
                assert r.status_code == 401, path
                assert r.json()["required_role"] == "viewer"
                assert c.get(path, headers=bearer(tokens["viewer"])).status_code == 200, path
            assert c.get("/healthz").status_code in (200, 503)
            assert c.get("/openapi.json").status_code == 404

    def test_serve_private_flag(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """``locator serve --private`` sets LOCATOR_PRIVATE=1 for its workers, whose app
        (``create_app_from_env``, on the default store) then refuses anonymous reads."""
        from locator.api import create_app_from_env

        monkeypatch.setenv("LOCATOR_PRIVATE", "1")
        with TestClient(create_app_from_env()) as c:
            assert c.get("/v1/outlets").status_code == 401
        monkeypatch.setenv("LOCATOR_PRIVATE", "")
        with TestClient(create_app_from_env()) as c:
            assert c.get("/v1/outlets").status_code == 200


# --------------------------------------------------------------------- versions
class TestConcurrency:
    def test_patch_with_the_version_read(self, client: TestClient, tokens: dict) -> None:
        """PATCH with the ETag read changes the field and answers the new ETag."""
        before, etag = read(client)
        r = client.patch(
            f"/v1/outlets/{OID}",
            json={"changes": {"phone": "000-555-1234"}, "reason": "new hotline"},
            headers={**bearer(tokens["editor"]), "If-Match": etag},
        )
        assert r.status_code == 200, r.text
        assert r.json()["phone"] == "000-555-1234"
        assert r.headers["ETag"] == f'"{before["version"] + 1}"'
        assert read(client)[0]["phone"] == "000-555-1234"

    def test_stale_if_match_is_412_and_changes_nothing(
        self, client: TestClient, tokens: dict
    ) -> None:
        """A PATCH carrying an older version than the store's: 412, nothing changed."""
        before, etag = read(client)
        ok = client.patch(
            f"/v1/outlets/{OID}",
            json={"changes": {"phone": "000-555-1111"}},
            headers={**bearer(tokens["editor"]), "If-Match": etag},
        )
        assert ok.status_code == 200
        r = client.patch(
            f"/v1/outlets/{OID}",
            json={"changes": {"name": "overwritten"}},
            headers={**bearer(tokens["editor"]), "If-Match": etag},
        )
        assert r.status_code == 412, r.text
        assert r.json()["current_version"] == before["version"] + 1
        after = read(client)[0]
        assert after["name"] == before["name"] and after["phone"] == "000-555-1111"

    def test_missing_if_match_is_428(self, client: TestClient, tokens: dict) -> None:
        """A PATCH without If-Match is refused (428): a blind overwrite is not allowed."""
        before = read(client)[0]
        r = client.patch(
            f"/v1/outlets/{OID}",
            json={"changes": {"name": "x"}},
            headers=bearer(tokens["editor"]),
        )
        assert r.status_code == 428
        assert read(client)[0] == before

    def test_two_concurrent_editors(self, store: Any, tokens: dict) -> None:
        """Two editors PATCH the same version at the same moment: exactly one wins, the
        other gets 412, and the outlet holds the winner's change."""
        app = create_app(store, geocoder=fake_geocoder())
        with TestClient(app) as c:
            etag = read(c)[1]
        barrier = threading.Barrier(2)
        answers: dict[str, int] = {}

        def edit(phone: str) -> None:
            with TestClient(app) as c:
                barrier.wait()
                r = c.patch(
                    f"/v1/outlets/{OID}",
                    json={"changes": {"phone": phone}, "reason": "race"},
                    headers={**bearer(tokens["editor"]), "If-Match": etag},
                )
                answers[phone] = r.status_code

        threads = [
            threading.Thread(target=edit, args=(p,)) for p in ("000-555-0001", "000-555-0002")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(answers.values()) == [200, 412], answers
        winner = next(p for p, status in answers.items() if status == 200)
        assert store.get(OID)["phone"] == winner


class TestHistoryAndRevert:
    def test_history_and_revert(self, client: TestClient, tokens: dict) -> None:
        """Two edits, then a revert to version 1: the outlet is as it was, and the
        history keeps all four versions with who, why and old -> new."""
        original, etag = read(client)
        for phone in ("000-555-0101", "000-555-0102"):
            r = client.patch(
                f"/v1/outlets/{OID}",
                json={"changes": {"phone": phone}, "reason": f"set {phone}"},
                headers={**bearer(tokens["editor"]), "If-Match": etag},
            )
            assert r.status_code == 200, r.text
            etag = r.headers["ETag"]
        r = client.post(
            f"/v1/outlets/{OID}/revert",
            json={"to_version": original["version"], "reason": "wrong numbers"},
            headers=bearer(tokens["admin"]),
        )
        assert r.status_code == 200, r.text
        assert r.json()["phone"] == original["phone"]
        h = client.get(f"/v1/outlets/{OID}/history", headers=bearer(tokens["viewer"]))
        assert h.status_code == 200
        versions = h.json()["versions"]
        assert [v["version"] for v in versions][-3:] == [
            original["version"] + 1,
            original["version"] + 2,
            original["version"] + 3,
        ]
        edit1, edit2, revert = versions[-3:]
        assert edit1["actor"] == "editor-1" and edit1["reason"] == "set 000-555-0101"
        assert edit1["changes"]["phone"] == [original["phone"], "000-555-0101"]
        assert edit2["changes"]["phone"] == ["000-555-0101", "000-555-0102"]
        assert revert["actor"] == "admin-1" and revert["reason"] == "wrong numbers"
        assert revert["changes"]["phone"] == ["000-555-0102", original["phone"]]
        assert dt.datetime.fromisoformat(revert["at"]).tzinfo is not None

    def test_revert_to_unknown_version_is_404(self, client: TestClient, tokens: dict) -> None:
        r = client.post(
            f"/v1/outlets/{OID}/revert",
            json={"to_version": 999, "reason": "x"},
            headers=bearer(tokens["admin"]),
        )
        assert r.status_code == 404


# --------------------------------------------------------------------- live answers
class TestLive:
    def test_close_and_reopen_are_seen_at_once(self, client: TestClient, tokens: dict) -> None:
        """A closed outlet leaves /v1/nearest in the next request; reopened, it is back."""
        here = read(client)[0]
        assert OID in nearest_ids(client, here["lat"], here["lon"])
        r = client.post(
            f"/v1/outlets/{OID}/close",
            json={"reason": "lease ended"},
            headers=bearer(tokens["editor"]),
        )
        assert r.status_code == 200 and r.json()["status"] == "closed"
        assert OID not in nearest_ids(client, here["lat"], here["lon"])
        r = client.post(
            f"/v1/outlets/{OID}/reopen",
            json={"reason": "new lease"},
            headers=bearer(tokens["editor"]),
        )
        assert r.status_code == 200
        assert OID in nearest_ids(client, here["lat"], here["lon"])

    def test_an_expired_authorization_leaves_nearest(
        self, client: TestClient, tokens: dict
    ) -> None:
        """An authorization valid until yesterday no longer counts: the outlet is not in
        /v1/nearest; one valid until tomorrow does."""
        here = read(client)[0]
        today = dt.date.today()
        for until, present in (
            (today - dt.timedelta(days=1), False),
            (today + dt.timedelta(days=1), True),
        ):
            r = client.post(
                f"/v1/outlets/{OID}/authorization",
                json={
                    "granted": True,
                    "reason": "contract renewed",
                    "evidence": "合同 2026-0042",
                    "valid_until": until.isoformat(),
                },
                headers=bearer(tokens["admin"]),
            )
            assert r.status_code == 200, r.text
            assert r.json()["authorized"] is present
            assert (OID in nearest_ids(client, here["lat"], here["lon"])) is present

    def test_revoked_authorization_leaves_nearest(self, client: TestClient, tokens: dict) -> None:
        here = read(client)[0]
        r = client.post(
            f"/v1/outlets/{OID}/authorization",
            json={"granted": False, "reason": "contract ended"},
            headers=bearer(tokens["admin"]),
        )
        assert r.status_code == 200 and r.json()["authorized"] is False
        assert OID not in nearest_ids(client, here["lat"], here["lon"])

    def test_created_outlet_is_found_once_authorized(
        self, client: TestClient, tokens: dict
    ) -> None:
        """A new outlet is not authorized (not in nearest) until an admin grants it."""
        body = {"outlet": {"outlet_id": "NEW1", "name": "ACME 新店", "lat": 45.0, "lon": 90.0}}
        r = client.post("/v1/outlets", json=body, headers=bearer(tokens["editor"]))
        assert r.status_code == 201, r.text
        assert r.headers["ETag"] == '"1"' and r.json()["authorized"] is False
        assert "NEW1" not in nearest_ids(client, 45.0, 90.0, k=3)
        r = client.post(
            "/v1/outlets/NEW1/authorization",
            json={"granted": True, "reason": "signed"},
            headers=bearer(tokens["admin"]),
        )
        assert r.status_code == 200
        assert nearest_ids(client, 45.0, 90.0, k=1) == ["NEW1"]


# --------------------------------------------------------------------- bad input
class TestBadBodies:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"changes": {"lat": "<script>alert(1)</script>"}}, "changes.lat"),
            ({"changes": {"lat": 123.0}}, "changes.lat"),
            ({"changes": {"name": "x" * 501}}, "changes.name"),
            ({"changes": {"authorized": True}}, "changes.authorized"),
            ({"changes": {"<img src=x onerror=alert(1)>": 1}}, "changes.(name not shown)"),
            ({"changes": {"kind": "<b>spaceship</b>"}}, "kind"),
            ({"change": {"phone": "1"}}, "changes"),  # the missing one comes first
        ],
    )
    def test_422_names_the_field_never_echoes(
        self, client: TestClient, tokens: dict, body: dict, field: str
    ) -> None:
        """A bad PATCH body is a 422 naming the field; the value is never echoed and
        the outlet is unchanged."""
        before, etag = read(client)
        r = client.patch(
            f"/v1/outlets/{OID}", json=body, headers={**bearer(tokens["editor"]), "If-Match": etag}
        )
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "invalid field" and r.json()["field"] == field
        for text in ("<script>", "<img", "<b>", "x" * 50):
            assert text not in r.text
        assert read(client)[0] == before

    @pytest.mark.parametrize("path", ["close", "reopen", "revert", "authorization"])
    def test_reason_is_required(self, client: TestClient, tokens: dict, path: str) -> None:
        body = (
            {"to_version": 1}
            if path == "revert"
            else {"granted": True}
            if path == "authorization"
            else {}
        )
        r = client.post(f"/v1/outlets/{OID}/{path}", json=body, headers=bearer(tokens["admin"]))
        assert r.status_code == 422 and r.json()["field"] == "reason", r.text

    def test_unknown_outlet_is_404(self, client: TestClient, tokens: dict) -> None:
        assert client.get("/v1/outlets/NOPE").status_code == 404
        r = client.patch(
            "/v1/outlets/NOPE",
            json={"changes": {"phone": "1"}},
            headers={**bearer(tokens["editor"]), "If-Match": '"1"'},
        )
        assert r.status_code == 404 and r.json()["parameter"] == "outlet_id"


# --------------------------------------------------------------------- imports
class TestImports:
    def upload(self, client: TestClient, secret: str, csv: bytes, dry_run: bool) -> Any:
        return client.post(
            "/v1/imports",
            params={"dry_run": str(dry_run).lower()},
            files={"file": ("outlets.csv", csv, "text/csv")},
            data={"reason": "quarterly list"},
            headers=bearer(secret),
        )

    def test_dry_run_then_import(self, client: TestClient, store: Any, tokens: dict) -> None:
        """dry_run answers the diff (field by field) and changes nothing; the same
        file without dry_run applies it and queries see it."""
        frame = store.network().frame.copy()
        frame.loc[frame["outlet_id"] == OID, "phone"] = "000-555-7777"
        gone = str(frame["outlet_id"].iloc[-1])
        frame = frame[frame["outlet_id"] != gone]
        csv = frame.to_csv(index=False).encode()
        old_phone = store.get(OID)["phone"]
        r = self.upload(client, tokens["editor"], csv, dry_run=True)
        assert r.status_code == 200, r.text
        diff = r.json()
        assert diff["dry_run"] is True
        assert diff["changed"] == {OID: {"phone": [old_phone, "000-555-7777"]}}
        assert diff["closed"] == [gone] and diff["added"] == []
        assert store.get(OID)["phone"] == old_phone and store.get(gone)["status"] == "open"
        r = self.upload(client, tokens["editor"], csv, dry_run=False)
        assert r.status_code == 200, r.text
        assert store.get(OID)["phone"] == "000-555-7777"
        assert read(client, gone)[0]["status"] == "closed"

    def test_bad_row_changes_nothing(self, client: TestClient, store: Any, tokens: dict) -> None:
        """A file with a bad row: 422 naming row and column, nothing imported."""
        frame = store.network().frame.copy()
        frame.loc[frame.index[0], "phone"] = "000-555-8888"
        frame["lat"] = frame["lat"].astype(object)
        frame.loc[frame.index[3], "lat"] = "north"
        rev = store.revision()
        r = self.upload(client, tokens["editor"], frame.to_csv(index=False).encode(), dry_run=False)
        assert r.status_code == 422, r.text
        assert any(e.get("field") == "lat" and e.get("row") == 5 for e in r.json()["errors"])
        assert "north" not in r.text
        assert store.revision() == rev

    def test_wrong_file_type(self, client: TestClient, tokens: dict) -> None:
        r = client.post(
            "/v1/imports",
            files={"file": ("outlets.exe", b"MZ", "application/octet-stream")},
            headers=bearer(tokens["editor"]),
        )
        assert r.status_code == 422 and r.json()["field"] == "file"

    def test_large_file_passes_the_body_limit(self, client: TestClient, tokens: dict) -> None:
        """An import file far above the 16 KiB limit of JSON bodies is accepted."""
        frame = client.app.state.store.network().frame
        csv = frame.to_csv(index=False).encode()
        assert len(csv) > 16 * 1024
        assert self.upload(client, tokens["editor"], csv, dry_run=True).status_code == 200


# --------------------------------------------------------------------- rate limit
class TestRateLimit:
    def test_failed_attempts_are_rate_limited(self, client: TestClient, tokens: dict) -> None:
        """After 10 bad tokens within a minute from one address, 429 with Retry-After,
        even for a good token; once the minute has passed, the good token works."""
        now = [1000.0]
        client.app.state.auth_limiter = FailureLimiter(clock=lambda: now[0])
        path = f"/v1/outlets/{OID}/history"
        for i in range(10):
            r = client.get(path, headers=bearer(f"loc_guess-{i:04d}-xxxxxxxxxxxxxxxx"))
            assert r.status_code == 401
        r = client.get(path, headers=bearer("loc_guess-again-xxxxxxxxxxxxxxxx"))
        assert r.status_code == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert client.get(path, headers=bearer(tokens["viewer"])).status_code == 429
        assert client.get("/v1/outlets").status_code == 200  # reads are not blocked
        now[0] += 61
        assert client.get(path, headers=bearer(tokens["viewer"])).status_code == 200


# --------------------------------------------------------------------- logs
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestTokensNeverLogged:
    def test_not_in_uvicorn_access_log_nor_app_logs(
        self, store: Any, tokens: dict, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A real uvicorn server with its access log on: requests carrying a token in the
        header, and (a client's mistake) in the path and query, leave no token in any log
        record as uvicorn formats it."""
        import uvicorn
        from uvicorn.logging import AccessFormatter

        app = create_app(store, geocoder=fake_geocoder())
        port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=True)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        caplog.set_level(logging.DEBUG)
        # uvicorn's own logging config (another test may have applied it) stops its
        # loggers from propagating: listen on them directly.
        uv_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.access", "uvicorn.error")]
        for logger in uv_loggers:
            caplog.set_level(logging.DEBUG, logger=logger.name)
            if logger.propagate is False:
                logger.addHandler(caplog.handler)
        thread.start()
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                if server.started:
                    break
                time.sleep(0.05)
            secret = tokens["editor"]
            with httpx.Client(base_url=base, timeout=30) as h:
                assert (
                    h.get(f"/v1/outlets/{OID}/history", headers=bearer(secret)).status_code == 200
                )
                h.get(f"/v1/outlets/{secret}", headers=bearer(secret))
                h.get("/v1/nearest", params={"lat": 39.9, "lon": 116.4, "t": secret})
                h.get(f"/v1/outlets/{OID}/history", headers=bearer(secret + "x"))
        finally:
            server.should_exit = True
            thread.join(10)
            for logger in uv_loggers:
                logger.removeHandler(caplog.handler)
        access = [r for r in caplog.records if r.name == "uvicorn.access"]
        assert len(access) >= 4
        fmt = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s')
        # The server's records (the test's own HTTP client, httpx, logs its URLs: not ours).
        server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
        lines = [fmt.format(r) for r in access] + [r.getMessage() for r in server_side]
        assert any("/v1/outlets/" in line for line in lines)
        for line in lines:
            assert secret not in line and secret[4:20] not in line, line


# --------------------------------------------------------------------- README examples
README = Path(__file__).resolve().parent.parent / "README.md"


def readme_curls() -> list[list[str]]:
    """The curl lines of the README's write-API example block, split as a shell would."""
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- api-write-examples", 1)[1].split("```bash\n", 1)[1].split("```")[0]
    return [
        shlex.split(line, comments=True) for line in block.splitlines() if line.startswith("curl ")
    ]


def run_curl(client: TestClient, args: list[str], env: dict[str, str]) -> Any:
    """One README curl command, sent through the test client (the options it uses)."""
    args = [
        a.replace("$API", "").replace("$TOKEN", env["TOKEN"]).replace("$ADMIN", env["ADMIN"])
        for a in args
    ]
    method, url, headers, data, form, files = "GET", "", {}, None, {}, {}
    it = iter(args[1:])
    for arg in it:
        if arg in ("-s", "-i"):
            continue
        if arg == "-X":
            method = next(it)
        elif arg == "-H":
            name, _, value = next(it).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            data = next(it).encode()
        elif arg == "-F":
            name, _, value = next(it).partition("=")
            if value.startswith("@"):
                files[name] = (value[1:], Path(value[1:]).read_bytes())
            else:
                form[name] = value
        elif arg.startswith("-"):
            raise AssertionError(f"option {arg} not supported by this test: add it")
        else:
            url = arg
    if files:
        method = "POST" if method == "GET" else method
        return client.request(method, url, headers=headers, files=files, data=form)
    return client.request(method, url, headers=headers, content=data)


class TestReadmeExamples:
    def test_curl_examples_run(
        self, sqlite_client: TestClient, sqlite_store: Any, tmp_path: Path, monkeypatch: Any
    ) -> None:
        """Every curl line of the README's write-API section succeeds, in order, on a
        fresh store (the tokens made as the README makes them)."""
        monkeypatch.chdir(tmp_path)
        sqlite_store.network().frame.to_csv(tmp_path / "my-outlets.csv", index=False)
        env = {
            "TOKEN": sqlite_store.tokens.create("alice", "editor")[0],
            "ADMIN": sqlite_store.tokens.create("root", "admin")[0],
        }
        curls = readme_curls()
        assert len(curls) >= 8
        for args in curls:
            r = run_curl(sqlite_client, args, env)
            assert r.status_code < 300, (shlex.join(args)[:120], r.status_code, r.text[:300])
        assert sqlite_store.history(OID)[-1].action.startswith("revert")
