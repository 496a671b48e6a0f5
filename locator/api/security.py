"""Security middleware and settings of the HTTP API: the request body limit (and
``nosniff`` on every response), CORS origins and ``frame-ancestors`` checks, and the
Content-Security-Policy of ``/embed/map``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ConfigurationError
from .service import dumps

#: Request bodies above this are refused with 413 (the write endpoints' JSON bodies are
#: small; file uploads get their own limit, ``path_limits``).
DEFAULT_MAX_BODY_BYTES = 16 * 1024


class BodySizeLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413 (pure ASGI).

    A declared ``Content-Length`` above the limit is refused before reading; otherwise
    the body is read (counting chunked uploads too) and refused as soon as it passes
    the limit, then replayed to the app. Also adds ``X-Content-Type-Options: nosniff``
    to every HTTP response. ``path_limits`` gives some paths (a file upload) a limit of
    their own.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = DEFAULT_MAX_BODY_BYTES,
        path_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)
        self.path_limits = {str(k): int(v) for k, v in (path_limits or {}).items()}

    async def _refuse(self, send: Send, status: int, message: str, limit: int) -> None:
        body = dumps({"error": message, "limit_bytes": limit})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._refuse(send, 400, "invalid Content-Length header", limit)
                    return
                if declared > limit:
                    await self._refuse(send, 413, "request body too large", limit)
                    return
        pending: list[Message] = []
        total = 0
        while True:
            message = await receive()
            pending.append(message)
            if message["type"] != "http.request":
                break
            total += len(message.get("body", b""))
            if total > limit:
                await self._refuse(send, 413, "request body too large", limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        async def send_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, replay, send_nosniff)


_ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
_ANCESTOR_RE = re.compile(r"^(https?://)?(\*\.)?[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$|^https?:$")


def _check_origins(origins: Iterable[str]) -> list[str]:
    """CORS origins as ``scheme://host[:port]`` (or ``*``); ConfigurationError otherwise."""
    out = []
    for origin in origins:
        text = str(origin).strip()
        if text != "*" and not _ORIGIN_RE.match(text):
            raise ConfigurationError(
                f"invalid CORS origin {origin!r}: expected scheme://host[:port] "
                "(e.g. https://www.example.com) or *"
            )
        out.append(text.rstrip("/"))
    return out


def _check_frame_ancestors(values: Iterable[str]) -> list[str]:
    """CSP ``frame-ancestors`` sources, refusing anything that could add a directive."""
    out = []
    for value in values:
        text = str(value).strip()
        if text.lower() in ("self", "none"):  # the quotes are easy to lose in a shell
            text = f"'{text.lower()}'"
        if text in ("'self'", "'none'", "*") or _ANCESTOR_RE.match(text):
            out.append(text)
        else:
            raise ConfigurationError(
                f"invalid frame ancestor {value!r}: expected 'self', 'none', *, a scheme "
                "(https:) or a host source (https://www.example.com, https://*.example.com)"
            )
    if not out:
        return ["'none'"]
    if "'none'" in out and len(out) > 1:
        raise ConfigurationError("'none' cannot be combined with other frame ancestors")
    return out


def _csp(tiles: str | None, frame_ancestors: Sequence[str]) -> str:
    """The Content-Security-Policy header of ``/embed/map``: the page's own policy
    (:func:`locator.embed.content_security_policy`) plus ``frame-ancestors``."""
    from .. import embed

    return embed.content_security_policy(embed.tile_sources(tiles), frame_ancestors)
