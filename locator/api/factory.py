"""The HTTP API app factory: :func:`create_app` (and :func:`create_app_from_env` for
``uvicorn --factory``), its exception handlers and lifespan (background warm-up)."""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from .. import __version__
from ..drive import DriveTimeModel
from ..errors import ConfigurationError, LocatorError
from ..geocoders.redact import install_log_redaction, redact
from ..network import Network
from ..pages import SAMPLE_NOTE
from ..store import LiveNetwork, Store
from .auth import FailureLimiter, private_guard
from .params import _PATTERN_REASONS
from .routes import StrictJSONResponse, _json, router
from .routes_load import MAX_LOAD_BYTES
from .routes_load import router as load_router
from .routes_scenario import router as scenario_router
from .routes_verify import _listings
from .routes_verify import router as verify_router
from .routes_write import MAX_IMPORT_BYTES
from .routes_write import router as write_router
from .security import (
    DEFAULT_MAX_BODY_BYTES,
    BodySizeLimitMiddleware,
    _check_frame_ancestors,
    _check_origins,
)
from .service import ApiError, Geocoder, LocatorService, log


async def _on_api_error(request: Request, exc: Exception) -> Response:
    """An :class:`ApiError` as its JSON body and status."""
    assert isinstance(exc, ApiError)
    return _json(exc.body, status_code=exc.status, headers=exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    """422 naming the parameter; never echoes the input (it may hold NaN or a payload)."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        reason = str(err.get("msg", "invalid value"))
        if err.get("type") == "string_pattern_mismatch":
            pattern = (err.get("ctx") or {}).get("pattern")
            reason = _PATTERN_REASONS.get(str(pattern), "has the wrong format")
        if loc and loc[0] == "body":
            problems.append({"field": _body_field(loc[1:], err), "reason": reason})
            continue
        # ("query", "kind", 1) for the second kind: name the parameter, not the index
        names = [str(x) for x in loc[1:] if isinstance(x, str)]
        param = names[0] if names else (str(loc[-1]) if loc else None)
        problems.append({"parameter": param, "reason": reason})
    first = problems[0] if problems else {"parameter": None, "reason": "invalid request"}
    error = "invalid field" if "field" in first else "invalid parameter"
    body: dict[str, Any] = {"error": error, **first}
    if len(problems) > 1:
        body["errors"] = problems
    return _json(body, status_code=422)


_SAFE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _body_field(loc: tuple[Any, ...], err: Mapping[str, Any]) -> str | None:
    """A JSON body field as ``changes.lat`` (list indexes and union branches left out).
    A name the client made up (an unknown field) is shown only when it is a plain
    identifier: the body is never echoed."""
    if err.get("type") in ("json_invalid", "model_attributes_type", "missing") and not loc:
        return "body"
    parts = []
    for part in loc:
        if not isinstance(part, str):
            continue
        if not _SAFE_FIELD.match(part):
            parts.append("(name not shown)")
            break
        if part in ("str", "float", "int", "bool") or part.startswith(("list[", "constrained-")):
            continue  # a union branch pydantic names by its type
        parts.append(part)
    return ".".join(parts) or "body"


async def _on_http_error(request: Request, exc: Exception) -> Response:
    """404/405 and other HTTP errors as ``{"error": ...}`` JSON."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    return _json({"error": str(exc.detail)}, status_code=exc.status_code, headers=headers)


async def _on_locator_error(request: Request, exc: Exception) -> Response:
    """A library error that escaped the endpoint's own checks: a bad request, not a crash."""
    log.warning("locator error in %s: %s", request.url.path, exc)
    return _json({"error": "invalid request", "reason": redact(exc)[:300]}, status_code=422)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback; the client gets a JSON 500 without details."""
    log.exception("unexpected error in %s", request.url.path)
    return _json({"error": "internal error"}, status_code=500)


_REDACTED_LOGGERS = ("geopy", "locator", "uvicorn", "uvicorn.error", "uvicorn.access")


def _load(
    outlets: pd.DataFrame | str | os.PathLike[str] | Store | None,
) -> tuple[pd.DataFrame, bool, Store | None]:
    """The outlets frame, whether it is the bundled sample, and the store it comes from
    (``None`` for a file or a frame: read-only, as loaded)."""
    from ..data import load_outlets

    if outlets is None:
        from ..store import open_store

        outlets = open_store()  # $LOCATOR_DATABASE_URL or the default SQLite store
    if isinstance(outlets, Store):
        return pd.DataFrame(), False, outlets
    if isinstance(outlets, pd.DataFrame):
        return outlets, False, None
    if isinstance(outlets, str | Path | os.PathLike):
        return load_outlets(outlets), False, None
    raise ConfigurationError(
        f"outlets must be a Store, a DataFrame, a path or None, got {type(outlets).__name__}"
    )


def _is_sample(network: Network) -> bool:
    """Whether a store's network is (still) exactly the bundled synthetic sample."""
    from ..data import load_network

    return network.version == load_network().version


def create_app(
    outlets: pd.DataFrame | str | os.PathLike[str] | Store | None = None,
    *,
    cors_origins: Iterable[str] = (),
    frame_ancestors: Iterable[str] = ("'self'",),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    geocoder: Geocoder | Callable[[], Geocoder] | None = None,
    places: pd.DataFrame | None = None,
    cities: pd.DataFrame | None = None,
    drive_model: DriveTimeModel | None = None,
    poll_interval: float = 1.0,
    private: bool = False,
) -> FastAPI:
    """The locator HTTP API as a FastAPI app.

    ``outlets``: a :class:`~locator.store.Store`, or ``None`` for the store at
    ``$LOCATOR_DATABASE_URL`` (default: the SQLite store in the user data dir, seeded
    with the bundled synthetic sample): the network is live, changes are served
    without a restart (in this process at once, from other processes within
    ``poll_interval`` seconds; ``app.state.store`` and ``app.state.live`` hold them).
    A frame from :func:`locator.data.load_outlets` or a path is served read-only.
    ``cors_origins``: origins allowed to call the API from a browser
    (``https://www.example.com``; default none, i.e. no CORS headers).
    ``frame_ancestors``: who may embed ``/embed/map`` in a frame (CSP
    ``frame-ancestors``; default ``'self'``). ``max_body_bytes``: request bodies above
    this get 413. ``geocoder``: a geopy-style geocoder or a factory (default: the
    offline geocoder, built on first use). The store also serves the write endpoints
    and tokens (:mod:`.routes_write`, :mod:`.auth`); a file or frame is read-only (they
    answer 503). ``private``: every endpoint but ``/healthz`` needs a viewer token (and
    the OpenAPI document is not served). Raises
    :class:`~locator.errors.ConfigurationError` for a bad setting and
    :class:`~locator.errors.DataError` for bad data.
    """
    # Secrets (geocoder keys, store tokens) never reach a log line, uvicorn's included.
    install_log_redaction(_REDACTED_LOGGERS)
    origins = _check_origins(cors_origins)
    ancestors = _check_frame_ancestors(frame_ancestors)
    if (
        isinstance(max_body_bytes, bool)
        or not isinstance(max_body_bytes, int)
        or max_body_bytes < 0
    ):
        raise ConfigurationError(
            f"max_body_bytes must be a non-negative integer, got {max_body_bytes!r}"
        )
    frame, sample, store = _load(outlets)
    live: LiveNetwork[LocatorService] | None = None
    if store is None:
        service = LocatorService(
            frame,
            places=places,
            cities=cities,
            geocoder=geocoder,
            drive_model=drive_model,
            sample=sample,
        )
    else:
        built: list[LocatorService] = []

        def build(network: Network) -> LocatorService:
            closed = store.closed_outlets()  # verify answers "closed" for these
            if built:  # a change: share what does not depend on the outlets
                new = built[0].successor(network, closed=closed)
            else:
                new = LocatorService(
                    network.frame,
                    places=places,
                    cities=cities,
                    geocoder=geocoder,
                    drive_model=drive_model,
                    sample=_is_sample(network),
                    closed=closed,
                )
            built[:] = [new]
            return new

        def publish(new: LocatorService) -> None:
            app.state.locator = new  # one assignment: a request sees one network

        live = LiveNetwork(store, build, interval=poll_interval, on_swap=publish)
        service = live.current

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Warm in the background: the port opens at once and /healthz says 503
        # "warming" until the geocoder (with its index), the coverage model and the
        # verify listing index are built (the outlet index is built with the service);
        # requests meanwhile wait for the one build under the service's locks.
        threading.Thread(
            target=warm_service, args=(service,), name="locator-warm", daemon=True
        ).start()
        if live is not None:
            live.start()  # other processes' changes: polled off the request path
        try:
            yield
        finally:
            if live is not None:
                live.stop()

    app = FastAPI(
        lifespan=lifespan,
        openapi_url=None if private else "/openapi.json",
        docs_url=None if private else "/docs",
        redoc_url=None if private else "/redoc",
        title="locator API",
        version=__version__,
        description=(
            "Nearest authorized after-sales outlets, offline geocoding, outlets as GeoJSON, "
            "coverage figures and an embeddable map page. Distances are WGS-84 geodesics; "
            "drive times are estimates. " + (SAMPLE_NOTE if service.sample else "")
        ),
        default_response_class=StrictJSONResponse,
    )
    app.state.locator = service
    app.state.store = store
    app.state.live = live
    app.state.frame_ancestors = ancestors
    app.state.cors_origins = origins
    app.state.private = bool(private)
    app.state.auth_limiter = FailureLimiter()
    guard = [Depends(private_guard)]
    app.include_router(router, dependencies=guard)
    app.include_router(verify_router, dependencies=guard)
    app.include_router(write_router, dependencies=guard)
    app.include_router(scenario_router, dependencies=guard)
    app.include_router(load_router, dependencies=guard)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(LocatorError, _on_locator_error)
    app.add_exception_handler(Exception, _on_unexpected)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET"],
            allow_headers=[],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=max_body_bytes,
        path_limits={
            "/v1/imports": max(MAX_IMPORT_BYTES, max_body_bytes),
            "/v1/load": max(MAX_LOAD_BYTES, max_body_bytes),
        },
    )
    return app


def warm_service(service: LocatorService) -> None:
    """Build everything a first request would otherwise build, then mark ``service``
    ready (what ``/healthz`` reports): the verify listing index here, then
    :meth:`LocatorService.warm` (geocoder with its index, coverage model), which sets
    ready last. A failed step is logged and left to its endpoint (503)."""
    try:
        _listings(service)
    except Exception:  # best effort, like the service's own steps
        log.warning("warm-up step verify listing failed", exc_info=True)
    service.warm()


def _env_list(name: str) -> list[str]:
    """A space/comma separated environment variable as a list."""
    return [x for x in re.split(r"[\s,]+", os.environ.get(name, "")) if x]


def create_app_from_env() -> FastAPI:
    """:func:`create_app` configured from the environment (for ``uvicorn --factory``
    and ``locator serve --workers N``): ``LOCATOR_OUTLETS`` (path),
    ``LOCATOR_CORS_ORIGINS`` and ``LOCATOR_FRAME_ANCESTORS`` (space/comma separated),
    ``LOCATOR_MAX_BODY_BYTES``, ``LOCATOR_PRIVATE`` (``1``: :func:`create_app`'s
    ``private``). Also installs the secret-redacting log filter on
    uvicorn's loggers (this runs in every worker process)."""
    install_log_redaction(_REDACTED_LOGGERS)
    kwargs: dict[str, Any] = {
        "cors_origins": _env_list("LOCATOR_CORS_ORIGINS"),
        "private": os.environ.get("LOCATOR_PRIVATE", "").strip().lower() in ("1", "true", "yes"),
    }
    if os.environ.get("LOCATOR_FRAME_ANCESTORS"):
        kwargs["frame_ancestors"] = _env_list("LOCATOR_FRAME_ANCESTORS")
    if os.environ.get("LOCATOR_MAX_BODY_BYTES"):
        try:
            kwargs["max_body_bytes"] = int(os.environ["LOCATOR_MAX_BODY_BYTES"])
        except ValueError as err:
            raise ConfigurationError("LOCATOR_MAX_BODY_BYTES must be an integer") from err
    return create_app(os.environ.get("LOCATOR_OUTLETS") or None, **kwargs)
