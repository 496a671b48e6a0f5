"""Driving app.py with streamlit.testing: start it in a language, open a view.

Only the open view runs (``st.tabs(on_change="rerun")``); a view is opened the way the
browser does it, by setting the tabs' value (``"view"``) to that view's label.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from locator.labels import message

APP = str(Path(__file__).resolve().parent.parent / "app.py")
VIEWS = {
    "find": "tab.find",
    "coverage": "tab.coverage",
    "data": "tab.data",
    "embed": "tab.embed",
    "load": "tab.load",
}


def start(lang: str | None = "en", view: str | None = None, timeout: float = 180) -> AppTest:
    """The app after its first run, in ``lang`` (``None``: its default), on ``view``."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    if lang is not None:
        at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if view is not None:
        open_view(at, view)
    return at


def open_view(at: AppTest, view: str) -> AppTest:
    """Open ``view`` (find, coverage, data, embed, load) and run."""
    at.session_state["view"] = message(VIEWS[view], at.session_state["lang"])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
