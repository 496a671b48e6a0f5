"""Who may call what: bearer tokens, roles and the rate limit on failed sign-ins.

A client sends ``Authorization: Bearer TOKEN``. The token is checked by the network
store (:meth:`locator.store.Store.tokens` ``.authenticate``: only a hash is stored and it
is compared in constant time); this module only reads the header, orders the roles and
answers the HTTP errors:

* no token, or a token the store does not know (or has revoked): ``401`` with
  ``WWW-Authenticate: Bearer`` and ``{"error": ..., "required_role": ...}``;
* a valid token whose role is too low: ``403`` with the same shape plus ``role``;
* more than :data:`MAX_FAILURES` failed attempts from one client address within
  :data:`FAILURE_WINDOW_S` seconds: ``429`` with ``Retry-After`` until the window has
  passed (a correct token too: guessing must not pay off by being fast).

Roles are ordered ``viewer < editor < admin`` (:data:`ROLES`): a higher role may do
everything a lower one may. Read endpoints are public unless the app is *private*
(``locator serve --private``): then every endpoint but ``/healthz`` needs a viewer
token (:func:`private_guard`).

The token itself never reaches a log record, an error body or an exception message:
it is passed to the store and dropped; :mod:`locator.geocoders.redact` also masks
``loc_...`` tokens and ``Bearer ...`` credentials in any log line.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from ..store import ROLES, role_allows
from .service import ApiError

__all__ = [
    "FAILURE_WINDOW_S",
    "MAX_FAILURES",
    "ROLES",
    "FailureLimiter",
    "Principal",
    "current_principal",
    "private_guard",
    "require_role",
    "role_at_least",
]

#: Failed attempts allowed per client address within :data:`FAILURE_WINDOW_S`.
MAX_FAILURES = 10
#: The window of the failure count (seconds).
FAILURE_WINDOW_S = 60.0
#: Longest credential looked at (a longer one is refused without hashing it).
_MAX_TOKEN_CHARS = 256


def role_at_least(role: str, required: str) -> bool:
    """Whether ``role`` may do what ``required`` may (the store's order of
    :data:`~locator.store.ROLES`; unknown roles may do nothing)."""
    return role in ROLES and required in ROLES and role_allows(role, required)


class Principal:
    """Who is calling: the token's name and role (never the secret)."""

    __slots__ = ("name", "role")

    def __init__(self, name: str, role: str) -> None:
        self.name = name
        self.role = role

    @property
    def actor(self) -> str:
        """The name recorded in the history for this caller's changes."""
        return self.name

    def __repr__(self) -> str:
        return f"Principal(name={self.name!r}, role={self.role!r})"


class FailureLimiter:
    """Failed sign-in attempts per client address in a sliding window (thread-safe).

    ``clock`` is a seam for tests (seconds, monotonic). At most ``max_clients``
    addresses are tracked; the oldest are forgotten first, so a flood of addresses
    cannot exhaust memory.
    """

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = FAILURE_WINDOW_S,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.max_failures = int(max_failures)
        self.window_s = float(window_s)
        self._clock = clock
        self._max_clients = int(max_clients)
        self._failures: collections.OrderedDict[str, collections.deque[float]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> collections.deque[float]:
        times = self._failures.get(client)
        if times is None:
            return collections.deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[client]
        return times

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or ``None`` if it may now."""
        now = self._clock()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.max_failures:
                return None
            return max(1, math.ceil(times[0] + self.window_s - now))

    def failed(self, client: str) -> None:
        """Count one failed attempt of ``client``."""
        now = self._clock()
        with self._lock:
            times = self._failures.setdefault(client, collections.deque())
            self._failures.move_to_end(client)
            times.append(now)
            while len(times) > self.max_failures:
                times.popleft()
            while len(self._failures) > self._max_clients:
                self._failures.popitem(last=False)


#: Only documents the scheme in the OpenAPI schema (the "Authorize" button of /docs);
#: the header is read and answered by :func:`authenticate`.
_BEARER_DOC = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token of the network store (`locator token create`).",
)
_BearerDoc = Annotated[Any, Security(_BEARER_DOC)]


def _client(request: Request) -> str:
    """The client's address (behind a proxy: what uvicorn's ``--proxy-headers`` gives)."""
    return request.client.host if request.client else "unknown"


def _unauthorized(required: str, reason: str, *, invalid: bool) -> ApiError:
    challenge = 'Bearer realm="locator"'
    if invalid:
        challenge += ', error="invalid_token"'
    return ApiError(
        401,
        "authentication required",
        reason=reason,
        extra={"required_role": required},
        headers={"WWW-Authenticate": challenge},
    )


def _bearer(request: Request, required: str) -> str | None:
    """The bearer credential of the request, ``None`` without an Authorization header;
    401 for a header that is not ``Bearer <token>``."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise _unauthorized(
            required, "the Authorization header must be 'Bearer <token>'", invalid=True
        )
    return secret


def _store(request: Request) -> Any:
    store = getattr(request.app.state, "store", None)
    if store is None:
        raise ApiError(
            503,
            "no network store",
            reason="this server reads a file; writes and tokens need the network store "
            "(locator serve without --outlets)",
        )
    return store


def _limiter(request: Request) -> FailureLimiter:
    limiter = getattr(request.app.state, "auth_limiter", None)
    if limiter is None:
        limiter = request.app.state.auth_limiter = FailureLimiter()
    return limiter


def authenticate(request: Request, required: str) -> Principal | None:
    """The caller of ``request`` (``None`` without credentials). 401 for a bad token,
    429 while the client is rate-limited. The result is kept on ``request.state`` so
    one request is checked once."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    secret = _bearer(request, required)
    if secret is None:
        request.state.principal = None
        return None
    limiter = _limiter(request)
    client = _client(request)
    wait = limiter.retry_after(client)
    if wait is not None:
        raise ApiError(
            429,
            "too many failed sign-in attempts",
            reason=f"retry in {wait} s",
            extra={"required_role": required},
            headers={"Retry-After": str(wait)},
        )
    token = None
    if len(secret) <= _MAX_TOKEN_CHARS and secret.isascii() and secret.isprintable():
        token = _store(request).tokens.authenticate(secret)
    del secret
    if token is None or getattr(token, "revoked_at", None) is not None:
        limiter.failed(client)
        raise _unauthorized(required, "unknown or revoked token", invalid=True)
    principal = Principal(str(token.name), str(token.role))
    request.state.principal = principal
    return principal


def _check_role(principal: Principal | None, required: str) -> Principal:
    if principal is None:
        raise _unauthorized(
            required,
            f"send 'Authorization: Bearer <token>' with a token of the {required} role",
            invalid=False,
        )
    if not role_at_least(principal.role, required):
        raise ApiError(
            403,
            "forbidden",
            reason=f"this needs the {required} role",
            extra={"required_role": required, "role": principal.role},
        )
    return principal


def require_role(required: str) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the caller, who must hold at least ``required``."""
    if required not in ROLES:
        raise ValueError(f"unknown role {required!r}; expected one of {', '.join(ROLES)}")

    def dependency(request: Request, _doc: _BearerDoc = None) -> Principal:
        return _check_role(authenticate(request, required), required)

    dependency.__name__ = f"require_{required}"
    return dependency


def current_principal(request: Request, _doc: _BearerDoc = None) -> Principal | None:
    """A FastAPI dependency: the caller if a valid token was sent, else ``None`` (a bad
    token is still a 401: it is never silently treated as anonymous)."""
    return authenticate(request, "viewer")


async def private_guard(request: Request) -> None:
    """A dependency of the read endpoints: in private mode (``app.state.private``)
    they need a viewer token, except ``/healthz`` (load balancers do not sign in).

    Async, so a public read costs no thread-pool hop (a sync dependency is run in
    FastAPI's thread pool, per request); the token check, which reads the store, still
    runs in the pool."""
    if not getattr(request.app.state, "private", False):
        return
    if request.url.path == "/healthz":
        return
    principal = await run_in_threadpool(authenticate, request, "viewer")
    _check_role(principal, "viewer")
