"""Recompute every score a form states (domain.md §1.4).

* 预算执行: min(执行率, 100%) × 分值 (item 10), the rate from 全年执行数 ÷ 全年预算数 when both print;
* quantitative ≥/= indicators: min(1, actual ÷ target) × 分值 (item 11);
* ≤ indicators: full marks when actual ≤ target, else 分值 × target ÷ actual (Hubei) or the vendor
  linear decay (item 13), as configured; a target of 0: full marks only when actual ≤ 0;
* qualitative indicators keep the self score unless it leaves the band of its achievement label
  (达成 80–100%, 部分达成 60–80%, 未达成 below 60%; item 14, bands configurable);
* the total: the sum of the recomputed parts (item 16).
"""

from __future__ import annotations

import re

from extractor.core.config import ReviewConfig
from extractor.core.figures import clean
from extractor.core.lazy_regex import lazy_compile
from extractor.core.quantity import Quantity, quantity, units_compatible
from extractor.core.records import Form, Indicator, IndicatorRescore, Rescore

_NATURE = {"≥": ">=", ">=": ">=", "≤": "<=", "<=": "<=", "=": "=", "＝": "="}


def comparable(target: str | None, actual: str | None, nature: str | None = None,
               unit: str | None = None) -> tuple[Quantity, Quantity] | None:
    """Target and actual as numbers in compatible units, or None.

    Sichuan-style forms print the comparator (指标性质 ≥/≤/=/定性) and the unit (度量单位) in their
    own columns; they override what the target cell says.
    """
    t, a = quantity(target), quantity(actual)
    if t is None or a is None:
        return None
    nat = (nature or "").strip()
    if nat == "定性":
        return None
    if nat in _NATURE or unit:
        t = Quantity(_NATURE.get(nat, t.op), t.value, t.unit or (unit or "").strip())
        a = Quantity(a.op, a.value, a.unit or (unit or "").strip())
    if not units_compatible(t, a):
        return None
    if a.op != "=":
        return None  # the actual is itself a bound: nothing measured to score
    return t, a


def indicator_expected(pair: tuple[Quantity, Quantity] | None, weight: float | None,
                       cfg: ReviewConfig) -> tuple[str, float | None, str]:
    """(method, expected score, note) for one indicator, from its comparable target and actual."""
    if weight is None:
        return "未重算", None, "无分值"
    if pair is None:
        return "未重算", None, "非数值指标，按自评得分"
    t, a = pair
    if t.op == "<=":
        if t.value == 0:
            return "反向", (weight if a.value <= 0 else 0.0), "目标为0：实际不超过0得满分"
        if a.value <= t.value:
            return "反向", weight, "未超过上限，得满分"
        if cfg.thresholds.negative_rule == "linear":
            if a.value >= 2 * t.value:
                return "反向", 0.0, "超过上限一倍及以上，得0分"
            return "反向", weight * (1 - (a.value - t.value) / t.value), "线性扣分：分值×(1−超出比例)"
        return "反向", weight * t.value / a.value, "超过上限：分值×目标值÷实际值"
    if t.value == 0:
        return "正向", weight, "目标为0"
    share = max(0.0, a.value) / t.value
    return "正向", weight * min(1.0, share), "分值×min(1, 实际值÷目标值)"


# Indicators whose name says smaller is better (domain.md §1.4 item 13: cost, accident rate,
# complaints): a bare ``3%`` target of 预算调整率 is a ceiling, not a goal to reach. 控制率 and
# 变动率 only of money or staff (病虫害控制率 is a share to reach).
_LOWER_BETTER = lazy_compile(
    r"(?:经费|费用|成本|支出|开支|人员|编制|资金)(?:控制|变动)率|(?:预算|科目)?调整率|结转结余率|结余率|结转率|超支率|"
    r"(?:投诉|事故|差错|失误|违规|违纪|故障|逾期|延误|返工|损耗|损失|流失|辍学|死亡|伤亡|发病|成灾|受害|超标|误报|漏报|空置|闲置|不合格)(?:发生)?"
    r"(?:率|数|次数|起数)$")


def lower_is_better(ind: Indicator) -> bool:
    """Whether a ``=`` target is a ceiling: a 成本 indicator, or a name of the
    smaller-is-better kind (unless its 指标性质 column prints a comparator)."""
    if "成本" in clean(ind.level2) + clean(ind.level1):
        return True
    name = clean(ind.name)
    return (ind.nature or "").strip() not in _NATURE and bool(_LOWER_BETTER.search(name)) and \
        not re.search(r"处置|处理|办结|回复|解决|整改|查处|降低|下降|减少", name)


def indicator_pair(ind: Indicator) -> tuple[Quantity, Quantity] | None:
    """Comparable target/actual of an indicator; cost and smaller-is-better indicators are ceilings."""
    pair = comparable(ind.target, ind.actual, ind.nature, ind.unit)
    if pair and pair[0].op == "=" and lower_is_better(ind):
        return Quantity("<=", pair[0].value, pair[0].unit), pair[1]
    return pair


_NOT_DONE = lazy_compile(r"未达成|未完成|未达到|没有完成|未实现|^差$|^差[（(]|为差")
_PARTLY = lazy_compile(r"部分达成|部分完成|基本完成|基本达成|基本实现|良|中")
_DONE = lazy_compile(r"达成|完成|实现|达到|优")


def band_expected(actual: str | None, weight: float, self_score: float | None,
                  cfg: ReviewConfig, target: str | None = None) -> tuple[str, float | None, str]:
    """A qualitative indicator: keep the self score inside the band its achievement label allows."""
    a = clean(actual)
    if self_score is None or not a:
        return "未重算", None, "非数值指标，按自评得分"
    if target is not None and a == clean(target):
        a = "达成"  # the actual repeats the target: claimed as achieved
    hi_partial, lo_done = cfg.bands.achieved_min, cfg.bands.achieved_min
    if _NOT_DONE.search(a):
        lo, hi, label = 0.0, cfg.bands.partial_min, "未达成"
    elif _PARTLY.search(a) and not a.startswith("优"):
        lo, hi, label = cfg.bands.partial_min, hi_partial, "部分达成"
    elif _DONE.search(a):
        lo, hi, label = lo_done, 1.0, "达成"
    else:
        return "未重算", None, "非数值指标，按自评得分"
    share = self_score / weight if weight else 0.0
    if lo - 1e-9 <= share <= hi + 1e-9:
        return "定性区间", self_score, f"{label}：得分在{lo:.0%}–{hi:.0%}区间内"
    edge = hi if share > hi else lo
    return "定性区间", round(edge * weight, 2), f"{label}：得分应在分值的{lo:.0%}–{hi:.0%}之间"


def rescore_form(form: Form, cfg: ReviewConfig) -> Rescore:
    """The form's scores recomputed."""
    total = form.funds.total
    rate = None
    if isinstance(total.executed, (int, float)) and isinstance(total.full_year, (int, float)) and total.full_year:
        rate = total.executed / total.full_year * 100
    elif total.rate is not None:
        rate = total.rate
    budget_expected = None
    if total.weight is not None and rate is not None:
        budget_expected = min(rate, 100.0) / 100 * total.weight
    rs = Rescore(budget_self=total.score, budget_expected=budget_expected)
    parts: list[float] = []
    for i, ind in enumerate(form.indicators):
        pair = indicator_pair(ind)
        if pair is None and ind.weight:
            method, expected, note = band_expected(ind.actual, ind.weight, ind.score, cfg, ind.target)
        else:
            method, expected, note = indicator_expected(pair, ind.weight, cfg)
        rs.indicators.append(IndicatorRescore(index=i, method=method, self_score=ind.score, expected=expected,
                                              note=note))
        value = expected if expected is not None else ind.score
        if value is not None:
            parts.append(min(value, ind.weight) if ind.weight is not None else value)
    self_parts = [ind.score for ind in form.indicators if ind.score is not None]
    rs.self_total = form.total_score if form.total_score is not None else (
        sum(self_parts) + (total.score or 0) if self_parts else None)
    budget_part = budget_expected if budget_expected is not None else total.score
    weights = sum(ind.weight for ind in form.indicators if ind.weight is not None) + (total.weight or 0)
    ceiling = form.total_weight if form.total_weight is not None else 100
    consistent = abs(weights - ceiling) <= 0.05
    over = not consistent and weights > ceiling and not form.cut_off  # 指标 100 + 预算执行 10 against 总分 100
    if parts or budget_part is not None:
        points = sum(parts) + (budget_part or 0)
        rs.recomputed_total = round(points * ceiling / weights if over else min(points, ceiling), 2)
    if rs.self_total is not None and rs.recomputed_total is not None and (consistent or over):
        rs.gap = round(rs.self_total - rs.recomputed_total, 2)
    if over:
        rs.note = f"分值合计{weights:g}超过总分{ceiling:g}，重算总分已按{ceiling:g}分制折算（×{ceiling:g}/{weights:g}）后比较"
    elif not consistent:
        rs.note = (f"分值合计{weights:g}不足总分{ceiling:g}" + ("（原文在指标表中途结束）" if form.cut_off else "（可能有指标行未读出）")
                   + "，重算差距不作比较")
    return rs
