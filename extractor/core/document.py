"""The ingested document: pages of text split into rows of cells, each cell traced to its source.

Every ingester (text, PDF, Word, Excel) produces this shape, so one form parser serves them all.
A cell keeps its character span in its page's text and, for PDF tables, its bounding box.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Cell:
    """One table cell (or one run of text) with where it came from."""

    text: str
    start: int = -1  # offset in the page text, -1 when unknown
    end: int = -1
    bbox: tuple[float, float, float, float] | None = None
    confidence: float | None = None  # OCR confidence, when the text came from OCR


@dataclass(slots=True)
class Row:
    """A table row (or a text line) on one page."""

    cells: list[Cell]
    page: int  # 1-based
    line: int  # 1-based line of the row's first character in the page text
    soft_break: bool = False  # the boundary before this row may be spurious (Word dumps)
    exact: bool = False  # cells sit in their true grid columns (PDF/Word/Excel tables)

    def texts(self) -> list[str]:
        """The cell texts."""
        return [c.text for c in self.cells]


@dataclass(slots=True)
class Page:
    """One page (a text file is one page; a Word file is one page; an Excel sheet is one page)."""

    number: int
    text: str
    rows: list[Row] = field(default_factory=list)
    image_path: str | None = None
    width: float | None = None
    height: float | None = None


@dataclass(slots=True)
class Document:
    """An ingested file."""

    path: str
    kind: str  # txt, pdf, docx, xlsx
    pages: list[Page] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def rows(self) -> list[Row]:
        """All rows of all pages, in order."""
        return [r for p in self.pages for r in p.rows]


def page_from_cells(number: int, rows: list[tuple[list[Cell], bool]]) -> Page:
    """A page whose text is rebuilt from cell rows (tab between cells, one row a line).

    Used for PDF and Excel input: each cell gets its span in that text, so provenance works the
    same way as for text dumps. ``rows`` holds (cells, exact) in reading order.
    """
    parts: list[str] = []
    out: list[Row] = []
    pos = 0
    for line_no, (cells, exact) in enumerate(rows, start=1):
        for k, c in enumerate(cells):
            if k:
                parts.append("\t")
                pos += 1
            c.start, c.end = pos, pos + len(c.text)
            parts.append(c.text)
            pos += len(c.text)
        parts.append("\n")
        pos += 1
        out.append(Row(cells, number, line_no, exact=exact))
    return Page(number, "".join(parts), out)
