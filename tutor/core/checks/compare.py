"""``compare``: a learner variable equals the same variable of the reference solution."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from tutor.core.checks.base import Check, Outcome, value_id, value_probe
from tutor.core.feedback import Finding, difference
from tutor.core.fields import Atol, Axes, ExactTypes, ExtraKeys, Name, Rtol
from tutor.core.runs import AnyProbe


class Compare(Check, frozen=True, kw_only=True):
    """The learner's variable equals the reference solution's: type, shape, dtype, device,
    then values (NaN and inf first). Also Python scalars, strings, lists, tuples and dicts."""

    key: ClassVar[str] = "compare"
    summary: ClassVar[str] = "the learner's variable equals the reference's"
    example: ClassVar[str] = "compare: t\naxes: [B, C, H, W]"

    var: Name = msgspec.field(name="compare")
    rtol: Rtol = 1e-5
    atol: Atol = 1e-8
    axes: Axes = ()
    exact_types: ExactTypes = False
    extra_keys: ExtraKeys = False

    def default_title(self) -> str:
        return f"`{self.var}` matches the expected value"

    def probes(self, index: int) -> list[AnyProbe]:
        return [value_probe(self.var)]

    def needs_reference(self) -> bool:
        return True

    def reads(self) -> tuple[str, ...]:
        return (self.var,)

    def judge(self, index: int, outcome: Outcome) -> Finding | None:
        what = f"`{self.var}`"
        expected = outcome.theirs(value_id(self.var), what)
        return difference(outcome.mine(value_id(self.var)), expected, rtol=self.rtol,
                          atol=self.atol, axes=self.axes, what=what, clues=outcome.clues,
                          exact_types=self.exact_types, extra_keys=self.extra_keys)
