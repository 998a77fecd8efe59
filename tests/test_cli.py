"""The command line end to end, as a new user meets it: the real entry point in a
subprocess, a throwaway home, the fixture course."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE

SOLUTION = "import torch\nt = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n"


def tutor(home: Path, *args: str, course: Path = FIXTURE_COURSE, stdin: str = "",
          env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTORCH_TUTOR")}
    environ.update(PYTORCH_TUTOR_HOME=str(home), XDG_DATA_HOME=str(home / "xdg"), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "tutor.cli.main", "--lessons", str(course), "--device", "cpu",
         *args],
        capture_output=True, text=True, env=environ, input=stdin, timeout=120,
    )


def as_json(done: subprocess.CompletedProcess):
    assert done.stderr.strip() == "" or "warning" in done.stderr, done.stderr
    return json.loads(done.stdout)


def statuses(home: Path) -> dict[str, str]:
    return {s["id"]: s["status"] for s in as_json(tutor(home, "list", "--json"))}


@pytest.mark.slow
def test_a_new_learners_first_step(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = statuses(home)
    assert first["basics.compare"] == "available" and first["basics.call"] == "locked"
    shown = as_json(tutor(home, "show", "--json"))
    assert shown["id"] == "basics.compare" and shown["kind"] == "code"
    path = Path(shown["file"])
    assert path.read_text() == "import torch\nt = ...\n"

    failed = tutor(home, "check", "--json")
    assert failed.returncode == 1
    verdict = json.loads(failed.stdout)
    assert verdict["passed"] is False and verdict["step"] == "basics.compare"
    # An untouched starter gets one line, not one failure per check, and where to type.
    assert verdict["checks"] == []
    assert verdict["error"].startswith("You have not changed the starter yet: replace each "
                                       "`...` with your code")
    assert verdict["line"] == 2

    path.write_text("import torch\nt = torch.arange(6).reshape(2, 3)\n")
    text = tutor(home, "check")
    assert text.returncode == 1 and "int64" in text.stdout and "dtype=torch.float32" in text.stdout

    path.write_text(SOLUTION)
    passed = tutor(home, "check", "basics.compare", "--json")
    assert passed.returncode == 0, passed.stdout
    assert json.loads(passed.stdout)["passed"] is True

    after = statuses(home)  # a new process: progress survived the restart
    assert after["basics.compare"] == "passed" and after["basics.call"] == "available"
    assert after["basics.quiz"] == "locked"
    assert as_json(tutor(home, "show", "--json"))["id"] == "basics.call"
    assert path.read_text() == SOLUTION


@pytest.mark.slow
def test_check_of_another_file_and_a_traceback_with_the_learners_lines(tmp_path: Path) -> None:
    home = tmp_path / "home"
    mine = tmp_path / "mine.py"
    mine.write_text("import torch\n\nx = torch.ones(2, 3)\nt = x @ x\n")
    done = tutor(home, "check", "basics.compare", "--file", str(mine), "--json")
    verdict = json.loads(done.stdout)
    assert done.returncode == 1 and verdict["line"] == 4
    assert "line 4" in verdict["error"] and "t = x @ x" in verdict["error"]
    assert "RuntimeError" in verdict["error"]
    syntax = tmp_path / "syntax.py"
    syntax.write_text("t = (1,\n")
    verdict = json.loads(tutor(home, "check", "basics.compare", "--file", str(syntax),
                               "--json").stdout)
    assert verdict["line"] == 1 and "Python cannot read line 1" in verdict["error"]


def test_json_carries_what_the_code_reported_and_prints_nothing_else(tmp_path: Path) -> None:
    home = tmp_path / "home"
    mine = tmp_path / "mine.py"
    mine.write_text(SOLUTION + "print('hello')\nshow(t)\n"
                    "for epoch in (1, 2):\n    report(epoch=epoch, loss=1 / epoch)\n")
    for command in ("check", "run"):
        done = tutor(home, command, "basics.compare", "--file", str(mine), "--json")
        verdict = json.loads(done.stdout)  # only the JSON: no picture, no printed text
        assert done.returncode == 0, done.stderr
        assert verdict["reported"] == {"loss": {"at": [1.0, 2.0], "values": [1.0, 0.5]}}
    mine.write_text(SOLUTION)
    plain = tutor(home, "check", "basics.compare", "--file", str(mine), "--json")
    assert "reported" not in json.loads(plain.stdout)


def test_quiz_hints_solution_and_reset(tmp_path: Path) -> None:
    home = tmp_path / "home"
    everything = ("--unlock-all",)
    assert tutor(home, *everything, "answer", "basics.quiz", "1").returncode == 1
    right = tutor(home, *everything, "answer", "basics.quiz", "2")
    assert right.returncode == 0 and "number of axes" in right.stdout
    assert tutor(home, "answer", "basics.quiz", "9", *()).returncode == 2

    first = as_json(tutor(home, "hint", "basics.compare", "--json"))
    second = as_json(tutor(home, "hint", "basics.compare", "--json"))
    assert (first["number"], second["number"], second["total"]) == (1, 2, 2)
    assert first["hint"] == "Use `torch.arange`."

    locked = tutor(home, "solution", "basics.compare")
    assert locked.returncode == 2 and "--force" in locked.stderr
    forced = as_json(tutor(home, "solution", "basics.compare", "--force", "--json"))
    assert forced == {"step": "basics.compare",
                      "code": "import torch\nt = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n"}
    progress = json.loads((home / "progress.json").read_text())
    step = progress["courses"]["fixture"]["steps"]["basics.compare"]
    assert step["solution_viewed"] is True and step["hints"] == 2

    path = Path(as_json(tutor(home, "show", "basics.compare", "--json"))["file"])
    path.write_text("my work\n")
    assert tutor(home, "reset", "basics.compare").returncode == 0
    assert path.read_text() == "import torch\nt = ...\n"
    assert path.with_name(path.name + ".bak").read_text() == "my work\n"


def test_progress_and_usage_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    summary = as_json(tutor(home, "progress", "--json"))
    assert summary["done"] == 0 and summary["total"] == 7
    assert [lesson["total"] for lesson in summary["lessons"]] == [4, 3]
    unknown = tutor(home, "check", "nope.step")
    assert unknown.returncode == 2 and "pytorch-tutor list" in unknown.stderr
    bad_device = tutor(home, "--device", "gpu0", "list")
    assert bad_device.returncode == 2 and "cuda:N" in bad_device.stderr
    locked = tutor(home, "check", "modules.train")
    assert locked.returncode == 2 and "locked" in locked.stderr
    version = tutor(home, "--version")
    assert version.returncode == 0 and version.stdout.startswith("pytorch-tutor ")


def test_corrupt_progress_file_is_reported_never_a_crash(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "progress.json").write_bytes(b"\x00garbage{")
    done = tutor(home, "list")
    assert done.returncode == 0 and "basics.compare" in done.stdout
    assert "warning" in done.stderr and "corrupt" in done.stderr


def test_no_color_and_plain_pipes_have_no_escape_codes(tmp_path: Path) -> None:
    done = tutor(tmp_path / "home", "list", env={"NO_COLOR": "1"})
    assert "\x1b[" not in done.stdout


def test_lessons_schema_new_and_validate(tmp_path: Path, course_copy: Path) -> None:
    home = tmp_path / "home"
    schema = json.loads(tutor(home, "lessons", "schema").stdout)
    assert schema["title"] == "pytorch-tutor lesson" and "steps" in schema["properties"]

    made = tutor(home, "lessons", "new", "extra", "--dir", str(course_copy))
    assert made.returncode == 0, made.stderr
    assert (course_copy / "extra.yaml").exists()
    ok = tutor(home, "lessons", "validate", str(course_copy))
    assert ok.returncode == 0 and "0 problems" in ok.stdout
    assert "extra" in json.loads(tutor(home, "list", "--json", course=course_copy).stdout)[-1]["lesson"]

    text = (course_copy / "basics.yaml").read_text().replace("title: Sum the rows", "titel: x")
    (course_copy / "basics.yaml").write_text(text)
    broken = tutor(home, "lessons", "validate", str(course_copy))
    assert broken.returncode == 1
    line_no = text.splitlines().index("    titel: x") + 1
    assert f"basics.yaml:{line_no}:5: unknown field 'titel'" in broken.stdout
    # The rest of the course still works for a learner.
    assert tutor(home, "list", course=course_copy).returncode == 0
    report = tutor(home, "lessons", "validate", str(course_copy), "--json")
    assert report.returncode == 1
    found = json.loads(report.stdout)  # the JSON object is all there is on stdout
    assert found["ok"] is False and found["course"] == "fixture"
    assert len(found["problems"]) == len(broken.stdout.splitlines()) - 1  # less the summary
    problem = next(p for p in found["problems"] if "titel" in p["message"])
    assert problem["line"] == line_no and problem["column"] == 5
    assert problem["file"].endswith("basics.yaml")


@pytest.mark.slow
def test_validate_solutions_on_the_fixture_course(tmp_path: Path) -> None:
    done = tutor(tmp_path / "home", "lessons", "validate", str(FIXTURE_COURSE), "--solutions")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 steps ok, 0 failed" in done.stdout
    assert "rejects[1]=" in done.stdout  # the time of each program is printed


@pytest.mark.slow
def test_validate_solutions_catches_a_too_weak_check(tmp_path: Path, course_copy: Path) -> None:
    text = (course_copy / "basics.yaml").read_text()
    text = text.replace("      - compare: t\n      - expect: t\n        shape: [2, 3]\n"
                        "        axes: [rows, cols]\n        dtype: float32\n",
                        "      - expect: t\n        type: tensor\n")
    (course_copy / "basics.yaml").write_text(text)
    done = tutor(tmp_path / "home", "lessons", "validate", str(course_copy), "--solutions",
                 "--step", "basics.compare")
    assert done.returncode == 1
    assert "rejects[0] should fail but passed" in done.stdout
    report = json.loads(tutor(tmp_path / "home", "lessons", "validate", str(course_copy),
                              "--solutions", "--step", "basics.compare", "--json").stdout)
    (step,) = report["reports"]
    assert report["ok"] is False and step["step"] == "basics.compare" and not step["ok"]
    failed = {a["label"]: a["problem"] for a in step["attempts"] if not a["ok"]}
    assert "should fail but passed" in failed["rejects[0]"]


def test_data_status_says_where_the_data_goes(tmp_path: Path) -> None:
    status = as_json(tutor(tmp_path / "home", "data", "status", "--json"))
    assert status["dir"] == str(tmp_path / "home" / "data")
    assert status["complete"] is False and len(status["missing"]) == 4
    assert "pytorch-tutor data fetch" in status["summary"]
    info = as_json(tutor(tmp_path / "home", "doctor", "--json"))
    assert info["data"]["dir"] == status["dir"]  # doctor looks where the lessons look


def test_doctor_reports_torch_from_a_child_and_the_protections(tmp_path: Path) -> None:
    info = as_json(tutor(tmp_path / "home", "doctor", "--json"))
    assert info["torch"].startswith("2.") and info["device"]["resolved"] == "cpu"
    names = {layer["name"]: layer["active"] for layer in info["sandbox"]}
    assert names["framed results"] is True and "process tree kill" in names
    assert info["progress_file"].startswith(str(tmp_path))
    assert info["pictures"] == {"mode": "halfblock", "reason": "the output is not a terminal"}


def test_a_verdict_shows_what_the_code_wrote_to_stderr() -> None:
    from tutor.cli.render import verdict_text
    from tutor.core.verdict import Verdict

    text = verdict_text(Verdict(step="s", passed=True, device="cpu",
                                stderr="mine.py:3: UserWarning: sizes differ\n"))
    heading, warning = text.splitlines()[1:3]
    assert "stderr" in heading and warning.strip() == "mine.py:3: UserWarning: sizes differ"
    assert "stderr" not in verdict_text(Verdict(step="s", passed=True, device="cpu"))


# --------------------------------------------------------------------------- reading the output

LONG = ("This paragraph is long enough to need wrapping: a tensor is a grid of numbers, and "
        "**every** operation works on all of them at once, which is why PyTorch is fast.")


def explained(course: Path, text: str) -> Path:
    lesson = course / "basics.yaml"
    lesson.write_text(lesson.read_text().replace(
        "      Make `t`, a 2x3 float tensor holding 0..5.\n", text, 1))
    return course


def test_show_renders_the_markdown_wrapped_to_80_columns(tmp_path: Path, course_copy: Path):
    course = explained(course_copy, f"      {LONG}\n\n      ```python\n      t = torch.zeros(2)\n"
                                    "      ```\n\n      Use `t.shape`.\n")
    done = tutor(tmp_path / "home", "show", course=course)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "**" not in done.stdout and "```" not in done.stdout
    assert all(len(line) <= 80 for line in lines) and all(line == line.rstrip() for line in lines)
    assert "  t = torch.zeros(2)" in lines  # the code block, indented
    assert "Use `t.shape`." in lines  # plain output keeps inline code marked
    assert as_json(tutor(tmp_path / "home", "show", "--json", course=course))["explanation"] \
        .startswith("This paragraph")  # --json is the lesson's own text, unchanged


@pytest.mark.slow
def test_check_messages_wrap_under_their_check(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = Path(as_json(tutor(home, "show", "--json"))["file"])
    path.write_text("import torch\nt = torch.arange(6).reshape(2, 3)\n")
    done = tutor(home, "check")
    lines = done.stdout.splitlines()
    assert done.returncode == 1 and all(len(line) <= 80 for line in lines)
    failed = next(i for i, line in enumerate(lines) if line.startswith("  ✗"))
    message = lines[failed + 1:failed + 3]
    assert len(message) == 2 and all(line.startswith("      ") for line in message), lines


@pytest.mark.slow
def test_a_passed_metric_shows_the_learners_figure_and_the_threshold(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shown = as_json(tutor(home, "--unlock-all", "show", "modules.train", "--json"))
    from tutor.core.loader import load_course

    Path(shown["file"]).write_text(load_course(FIXTURE_COURSE).step("modules.train").solution)
    done = tutor(home, "--unlock-all", "check", "modules.train")
    assert done.returncode == 0, done.stdout
    assert "yours: " in done.stdout and "(needed ≤ 0.05)" in done.stdout


def test_help_cites_a_quiz_that_exists() -> None:
    from tutor.cli.main import EXAMPLE_QUIZ, build_parser
    from tutor.core.loader import load_course
    from tutor.core.session import bundled_course_dir

    assert f"answer {EXAMPLE_QUIZ} 2" in build_parser().format_help() + _answer_help()
    assert load_course(bundled_course_dir()).step(EXAMPLE_QUIZ).kind == "quiz"


def _answer_help() -> str:
    from tutor.cli.main import build_parser

    parser = build_parser()
    actions = next(a for a in parser._actions if a.dest == "command")
    return actions.choices["answer"].format_help()  # type: ignore[union-attr]


def test_hostile_lesson_text_never_reaches_the_terminal_raw(tmp_path: Path, course_copy: Path):
    lesson = course_copy / "basics.yaml"
    text = lesson.read_text().replace("    title: Make a tensor\n",
                                      '    title: "Make \\e]52;c;SGVsbG8=\\a [b]it[/b]"\n', 1)
    text = text.replace("      - Use `torch.arange`.", r'      - "Use \e[2J`torch.arange`."', 1)
    text = text.replace("    explanation: |\n      Make `t`, a 2x3 float tensor holding 0..5.\n",
                        r'    explanation: "Make `t` \e]8;;http://evil\e\\here\e]8;;\e\\."'
                        "\n", 1)
    lesson.write_text(text)
    home = tmp_path / "home"
    for command in (("show",), ("list",), ("hint",), ("progress",), ("solution",
                    "basics.compare", "--force")):
        done = tutor(home, *command, course=course_copy)
        assert done.returncode == 0, done.stderr
        for stream in (done.stdout, done.stderr):
            assert not any(c in stream for c in "\x1b\x07\x9b"), (command, stream)
    shown = tutor(home, "show", course=course_copy).stdout
    assert "␛]52;c;SGVsbG8=␇ [b]it[/b]" in shown and "␛]8;;http://evil␛\\here" in shown


def test_colour_on_a_terminal_and_none_with_no_color(tmp_path: Path) -> None:
    coloured = on_a_terminal(tmp_path / "home", "list")
    assert "\x1b[" in coloured
    assert "\x1b[3" not in on_a_terminal(tmp_path / "home", "list", NO_COLOR="1")


def on_a_terminal(home: Path, *args: str, **env: str) -> str:
    """What a command writes to a terminal (a pseudo-terminal, 80 columns)."""
    import pty

    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update(PYTORCH_TUTOR_HOME=str(home), TERM="xterm-256color", COLUMNS="80", **env)
    command = [sys.executable, "-m", "tutor.cli.main", "--lessons", str(FIXTURE_COURSE),
               "--device", "cpu", *args]
    primary, secondary = pty.openpty()
    with subprocess.Popen(command, stdout=secondary, stderr=secondary, env=environ) as proc:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(60)
    os.close(primary)
    return b"".join(chunks).decode(errors="replace")


def test_validate_warns_about_lines_wider_than_80x24_shows(tmp_path: Path, course_copy: Path):
    wide = "x = 1  # " + "w" * 80
    explained(course_copy, f"      Make `t`.\n\n      ```python\n      {wide}\n      ```\n")
    done = tutor(tmp_path / "home", "lessons", "validate", str(course_copy))
    assert done.returncode == 0, done.stdout  # a warning, not a problem
    line = next(n for n, text in enumerate((course_copy / "basics.yaml").read_text()
                                           .splitlines(), 1) if wide in text)
    assert f"basics.yaml:{line}:82: warning: a code block line of step basics.compare is 89 " \
           "columns wide; at 80x24 the tutor shows 75" in done.stdout
    report = json.loads(tutor(tmp_path / "home", "lessons", "validate", str(course_copy),
                              "--json").stdout)
    assert report["ok"] is True and len(report["warnings"]) == 1


@pytest.mark.slow
def test_check_prints_a_sparkline_per_reported_series_and_the_pictures(tmp_path: Path) -> None:
    home = tmp_path / "home"
    mine = tmp_path / "mine.py"
    mine.write_text(SOLUTION + "show(t, title='t')\n"
                    "for epoch in range(1, 5):\n"
                    "    report(epoch=epoch, loss=4 / epoch, accuracy=epoch / 4)\n")
    done = tutor(home, "check", "basics.compare", "--file", str(mine), env={"NO_COLOR": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.rstrip() for line in done.stdout.splitlines()]
    assert "t · shape [rows=2, cols=3] · float32" in lines  # the step names its axes
    assert "     0      1      2" in lines  # the values, printed in their cells
    assert "loss      █▃▂▁  1 at epoch 4 (from 4)" in lines
    assert "accuracy  ▁▃▆█  1 at epoch 4 (from 0.25)" in lines
    assert "\x1b[" not in done.stdout
    quiet = tutor(home, "check", "basics.compare", "--file", str(mine), "--json")
    verdict = json.loads(quiet.stdout)  # the JSON alone: no picture, no sparkline
    assert verdict["passed"] and verdict["reported"]["loss"]["values"][0] == 4
