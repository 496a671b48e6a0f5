"""The HTTP API's what-if scenarios (#15 §4), saved in the network store.

=============================================  =======  ==============================
endpoint                                       role     what
=============================================  =======  ==============================
``GET /v1/scenarios``                          viewer   the saved scenarios
``GET /v1/scenarios/compare?a=&b=``            viewer   two side by side (``live``: now)
``GET /v1/scenarios/{name}``                   viewer   one, with its coverage figures
``POST /v1/scenarios``                         editor   save one (``overwrite`` to replace)
=============================================  =======  ==============================

Reading needs a token (a viewer's): a scenario may show planned closures, which the
public coverage figures do not. Figures are computed at ``radius_km`` or
``drive_minutes`` (an estimate; neither: the scenario's own reach, else 50 km) on the
store's current network and the server's places. Saving never changes the network.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..errors import ConfigurationError, DataError
from .auth import Principal, require_role
from .params import _RADIUS_XOR_MINUTES, DriveMinutes, GapLimit, RadiusKmOptional
from .routes import _json, reject_unknown_params
from .routes_write import (
    _NO_NUL,
    MAX_FIELD_CHARS,
    MAX_REASON_CHARS,
    _401,
    _403,
    _409,
    _422,
    _429,
    _503,
    _Coordinate,
    _data_error,
    _err,
    _ok,
    _plain,
    _store,
)
from .service import ApiError

router = APIRouter(dependencies=[Depends(reject_unknown_params)], tags=["scenarios"])

#: Most candidates / removals in one scenario.
MAX_CHANGES = 1000
_NAME_PATTERN = r"^[^\x00-\x1f\x7f/\\?#%]{1,100}$"
_Name = Annotated[
    str,
    PathParam(
        pattern=_NAME_PATTERN,
        description="A saved scenario's name (1-100 characters, no control characters).",
        examples=["宁夏方案"],
    ),
]
_QueryName = Annotated[
    str,
    Query(
        pattern=_NAME_PATTERN,
        description="A saved scenario's name, or `live` for the current network.",
        examples=["live"],
    ),
]
_Text = Annotated[str, StringConstraints(max_length=MAX_FIELD_CHARS, pattern=_NO_NUL)]
_404 = _err("404", {"error": "unknown scenario", "parameter": "name"}, "No such scenario.")
_Lat, _Lon = _Coordinate["lat"], _Coordinate["lon"]
_413 = _err(
    "413",
    {"error": "request body too large", "limit_bytes": 16384},
    "The body is larger than the server accepts (16 KiB by default: a few hundred candidates).",
)
_409_STALE = _err(
    "409",
    {"error": "scenario no longer applies", "parameter": "name", "reason": "..."},
    "The saved scenario does not fit the current network (an outlet it switches off "
    "was closed since).",
)
_AUTH = {**_401, **_403, **_429, **_503}


class Candidate(BaseModel):
    """A candidate outlet to add (counted as authorized)."""

    model_config = ConfigDict(extra="forbid")
    lat: _Lat  # type: ignore[valid-type]
    lon: _Lon  # type: ignore[valid-type]
    candidate_id: (
        Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_NO_NUL)] | None
    ) = None
    name: _Text | None = None
    city: _Text | None = None
    province: _Text | None = None
    district: _Text | None = None
    address: _Text | None = None
    kind: _Text | None = None
    coord_sys: _Text | None = Field(None, description="wgs84 (default), gcj02 or bd09.")


class ScenarioBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(pattern=_NAME_PATTERN)]
    note: Annotated[str, StringConstraints(max_length=MAX_REASON_CHARS, pattern=_NO_NUL)] = ""
    add: list[Candidate] = Field(default_factory=list, max_length=MAX_CHANGES)
    remove: list[Annotated[str, StringConstraints(max_length=100, pattern=_NO_NUL)]] = Field(
        default_factory=list, max_length=MAX_CHANGES, description="Outlet ids to switch off."
    )
    radius_km: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] | None = None
    drive_minutes: Annotated[float, Field(gt=0, le=600, allow_inf_nan=False)] | None = None
    overwrite: bool = Field(False, description="Replace a saved scenario of this name.")


@contextlib.contextmanager
def _errors(name: str | None = None) -> Iterator[None]:
    """Library errors as HTTP answers (the input is never echoed)."""
    from ..store import Conflict, NotFound, StoreError

    try:
        yield
    except NotFound:
        raise ApiError(
            404, "unknown scenario", parameter="name", reason="no saved scenario has this name"
        ) from None
    except Conflict as err:
        raise ApiError(409, "conflict", reason=_plain(err)) from None
    except DataError as err:
        raise _data_error(err) from None
    except ConfigurationError as err:
        raise ApiError(422, "invalid parameter", reason=_plain(err)) from None
    except StoreError as err:
        raise ApiError(503, "network store unavailable", reason=_plain(err)) from None


def _demand(request: Request) -> tuple[Any, Any]:
    svc = request.app.state.locator
    return svc.coverage_model().places, svc.cities


def _identity(request: Request, name: str) -> str:
    """What a scenario's answer depends on besides the reach: ``live``, or a digest of
    the saved scenario (so a replaced or re-created one is never served stale)."""
    import hashlib
    import json

    from ..scenario import LIVE

    if name.lower() == LIVE:
        return LIVE
    with _errors(name):
        saved = _store(request).scenario(name)
    text = json.dumps(saved.to_dict(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cached(request: Request, key: tuple, make: Any) -> Any:
    """An evaluated scenario from the service's answer cache (keyed by the network's
    revision too), computed at most :data:`~locator.api.service.MAX_HEAVY` at a time:
    a burst of uncached scenario requests gets 503 ``busy`` instead of starving the
    cheap endpoints."""
    with _errors():
        revision = _store(request).revision()
    return request.app.state.locator.cached(("scenario", revision, *key), make)


def _build(request: Request, name: str) -> Any:
    from ..scenario import LIVE, Scenario

    store = _store(request)
    with _errors(name):
        network = store.network()
        if name.lower() == LIVE:
            return Scenario(network, name=LIVE)
        saved = store.scenario(name)
    try:
        return saved.build(network)
    except DataError as err:  # e.g. an outlet it switches off has been closed since
        raise ApiError(
            409,
            "scenario no longer applies",
            parameter="name",
            reason=_plain(err) + ": " + "; ".join(str(p) for p in err.errors[:3])[:300],
        ) from None


_SAVED_EXAMPLE = {
    "name": "宁夏方案",
    "note": "吴忠加一个点，关一个",
    "add": [{"candidate_id": "cand-1", "name": "吴忠新点", "lat": 37.99, "lon": 106.2}],
    "remove": ["00347"],
    "radius_km": None,
    "drive_minutes": 120,
    "created_by": "planner-1",
    "version": 1,
}


@router.get(
    "/v1/scenarios",
    summary="The saved what-if scenarios (viewer)",
    responses={**_ok({"scenarios": [_SAVED_EXAMPLE]}, "Every saved scenario, by name."), **_AUTH},
)
def list_scenarios(
    request: Request, principal: Annotated[Principal, Depends(require_role("viewer"))]
) -> Response:
    store = _store(request)
    with _errors():
        rows = store.scenarios()
    return _json({"scenarios": [r.to_dict() for r in rows]}, headers={"Cache-Control": "no-store"})


@router.get(
    "/v1/scenarios/compare",
    summary="Two scenarios side by side (viewer)",
    description="National figures and every listed city for `a` and `b` (saved names, or "
    "`live` for the current network): rows of `scope`, `area`, `metric`, `A`, `B`, `B-A`.",
    responses={
        **_ok({"a": "live", "b": "宁夏方案", "radius_km": 139.4, "rows": []}),
        **_AUTH,
        **_404,
        **_409_STALE,
        **_422,
    },
    openapi_extra={"x-query-constraints": _RADIUS_XOR_MINUTES},
)
def compare_scenarios(
    request: Request,
    principal: Annotated[Principal, Depends(require_role("viewer"))],
    a: _QueryName,
    b: _QueryName,
    radius_km: RadiusKmOptional = None,
    drive_minutes: DriveMinutes = None,
) -> Response:
    from ..scenario import compare

    def make() -> dict[str, Any]:
        sa_, sb = _build(request, a), _build(request, b)
        places, cities = _demand(request)
        with _errors():
            return compare(sa_, sb, places, cities, radius_km, drive_minutes).to_dict()

    key = ("compare", _identity(request, a), _identity(request, b), radius_km, drive_minutes)
    return _json(_cached(request, key, make), headers={"Cache-Control": "no-store"})


@router.get(
    "/v1/scenarios/{name}",
    summary="One saved scenario with its coverage figures (viewer)",
    responses={
        **_ok({"scenario": _SAVED_EXAMPLE, "figures": {"population_covered": 1000}}),
        **_AUTH,
        **_404,
        **_409_STALE,
        **_422,
    },
    openapi_extra={"x-query-constraints": _RADIUS_XOR_MINUTES},
)
def get_scenario(
    request: Request,
    name: _Name,
    principal: Annotated[Principal, Depends(require_role("viewer"))],
    radius_km: RadiusKmOptional = None,
    drive_minutes: DriveMinutes = None,
    gaps: GapLimit = 10,
) -> Response:
    store = _store(request)
    with _errors(name):
        saved = store.scenario(name)

    def make() -> dict[str, Any]:
        s = _build(request, name)
        places, cities = _demand(request)
        with _errors():
            res = s.evaluate(places, cities, radius_km, drive_minutes, gap_limit=int(gaps))
        return {"scenario": saved.to_dict(), "figures": res.to_dict()}

    key = ("show", _identity(request, name), radius_km, drive_minutes, int(gaps))
    return _json(_cached(request, key, make), headers={"Cache-Control": "no-store"})


@router.post(
    "/v1/scenarios",
    status_code=201,
    summary="Save a what-if scenario (editor)",
    description="Candidates to add (`add`, counted as authorized outlets) and outlet ids "
    "to switch off (`remove`), checked against the current network. A name already "
    "saved is a `409` unless `overwrite`. The network itself is never changed.",
    responses={
        "201": {
            "description": "Saved (200 when it replaced one).",
            "content": {"application/json": {"example": _SAVED_EXAMPLE}},
        },
        **_AUTH,
        **_409,
        **_413,
        **_422,
    },
)
def save_scenario(
    request: Request,
    body: ScenarioBody,
    principal: Annotated[Principal, Depends(require_role("editor"))],
) -> Response:
    from ..scenario import Scenario

    store = _store(request)
    with _errors():
        s = Scenario(
            store.network(),
            add=[c.model_dump(exclude_none=True) for c in body.add],
            remove=body.remove,
            name=body.name,
            note=body.note,
            radius_km=body.radius_km,
            drive_minutes=body.drive_minutes,
        )
        saved = store.save_scenario(s, actor=principal.actor, overwrite=body.overwrite)
    return _json(saved.to_dict(), status_code=201 if saved.version == 1 else 200)
