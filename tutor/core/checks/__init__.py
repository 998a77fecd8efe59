"""The check kinds of the lesson format, one module each; ``KINDS`` maps a YAML key to its kind.

Every module of this package (but ``base``) is imported here, so a new kind is one new
module: subclassing ``Check`` with a ``key`` registers it.
"""

from __future__ import annotations

import importlib
import pkgutil

from tutor.core.checks.base import KINDS, Check, LessonError, Outcome

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["KINDS", "Check", "LessonError", "Outcome"]
