"""Repairs for OCR misreads that the form's own arithmetic can prove, and Chinese names for fields.

OCR under blur often drops a decimal point (``12.48263`` read as ``1248263``). The funds table
carries two checks on itself: each column's 年度资金总额 is the sum of its parts, and the total row's
执行率 is 全年执行数 / 全年预算数. An OCR-read amount with no decimal point is replaced by the one
decimal placement that makes a failing check hold (and breaks none that held); every repair is
reported in the form's warnings so the reviewer confirms it. Nothing is repaired on digital input.
"""

from __future__ import annotations

from extractor.core.field_names import FUND_COLUMNS, FUND_ROWS
from extractor.core.records import Form, FundRow


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _checks(funds_rows: dict[str, FundRow], col: str) -> list[bool | None]:
    """Results of the checks touching column ``col`` (None where a check cannot be made)."""
    t = _num(getattr(funds_rows["total"], col))
    parts = [_num(getattr(funds_rows[r], col)) for r in ("fiscal", "carryover", "other")]
    out: list[bool | None] = []
    if t is not None and any(p is not None for p in parts):
        s = sum(p or 0.0 for p in parts)
        out.append(abs(t - s) <= max(0.011, abs(t) * 1e-4))
    else:
        out.append(None)
    total = funds_rows["total"]
    ex, fy, rate = _num(total.executed), _num(total.full_year), _num(total.rate)
    if col in ("executed", "full_year") and ex is not None and fy and rate is not None:
        out.append(abs(ex / fy * 100 - rate) <= 0.6)
    else:
        out.append(None)
    return out


def _improves(before: list[bool | None], after: list[bool | None]) -> bool:
    fixed = any(b is False and a is True for b, a in zip(before, after))
    broken = any(b is True and a is not True for b, a in zip(before, after))
    return fixed and not broken


def repair_decimal_points(form: Form) -> list[str]:
    """Put back decimal points the funds arithmetic proves OCR dropped; returns Chinese notes."""
    rows = {r: getattr(form.funds, r) for r in FUND_ROWS}
    notes = []
    for col in ("initial", "full_year", "executed"):
        for rname, row in rows.items():
            v = _num(getattr(row, col))
            ref = row.sources.get(col)
            if v is None or ref is None or ref.confidence is None or v < 100 or v != int(v):
                continue
            if int(v) % 10 == 0:  # 1863180 for 186.318: more likely 元 in a 万元 table (a real error to
                continue          # flag) than a point dropped from a figure printed with a trailing 0
            before = _checks(rows, col)
            if False not in before:
                continue
            good = []
            for k in range(1, len(str(int(v)))):
                setattr(row, col, round(v / 10 ** k, k))
                if _improves(before, _checks(rows, col)):
                    good.append(round(v / 10 ** k, k))
            setattr(row, col, v)
            if len(good) == 1:
                setattr(row, col, good[0])
                notes.append(f"资金表“{FUND_ROWS[rname]}/{FUND_COLUMNS[col]}”OCR读作{v:g}，按合计/执行率关系修正为{good[0]:g}，请核对")
    return notes
