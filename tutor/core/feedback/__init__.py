"""Feedback: say what is wrong with the learner's values, and the fix, having checked it.

``difference`` compares a learner's value with the expected one and returns a ``Finding``
(the words and the failure mode they belong to); ``shapes``, ``relations`` and ``dtypes``
name fixes only when they are proven on the values or the learner's source; ``words`` holds
how values read.
"""

from tutor.core.feedback.difference import (
    INF_CAUSES,
    NAN_CAUSES,
    conversion_hint,
    describe_difference,
    difference,
    join_hint,
    unusable,
    wrong_type,
)
from tutor.core.feedback.dtypes import device_problem, devices_match, dtype_problem
from tutor.core.feedback.findings import MODES, NO_CLUES, Clues, Finding, Mode
from tutor.core.feedback.relations import ORDER_HINT
from tutor.core.feedback.shapes import BROADCAST, fewer_items, shape_problem
from tutor.core.feedback.words import (
    article,
    clip,
    describe,
    describe_kind,
    format_number,
    format_shape,
    join_words,
    small_value,
    type_name,
)

__all__ = [
    "BROADCAST", "INF_CAUSES", "MODES", "NAN_CAUSES", "NO_CLUES", "ORDER_HINT", "Clues",
    "Finding", "Mode", "article", "clip", "conversion_hint", "describe", "describe_difference",
    "describe_kind", "device_problem", "devices_match", "difference", "dtype_problem", "fewer_items",
    "format_number", "join_hint", "format_shape", "join_words", "shape_problem", "small_value", "type_name",
    "unusable",
    "wrong_type",
]
