"""What the command line prints: lines, tables and progress bars.

Lines and tables are plain text (tables aligned by display width: a Chinese character takes two
columns), coloured only on a terminal. Progress bars are drawn only where a person watches a
terminal, with rich, which is imported then and only then: its console, tables and live display cost
more CPU at start-up than reading a small PDF's tables, and a pipe or a log file shows no bar anyway.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

_COLOURS = {"red": "31", "yellow": "33", "bold": "1"}


def _tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed standard output
        return False


def paint(text: str, colour: str | None) -> str:
    """``text`` in ``colour`` (red, yellow, bold) on a terminal; as it is elsewhere."""
    if not colour or not _tty():
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


def say(text: str = "", colour: str | None = None) -> None:
    """Print one message (a line, or several)."""
    print(paint(text, colour), flush=True)


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else (0 if unicodedata.combining(c) else 1)
               for c in text)


def _pad(text: str, cols: int) -> str:
    return text + " " * max(0, cols - width(text))


def table_text(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> str:
    """A table as aligned text: the title, the header, a rule, one line per row (cells on one line:
    a line break inside a cell becomes a space)."""
    cells = [[str(c).replace("\n", " ") for c in row] for row in rows]
    cols = [max([width(h)] + [width(r[k]) for r in cells if k < len(r)]) for k, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(_pad(v, cols[k]) if k < len(values) - 1 else v for k, v in enumerate(values)).rstrip()

    out = [title] if title else []
    out.append(line(list(headers)))
    out.append("  ".join("─" * c for c in cols))
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def show_table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> None:
    """Print :func:`table_text`, its title and header in bold on a terminal."""
    lines = table_text(headers, rows, title).split("\n")
    n_head = 2 if title else 1
    for k, text in enumerate(lines):
        say(text, "bold" if k < n_head else None)


class _NoBars:
    """The progress-bar interface where no bar is shown: every call is accepted and does nothing."""

    shown = False

    def add_task(self, _description: str, **_kw: Any) -> int:
        return 0

    def update(self, _task: Any, **_kw: Any) -> None:
        return None

    def remove_task(self, _task: Any) -> None:
        return None


@contextmanager
def bars(label: str, with_description: bool = False) -> Iterator[Any]:
    """Live progress bars headed ``label`` (rich's ``Progress``: ``add_task``, ``update``,
    ``remove_task``), removed when done; on anything but a terminal, an object that ignores them."""
    if not _tty():
        yield _NoBars()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if with_description:
        columns.append(TextColumn("{task.description}"))
    with Progress(*columns, console=Console(highlight=False), transient=True) as progress:
        progress.shown = True  # type: ignore[attr-defined]
        yield progress
