"""Real pixels for pictures where the terminal can draw them, through textual-image: Kitty's
graphics protocol (kitty, Ghostty) or Sixel (WezTerm, foot, Konsole, iTerm2), in the TUI and
the CLI. Everywhere else, and by default, ``tutor.drawing`` draws half blocks.

Deciding reads the environment only: nothing is sent to a terminal that is not known to
draw pixels, so start-up never waits for an answer and no keystroke is swallowed. Inside tmux
or screen (which do not pass the protocols on), over a pipe and with ``NO_COLOR``, pictures stay
half blocks. ``PYTORCH_TUTOR_GRAPHICS`` (auto, kitty, sixel, halfblock) overrides the guess.
Only in a terminal named above is textual-image imported; its import asks the terminal what it
supports (at most 0.1 s per question, before Textual reads the keyboard) and its answer
decides. Imports Rich, Pillow and the core only: the TUI and the CLI share it.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

    from tutor.core.seeing import Picture

Mode = Literal["halfblock", "kitty", "sixel"]
SETTING = "PYTORCH_TUTOR_GRAPHICS"
INSTALL = "pip install textual-image"
FORCED: dict[str, Mode] = {"kitty": "kitty", "sixel": "sixel"}
OFF = {"halfblock", "off", "none", "no", "0", "false"}
MULTIPLEXERS = {"TMUX": "tmux", "STY": "GNU screen", "ZELLIJ": "zellij"}
KITTY_TERMS = {"xterm-kitty", "xterm-ghostty"}
KITTY_PROGRAMS = {"ghostty"}
SIXEL_TERMS = {"foot", "foot-extra", "mlterm", "yaft-256color", "contour"}
SIXEL_PROGRAMS = {"WezTerm", "iTerm.app", "contour"}
CACHED_IMAGES = 64


@dataclass(frozen=True)
class Choice:
    """How pictures are drawn, and why: the reason is what ``doctor`` prints."""

    mode: Mode
    reason: str
    ask: bool = False  # whether the terminal's own answer (textual-image's query) decides

    @property
    def pixels(self) -> bool:
        return self.mode != "halfblock"


def choose(environ: Mapping[str, str], terminal: bool, *,
           installed: bool | None = None) -> Choice:
    """The mode for this environment, the same for the TUI and the commands."""
    setting = environ.get(SETTING, "auto").strip().lower() or "auto"
    if setting in OFF:
        return Choice("halfblock", f"{SETTING}={setting}")
    if setting not in ("auto", "kitty", "sixel"):
        return Choice("halfblock", f"{SETTING}={setting} is not a mode: use auto, kitty, "
                                   "sixel or halfblock")
    if not terminal:
        return Choice("halfblock", "the output is not a terminal")
    if setting in FORCED:
        choice = Choice(FORCED[setting], f"{SETTING}={setting}")
    else:
        guessed = _guess(environ)
        if isinstance(guessed, str):
            return Choice("halfblock", guessed)
        choice = Choice(guessed[0], guessed[1], ask=True)
    if not (_installed() if installed is None else installed):
        return Choice("halfblock", f"{choice.reason}, but textual-image is not installed: "
                                   f"{INSTALL}")
    return choice


def _guess(environ: Mapping[str, str]) -> str | tuple[Mode, str]:
    """From the environment alone: a mode and why, or why half blocks."""
    if "NO_COLOR" in environ:
        return "NO_COLOR is set: a greyscale ramp of characters"
    for variable, name in MULTIPLEXERS.items():
        if environ.get(variable):
            return f"inside {name}, which does not pass pixel graphics on"
    term, program = environ.get("TERM", ""), environ.get("TERM_PROGRAM", "")
    if term.startswith(("screen", "tmux")):
        return f"TERM={term} is a multiplexer's"
    if term in KITTY_TERMS or program in KITTY_PROGRAMS or environ.get("KITTY_WINDOW_ID"):
        return "kitty", f"{program or term} draws Kitty graphics"
    if (term in SIXEL_TERMS or program in SIXEL_PROGRAMS
            or environ.get("KONSOLE_VERSION") or environ.get("WEZTERM_EXECUTABLE")):
        return "sixel", f"{program or term or 'Konsole'} draws Sixel"
    return f"TERM={term or '(unset)'} is not known to draw pixels"


def _installed() -> bool:
    return importlib.util.find_spec("textual_image") is not None


# --------------------------------------------------------------------------- activation

UNDECIDED = Choice("halfblock", "not decided yet")
_active = UNDECIDED


def activate(choice: Choice) -> Choice:
    """Make ``choice`` the way pictures are drawn in this process, asking the terminal first
    where the choice says so. Call before Textual starts: after, its reader takes the
    answers. Returns what holds."""
    global _active
    if choice.pixels:
        choice = _confirmed(choice)
    if choice.mode == "kitty":
        # Kitty's placeholders carry the image's id in a 24-bit colour; a 256-colour console
        # would round it to another image. Every terminal that draws them has true colour.
        os.environ.setdefault("COLORTERM", "truecolor")
    _active = choice
    return choice


def _confirmed(choice: Choice) -> Choice:
    try:
        import textual_image.renderable as found  # asks the terminal, on a terminal
        from textual_image._terminal import get_cell_size

        get_cell_size()  # asks once and keeps the answer, while the keyboard is still free
    except Exception as error:  # a broken install or terminal must not stop the tutor
        return Choice("halfblock", f"{choice.reason}, but textual-image failed "
                                   f"({type(error).__name__}: {error})")
    if not choice.ask:
        return choice
    # textual-image asks for Sixel first and for Kitty's protocol only where Sixel is missing
    if choice.mode == "sixel" and found.Image is found.SixelImage:
        return choice
    if choice.mode == "kitty" and (found.Image is found.TGPImage or (
            found.Image is found.SixelImage and found.tgp.query_terminal_support())):
        return choice
    return Choice("halfblock", f"{choice.reason}, but the terminal's answer to textual-image "
                               f"did not confirm {choice.mode}")


def active() -> Choice:
    return _active


def decided() -> bool:
    return _active is not UNDECIDED


def reset() -> None:
    """Undecided again: half blocks (tests)."""
    global _active
    _active = UNDECIDED
    _image.cache_clear()


# --------------------------------------------------------------------------- drawing


class Pixels:
    """An image of the active kind, ``cells`` (width, height) large. Rich draws it through
    textual-image; the TUI places a Sixel one as a widget of its own (``PixelStack``), as
    Textual cannot draw Sixel inside text."""

    def __init__(self, canvas: PILImage, cells: tuple[int, int], mode: Mode) -> None:
        self.canvas, self.cells, self.mode = canvas, cells, mode
        self._drawn: RenderableType | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self._renderable()

    def _renderable(self) -> RenderableType:
        if self._drawn is None:  # kept: Kitty's image is sent once, on its first drawing
            width, height = self.cells
            if self.mode == "sixel":
                from textual_image.renderable.sixel import Image as Sixel

                self._drawn = Sixel(self.canvas.convert("RGBA"), width=width, height=height)
            else:
                from textual_image.renderable.tgp import Image as Placed

                self._drawn = Placed(self.canvas, width=width, height=height)
        return self._drawn


def row_image(picture: Picture, first: int, count: int, cells: tuple[int, int],
              gap: int) -> Pixels:
    """Panels ``first`` to ``first + count`` of ``picture`` side by side, each ``cells``
    (width, height) large and ``gap`` cells apart, as one image of the active kind. Every pixel
    of a panel is drawn, enlarged to blocks: a 28 x 28 image keeps its 784 pixels at any
    size, where half blocks keep every n-th row and column of a narrowed one."""
    return _image(picture, first, count, cells, gap, _active.mode)


@lru_cache(maxsize=CACHED_IMAGES)  # a picture is immutable; a terminal keeps what it was sent
def _image(picture: Picture, first: int, count: int, cells: tuple[int, int], gap: int,
           mode: Mode) -> Pixels:
    from PIL import Image
    from textual_image._terminal import get_cell_size

    cell = get_cell_size()
    box = (cells[0] * cell.width, cells[1] * cell.height)
    step = box[0] + gap * cell.width
    canvas = Image.new("LA", (count * step - gap * cell.width, box[1]))  # gaps transparent
    for index, panel in enumerate(picture.slices[first:first + count]):
        pixels = Image.new("LA", (panel.width, panel.height))
        pixels.putdata([_pixel(picture, value) for row in panel.rows for value in row])
        canvas.paste(pixels.resize(box, Image.Resampling.NEAREST), (index * step, 0))
    return Pixels(canvas, (count * (cells[0] + gap) - gap, cells[1]), mode)


def _pixel(picture: Picture, value: float) -> tuple[int, int]:
    """Grey and alpha: a missing value (NaN) lets the background through."""
    shade = picture.shade(value)
    return (0, 0) if shade is None else (round(shade * 255), 255)
