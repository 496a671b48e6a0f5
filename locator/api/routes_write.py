"""The HTTP API's write side: one outlet, its history, and every change to the network.

All of it works on the network store (``app.state.store``, a :class:`locator.store.Store`)
and needs a bearer token (:mod:`.auth`) except ``GET /v1/outlets/{outlet_id}``:

=============================================  =======  ==============================
endpoint                                       role     what
=============================================  =======  ==============================
``GET /v1/outlets/{outlet_id}``                public   the outlet, with ``ETag``
``GET /v1/outlets/{outlet_id}/history``        viewer   every version, oldest first
``POST /v1/outlets``                           editor   create an outlet
``PATCH /v1/outlets/{outlet_id}``              editor   change fields (``If-Match``)
``POST /v1/outlets/{outlet_id}/close``         editor   close (reason required)
``POST /v1/outlets/{outlet_id}/reopen``        editor   reopen (reason required)
``POST /v1/outlets/{outlet_id}/authorization`` admin    grant or revoke
``POST /v1/outlets/{outlet_id}/revert``        admin    restore an earlier version
``POST /v1/imports``                           editor   a whole file (``dry_run``)
=============================================  =======  ==============================

Optimistic concurrency: ``GET`` answers ``ETag: "<version>"``; ``PATCH`` must send it
back as ``If-Match`` (``428`` without it); if the outlet changed since, ``412`` and
nothing changes. ``close``/``reopen`` honour an ``If-Match`` when one is sent.

Bad bodies are ``422`` naming the field (``changes.lat``), never echoing the value. A
write is visible to every query of this process as soon as it is answered (the service
reloads the network from the store before answering).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from ..errors import DataError
from ..network import OUTLET_COLUMNS, OUTLET_DTYPES
from ..outputs import jsonable
from .auth import Principal, current_principal, require_role, role_at_least
from .params import _PATTERN_REASONS, _error_doc
from .routes import _json, reject_unknown_params
from .service import ApiError

#: Longest text accepted in a field of an outlet (characters).
MAX_FIELD_CHARS = 500
#: Longest reason / evidence text (characters).
MAX_REASON_CHARS = 1000
#: Largest import file (bytes); the app's default body limit does not apply to it.
MAX_IMPORT_BYTES = 50 * 1024 * 1024
#: File types ``POST /v1/imports`` reads (by file name).
IMPORT_SUFFIXES = (".csv", ".xlsx", ".geojson", ".json")

_OUTLET_ID_PATTERN = r"^[^\x00-\x1f\x7f]{1,100}$"
_OutletId = Annotated[
    str,
    PathParam(
        pattern=_OUTLET_ID_PATTERN,
        description="The outlet's `outlet_id` (1-100 characters, no control characters).",
        examples=["00001"],
    ),
]
#: Text fields: no NUL (PostgreSQL cannot store one, and no outlet needs it).
_NO_NUL = r"^[^\x00]*$"
_PATTERN_REASONS[_NO_NUL] = "must not contain NUL characters"
_Text = Annotated[str, StringConstraints(max_length=MAX_FIELD_CHARS, pattern=_NO_NUL)]
_REASON_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
_PATTERN_REASONS[_REASON_PATTERN] = "must not be blank nor contain NUL characters"
_Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_REASON_CHARS, pattern=_REASON_PATTERN),
    Field(description="Why (recorded in the history).", examples=["moved to a new address"]),
]
_Coordinate = {
    "lat": Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)],
    "lon": Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)],
}
#: Fields an editor sets; ``authorized`` is an admin's record (``/authorization``).
EDITABLE_FIELDS = tuple(c for c in OUTLET_COLUMNS if c not in ("outlet_id", "authorized"))


def _field_type(column: str) -> Any:
    if column in _Coordinate:
        return _Coordinate[column]
    if column == "categories":
        return _Text | list[_Text]
    assert OUTLET_DTYPES[column] == "object", column
    return _Text


_FORBID = ConfigDict(extra="forbid")
_REQUIRED = ("outlet_id", "name", "lat", "lon")
# The body models are made from the outlet contract's columns (no second list of them).
_changes_fields: dict[str, Any] = {c: (_field_type(c) | None, None) for c in EDITABLE_FIELDS}
_create_fields: dict[str, Any] = {
    "outlet_id": (Annotated[str, StringConstraints(pattern=_OUTLET_ID_PATTERN)], ...),
    **{
        c: (_field_type(c), ...) if c in _REQUIRED else (_field_type(c) | None, None)
        for c in EDITABLE_FIELDS
    },
}
OutletChanges: type[BaseModel] = create_model(
    "OutletChanges", __config__=_FORBID, **_changes_fields
)
OutletFields: type[BaseModel] = create_model("OutletFields", __config__=_FORBID, **_create_fields)


class CreateBody(BaseModel):
    model_config = _FORBID
    outlet: OutletFields  # type: ignore[valid-type]
    reason: _Reason | None = None


class PatchBody(BaseModel):
    model_config = _FORBID
    changes: OutletChanges  # type: ignore[valid-type]
    reason: _Reason | None = None


class CloseBody(BaseModel):
    model_config = _FORBID
    reason: _Reason
    on: dt.date | None = Field(None, description="The day it closes (default today).")


class ReopenBody(BaseModel):
    model_config = _FORBID
    reason: _Reason


class AuthorizationBody(BaseModel):
    model_config = _FORBID
    granted: bool = Field(description="`true` grants the authorization, `false` revokes it.")
    reason: _Reason
    evidence: (
        Annotated[str, StringConstraints(max_length=MAX_REASON_CHARS, pattern=_NO_NUL)] | None
    ) = Field(None, description="Contract number or other evidence.", examples=["合同 2026-0042"])
    valid_until: dt.date | None = Field(
        None, description="Last day the authorization counts (none: until revoked)."
    )


class RevertBody(BaseModel):
    model_config = _FORBID
    to_version: int = Field(ge=1, le=2**31 - 1, description="The version to restore.")
    reason: _Reason


# ---------------------------------------------------------------- documentation
_Responses = dict[int | str, dict[str, Any]]


def _err(status: str, example: dict[str, Any], description: str) -> _Responses:
    return {status: _error_doc(example, description)}


_401 = _err(
    "401",
    {"error": "authentication required", "reason": "...", "required_role": "editor"},
    "No token, or a token that is unknown or revoked (`WWW-Authenticate: Bearer`).",
)
_403 = _err(
    "403",
    {"error": "forbidden", "reason": "...", "required_role": "admin", "role": "editor"},
    "The token's role is too low.",
)
_404 = _err("404", {"error": "unknown outlet", "parameter": "outlet_id"}, "No such outlet.")
_409 = _err("409", {"error": "conflict", "reason": "..."}, "The change conflicts with the state.")
_412 = _err(
    "412",
    {"error": "version mismatch", "reason": "...", "current_version": 4},
    "The outlet changed since the version in `If-Match`; nothing was changed.",
)
_400 = _err(
    "400",
    {"error": "There was an error parsing the body"},
    "The body could not be read (not UTF-8, a broken multipart form).",
)
_422: _Responses = {
    **_400,
    **_err(
        "422",
        {"error": "invalid field", "field": "changes.lat", "reason": "..."},
        "A field or parameter is invalid; `field` or `parameter` names it. The input is "
        "never echoed.",
    ),
}
_428 = _err(
    "428",
    {"error": "If-Match required", "reason": "..."},
    "Send the outlet's `ETag` as `If-Match`.",
)
_429 = _err(
    "429",
    {"error": "too many failed sign-in attempts", "reason": "retry in 42 s"},
    "Too many failed sign-ins from this address (`Retry-After`).",
)
_503 = _err("503", {"error": "no network store", "reason": "..."}, "No store behind this server.")
_AUTH: _Responses = {**_401, **_403, **_429, **_503}
_ETAG_HEADER = {"ETag": {"description": "The outlet's version.", "schema": {"type": "string"}}}


def _ok(example: Any, description: str = "Done.", etag: bool = False) -> _Responses:
    doc: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"example": example}},
    }
    if etag:
        doc["headers"] = _ETAG_HEADER
    return {"200": doc}


_OUTLET_EXAMPLE = {
    "outlet_id": "00001",
    "name": "ACME家电 北京朝阳服务中心",
    "kind": "service_center",
    "city": "北京",
    "lat": 39.93,
    "lon": 116.45,
    "authorized": True,
    "status": "open",
    "version": 3,
}

# ---------------------------------------------------------------- helpers
router = APIRouter(dependencies=[Depends(reject_unknown_params)], tags=["network data"])

_SAFE_PART = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _store(request: Request) -> Any:
    store = getattr(request.app.state, "store", None)
    if store is None:
        raise ApiError(
            503,
            "no network store",
            reason="this server reads a file; outlets are edited in the network store",
        )
    return store


def _refresh(request: Request) -> None:
    """Make this process's queries see the write at once (the store already notifies
    the app's live network after a commit; this makes sure before answering, at the
    cost of one revision query)."""
    live = getattr(request.app.state, "live", None)
    if live is not None:
        live.refresh()


@contextlib.contextmanager
def _store_errors(outlet_id: str | None = None) -> Iterator[None]:
    """The store's errors as HTTP answers (never echoing the input)."""
    from ..store import NotFound, PermissionDenied, StaleVersion, StoreError

    try:
        yield
    except StaleVersion as err:
        current = getattr(err, "current", None) or getattr(err, "current_version", None)
        extra = {"current_version": current} if isinstance(current, int) else {}
        headers = {"ETag": _etag(current)} if isinstance(current, int) else {}
        raise ApiError(
            412,
            "version mismatch",
            reason="the outlet was changed since you read it; read it again and retry",
            extra=extra,
            headers=headers,
        ) from None
    except NotFound:
        raise ApiError(
            404, "unknown outlet", parameter="outlet_id", reason="no outlet has this id"
        ) from None
    except PermissionDenied as err:
        required = getattr(err, "required", None) or getattr(err, "role", None)
        raise ApiError(
            403, "forbidden", reason="this needs a higher role", extra={"required_role": required}
        ) from None
    except DataError as err:
        raise _data_error(err) from None
    except StoreError as err:
        raise ApiError(409, "conflict", reason=_plain(err)) from None


def _plain(err: Exception) -> str:
    """An error's message, first line, at most 300 characters."""
    return str(err).splitlines()[0][:300] if str(err) else type(err).__name__


def _data_error(err: DataError, prefix: str = "") -> ApiError:
    """422 naming the field of each problem (the value is left out)."""
    problems = [
        {
            "field": f"{prefix}{p.column}" if p.column else None,
            **({"row": p.row} if p.row is not None else {}),
            "reason": str(p.reason)[:300],
        }
        for p in err.errors[:100]
    ]
    first: dict[str, Any] = problems[0] if problems else {"field": None, "reason": "invalid data"}
    extra: dict[str, Any] = {"field": first["field"]}
    if len(problems) > 1 or "row" in first:
        extra["errors"] = problems
        extra["count"] = len(err.errors)
    return ApiError(422, "invalid field", reason=str(first["reason"]), extra=extra)


def _etag(version: Any) -> str:
    return f'"{int(version)}"'


_ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def _if_match(value: str | None, *, required: bool) -> int | None:
    """The version in an ``If-Match`` header (``"3"``, ``W/"3"`` or ``3``)."""
    if value is None:
        if required:
            raise ApiError(
                428,
                "If-Match required",
                reason='send the ETag of GET /v1/outlets/{outlet_id} as If-Match: "<version>"',
            )
        return None
    match = _ETAG_RE.match(value)
    if not match:
        raise ApiError(
            422,
            "invalid parameter",
            parameter="If-Match",
            reason='expected the outlet\'s ETag, e.g. "3" (a single version; * is not enough)',
        )
    return int(match.group(1))


def _outlet_body(record: Mapping[str, Any], principal: Principal | None) -> dict[str, Any]:
    """An outlet as the store returns it, JSON-ready. Authorization evidence is for
    signed-in callers only."""
    out = jsonable(dict(record))
    auth = out.get("authorization")
    if principal is None and isinstance(auth, dict):
        auth.pop("evidence", None)
    return out


def _answer(record: Mapping[str, Any], principal: Principal | None, status: int = 200) -> Response:
    headers = {"Cache-Control": "no-store"}
    if isinstance(record.get("version"), int):
        headers["ETag"] = _etag(record["version"])
    return _json(_outlet_body(record, principal), status_code=status, headers=headers)


def _changes(model: BaseModel) -> dict[str, Any]:
    """The fields given in a body model (``categories`` as a list joined with ``;``)."""
    out = model.model_dump(exclude_unset=True)
    cats = out.get("categories")
    if isinstance(cats, list):
        out["categories"] = ";".join(c.strip() for c in cats if c.strip())
    return out


def _version_body(v: Any) -> dict[str, Any]:
    at = getattr(v, "at", None)
    return jsonable(
        {
            "version": v.version,
            "at": at.isoformat() if isinstance(at, dt.datetime | dt.date) else at,
            "actor": v.actor,
            "action": v.action,
            "reason": v.reason,
            "changes": {k: list(pair) for k, pair in (v.changes or {}).items()},
        }
    )


# ---------------------------------------------------------------- endpoints
@router.get(
    "/v1/outlets/{outlet_id}",
    summary="One outlet (with its version as ETag)",
    description="The outlet as the network store holds it, closed or open, with `version` "
    "and `status`. The `ETag` header carries the version to send back as `If-Match` when "
    "changing it. Public; authorization evidence only with a token.",
    responses={**_ok(_OUTLET_EXAMPLE, "The outlet.", etag=True), **_404, **_401, **_429, **_503},
    openapi_extra={"security": [{}, {"token": []}]},  # a token is optional here
)
def get_outlet(
    request: Request,
    outlet_id: _OutletId,
    principal: Annotated[Principal | None, Depends(current_principal)],
) -> Response:
    store = _store(request)
    with _store_errors(outlet_id):
        record = store.get(outlet_id)
    return _answer(record, principal)


@router.get(
    "/v1/outlets/{outlet_id}/history",
    summary="Every version of an outlet (viewer)",
    description="Oldest first: who (token name), when (UTC), what changed (`[old, new]` "
    "per field) and why.",
    responses={
        **_ok(
            {
                "outlet_id": "00001",
                "versions": [
                    {
                        "version": 2,
                        "at": "2026-12-01T08:00:00+00:00",
                        "actor": "alice",
                        "action": "update",
                        "reason": "new hotline",
                        "changes": {"phone": ["010-5550100", "010-5550199"]},
                    }
                ],
            },
            "The history.",
        ),
        **_AUTH,
        **_404,
    },
)
def outlet_history(
    request: Request,
    outlet_id: _OutletId,
    principal: Annotated[Principal, Depends(require_role("viewer"))],
) -> Response:
    store = _store(request)
    with _store_errors(outlet_id):
        versions = store.history(outlet_id)
    return _json(
        {"outlet_id": outlet_id, "versions": [_version_body(v) for v in versions]},
        headers={"Cache-Control": "no-store"},
    )


@router.post(
    "/v1/outlets",
    status_code=201,
    summary="Create an outlet (editor)",
    description="`outlet` holds the outlet's fields (`outlet_id`, `name`, `lat`, `lon` "
    "required; "
    "WGS-84 unless `coord_sys` says otherwise). New outlets are not authorized until an "
    "admin grants it (`/authorization`).",
    responses={
        "201": {
            "description": "Created.",
            "content": {"application/json": {"example": _OUTLET_EXAMPLE}},
            "headers": _ETAG_HEADER,
        },
        **_AUTH,
        **_409,
        **_422,
    },
)
def create_outlet(
    request: Request,
    body: CreateBody,
    principal: Annotated[Principal, Depends(require_role("editor"))],
) -> Response:
    store = _store(request)
    fields = _changes(body.outlet)
    with _store_errors():
        record = store.create(fields, actor=principal.actor, reason=body.reason)
    _refresh(request)
    return _answer(record, principal, status=201)


_IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=100,
        description='The `ETag` of the version you read, e.g. `"3"`.',
    ),
]


@router.patch(
    "/v1/outlets/{outlet_id}",
    summary="Change an outlet's fields (editor; If-Match)",
    description="Send the fields to change in `changes` and the `ETag` you read as "
    "`If-Match`. If the outlet changed since: `412`, nothing changes. Authorization is "
    "changed through `/authorization` (admin).",
    responses={
        **_ok(_OUTLET_EXAMPLE, "The outlet after the change.", etag=True),
        **_AUTH,
        **_404,
        **_409,
        **_412,
        **_422,
        **_428,
    },
)
def patch_outlet(
    request: Request,
    outlet_id: _OutletId,
    body: PatchBody,
    principal: Annotated[Principal, Depends(require_role("editor"))],
    if_match: _IfMatch = None,
) -> Response:
    expected = _if_match(if_match, required=True)
    store = _store(request)
    with _store_errors(outlet_id):
        record = store.update(
            outlet_id,
            _changes(body.changes),
            expected_version=expected,
            actor=principal.actor,
            reason=body.reason,
        )
    _refresh(request)
    return _answer(record, principal)


@router.post(
    "/v1/outlets/{outlet_id}/close",
    summary="Close an outlet (editor)",
    description="Nothing is deleted: the outlet leaves the answers from the day it closes "
    "and can be reopened. `reason` is required; `If-Match` is honoured when sent.",
    responses={
        **_ok({**_OUTLET_EXAMPLE, "status": "closed"}, "The closed outlet.", etag=True),
        **_AUTH,
        **_404,
        **_409,
        **_412,
        **_422,
    },
)
def close_outlet(
    request: Request,
    outlet_id: _OutletId,
    body: CloseBody,
    principal: Annotated[Principal, Depends(require_role("editor"))],
    if_match: _IfMatch = None,
) -> Response:
    expected = _if_match(if_match, required=False)
    store = _store(request)
    with _store_errors(outlet_id):
        record = store.close(
            outlet_id,
            reason=body.reason,
            actor=principal.actor,
            on=body.on,
            expected_version=expected,
        )
    _refresh(request)
    return _answer(record, principal)


@router.post(
    "/v1/outlets/{outlet_id}/reopen",
    summary="Reopen a closed outlet (editor)",
    description="`reason` is required; `If-Match` is honoured when sent.",
    responses={
        **_ok(_OUTLET_EXAMPLE, "The reopened outlet.", etag=True),
        **_AUTH,
        **_404,
        **_409,
        **_412,
        **_422,
    },
)
def reopen_outlet(
    request: Request,
    outlet_id: _OutletId,
    body: ReopenBody,
    principal: Annotated[Principal, Depends(require_role("editor"))],
    if_match: _IfMatch = None,
) -> Response:
    expected = _if_match(if_match, required=False)
    store = _store(request)
    with _store_errors(outlet_id):
        record = store.reopen(
            outlet_id, reason=body.reason, actor=principal.actor, expected_version=expected
        )
    _refresh(request)
    return _answer(record, principal)


@router.post(
    "/v1/outlets/{outlet_id}/authorization",
    summary="Grant or revoke an outlet's authorization (admin)",
    description="`granted`, `reason` (required), `evidence` (contract number, free text) "
    "and `valid_until` (the last day it counts: from the next day the outlet is no longer "
    "authorized and leaves `/v1/nearest`). `If-Match` is honoured when sent.",
    responses={
        **_ok(_OUTLET_EXAMPLE, "The outlet after the change.", etag=True),
        **_AUTH,
        **_404,
        **_409,
        **_412,
        **_422,
    },
)
def set_authorization(
    request: Request,
    outlet_id: _OutletId,
    body: AuthorizationBody,
    principal: Annotated[Principal, Depends(require_role("admin"))],
    if_match: _IfMatch = None,
) -> Response:
    expected = _if_match(if_match, required=False)
    store = _store(request)
    with _store_errors(outlet_id):
        record = store.set_authorization(
            outlet_id,
            granted=body.granted,
            actor=principal.actor,
            reason=body.reason,
            evidence=body.evidence,
            valid_until=body.valid_until,
            expected_version=expected,
        )
    _refresh(request)
    return _answer(record, principal)


@router.post(
    "/v1/outlets/{outlet_id}/revert",
    summary="Restore an earlier version of an outlet (admin)",
    description="Appends a new version equal to `to_version` (history is never rewritten).",
    responses={
        **_ok(_OUTLET_EXAMPLE, "The outlet after the revert.", etag=True),
        **_AUTH,
        **_404,
        **_409,
        **_422,
    },
)
def revert_outlet(
    request: Request,
    outlet_id: _OutletId,
    body: RevertBody,
    principal: Annotated[Principal, Depends(require_role("admin"))],
) -> Response:
    store = _store(request)
    with _store_errors(outlet_id):
        record = store.revert(
            outlet_id, to_version=body.to_version, actor=principal.actor, reason=body.reason
        )
    _refresh(request)
    return _answer(record, principal)


_IMPORT_EXAMPLE = {
    "dry_run": True,
    "added": ["00392"],
    "changed": {"00001": {"phone": ["010-5550100", "010-5550199"]}},
    "closed": ["00017"],
    "unchanged": 388,
}


@router.post(
    "/v1/imports",
    summary="Import a whole network file (editor; dry_run for the diff)",
    description="A multipart upload (`file`: CSV, XLSX or GeoJSON with the outlet columns; "
    "`reason`). Every row is checked first and the import is one transaction: a file "
    "with a bad row changes nothing (`422` listing the rows). Outlets of the store "
    "missing from the file are closed. `dry_run=true` answers the diff (added, changed "
    "field by field, closed) and changes nothing.",
    responses={**_ok(_IMPORT_EXAMPLE, "The diff (applied unless dry_run)."), **_AUTH, **_422},
)
def import_file(
    request: Request,
    principal: Annotated[Principal, Depends(require_role("editor"))],
    file: Annotated[UploadFile, File(description="The network file.")],
    reason: Annotated[
        str | None,
        Form(max_length=MAX_REASON_CHARS, pattern=_NO_NUL, description="Why (in the history)."),
    ] = None,
    dry_run: Annotated[bool, Query(description="Answer the diff and change nothing.")] = False,
) -> Response:
    store = _store(request)
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise ApiError(
            422,
            "invalid field",
            reason=f"the file name must end in {', '.join(IMPORT_SUFFIXES)}",
            extra={"field": "file"},
        )
    handle, tmp = tempfile.mkstemp(suffix=suffix, prefix="locator-import-")
    try:
        with os.fdopen(handle, "wb") as out:
            size = 0
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > MAX_IMPORT_BYTES:
                    raise ApiError(413, "file too large", extra={"limit_bytes": MAX_IMPORT_BYTES})
                out.write(chunk)
        with _store_errors():
            diff = store.import_frame(
                tmp,
                actor=principal.actor,
                reason=reason or None,
                dry_run=dry_run,
                # a file that grants or revokes authorizations needs an admin
                allow_authorization=role_at_least(principal.role, "admin"),
            )
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    if not dry_run:
        _refresh(request)
    return _json({"dry_run": dry_run, **_diff_body(diff)})


def _diff_body(diff: Any) -> dict[str, Any]:
    """An :class:`~locator.store.ImportDiff` as JSON."""
    to_dict = getattr(diff, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    return jsonable(
        {
            name: getattr(diff, name)
            for name in ("added", "changed", "closed", "unchanged")
            if hasattr(diff, name)
        }
    )
