"""Escaping: the only two ways data enters a map, :func:`escape_text` and :func:`_script_json`.

Why both exist and what they guarantee (HTML, JavaScript template literals, ``<script>``
blocks, and branca's second Jinja pass over rendered text) is explained in the
:mod:`locator.maps` package docstring, under "Text" and "No data is ever template
source". Every builder in the package goes through these; never escape at a call site.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "`": "&#96;",
    "$": "&#36;",
    "\\": "&#92;",
    # Jinja: branca re-compiles rendered output as a template (see the locator.maps docstring).
    "{": "&#123;",
    "}": "&#125;",
}
_ESCAPE_RE = re.compile(r"[&<>\"'`$\\{}]")
# C0 controls, DEL, and the JS line terminators U+2028/U+2029 become a space.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def escape_text(value: object) -> str:
    """Escape ``value`` for HTML *and* for a JavaScript template literal at once.

    Returns text in which ``& < > " ' ` $ \\ { }`` are HTML character references, so
    the result is inert wherever folium puts it: as HTML text or a quoted attribute
    value, inside a ``\\`...\\``` template literal (no backtick, ``${`` or backslash
    survives), inside a ``<script>`` block (no ``</script>``), and when branca
    compiles the rendered page as a Jinja template again (no ``{{``, ``{%``, ``{#``:
    no brace survives). The browser shows
    the original characters. Control characters and line/paragraph separators
    become spaces. ``None`` and NaN become ``""``; other values go through ``str``.

    >>> escape_text("<b>${x}</b> `C:\\\\x` {{7*7}}")
    '&lt;b&gt;&#36;&#123;x&#125;&lt;/b&gt; &#96;C:&#92;x&#96; &#123;&#123;7*7&#125;&#125;'
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    text = _CONTROL_RE.sub(" ", str(value))
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


# A character that would complete a Jinja opening tag: ``{`` then ``{``, ``%`` or ``#``.
_JINJA_OPEN_RE = re.compile(r"(?<=\{)[{%#]")


def _script_json(obj: Any) -> str:
    """JSON safe to paste into a ``<script>`` block: UTF-8 kept, and ``< > & '`` plus
    U+2028/U+2029 as ``\\u`` escapes, so no ``</script>`` or ``<!--`` can appear.

    It never contains ``{{``, ``{%`` or ``{#`` either (branca compiles rendered
    scripts as Jinja again): JSON's own syntax never puts ``{``, ``%`` or ``#``
    right after a ``{``, so such a character is inside a string, where its ``\\u``
    escape means the same."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch in "<>&'\u2028\u2029":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return _JINJA_OPEN_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _escape_tree(obj: Any) -> Any:
    """A copy of a JSON-like tree with every string value (not key) escaped."""
    if isinstance(obj, str):
        return escape_text(obj)
    if isinstance(obj, Mapping):
        return {k: _escape_tree(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_escape_tree(v) for v in obj]
    return obj
