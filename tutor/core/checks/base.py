"""What every check kind declares, and what judging hands it.

A check kind is one Struct subclass of ``Check`` in its own module of this package: its YAML
fields (types, defaults, schema), its rules (``__post_init__``), the probes it asks the worker
for, how it judges what came back, and its messages. Subclassing registers it under ``key``,
the YAML key that selects it (``compare: t``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from msgspec import Meta

from tutor.core.declare import Declared, FieldError, Path, convert
from tutor.core.feedback import NO_CLUES, Clues, Finding, Mode
from tutor.core.runs import AnyProbe, Metric, ValueProbe
from tutor.core.values import MISSING, Raised

KINDS: dict[str, type[Check]] = {}  # YAML key -> kind, filled as the kind modules load


class LessonError(Exception):
    """A mistake in the lesson (its reference solution or its checks), not the learner's."""


class Advice(Declared, frozen=True, kw_only=True):
    """Advice for one way a check can fail: shown only when the check failed that way."""

    when: Annotated[Mode | Literal["any"], Meta(
        description="the failure mode: missing, placeholder, raises, type, length, keys, "
                    "shape, dtype, device, grad, values, inputs, params, layers, output, "
                    "printed, source, measure, or any")]
    error: Annotated[str, Meta(
        description="with `when: raises`, only for this exception type (e.g. TypeError)")] = ""
    say: Annotated[str, Meta(description="the advice")]

    def __post_init__(self) -> None:
        if self.error and self.when != "raises":
            raise FieldError("error", "error names an exception type: use it with when: raises")

    def applies(self, finding: Finding) -> bool:
        if self.when == "any":
            return True
        return self.when == finding.mode and (not self.error or self.error == finding.error)


class Check(Declared, frozen=True, kw_only=True):
    """Every check may have a ``name`` (its title), and advice for the ways it can fail."""

    name: Annotated[str, Meta(description="the title shown for this check")] = ""
    message: Annotated[str, Meta(
        description="advice shown whenever the check fails; prefer `advice`, which is shown "
                    "only for the failure it is written for")] = ""
    advice: Annotated[tuple[Advice, ...], Meta(
        description="advice per failure mode: [{when: values, say: ...}]")] = ()

    key: ClassVar[str] = ""  # the YAML key that selects this kind
    summary: ClassVar[str] = ""  # when it passes, for the reference in the docs
    example: ClassVar[str] = ""  # one line of YAML, for the reference in the docs

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.key:
            KINDS[cls.key] = cls

    @classmethod
    def from_raw(cls, raw: dict[str, Any], path: Path) -> Check:
        """Build from YAML data; kinds with fields msgspec cannot decode override this."""
        article = "an" if cls.key[:1] in "aeiou" else "a"
        return convert(raw, cls, path, what=f"{article} {cls.key} check")

    @classmethod
    def json_schema(cls, generated: dict[str, Any]) -> dict[str, Any]:
        """This kind's JSON Schema, from the one msgspec generated for its fields; kinds whose
        YAML differs from their fields' types adjust it here."""
        return generated

    @classmethod
    def schema_defs(cls) -> dict[str, Any]:
        """Definitions this kind's schema refers to (``#/$defs/<name>``)."""
        return {}

    # ------------------------------------------------------------------ what it needs
    def title(self) -> str:
        return self.name or self.default_title()

    def default_title(self) -> str:
        return self.key

    def probes(self, index: int) -> Sequence[AnyProbe]:
        """What the worker brings back after the code (the same for learner and reference)."""
        return []

    def metrics(self, index: int) -> Sequence[Metric]:
        """Expressions a judge run evaluates on the learner's values."""
        return []

    def needs_reference(self) -> bool:
        """Whether judging compares with (or is done by) a run of the reference solution."""
        return False

    def reads(self) -> tuple[str, ...]:
        """The learner's variables this check reads, as far as it says (placeholders)."""
        return ()

    # ------------------------------------------------------------------ judging
    def judge(self, index: int, outcome: Outcome) -> Finding | None:
        """What is wrong, in words a beginner can act on; None when the check passes."""
        raise NotImplementedError

    def advice_for(self, finding: Finding) -> list[str]:
        """The author's advice that belongs to this failure."""
        said = [self.message] if self.message else []
        return said + [a.say for a in self.advice if a.applies(finding)]

    def achieved(self, index: int, outcome: Outcome) -> str:
        """A figure to show on a pass (the learner's accuracy, say), or ""."""
        return ""


# --------------------------------------------------------------------------- probes


def value_id(name: str) -> str:
    return f"value:{name}"


def value_probe(name: str) -> ValueProbe:
    return ValueProbe(id=value_id(name), name=name)


def state_probe(name: str) -> ValueProbe:
    """A learner value a judge rebuilds (a module with its weights)."""
    return ValueProbe(id=f"state:{name}", name=name, with_state=True)


# --------------------------------------------------------------------------- judging


@dataclass(frozen=True)
class Outcome:
    """What one attempt produced, as the checks read it: the probes' values by id."""

    learner: Mapping[str, Any]
    reference: Mapping[str, Any] | None
    metrics: Mapping[str, Any]
    stdout: str
    source: str
    device: str
    reference_stdout: str = ""  # what the reference printed (a ``prints`` check compares)
    clues: Clues = field(default=NO_CLUES, compare=False)  # set from source and device

    def __post_init__(self) -> None:
        if self.clues is NO_CLUES:
            object.__setattr__(self, "clues", Clues(self.source, self.device))

    def mine(self, probe_id: str) -> Any:
        return self.learner.get(probe_id, MISSING)

    def value(self, name: str) -> Any:
        """The learner's value of ``name`` as any probe saw it (MISSING if none did)."""
        found = self.mine(value_id(name))
        return self.mine(state_probe(name).id) if found is MISSING else found

    def theirs(self, probe_id: str, what: str) -> Any:
        """The reference's value; a missing or failed one is the lesson's fault."""
        if self.reference is None:
            raise LessonError("this check needs the reference solution, which did not run")
        value = self.reference.get(probe_id, MISSING)
        if value is MISSING:
            raise LessonError(f"the reference solution does not define {what}")
        if isinstance(value, Raised):
            raise LessonError(f"the reference solution failed on {what}:\n{value.error.format()}")
        return value
