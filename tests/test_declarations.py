"""Authoring errors of the lesson format: each found when the course loads, reported as
``file:line:column: message`` in words an author can act on; and the JSON Schema generated
from the same declarations accepts and refuses what the loader does."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURE_COURSE
from jsonschema import Draft202012Validator

from tutor.core.checks.compare import Compare
from tutor.core.declare import DeclError, Issue, convert, describe_path, suggest
from tutor.core.loader import CourseError, build_check, load_course, problems_of
from tutor.core.model import CodeStep
from tutor.core.schema import full_schema

REPO = Path(__file__).resolve().parent.parent
STEP = """\
id: modules
title: Modules
steps:
  - id: m.one
    title: One
    starter: "x = 1"
    solution: "x = 2"
"""  # the step's fields start at column 5; a step's next line is line 8


def problems(course: Path, text: str) -> list[str]:
    """Every problem of the course once ``modules.yaml`` holds ``text``, as printed."""
    path = course / "modules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return [str(p).removeprefix(f"{path}:") for p in problems_of(course)]


def checks(course: Path, body: str) -> list[tuple[int, str, str]]:
    """The problems of one step whose checks are ``body`` (YAML under ``checks:``, from line
    9), each as its line, the text from its column to the end of that line, and its message."""
    path = course / "modules.yaml"
    text = STEP + "    checks:\n" + textwrap.indent(textwrap.dedent(body), "      ")
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    found = []
    for problem in problems_of(course):
        assert problem.where.file == str(path)
        line, column = problem.where.line, problem.where.column
        found.append((line, lines[line - 1][column - 1:], problem.message))
    return found


# --------------------------------------------------------------------------- step fields


def test_an_unknown_step_field_suggests_the_close_one_at_its_key(course_copy: Path) -> None:
    found = problems(course_copy, STEP + "    soluton: x\n    checks:\n      - compare: x\n")
    assert found == ["8:5: unknown field 'soluton' in step 'm.one': did you mean 'solution'?"]


def test_several_unknown_fields_in_one_step_are_reported_at_once(course_copy: Path) -> None:
    found = problems(course_copy, STEP + "    hintz: []\n    expalnation: y\n    colour: red\n"
                                         "    checks:\n      - compare: x\n")
    assert found == [
        "8:5: unknown field 'hintz' in step 'm.one': did you mean 'hints'?",
        "9:5: unknown field 'expalnation' in step 'm.one': did you mean 'explanation'?",
        "10:5: unknown field 'colour' in step 'm.one' (allowed: accepts, checks, data, "
        "equivalent_mutants, explanation, figure, hints, id, kind, rejects, requires, setup, solution, "
        "starter, timeout, title)",
    ]


def test_problems_in_several_steps_and_checks_are_all_reported(course_copy: Path) -> None:
    found = problems(course_copy, STEP + """\
    checks:
      - compare: x
        rtl: 0.1
      - expect: x
        shape: [-1]
  - id: m.two
    kind: quiz
    title: Two
    question: Which?
    choices: [a, b]
    answer: 0
    awnser: 1
""")
    assert found == [
        "10:9: unknown field 'rtl' in a compare check: did you mean 'rtol'?",
        "12:17: checks[1].shape[0] must be a whole number >= 0",
        "19:5: unknown field 'awnser' in step 'm.two': did you mean 'answer'?",
    ]


def test_fields_the_loader_fills_in_cannot_be_written(course_copy: Path) -> None:
    found = problems(course_copy, STEP + "    lesson_id: other\n    checks:\n      - compare: x\n")
    assert len(found) == 1
    assert found[0].startswith("8:5: unknown field 'lesson_id' in step 'm.one' (allowed: ")


def test_a_step_value_outside_a_fixed_set_lists_the_choices(course_copy: Path) -> None:
    found = problems(course_copy, STEP + "    requires: gpu\n    checks:\n      - compare: x\n")
    assert found == ["8:15: requires cannot be 'gpu' (allowed: any, cuda)"]


def test_a_course_file_of_another_format_version_is_refused(course_copy: Path) -> None:
    course = course_copy / "course.yaml"
    course.write_text(course.read_text().replace("format: 1", "format: 2"))
    with pytest.raises(CourseError) as caught:
        load_course(course_copy)
    assert [str(p) for p in caught.value.problems] == [
        f"{course}:1:9: format cannot be 2 (allowed: 1)"]


# --------------------------------------------------------------------------- check fields


def test_wrong_types_are_named_in_plain_words(course_copy: Path) -> None:
    assert checks(course_copy, "- compare: x\n  rtol: -1\n") == [
        (10, "-1", "checks[0].rtol must be a number >= 0.0")]
    assert checks(course_copy, "- compare: x\n  rtol: abc\n") == [
        (10, "abc", "checks[0].rtol must be a number, not a text")]
    assert checks(course_copy, "- metric: acc\n  min: high\n") == [
        (10, "high", "checks[0].min must be a number or null, not a text")]
    assert checks(course_copy, "- stdout_contains: 3\n") == [
        (9, "3", "checks[0].stdout_contains must be a text, not a whole number")]
    assert checks(course_copy, "- metric: acc\n  learner: model\n") == [
        (10, "model", "checks[0].learner must be a list, not a text")]


def test_a_value_outside_a_fixed_set_suggests_the_close_one(course_copy: Path) -> None:
    assert checks(course_copy, "- expect: x\n  dtype: float33\n") == [
        (10, "float33", "checks[0].dtype cannot be 'float33': did you mean 'float32'?")]


def test_an_unknown_check_kind_is_named_with_a_suggestion(course_copy: Path) -> None:
    assert checks(course_copy, "- comapre: x\n") == [
        (9, "comapre: x", "unknown check kind 'comapre' in checks[0]: did you mean 'compare'?")]
    assert checks(course_copy, "- compare: x\n- stdout_contain: hi\n") == [
        (10, "stdout_contain: hi", "unknown check kind 'stdout_contain' in checks[1]: did you "
                                   "mean 'stdout_contains'?")]


def test_a_check_without_a_kind_or_with_two(course_copy: Path) -> None:
    assert checks(course_copy, "- name: hi\n") == [
        (9, "name: hi", "checks[0] names no check kind: use one of call, compare, expect, "
                        "metric, module, prints, source, stdout_contains, stdout_matches")]
    assert checks(course_copy, "- compare: x\n  expect: x\n") == [
        (9, "compare: x", "a check has one kind, this one has 2: compare, expect")]
    assert checks(course_copy, "- x\n") == [
        (9, "x", "a check must be a mapping such as `compare: x`")]


def test_an_unknown_field_inside_a_check_is_found_at_any_depth(course_copy: Path) -> None:
    assert checks(course_copy, "- source: {usez: [stack]}\n") == [
        (9, "usez: [stack]}", "unknown field 'usez' in checks[0].source: did you mean 'uses'?")]
    assert checks(course_copy, "- call: f\n  args: [{tensor: {shpe: [3]}}]\n") == [
        (10, "shpe: [3]}}]", "unknown field 'shpe' in a generated tensor: did you mean "
                             "'shape'?")]
    assert checks(course_copy, "- expect: x\n  typ: int\n") == [
        (10, "typ: int", "unknown field 'typ' in an expect check: did you mean 'type'?")]


def test_a_bad_regex_is_reported_when_the_course_loads(course_copy: Path) -> None:
    assert checks(course_copy, "- stdout_matches: '(('\n") == [
        (9, "'(('", "checks[0].stdout_matches: /((/ is not a valid regular expression: "
                    "missing ), unterminated subpattern at position 1")]
    assert checks(course_copy, "- stdout_matches: '^loss \\d+$'\n") == []


def test_expressions_are_parsed_when_the_course_loads(course_copy: Path) -> None:
    assert checks(course_copy, "- metric: 'x >'\n") == [
        (9, "'x >'", "checks[0].metric: expression 'x >' does not parse: invalid syntax")]
    assert checks(course_copy, "- call: f\n  args: [{expr: 'x +'}]\n") == [
        (10, "'x +'}]", "checks[0].args[0].expr: expression 'x +' does not parse: invalid "
                        "syntax")]
    assert checks(course_copy, "- call: f\n  kwargs: {dim: {expr: '1 +'}}\n") == [
        (10, "'1 +'}}", "checks[0].kwargs.dim.expr: expression '1 +' does not parse: invalid "
                        "syntax")]
    assert checks(course_copy, "- call: f\n  args: [{expr: 1}]\n") == [
        (10, "1}]", "checks[0].args[0].expr must be a Python expression (a text), and `as` "
                    "a text")]
    assert checks(course_copy, "- metric: 'acc(model) > 0.5'\n  learner: [model]\n") == []


def test_an_argument_in_no_known_form_is_refused(course_copy: Path) -> None:
    assert checks(course_copy, "- call: f\n  args: [{tensr: {shape: [3]}}]\n") == [
        (10, "{tensr: {shape: [3]}}]", "checks[0].args[0]: an argument is {tensor: {shape: "
                                       "[...]}}, {expr: ..., as: ...}, {value: ...}, {choose: "
                                       "[...]} or a plain value (found the keys: tensr)")]
    assert checks(course_copy, "- call: f\n  args: {a: 1}\n") == [
        (10, "{a: 1}", "checks[0].args must be a list of arguments")]


def test_expect_properties_must_fit_its_type(course_copy: Path) -> None:
    assert checks(course_copy, "- expect: x\n  type: int\n  shape: [2]\n") == [
        (11, "[2]", "checks[0].shape: shape applies to tensors, but type is int")]
    assert checks(course_copy, "- expect: x\n  type: str\n  requires_grad: true\n") == [
        (11, "true", "checks[0].requires_grad: requires_grad applies to tensors, but type is "
                     "str")]
    assert checks(course_copy, "- expect: x\n  type: tensor\n  shape: [2]\n") == []


def test_an_expected_value_must_fit_the_type(course_copy: Path) -> None:
    assert checks(course_copy, "- expect: x\n  type: int\n  value: hello\n") == [
        (11, "hello", "checks[0].value: value 'hello' is not an int")]
    assert checks(course_copy, "- expect: x\n  type: float\n  value: true\n") == [
        (11, "true", "checks[0].value: value True is not a float")]
    assert checks(course_copy, "- expect: x\n  shape: [2]\n  value: 1\n") == [
        (11, "1", "checks[0].value: value applies to numbers and strings, but shape is about "
                  "a tensor")]
    assert checks(course_copy, "- expect: x\n  type: float\n  value: 1\n") == []


def test_a_generated_tensor_too_large_for_a_check_is_refused(course_copy: Path) -> None:
    assert checks(course_copy, "- call: f\n  args: [{tensor: {shape: [100000, 100000]}}]\n") == [
        (10, "[100000, 100000]}}]", "checks[0].args[0].tensor.shape: a tensor of shape "
                                    "[100000, 100000] holds 38,147 MiB, more than a check can "
                                    "bring back (64 MiB)")]
    assert checks(course_copy, "- module: Net\n  input: [100000, 100000]\n") == [
        (10, "[100000, 100000]", "checks[0].input: an input of shape [100000, 100000] is "
                                 "larger than a check can hold")]
    assert checks(course_copy, "- call: f\n  args: [{tensor: {shape: [1000, 1000]}}]\n") == []


def test_a_negative_size_is_refused_at_its_place(course_copy: Path) -> None:
    assert checks(course_copy, "- call: f\n  args: [{tensor: {shape: [4, -1]}}]\n") == [
        (10, "-1]}}]", "checks[0].args[0].tensor.shape[1] must be a whole number >= 0")]
    assert checks(course_copy, "- expect: x\n  grad_shape: [-2]\n") == [
        (10, "-2]", "checks[0].grad_shape[0] must be a whole number >= 0")]
    assert checks(course_copy, "- module: Net\n  params: -5\n") == [
        (10, "-5", "checks[0].params must be a whole number >= 0")]


def test_module_output_needs_an_input(course_copy: Path) -> None:
    assert checks(course_copy, "- module: Net\n  output: [1, 2]\n") == [
        (10, "[1, 2]", "checks[0].output: checking the output needs an `input` shape (output)")]
    assert checks(course_copy, "- module: Net\n  same_as_reference: true\n") == [
        (10, "true", "checks[0].same_as_reference: checking the output needs an `input` shape "
                     "(same_as_reference)")]
    assert checks(course_copy, "- module: Net\n  input: [1, 4]\n  output: [1, 2]\n") == []


def test_made_from_names_the_variable_whose_rule_is_wrong(course_copy: Path) -> None:
    assert checks(course_copy, "- source: {made_from: {t: device}}\n") == [
        (9, "device}}", "checks[0].source.made_from.t must be a list, not a text")]
    assert checks(course_copy, "- source:\n    made_from: {'1t': [device]}\n") == [
        (10, "{'1t': [device]}", "each key of checks[0].source.made_from must be a Python "
                                 "variable name (letters, digits and _, not starting with a "
                                 "digit)")]


# --------------------------------------------------------------------------- the helpers


def test_convert_collects_every_unknown_field_with_its_path() -> None:
    with pytest.raises(DeclError) as caught:
        convert({"compare": "x", "rtl": 1, "axis": ["B"]}, Compare, ("checks", 2),
                what="a compare check")
    assert caught.value.issues == [
        Issue(("checks", 2, "rtl"), "unknown field 'rtl' in a compare check: did you mean "
                                    "'rtol'?", on_key=True),
        Issue(("checks", 2, "axis"), "unknown field 'axis' in a compare check: did you mean "
                                     "'axes'?", on_key=True),
    ]
    assert convert({"compare": "x", "atol": 0.5}, Compare) == Compare(var="x", atol=0.5)


def test_build_check_picks_the_kind_from_its_key() -> None:
    assert build_check({"compare": "t", "rtol": 0.01}) == Compare(var="t", rtol=0.01)
    with pytest.raises(DeclError) as caught:
        build_check({"comapre": "t"}, ("checks", 0))
    (issue,) = caught.value.issues
    assert issue.path == ("checks", 0, "comapre") and issue.on_key


def test_paths_and_suggestions_read_as_an_author_writes_them() -> None:
    assert describe_path(("checks", 2, "args", 0, "tensor", "shape", 1)) == (
        "checks[2].args[0].tensor.shape[1]")
    assert describe_path(()) == "the file"
    assert suggest("soluton", ["solution", "starter"]) == ": did you mean 'solution'?"
    assert suggest("zzz", ["b", "a"]) == " (allowed: a, b)"


def test_steps_are_frozen_declarations() -> None:
    step = CodeStep(id="s", title="S", starter="", solution="", checks=(Compare(var="x"),))
    assert step.kind == "code" and step.timeout_s == 20.0 and step.lesson_id == ""
    with pytest.raises(AttributeError):
        step.title = "T"  # type: ignore[misc]


# --------------------------------------------------------------------------- the schema


def lesson_files() -> list[Path]:
    paths = [*sorted((REPO / "lessons").glob("*.yaml")), *sorted(FIXTURE_COURSE.glob("*.yaml"))]
    return [path for path in paths if path.name != "course.yaml"]


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = full_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_errors(validator: Draft202012Validator, data: object) -> list[str]:
    return [error.message for error in validator.iter_errors(data)]


def test_the_course_has_lessons_for_the_schema_to_check() -> None:
    names = {path.name for path in lesson_files()}
    assert {"01-welcome.yaml", "basics.yaml", "modules.yaml"} <= names
    assert not load_course(REPO / "lessons").problems


@pytest.mark.parametrize("path", lesson_files(), ids=lambda path: path.name)
def test_the_schema_accepts_every_lesson(validator: Draft202012Validator, path: Path) -> None:
    assert schema_errors(validator, yaml.safe_load(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("root", [REPO / "lessons", FIXTURE_COURSE], ids=["lessons", "fixture"])
def test_the_schema_accepts_every_course_file(root: Path) -> None:
    schema = full_schema()
    course = Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/course"})
    data = yaml.safe_load((root / "course.yaml").read_text(encoding="utf-8"))
    assert schema_errors(course, data) == []
    assert schema_errors(course, {**data, "colour": "red"})
    assert schema_errors(course, {**data, "format": 2})


def test_the_schema_describes_the_lesson_format() -> None:
    schema = full_schema()
    assert schema["title"] == "pytorch-tutor lesson"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    code_step = schema["$defs"]["CodeStep"]
    assert {"lesson_id", "where"}.isdisjoint(code_step["properties"])
    assert {"id", "title", "starter", "solution", "checks"} <= set(code_step["required"])
    kinds = [next(iter(kind["properties"]))
             for kind in code_step["properties"]["checks"]["items"]["oneOf"]]
    assert kinds == ["call", "compare", "expect", "metric", "module", "prints", "source",
                     "stdout_contains", "stdout_matches"]


# Steps that both the loader and the schema refuse (the first is valid, for contrast).
BROKEN_STEPS = {
    "valid": ("checks: [{compare: x}]", False),
    "unknown step field": ("soluton: x\nchecks: [{compare: x}]", True),
    "unknown check kind": ("checks: [{comapre: x}]", True),
    "unknown check field": ("checks: [{compare: x, rtl: 1}]", True),
    "wrong type": ("timeout: fast\nchecks: [{compare: x}]", True),
    "wrong type in a check": ("checks: [{compare: x, rtol: abc}]", True),
    "negative tolerance": ("checks: [{compare: x, rtol: -1}]", True),
    "negative size": ("checks: [{expect: x, shape: [-1]}]", True),
    "dtype": ("checks: [{expect: x, dtype: float33}]", True),
    "not a name": ("checks: [{compare: 1x}]", True),
    "two kinds": ("checks: [{compare: x, expect: x}]", True),
    "no checks": ("checks: []", True),
    "argument form": ("checks: [{call: f, args: [{tensr: {shape: [3]}}]}]", True),
    "tensor field": ("checks: [{call: f, args: [{tensor: {shpe: [3]}}]}]", True),
    "plain arguments": ("checks: [{call: f, args: [1, a, [1], null], kwargs: {d: {expr: x}}}]",
                        False),
    "trials": ("checks: [{call: f, trials: 0}]", True),
    "made_from": ("checks: [{source: {made_from: {t: device}}}]", True),
    "rules field": ("checks: [{source: {usez: [a]}}]", True),
    "layer": ("checks: [{module: N, layers: [[a]]}]", True),
    "reject field": ("rejects: [{code: x = 1, feedbak: a}]\nchecks: [{compare: x}]", True),
    "internal field": ("where: here\nchecks: [{compare: x}]", True),
}


@pytest.mark.parametrize("name", BROKEN_STEPS)
def test_the_schema_and_the_loader_agree(validator: Draft202012Validator, course_copy: Path,
                                         name: str) -> None:
    extra, broken = BROKEN_STEPS[name]
    text = STEP + textwrap.indent(extra + "\n", "    ")
    assert bool(problems(course_copy, text)) is broken
    assert bool(schema_errors(validator, yaml.safe_load(text))) is broken


@pytest.mark.parametrize(("quiz", "broken"), [
    ("answer: [0, 1]", False), ("answer: 0\nawnser: 1", True), ("answer: -1", True),
    ("answer: []", True), ("answer: one", True),
])
def test_the_schema_and_the_loader_agree_on_quizzes(validator: Draft202012Validator,
                                                    course_copy: Path, quiz: str,
                                                    broken: bool) -> None:
    text = ("id: modules\ntitle: Modules\nsteps:\n  - id: q\n    kind: quiz\n    title: Q\n"
            "    question: Which?\n    choices: [a, b]\n" + textwrap.indent(quiz + "\n", "    "))
    assert bool(problems(course_copy, text)) is broken
    assert bool(schema_errors(validator, yaml.safe_load(text))) is broken


ONE_STEP = "steps:\n  - {id: s, title: S, starter: x, solution: x, checks: [{compare: x}]}\n"


@pytest.mark.parametrize(("text", "broken"), [
    ("id: modules\ntitle: M\n" + ONE_STEP, False),
    ("id: modules\ntitle: M\n", True),
    ("id: modules\ntitle: M\nsteps: []\n", True),
    ("id: modules\ntitle: M\nsumary: x\n" + ONE_STEP, True),
    ("title: M\n" + ONE_STEP, True),
    ("id: modules\ntitle: M\nsteps: 3\n", True),
    ("- a\n", True),
], ids=["valid", "no steps", "empty steps", "unknown field", "no id", "steps not a list",
        "not a mapping"])
def test_the_schema_and_the_loader_agree_on_lesson_files(validator: Draft202012Validator,
                                                         course_copy: Path, text: str,
                                                         broken: bool) -> None:
    assert bool(problems(course_copy, text)) is broken
    assert bool(schema_errors(validator, yaml.safe_load(text))) is broken


def test_metric_bounds_that_no_value_can_meet_are_refused() -> None:
    with pytest.raises(DeclError, match="min 0.9 is above max 0.5"):
        build_check({"metric": "acc", "min": 0.9, "max": 0.5})


def test_expect_axes_without_a_shape_are_refused() -> None:
    with pytest.raises(DeclError, match="axes names the axes of `shape`, which is missing"):
        build_check({"expect": "t", "axes": ["B", "C"]})
