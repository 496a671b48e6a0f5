"""Deprecated alias of :mod:`locator.outputs` (safe output: checked paths, atomic writes,
spreadsheet-safe CSV). ``locator.io`` read like the standard library's ``io``; import
:mod:`locator.outputs` instead. This module *is* that module (same object), so old
imports, attribute reads and monkeypatches keep working.
"""

from __future__ import annotations

import sys
import warnings

from . import outputs
from .outputs import *  # noqa: F403  (what mypy and readers see; at run time the alias below)

warnings.warn(
    "locator.io is deprecated; import locator.outputs instead",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = outputs
