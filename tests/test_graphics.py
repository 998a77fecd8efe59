"""Real pixels where the terminal draws them (``tutor.graphics``, through textual-image): the
choice from the environment alone, the terminal's answer in a pseudo-terminal, and the images
drawn, which keep every pixel and the layout half blocks have."""

from __future__ import annotations

import base64
import fcntl
import io
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rich.console import Console

from tutor import graphics
from tutor.core.seeing import picture
from tutor.core.values import Shown
from tutor.drawing import HALF, RAMP, PictureView

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = "\U0010eeee"  # Kitty's cell that shows part of a placed image
TRANSMIT = re.compile(r"\x1b_G([^;\x1b]*);([^\x1b]*)\x1b\\")
SIXEL = '\x1bP0;0;0q"1;1;'
CELL = (10, 20)  # the cell size textual-image assumes where nothing says otherwise


@pytest.fixture(autouse=True)
def _undecided(monkeypatch) -> Iterator[io.StringIO]:
    """Each test decides afresh; what textual-image sends "to the terminal" lands here."""
    for name in ("TMUX", "STY", "ZELLIJ", "NO_COLOR", "TERM_PROGRAM", "KITTY_WINDOW_ID",
                 "KONSOLE_VERSION", "WEZTERM_EXECUTABLE", graphics.SETTING):
        monkeypatch.delenv(name, raising=False)
    sent = io.StringIO()
    monkeypatch.setattr(sys, "__stdout__", sent)
    graphics.reset()
    yield sent
    graphics.reset()


def disc() -> np.ndarray:
    y, x = np.mgrid[0:28, 0:28]
    return (((y - 14) ** 2 + (x - 14) ** 2) < 60).astype(np.float32)


def drawn(renderable: object, colour: bool = True) -> str:
    console = Console(file=io.StringIO(), width=80, force_terminal=colour, no_color=not colour,
                      color_system="truecolor" if colour else None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def images(sent: str) -> list[Image.Image]:
    """The images transmitted with Kitty's protocol, each from its chunks."""
    found, chunks = [], []
    for keys, payload in TRANSMIT.findall(sent):
        if "f=100" not in keys and not chunks:
            continue  # a placement, not a transmission
        chunks.append(payload)
        if "m=1" not in keys:
            found.append(Image.open(io.BytesIO(base64.b64decode("".join(chunks)))))
            chunks = []
    return found


# --------------------------------------------------------------------------- the choice

TERMINAL_CASES = [
    ({"TERM": "xterm-kitty"}, "kitty", "draws Kitty graphics"),
    ({"TERM": "xterm-ghostty"}, "kitty", "draws Kitty graphics"),
    ({"TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"}, "kitty", "Kitty"),
    ({"TERM_PROGRAM": "WezTerm"}, "sixel", "WezTerm draws Sixel"),
    ({"TERM": "foot"}, "sixel", "foot draws Sixel"),
    ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-1/default,1,0"}, "halfblock", "inside tmux"),
    ({"TERM": "screen-256color"}, "halfblock", "multiplexer"),
    ({"TERM": "xterm-kitty", "STY": "1.pts-0"}, "halfblock", "GNU screen"),
    ({"TERM": "xterm-kitty", "NO_COLOR": "1"}, "halfblock", "greyscale ramp"),
    ({"TERM": "xterm-256color"}, "halfblock", "not known to draw pixels"),
    ({"TERM": "xterm-kitty", graphics.SETTING: "halfblock"}, "halfblock",
     "PYTORCH_TUTOR_GRAPHICS=halfblock"),
    ({"TMUX": "1", graphics.SETTING: "kitty"}, "kitty", "PYTORCH_TUTOR_GRAPHICS=kitty"),
    ({graphics.SETTING: "Sixel"}, "sixel", "PYTORCH_TUTOR_GRAPHICS=sixel"),
    ({graphics.SETTING: "pixels"}, "halfblock", "is not a mode: use auto, kitty"),
]


@pytest.mark.parametrize(("environ", "mode", "reason"), TERMINAL_CASES)
def test_the_mode_is_chosen_from_the_environment_alone(environ, mode, reason):
    choice = graphics.choose(environ, terminal=True, installed=True)
    assert (choice.mode, choice.pixels) == (mode, mode != "halfblock")
    assert reason in choice.reason
    # a guess is confirmed by the terminal's answer; a setting is taken as said
    assert choice.ask == (choice.pixels and graphics.SETTING not in environ)


def test_a_pipe_or_a_missing_library_means_half_blocks_and_says_how_to_get_pixels():
    assert graphics.choose({"TERM": "xterm-kitty"}, terminal=False).reason == (
        "the output is not a terminal")
    missing = graphics.choose({"TERM": "xterm-kitty"}, terminal=True, installed=False)
    assert missing.mode == "halfblock" and graphics.INSTALL in missing.reason


def test_half_blocks_never_import_textual_image():
    """Terminals that draw no pixels pay nothing: no import, no question to the terminal."""
    script = ("import sys; from tutor import graphics; "
              "c = graphics.activate(graphics.choose({'TERM': 'xterm-256color'}, True)); "
              "print(c.mode, 'textual_image' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.split() == ["halfblock", "False"]


# --------------------------------------------------------------------------- the terminal's answer

ASK = """\
import os, sys
from tutor import graphics
choice = graphics.activate(graphics.choose(os.environ, sys.__stdout__.isatty()))
print("MODE=" + choice.mode + "|" + choice.reason + "|" + os.environ.get("COLORTERM", "-"))
"""
DA1_SIXEL = "\x1b[?62;4;22c"  # a VT220 that says "4": Sixel
DA1_PLAIN = "\x1b[?62;22c"
TGP_OK = "\x1b_Gi=1;OK\x1b\\"


def in_terminal(environ: dict[str, str], answers: dict[str, str],
                size: tuple[int, int, int, int] = (24, 80, 800, 480)) -> tuple[str, str]:
    """Run ASK on a pseudo-terminal (by default 80x24 cells of 10x20 pixels) that answers a
    query starting with a key of ``answers`` with its value (and no other). Returns the result
    line and everything the process wrote to the terminal before it."""
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", *size))
    env = {k: v for k, v in os.environ.items()
           if k not in ("TMUX", "STY", "NO_COLOR", "TERM_PROGRAM", "KITTY_WINDOW_ID",
                        "COLORTERM", graphics.SETTING)}
    child = subprocess.Popen([sys.executable, "-c", ASK], stdin=slave, stdout=slave,
                             stderr=slave, cwd=ROOT, env={**env, **environ},
                             start_new_session=True)
    os.close(slave)
    written, answered = "", set()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                written += chunk
                for query, answer in answers.items():
                    if query in written and query not in answered:
                        answered.add(query)
                        os.write(master, answer.encode())
            elif child.poll() is not None:
                break
    finally:
        child.wait(timeout=30)
        os.close(master)
    before, _, result = written.partition("MODE=")
    return result.strip(), before


def test_an_unknown_terminal_is_sent_nothing():
    result, before = in_terminal({"TERM": "xterm-256color"}, {})
    assert result.startswith("halfblock|TERM=xterm-256color is not known")
    assert "\x1b" not in before  # no question, so nothing to garble and no key taken


def test_kitty_is_confirmed_by_its_answer_and_gets_true_colour():
    result, before = in_terminal({"TERM": "xterm-kitty"},
                                 {"\x1b[c": DA1_PLAIN, "\x1b_G": TGP_OK})
    assert result.split("|") == ["kitty", "xterm-kitty draws Kitty graphics", "truecolor"]
    assert "\x1b[c" in before and "a=q" in before  # textual-image asked, once each


def test_a_terminal_that_does_not_answer_keeps_half_blocks():
    result, _ = in_terminal({"TERM": "xterm-kitty"}, {})
    mode, reason, colour = result.split("|")
    assert mode == "halfblock" and "did not confirm kitty" in reason and colour == "-"


def test_a_terminal_without_a_size_keeps_half_blocks_and_says_why():
    """`script` and some CI runners give a terminal of 0 x 0 cells: textual-image divides by
    its columns."""
    result, _ = in_terminal({graphics.SETTING: "kitty"}, {}, size=(0, 0, 0, 0))
    mode, reason, _colour = result.split("|")
    assert mode == "halfblock" and "textual-image failed (ZeroDivisionError" in reason


def test_sixel_is_confirmed_by_the_terminals_answer():
    result, _ = in_terminal({"TERM_PROGRAM": "WezTerm"}, {"\x1b[c": DA1_SIXEL})
    assert result.startswith("sixel|WezTerm draws Sixel")
    result, _ = in_terminal({"TERM_PROGRAM": "WezTerm"}, {"\x1b[c": DA1_PLAIN})
    assert result.startswith("halfblock|WezTerm draws Sixel, but") and "confirm sixel" in result


def test_inside_tmux_nothing_is_asked():
    result, before = in_terminal({"TERM": "xterm-kitty", "TMUX": "/tmp/t,1,0"}, {})
    assert result.startswith("halfblock|inside tmux") and "\x1b" not in before


# --------------------------------------------------------------------------- what is drawn


def test_kitty_draws_every_pixel_in_the_cells_half_blocks_take(_undecided):
    graphics.activate(graphics.Choice("kitty", "test"))
    shown = drawn(PictureView(picture(Shown(disc(), (28, 28), "float32", "a digit"))))
    lines = shown.splitlines()
    assert "a digit · shape [28, 28]" in lines[0]
    cells = [line.count(PLACEHOLDER) for line in lines[1:]]
    assert cells == [28] * 14 and HALF not in shown  # 28 x 28 pixels, two rows a line
    [image] = images(_undecided.getvalue())
    assert image.size == (28 * CELL[0], 14 * CELL[1])
    # each pixel of the tensor is one block of 10 x 10 screen pixels, its grey exact
    grey = np.asarray(image.convert("LA"))[5::10, 5::10]
    assert (grey[..., 0] == disc() * 255).all() and (grey[..., 1] == 255).all()


def test_a_batch_is_one_image_per_row_of_the_grid_with_its_labels_and_gaps(_undecided):
    graphics.activate(graphics.Choice("kitty", "test"))
    batch = Shown(np.stack([disc() * (i + 1) / 16 for i in range(16)]), (16, 1, 28, 28),
                  "float32", "images", tuple(f"[{i}]" for i in range(16)))
    lines = drawn(PictureView(picture(batch))).splitlines()
    half_blocks = drawn(PictureView(picture(batch)), colour=False).splitlines()
    assert len(lines) == len(half_blocks) == 1 + 4 * (1 + 7)  # the same layout
    assert re.sub(r"\x1b\[[0-9;]*m", "", lines[1]).split() == ["[0]", "[1]", "[2]", "[3]",
                                                               "[4]"]
    rows = images(_undecided.getvalue())
    assert [r.size for r in rows] == [((5 * 14 + 4 * 2) * CELL[0], 7 * CELL[1])] * 3 + [
        (14 * CELL[0], 7 * CELL[1])]
    first = np.asarray(rows[0].convert("LA"))
    gap = first[:, 14 * CELL[0]:16 * CELL[0]]
    assert (gap[..., 1] == 0).all()  # the terminal's background between panels
    # each panel keeps all 28 x 28 pixels in its 14 x 7 cells: 5 x 5 screen pixels each
    panel = first[:, :14 * CELL[0]][2::5, 2::5]
    assert panel.shape[:2] == (28, 28)
    assert (panel[..., 0] == np.round(disc() * 255 / 16)).all()


def test_an_image_is_sent_once_however_often_it_is_drawn(_undecided):
    graphics.activate(graphics.Choice("kitty", "test"))
    view = PictureView(picture(Shown(disc(), (28, 28), "float32")))
    assert drawn(view) == drawn(view)
    assert len(images(_undecided.getvalue())) == 1


def test_sixel_draws_in_place_of_the_same_lines(_undecided):
    graphics.activate(graphics.Choice("sixel", "test"))
    shown = drawn(PictureView(picture(Shown(disc(), (28, 28), "float32", "a digit"))))
    assert shown.count(SIXEL) == 1 and PLACEHOLDER not in shown and HALF not in shown
    assert f'{SIXEL}{28 * CELL[0]};{14 * CELL[1]}' in shown


def test_without_colour_pixels_give_way_to_the_ramp(_undecided):
    graphics.activate(graphics.Choice("kitty", "test"))
    shown = drawn(PictureView(picture(Shown(disc(), (28, 28), "float32"))), colour=False)
    assert PLACEHOLDER not in shown and RAMP[-1] in shown and not _undecided.getvalue()


def test_the_tutors_console_keeps_the_colour_that_names_an_image(monkeypatch):
    """Textual would round a 24-bit colour to 256 under TERM=xterm-kitty without COLORTERM
    (over SSH, say), and the placeholders would name another image."""
    from tutor.tui.app import make_app

    monkeypatch.setenv("TERM", "xterm-kitty")
    monkeypatch.delenv("COLORTERM", raising=False)
    assert make_app(lambda: None).console.color_system == "256"  # type: ignore[arg-type]
    graphics.activate(graphics.Choice("kitty", "test"))
    assert make_app(lambda: None).console.color_system == "truecolor"  # type: ignore[arg-type]


def test_doctor_says_how_pictures_are_drawn_and_how_to_change_it():
    from tutor.cli.doctor import pictures_lines

    def lines(environ: dict[str, str]) -> list[str]:
        return pictures_lines(graphics.choose(environ, True, installed=True))

    kitty = lines({"TERM": "xterm-kitty"})
    assert kitty == ["[--] pictures: Kitty graphics (xterm-kitty draws Kitty graphics) "
                     "(the terminal's answer confirms it)"]
    assert lines({"TERM_PROGRAM": "WezTerm"}) == [
        "[--] pictures: Sixel (WezTerm draws Sixel) (the terminal's answer confirms it)"]
    tmux = lines({"TERM": "xterm-kitty", "TMUX": "1"})
    assert tmux[0] == ("[--] pictures: half blocks (inside tmux, which does not pass pixel "
                       "graphics on)")
    assert "PYTORCH_TUTOR_GRAPHICS=kitty or sixel" in tmux[-1]
