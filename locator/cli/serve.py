"""CLI: ``locator serve`` runs the HTTP API and the embeddable map page (uvicorn)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from . import app
from ._common import fail


@app.command("serve")
def serve_command(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. The default is loopback only; put a reverse proxy "
            "(TLS, rate limits) in front before exposing the service.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    outlets_path: Annotated[
        Path | None,
        typer.Option(
            "--outlets", help="Outlets file (CSV/XLSX/GeoJSON); default: the bundled sample."
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            metavar="URL",
            help="The network store (default: $LOCATOR_DATABASE_URL, else the SQLite store "
            "in the user data dir, seeded with the bundled sample). Served live: changes "
            "show without a restart. --outlets serves a file read-only instead.",
        ),
    ] = None,
    cors: Annotated[
        list[str] | None,
        typer.Option(
            "--cors",
            help="An origin allowed to call the API from a browser, e.g. "
            "https://www.example.com (repeat for several). Default: none.",
        ),
    ] = None,
    frame_ancestors: Annotated[
        list[str] | None,
        typer.Option(
            "--frame-ancestors",
            help="A site allowed to embed /embed/map in a frame (CSP frame-ancestors), e.g. "
            "https://www.example.com or 'self' (repeat for several). Default: 'self'.",
        ),
    ] = None,
    max_body_bytes: Annotated[
        int,
        typer.Option("--max-body-bytes", min=0, help="Larger request bodies get 413."),
    ] = 16 * 1024,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, max=64, help="Worker processes (one per core helps)."),
    ] = 1,
    log_level: Annotated[
        str, typer.Option("--log-level", help="uvicorn log level (info, warning, ...).")
    ] = "info",
    private: Annotated[
        bool,
        typer.Option(
            "--private",
            help="Require a viewer token (Authorization: Bearer ...) for every endpoint "
            "but /healthz; the OpenAPI docs are not served. Default: reads are public.",
        ),
    ] = False,
    access_log: Annotated[
        bool,
        typer.Option("--access-log/--no-access-log", help="Log every request (costs CPU)."),
    ] = True,
) -> None:
    """Serve the HTTP API: /v1/nearest, /v1/geocode, /v1/outlets, /v1/coverage,
    /embed/map and /healthz; OpenAPI docs at /docs.

    Example: ``locator serve --port 8000 --cors https://www.example.com
    --frame-ancestors https://www.example.com``.

    Then query it (--data-urlencode percent-encodes the Chinese text; raw non-ASCII in
    a URL is not valid HTTP):
    ``curl -G --data-urlencode q=苏州 http://127.0.0.1:8000/v1/nearest``

    /healthz answers 503 (ready: false) for the few seconds the service warms up.
    """
    import uvicorn

    from ..api import create_app_from_env
    from ..errors import LocatorError

    if outlets_path is not None and not outlets_path.is_file():
        fail(f"no such file: {outlets_path}")
    env = {
        "LOCATOR_CORS_ORIGINS": " ".join(cors or []),
        "LOCATOR_FRAME_ANCESTORS": " ".join(frame_ancestors or []),
        "LOCATOR_MAX_BODY_BYTES": str(max_body_bytes),
        "LOCATOR_OUTLETS": str(outlets_path) if outlets_path is not None else "",
        "LOCATOR_PRIVATE": "1" if private else "",
    }
    if database:
        env["LOCATOR_DATABASE_URL"] = database
    os.environ.update(env)
    # Build once here so that bad settings or data end in one clear line, not a
    # traceback per worker; the workers then build their own copy from the same env.
    try:
        create_app_from_env()
    except LocatorError as err:
        fail(str(err))
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": log_level,
        "access_log": access_log,
        "proxy_headers": False,
        "server_header": False,
    }
    if workers == 1:
        uvicorn.run(APP_FACTORY, **options)
        return
    # uvicorn's own multi-worker path binds a listener whose ``proto`` is 0, so asyncio
    # never sets TCP_NODELAY on accepted connections and every keep-alive request after
    # the first waits ~40 ms for a delayed ACK (Kludex/uvicorn#3149, open). Bind it
    # ourselves with the protocol set, then run uvicorn's supervisor on it.
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(APP_FACTORY, **options)
    Multiprocess(config, sockets=[tcp_listener(config)]).run()


APP_FACTORY = "locator.api:create_app_from_env"


def tcp_listener(config: Any) -> socket.socket:
    """uvicorn's listening socket for ``config``, re-wrapped so that its ``proto`` is
    ``IPPROTO_TCP`` (detected from the descriptor) and asyncio enables TCP_NODELAY."""
    sock = config.bind_socket()
    tcp = socket.socket(fileno=sock.detach())
    tcp.set_inheritable(True)
    return tcp
