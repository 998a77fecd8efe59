"""``lessons validate --mutants`` and ``--solutions``: wrong variants of a solution must fail
the step's checks, and every program's real feedback is shown to the author."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from conftest import FIXTURE_COURSE
from test_cli import tutor

from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.loader import load_course
from tutor.core.mutants import MAX_MUTANTS
from tutor.core.runs import RunRequest
from tutor.core.validate import course_score, validate_steps

COURSE = load_course(FIXTURE_COURSE)
WEAK = {"line 2: ones -> zeros", "line 3: sum -> mean"}  # modules.grad checks grad's shape only
EQUIVALENTS = """    equivalent_mutants:
      - mutant: "line 2: ones -> zeros"
        reason: any values do
      - mutant: "line 3: sum -> mean"
        reason: only the gradient's shape is asked for
"""


def step(step_id: str, **changes: object) -> m.CodeStep:
    found = COURSE.step(step_id)
    assert isinstance(found, m.CodeStep)
    return msgspec.structs.replace(found, **changes)


class Counting:
    """Wraps a runner and records every run it starts."""

    def __init__(self, inner):
        self.inner, self.requests = inner, []

    def start(self, request: RunRequest, on_output=None):
        self.requests.append(request)
        return self.inner.start(request, on_output)

    def mutant_runs(self, step_id: str) -> list[RunRequest]:
        return [r for r in self.requests if r.filename == f"<{step_id} mutant>"]


def mutate(runner, *steps: m.CodeStep):
    counting = Counting(runner)
    reports = validate_steps(steps, Checker(counting), workers=2, mutate=True)
    return reports, counting


@pytest.mark.slow
def test_weak_checks_let_mutants_survive_and_fail_the_step(warm_runner) -> None:
    (report,), _ = mutate(warm_runner, step("modules.grad"))
    mutation = report.mutation
    assert mutation is not None and not report.ok
    assert all(a.ok for a in report.attempts), "only the mutants fail it"
    assert {r.mutant.id for r in mutation.survivors} == WEAK
    assert (mutation.count("killed"), mutation.count("survived")) == (5, 2)
    assert mutation.score == pytest.approx(5 / 7)
    survivor = next(r for r in mutation.survivors if r.mutant.line == 2)
    assert survivor.mutant.after == "w = torch.zeros(3, requires_grad=True)"
    killed = [r for r in mutation.results if r.status == "killed"]
    assert all(r.feedback for r in killed), "each kill says what rejected it"


@pytest.mark.slow
def test_listed_equivalents_pass_are_not_run_and_stale_ones_are_reported(warm_runner) -> None:
    listed = tuple(m.EquivalentMutant(mutant=i, reason="correct too") for i in sorted(WEAK))
    fixed = step("modules.grad", equivalent_mutants=listed)
    stale = step("basics.call", equivalent_mutants=(
        m.EquivalentMutant(mutant="line 2: dim=1 -> dim=2", reason="was true once"),))
    (ok, old), counting = mutate(warm_runner, fixed, stale)
    assert ok.ok and ok.mutation is not None
    assert (ok.mutation.count("killed"), ok.mutation.count("equivalent")) == (5, 2)
    assert ok.mutation.score == 1.0
    assert {r.reason for r in ok.mutation.results if r.status == "equivalent"} == {"correct too"}
    assert len(counting.mutant_runs("modules.grad")) == 5, "equivalents are not run"
    assert not old.ok and old.mutation is not None
    assert old.mutation.stale == ["line 2: dim=1 -> dim=2"]
    assert old.mutation.count("killed") == 5 and not old.mutation.survivors
    score = course_score([ok, old])
    assert (score.killed, score.survived, score.equivalent, score.steps) == (10, 0, 2, 2)
    assert score.score == 1.0


@pytest.mark.slow
def test_a_steps_mutants_share_one_fixed_seed_and_one_reference_run(warm_runner) -> None:
    (report,), counting = mutate(warm_runner, step("basics.call"))
    assert report.ok and report.mutation is not None and report.mutation.count("killed") == 5
    seeds = {r.seed for r in counting.mutant_runs("basics.call")}
    assert len(seeds) == 1 and len(counting.mutant_runs("basics.call")) == 5
    references = [r for r in counting.requests if r.role == "reference" and r.seed in seeds]
    assert len(references) == 1
    _, again = mutate(warm_runner, step("basics.call"))
    assert {r.seed for r in again.mutant_runs("basics.call")} == seeds, "reproducible"


@pytest.mark.slow
def test_no_mutants_run_when_the_solution_fails(warm_runner) -> None:
    looping = "def row_sums(x):\n    for row in x:\n        pass\n    return x.sum(dim=1)\n"
    (report,), counting = mutate(warm_runner, step("basics.call", solution=looping))
    assert not report.attempts[0].ok, "the step forbids loops"
    assert report.mutation is not None and report.mutation.results == []
    assert report.mutation.note == "not run: the solution itself does not pass"
    assert counting.mutant_runs("basics.call") == []


def test_equivalent_mutants_are_declared_fields(course_copy: Path) -> None:
    path = course_copy / "modules.yaml"
    text = path.read_text()
    path.write_text(text.replace("    title: A gradient\n", "    title: A gradient\n"
                                 + EQUIVALENTS.replace("reason: any", "why: any")))
    problems = [p.message for p in load_course(course_copy).problems]
    assert any("unknown field 'why'" in p for p in problems), problems
    path.write_text(text.replace("    title: A gradient\n", "    title: A gradient\n" + EQUIVALENTS))
    grad = load_course(course_copy).step("modules.grad")
    assert isinstance(grad, m.CodeStep)
    assert [e.mutant for e in grad.equivalent_mutants] == sorted(WEAK)


@pytest.mark.slow
def test_the_cli_reports_survivors_scores_and_stale_equivalents(tmp_path: Path,
                                                                course_copy: Path) -> None:
    home = tmp_path / "home"
    args = ("lessons", "validate", str(course_copy), "--mutants", "--step", "modules.grad")
    weak = tutor(home, *args)
    assert weak.returncode == 1, weak.stdout + weak.stderr
    assert "survived line 2: ones -> zeros" in weak.stdout
    assert "- w = torch.ones(3, requires_grad=True)" in weak.stdout
    assert "+ w = torch.zeros(3, requires_grad=True)" in weak.stdout
    assert "mutants: 5 of 7 killed, 0 equivalent: 71%" in weak.stdout
    assert "mutation score 71%: 5 killed, 2 survived, 0 equivalent over 1 steps" in weak.stdout

    path = course_copy / "modules.yaml"
    text = path.read_text().replace("    title: A gradient\n", "    title: A gradient\n"
                                    + EQUIVALENTS)
    path.write_text(text)
    fixed = tutor(home, *args, "--json")
    assert fixed.returncode == 0, fixed.stdout
    report = json.loads(fixed.stdout)
    assert report["ok"] is True and isinstance(report["duration_s"], float)
    assert report["mutation"] == {"score": 1.0, "killed": 5, "survived": 0, "equivalent": 2,
                                  "steps": 1, "cap_per_step": MAX_MUTANTS}
    (grad,) = report["reports"]
    mutants = grad["mutants"]
    assert {k: mutants[k] for k in ("score", "generated", "run", "killed", "survived",
                                    "equivalent", "left_out", "stale_equivalents")} == {
        "score": 1.0, "generated": 7, "run": 5, "killed": 5, "survived": 0, "equivalent": 2,
        "left_out": 0, "stale_equivalents": []}
    equivalent = next(r for r in mutants["results"] if r["id"] == "line 2: ones -> zeros")
    assert equivalent == {"id": "line 2: ones -> zeros", "operator": "rename", "line": 2,
                          "before": "w = torch.ones(3, requires_grad=True)",
                          "after": "w = torch.zeros(3, requires_grad=True)",
                          "status": "equivalent", "reason": "any values do", "feedback": "",
                          "duration_s": 0.0}
    assert {r["status"] for r in mutants["results"]} == {"killed", "equivalent"}

    path.write_text(text.replace('"line 3: sum -> mean"', '"line 3: sum -> prod"'))
    stale = tutor(home, *args)
    assert stale.returncode == 1
    assert "stale equivalent_mutants lists 'line 3: sum -> prod'" in stale.stdout
    assert "survived line 3: sum -> mean" in stale.stdout


@pytest.mark.slow
def test_solutions_show_the_real_feedback_of_every_program(tmp_path: Path) -> None:
    args = ("lessons", "validate", str(FIXTURE_COURSE), "--solutions", "--step", "basics.call")
    text = tutor(tmp_path / "home", *args, env={"COLUMNS": "60"})
    assert text.returncode == 0, text.stdout
    lines = text.stdout.splitlines()
    reject = lines.index("    rejects[0]: failed")
    below = lines[reject + 1:reject + 4]
    assert below and all(line.startswith("        ") and len(line) <= 60 for line in below)
    assert "axis" in " ".join(below)
    assert "    accepts[0]: passed" in lines and "    starter: failed" in lines
    report = json.loads(tutor(tmp_path / "home", *args, "--json").stdout)
    attempts = {a["label"]: a for a in report["reports"][0]["attempts"]}
    assert attempts["rejects[0]"]["passed"] is False and "axis" in attempts["rejects[0]"]["feedback"]
    assert attempts["solution"] == {**attempts["solution"], "passed": True, "feedback": "",
                                    "ok": True}
    assert attempts["starter"]["feedback"] and report["reports"][0]["mutants"] is None
