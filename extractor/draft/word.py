"""The one Word writer: a draft in the Markdown the drafting stage produces (and a reviewer edits)
becomes a .docx with real headings, paragraphs and tables. Used by the CLI and the review app."""

from __future__ import annotations

import io


def _table_cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _is_rule(line: str) -> bool:
    cells = _table_cells(line)
    return bool(cells) and all(c and set(c) <= set("-: ") for c in cells)


def markdown_to_docx(markdown: str) -> bytes:
    """``#`` / ``##`` headings, paragraphs, and runs of ``| a | b |`` lines as Word tables (``|---|``
    rule lines are dropped)."""
    import docx

    d = docx.Document()
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("# "):
            d.add_heading(line[2:].strip(), level=1)
        elif line.startswith("## "):
            d.add_heading(line[3:].strip(), level=2)
        elif line.lstrip().startswith("|"):
            rows = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                if not _is_rule(lines[i]):
                    rows.append(_table_cells(lines[i]))
                i += 1
            width = max(len(r) for r in rows)
            table = d.add_table(rows=0, cols=width)
            table.style = "Table Grid"
            for r in rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, r + [""] * (width - len(r))):
                    cell.text = text
            continue
        elif line.strip():
            d.add_paragraph(line)
        i += 1
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
