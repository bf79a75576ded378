"""Rank reviewed forms worst first and write the triage table (terminal and CSV).

The CSV is UTF-8 with BOM so that Excel (the evaluators' tool) opens the Chinese columns correctly.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from extractor.core.atomic import write_atomic
from extractor.core.figures import clean
from extractor.core.records import LOW_READING_CONFIDENCE, ExtractionResult, Form
from extractor.review.rulebook import RULES

COLUMNS = ["排名", "风险分", "项目名称", "主管部门", "文件", "自评总分", "重算总分", "差距", "错误", "警告", "提示", "主要问题"]


@dataclass
class TriageRow:
    """One form in the triage list."""

    file: str
    form: Form

    def cells(self, rank: int) -> list[str]:
        f = self.form
        rs = f.rescore
        sev = Counter(fl.severity for fl in f.flags)
        order = {"error": 0, "warn": 1, "info": 2}
        titles = Counter(RULES[fl.code].title if fl.code in RULES else fl.code for fl in f.flags)
        worst = {RULES[fl.code].title if fl.code in RULES else fl.code: order[fl.severity] for fl in f.flags}
        ranked = sorted(titles.items(), key=lambda kv: (worst[kv[0]], -kv[1]))
        top = "；".join(f"{t}×{n}" if n > 1 else t for t, n in ranked[:3])

        def num(x: float | None) -> str:
            return "" if x is None else f"{x:g}"

        return [str(rank), num(f.risk), f.project_name or "（表格残片）", f.department or "", self.file,
                num(rs.self_total if rs else None), num(rs.recomputed_total if rs else None),
                num(rs.gap if rs else None), str(sev["error"]), str(sev["warn"]), str(sev["info"]), top]


    def compact(self, rank: int) -> list[str]:
        """The row for an 80-column terminal: rank, risk, project, self→recomputed, E/W/I, top problems."""
        c = self.cells(rank)
        name = c[2] if len(c[2]) <= 16 else c[2][:15] + "…"
        scores = f"{c[5] or '—'}→{c[6] or '—'}"
        return [c[0], c[1], name, scores, f"{c[8]}/{c[9]}/{c[10]}", c[11].split("；")[0]]


COMPACT = ["#", "风险", "项目", "自评→重算", "错/警/示", "主要问题"]


def _identity(f: Form) -> tuple:
    return (clean(f.project_name), clean(f.department), f.year, f.total_weight, f.total_score, len(f.indicators),
            tuple(clean(i.name)[:20] for i in f.indicators[:3]))


def rank(results: list[tuple[str, ExtractionResult]]) -> list[TriageRow]:
    """Every form, those read with low confidence first, then highest risk first; the same form sent
    as several files is listed once."""
    rows: dict[tuple, TriageRow] = {}
    for name, res in results:
        for f in res.forms:
            key = _identity(f) if f.project_name else (name, id(f))
            if key in rows:
                rows[key].file += f"、{name}"
            else:
                rows[key] = TriageRow(name, f)
    out = list(rows.values())
    # forms read with low confidence first: their values need checking before their flags mean anything
    out.sort(key=lambda r: (r.form.confidence >= LOW_READING_CONFIDENCE, -(r.form.risk or 0), r.file, r.form.project_name or ""))
    return out


def write_csv(rows: list[TriageRow], path: Path) -> None:
    """The ranked list as CSV for Excel."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for k, r in enumerate(rows, start=1):
        w.writerow(r.cells(k))
    write_atomic(path, buf.getvalue(), encoding="utf-8-sig")
