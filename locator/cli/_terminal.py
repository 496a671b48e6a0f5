"""The one place where text reaches a terminal: data is shown, never interpreted.

Outlet names, addresses and queries are hostile until shown here. Two things in them
could act on a terminal instead of being read:

* **rich markup** (``[/bold]`` crashed ``locator coverage`` with ``MarkupError``;
  ``[link=https://evil.example]x[/link]`` drew a hidden hyperlink). Every console the
  CLI uses comes from :func:`console`, built with ``markup=False``, ``emoji=False``
  and ``highlight=False``: strings (table cells, titles, messages) are plain text.
  Styling, where wanted, is given as ``Text(..., style=...)`` objects, never markup.
* **control characters** (an ANSI escape ``\\x1b[...`` can recolour, move the cursor
  or retitle the window; a right-to-left override ``U+202E`` reorders what is
  shown). :func:`clean` replaces them with visible stand-ins: C0 controls with their
  Unicode control pictures (``␛`` for ESC), C1 controls and the bidirectional
  overrides/isolates with ``<U+XXXX>``. Newline and tab stay.

:func:`console` prints through :func:`clean` as well, and :func:`echo` is the CLI's
``typer.echo`` for plain lines (errors, warnings, notes), so a caller cannot forget it.
"""

from __future__ import annotations

import re
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

__all__ = ["clean", "console", "echo", "text"]

_C0 = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_OTHER = re.compile(r"[\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean(value: Any) -> str:
    """``str(value)`` with terminal control characters made visible (see module doc).

    >>> clean("a\\x1b[31mb\\u202ec")
    'a␛[31mb<U+202E>c'
    """
    s = _C0.sub(
        lambda m: "\u2421" if m.group(0) == "\x7f" else chr(0x2400 + ord(m.group(0))), str(value)
    )
    return _OTHER.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", s)


def text(value: Any, style: str = "") -> Text:
    """A rich ``Text`` of ``value`` (cleaned): never parsed as markup."""
    return Text(clean(value), style=style)


class _CleanConsole(Console):
    """A ``Console`` whose plain-string arguments are cleaned before rendering."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = False
        kwargs["emoji"] = False
        kwargs["highlight"] = False
        return super().render_str(clean(text), **kwargs)


def console(*, stderr: bool = False, **kwargs: Any) -> Console:
    """The CLI's console: no markup, no emoji codes, no highlighting, controls cleaned."""
    return _CleanConsole(stderr=stderr, markup=False, emoji=False, highlight=False, **kwargs)


def echo(message: Any = "", *, err: bool = False) -> None:
    """``typer.echo`` of a cleaned line: the one way the CLI prints plain text."""
    typer.echo(clean(message), err=err)
