"""The shared hostile-input corpus: one list of payloads for every output the tool has.

Every sink (an output kind that shows or writes text that came from a user or a data
file) is exercised with these payloads by ``tests/test_hostile.py``:

* HTML: every map layer, the embed page, ``/embed/map``, ``locator map``, the app's
  Embed view (and, in Chromium, ``tests/test_embed_browser.py``);
* Jinja: the same pages (branca compiles rendered output as a template again);
* JSON: the HTTP API and every CLI ``--json``;
* CSV/XLSX: ``gaps --csv``, ``assign -o`` (both engines), ``geocode-csv -o``, the app's downloads;
* terminals: every CLI table and message (rich markup, ANSI escapes).

**A new sink joins ``tests/test_hostile.py``** (and, if it is a new kind of output, a
new payload class here). Payloads are plain strings: nothing here runs them.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

# HTML / JavaScript: tags, attribute break-out, template literals, closing the script,
# backslash escapes (\u and \x1 are syntax errors inside a JS template literal).
XSS = [
    "<img src=x onerror=alert(1)>",
    "${alert(1)}",
    "`+alert(1)+`",
    "</script><script>alert(1)</script>",
    "C:\\users\\x1",
    '"><img src=x onerror=alert(1)>',
    "'-alert(3)-'",
    "<!--",
    "javascript:alert(1)",
]

#: The XSS payloads with a character that escaping must change (the rest, such as a
#: bare ``javascript:`` text, are harmless as text and only dangerous in an ``href``,
#: which is never built from data).
XSS_MARKUP = [p for p in XSS if any(c in p for c in "<>\"'`$\\")]

#: Where the template RCE payload would leave its mark if it ever ran.
CANARY = Path("/tmp/locator-template-injection-canary")

# Jinja: evaluation, unbalanced delimiters (a 500 once), statements, comments, and code
# execution through lipsum's globals. Each evaluates to a string that appears nowhere
# else ("LOCPWN", "LOC0LOC1..."): finding one in an output means a template ran.
TEMPLATE = [
    "{{7*7}}",
    "{{ 'LOC' ~ 'PWN' }}",
    "{{",
    "}}",
    "{% for x in range(3) %}LOC{{ x }}{% endfor %}",
    "{%",
    "{#",
    "{# comment #}",
    f"{{{{ lipsum.__globals__['os'].popen('touch {CANARY}').read() }}}}",
    "{{ self.__init__.__globals__.__builtins__ }}",
]
EVALUATED = ["LOCPWN", "LOC0LOC1", "<built-in function"]

# Spreadsheets: formula prefixes, and a CR or LF *inside* a cell followed by a formula.
FORMULA = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    "ok\r=cmd|' /C calc'!A0",
    "ok\n=cmd|' /C calc'!A0",
    "ok\r\n@SUM(1)",
    '=HYPERLINK("https://evil.example","click")',
]

# Terminals: rich markup (crashed with MarkupError, or hid a link), ANSI escapes.
TERMINAL = [
    "ACME [/bold]",
    "[link=https://evil.example]x[/link]",
    "[bold red]loud[/]",
    "\x1b[31mred\x1b[0m",
    "\x1b]0;pwned\x07",
    ":thumbs_up:",
]

# Odd text: very long, NUL, right-to-left override, zero-width, lone surrogate.
ODD = [
    "A" * 10_000,
    "nul\x00byte",
    "rtl \u202eevil\u202c text",
    "zero\u200bwidth",
    "line\u2028sep",
    "lone \ud800 surrogate",
]

ALL: list[str] = XSS + TEMPLATE + FORMULA + TERMINAL + ODD

#: Characters that must never reach a terminal raw.
TERMINAL_CONTROLS = ["\x1b", "\x07", "\u202e", "\x00"]

#: Cell prefixes a spreadsheet treats as the start of a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def encodable(text: str) -> str:
    """``text`` as it can exist in a UTF-8 file (a lone surrogate cannot)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def hostile_outlets(payloads: list[str] | None = None) -> pd.DataFrame:
    """A valid network with one payload per outlet, in every text field.

    Outlets sit around Hangzhou (one city, so a search there returns them), every one
    authorized, so each payload reaches every output that shows outlets. A lone
    surrogate becomes ``?``: no pandas string column (nor a UTF-8 file) can hold one;
    queries and the GeoJSON loader get it raw.
    """
    payloads = list(ALL if payloads is None else payloads)
    rows = []
    for i, p in enumerate(payloads):
        p = encodable(p)
        angle = 2 * math.pi * i / max(1, len(payloads))
        rows.append(
            {
                "outlet_id": f"H{i:03d}",
                "name": f"ACME {p}",
                "kind": "service_center" if i % 2 else "repair_point",
                "province": "浙江省",
                "city": "杭州市",
                "district": p[:40],
                "address": p,
                "phone": f"000-555-{i:04d}",
                "hours": p[:60],
                "categories": "washer;refrigerator",
                "authorized": True,
                "lat": round(30.27 + 0.05 * math.sin(angle), 6),
                "lon": round(120.15 + 0.05 * math.cos(angle), 6),
            }
        )
    return pd.DataFrame(rows)


def assert_not_evaluated(text: str) -> None:
    """No template in ``text`` was evaluated, and the RCE payload left no mark."""
    for marker in EVALUATED:
        assert marker not in text, f"a template ran: {marker!r}"
    assert not CANARY.exists(), "the template payload ran a shell command"


def assert_terminal_safe(text: str) -> None:
    """No control character reached the terminal raw."""
    for ch in TERMINAL_CONTROLS:
        assert ch not in text, f"raw control character {ch!r} in terminal output"


def assert_csv_cells_safe(cells: list[str]) -> None:
    """No cell, and no line inside a cell, starts a spreadsheet formula."""
    for cell in cells:
        for line in cell.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            assert not line.startswith(FORMULA_PREFIXES) or _plain_number(line), (
                f"formula-like line in a CSV cell: {line!r} (cell {cell!r})"
            )


def _plain_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
