"""The learner's code files: starters written once, atomic saves, resets that lose nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.core import files
from tutor.core.workspace import Workspace, safe_file_name

STARTER = "import torch\n\nx = ...  # TODO\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", "basics")


def test_files_are_laid_out_by_course_lesson_and_step(workspace: Workspace, tmp_path: Path) -> None:
    assert (
        workspace.path_for("tensors", "create-1")
        == tmp_path / "ws" / "basics" / "tensors" / "create-1.py"
    )


def test_starter_is_written_on_the_first_visit_only(workspace: Workspace) -> None:
    path = workspace.ensure("tensors", "create", STARTER)
    assert path.read_text(encoding="utf-8") == STARTER

    workspace.write("tensors", "create", "x = 1\n")
    again = workspace.ensure("tensors", "create", "a different starter\n")

    assert again == path
    assert workspace.read("tensors", "create") == "x = 1\n"


def test_write_and_read_round_trip_exactly(workspace: Workspace) -> None:
    code = "# π ≈ 3.14\r\nprint('héllo')\n"

    path = workspace.write("tensors", "create", code)

    assert path.read_bytes() == code.encode("utf-8")
    assert workspace.read("tensors", "create") == "# π ≈ 3.14\nprint('héllo')\n"


def test_a_failed_save_keeps_the_previous_code(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workspace.write("tensors", "create", "good = 1\n")

    def crash(*_args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        workspace.write("tensors", "create", "half-typed")

    assert path.read_text(encoding="utf-8") == "good = 1\n"
    assert [p.name for p in path.parent.iterdir()] == ["create.py"]


def test_read_never_fails_on_bytes_that_are_not_utf8(workspace: Workspace) -> None:
    path = workspace.ensure("tensors", "create", STARTER)
    path.write_bytes(b"x = 1  # caf\xe9\n")

    assert workspace.read("tensors", "create") == "x = 1  # caf\ufffd\n"


def test_reset_restores_the_starter_and_backs_up_the_learner_code(workspace: Workspace) -> None:
    workspace.ensure("tensors", "create", STARTER)
    workspace.write("tensors", "create", "mine = 1\n")

    backup = workspace.reset("tensors", "create", STARTER)

    assert workspace.read("tensors", "create") == STARTER
    assert backup == workspace.backup_path_for("tensors", "create")
    assert backup.name == "create.py.bak"
    assert backup.read_text(encoding="utf-8") == "mine = 1\n"


def test_resetting_again_loses_no_earlier_backup(workspace: Workspace) -> None:
    workspace.write("tensors", "create", "first try\n")
    workspace.reset("tensors", "create", STARTER)
    unchanged = workspace.reset("tensors", "create", STARTER)
    workspace.write("tensors", "create", "second try\n")
    backup = workspace.reset("tensors", "create", STARTER)

    assert unchanged is None  # the starter itself needs no backup
    assert backup.read_text(encoding="utf-8") == "second try\n"
    older = backup.with_name("create.py.bak.1")
    assert older.read_text(encoding="utf-8") == "first try\n"


def test_reset_of_a_step_never_visited_writes_the_starter(workspace: Workspace) -> None:
    assert workspace.reset("tensors", "create", STARTER) is None
    assert workspace.read("tensors", "create") == STARTER


def test_safe_ids_are_kept_as_they_are() -> None:
    assert [safe_file_name(i) for i in ("tensors", "step-1", "a_b.c")] == [
        "tensors",
        "step-1",
        "a_b.c",
    ]


ODD_IDS = [
    "../../etc/passwd",
    "a/b",
    "a_b",
    "a\\b",
    "",
    ".",
    "..",
    ".hidden",
    "CON",
    "con",
    "nul.txt",
    "Step One",
    "step one",
    "trailing.",
    "-flag",
    "x" * 300,
    "naïve",
    "tab\there",
]


def test_odd_ids_give_distinct_safe_paths_inside_the_course(workspace: Workspace) -> None:
    course_dir = workspace.course_dir.resolve()

    paths = [workspace.path_for(odd, odd) for odd in ODD_IDS]

    assert len(set(paths)) == len(ODD_IDS)
    for odd, path in zip(ODD_IDS, paths, strict=True):
        name = path.name.removesuffix(".py")
        assert path.resolve().parent.parent == course_dir, odd
        assert name == safe_file_name(odd)
        assert len(name) <= 80 and not name.startswith((".", "-")), odd
        assert name.split(".")[0] not in {"con", "nul"}, odd
        workspace.write(odd, odd, f"# {odd!r}\n")
        assert workspace.read(odd, odd) == f"# {odd!r}\n"


def test_odd_course_id_stays_inside_the_root(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws", "../escape")

    path = workspace.write("l", "s", "x = 1\n")

    assert path.resolve().is_relative_to((tmp_path / "ws").resolve())


def test_default_root_is_the_workspace_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTORCH_TUTOR_HOME", str(tmp_path / "home"))

    workspace = Workspace.default("basics")

    assert workspace.path_for("l", "s") == tmp_path / "home" / "workspace" / "basics" / "l" / "s.py"
