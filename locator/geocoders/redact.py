"""Keep API keys out of messages, exception text and logs: one redaction function.

Online geocoders put their key in the request URL (Baidu: ``?ak=...&sn=...``), and
geopy writes that URL into its exceptions (``... for url: https://...?ak=SECRET``) and
its DEBUG log. :func:`redact` removes the value of every secret-looking query or
key/value parameter (:data:`SECRET_PARAMS`) and every registered key's literal value
(:func:`register_secret`; :func:`locator.geocode.get_geocoder` registers the key it is
given), every network-store API token (``loc_...``) and every ``Bearer``/``Basic``
credential. It is applied

* where geocoder exceptions are translated (:mod:`.online`: the message is redacted
  and the original exception, which carries the URL, is not chained), and
* to every log record of the ``geopy`` and ``locator`` loggers (and uvicorn's when
  ``locator serve`` runs) by :class:`RedactingFilter`, installed by
  :func:`install_log_redaction` (message, arguments and formatted traceback).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "SECRET_PARAMS",
    "RedactingFilter",
    "install_log_redaction",
    "redact",
    "register_secret",
]

#: What a secret is replaced with.
MASK = "***"
#: Parameter names whose values are secrets (case-insensitive).
SECRET_PARAMS: tuple[str, ...] = (
    "ak",
    "key",
    "api_key",
    "apikey",
    "token",
    "access_token",
    "sk",
    "sn",
)
#: Loggers :func:`install_log_redaction` covers by default.
DEFAULT_LOGGERS: tuple[str, ...] = ("geopy", "locator")

_NAMES = "|".join(sorted((re.escape(n) for n in SECRET_PARAMS), key=len, reverse=True))
# name=value in a URL or query string (value up to the next separator) ...
_QUERY_RE = re.compile(rf"(?i)(?<![A-Za-z0-9_-])({_NAMES})=([^&\s'\"#;,<>)\]}}]+)")
# ... and 'name': 'value' / "name": "value" in reprs and JSON.
_PAIR_RE = re.compile(rf"""(?i)(['"])({_NAMES})\1(\s*:\s*)(['"]?)([^'"\s,}}\]]+)\4""")

# API tokens of the network store (``loc_`` + random text, see locator.store) wherever
# they appear, and any HTTP bearer / basic credential ("Authorization: Bearer ...").
_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9])loc_[A-Za-z0-9_\-]{8,}")
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)(\s+|%20|\+)[A-Za-z0-9._~+/=\-]{4,}")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Redact ``value`` (an API key) wherever it appears, also URL-encoded. Values
    shorter than 4 characters are ignored (they would mask ordinary text)."""
    if not value or len(str(value)) < 4:
        return
    text = str(value)
    with _secrets_lock:
        _secrets.update({text, quote_plus(text), quote(text, safe="")})


def redact(text: Any) -> str:
    """``text`` (any object, as ``str``) with every secret replaced by :data:`MASK`."""
    out = str(text)
    with _secrets_lock:
        literals = sorted(_secrets, key=len, reverse=True)
    for secret in literals:
        if secret in out:
            out = out.replace(secret, MASK)
    out = _TOKEN_RE.sub(MASK, out)
    out = _BEARER_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", out)
    out = _QUERY_RE.sub(lambda m: f"{m.group(1)}={MASK}", out)
    return _PAIR_RE.sub(
        lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{m.group(4)}{MASK}{m.group(4)}",
        out,
    )


class RedactingFilter(logging.Filter):
    """A logging filter that redacts a record's message, arguments, traceback and
    stack (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg is not None:
            record.msg = redact(record.msg)
        # Arguments are redacted one by one, keeping their shape: formatters such as
        # uvicorn's access formatter unpack the tuple, and %d needs a number.
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[0] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(formatted)
            # The formatted text replaces the exception object, which may carry a URL
            # in its arguments (handlers that re-format exc_info would print it).
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _redact_arg(value: Any) -> Any:
    """A log argument with secrets masked: numbers and None as they are, others as
    redacted text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(value)


_FILTER = RedactingFilter()


def install_log_redaction(names: Iterable[str] = DEFAULT_LOGGERS) -> None:
    """Install :class:`RedactingFilter` on the named loggers and on their existing
    child loggers (a logger's filters see only records created on that logger).
    Idempotent."""
    wanted = tuple(names)
    loggers = [logging.getLogger(name) for name in wanted]
    for name, obj in list(logging.root.manager.loggerDict.items()):
        if isinstance(obj, logging.Logger) and any(name.startswith(w + ".") for w in wanted):
            loggers.append(obj)
    for logger in loggers:
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
