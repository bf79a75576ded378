"""Repairs for OCR misreads that the form's own arithmetic can prove, and Chinese names for fields.

OCR under blur often drops a decimal point (``12.48263`` read as ``1248263``). The funds table
carries two checks on itself: each column's 年度资金总额 is the sum of its parts, and the total row's
执行率 is 全年执行数 / 全年预算数. An OCR-read amount with no decimal point is replaced by the one
decimal placement that makes a failing check hold (and breaks none that held); every repair is
reported in the form's warnings so the reviewer confirms it. Nothing is repaired on digital input.
"""

from __future__ import annotations

from extractor.schemas import Form, FundRow

ROWS = {"total": "年度资金总额", "fiscal": "当年财政拨款", "carryover": "上年结转", "other": "其他资金"}
COLUMNS = {"initial": "年初预算数", "full_year": "全年预算数", "executed": "全年执行数", "rate": "执行率",
           "weight": "分值", "score": "得分"}
FIELDS = {"year": "年度", "project_name": "项目名称", "department": "主管部门", "implementing_unit": "实施单位",
          "project_lead": "项目负责人", "phone": "联系电话", "goal_expected": "预期目标",
          "goal_actual": "实际完成情况", "total_weight": "总分分值", "total_score": "总分得分",
          "level1": "一级指标", "level2": "二级指标", "name": "三级指标", "target": "年度指标值",
          "actual": "实际完成值", "weight": "分值", "score": "得分", "deviation": "偏差原因"}


def chinese_name(key: str) -> str:
    """The Chinese name of a schema field (for messages users read)."""
    return FIELDS.get(key, COLUMNS.get(key, key))


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
    rows = {r: getattr(form.funds, r) for r in ROWS}
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
                notes.append(f"资金表“{ROWS[rname]}/{COLUMNS[col]}”OCR读作{v:g}，按合计/执行率关系修正为{good[0]:g}，请核对")
    return notes
