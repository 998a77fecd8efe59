"""The authors' reference in docs/writing-lessons.md is generated from the declarations and
kept current: a new kind, field or default shows up there or this test fails."""

from __future__ import annotations

from pathlib import Path

from tutor.cli import main as cli
from tutor.core.checks import KINDS
from tutor.core.reference import BEGIN, END, reference_markdown, with_reference

DOC = Path(__file__).resolve().parent.parent / "docs" / "writing-lessons.md"


def test_the_reference_in_the_docs_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert with_reference(text) == text, (
        "docs/writing-lessons.md is stale: run "
        "`pytorch-tutor lessons reference --write docs/writing-lessons.md`")


def test_the_reference_names_every_kind_field_and_default() -> None:
    text = reference_markdown()
    for key, kind in KINDS.items():
        assert f"#### {key}\n" in text
        assert kind.summary and kind.summary in text
    assert "| `rtol` | number ≥ 0 | 1e-05 |" in text  # compare's default tolerance
    assert "| `trials` | whole number ≥ 1 and ≤ 20 | 3 |" in text
    assert "| `timeout` | number > 0 and ≤ 600 | 20 |" in text
    assert "`requires` | `any` or `cuda`" in text


def test_a_stale_reference_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"# Intro\n\nkept\n\n{BEGIN}\nSTALE-TEXT\n{END}\n\n## After\n")
    assert cli.main(["lessons", "reference", "--write", str(doc)]) == 0
    text = doc.read_text()
    assert "STALE-TEXT" not in text and "kept" in text and "## After" in text
    assert reference_markdown() in text
