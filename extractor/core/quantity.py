"""Read indicator values the way an evaluator does: does a target state something measurable, does
an actual give a figure, and which numbers can be compared (comparator, value, unit).

Grounded in ../shared/domain.md §2 item 27 (quantify first; qualitative only with graded criteria)
and §5.1–5.2 (the catalogue of vague targets and unverifiable actuals). Pure functions, no state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractor.core.figures import clean
from extractor.core.lazy_regex import lazy_compile

_CN_NUM = "一二三四五六七八九十百千万两零〇"
_COUNTER = ("次|个|人|项|份|家|场|期|篇|台|件|处|所|座|辆|名|户|批|套|本|块|条|天|日|月|年|季度|周|公里|"
            "米|元|万|轮|类|种|部|支|盏|棵|株|亩|吨|卷|页|册|间|幢|栋|起|例|门|节|课时|学时|小时")
_FIGURE = lazy_compile(rf"\d|%|百分之|[{_CN_NUM}]+(?:{_COUNTER})|[一二三四]季度|年内|年底|年末|年终|清零|零(?!星)[\u4e00-\u9fff]|日清|日结|当日|当天")
_COMPARATOR_BOUND = lazy_compile(
    r"(≥|≤|>|<|＞|＜|不低于|不少于|不高于|不超过|不大于|不小于|大于|小于|高于|低于|超过|以上|以下|以内|力争|至少|最多)")
_DEADLINE_BOUND = lazy_compile(r"(前|以内|内)(完成|完工|结算|支付|办结|到位)?$|底前|之前|日清|日结|当日|当天|年内")
_BOUND_EXPR = lazy_compile(
    r"(?:≥|≤|>|<|＞|＜|不低于|不少于|不高于|不超过|不大于|不小于|大于|小于|高于|低于|超过|达到|至少|最多|力争)"
    r"\s*[\d.,]+\s*(?:%|[^\d\s；;，,。]{0,4})?(?:以上|以下|以内)?"
    r"|[\d.,]+\s*(?:%|[^\d\s；;，,。]{0,4})?\s*(?:以上|以下|以内)")
_NA = lazy_compile(r"^(不涉及|不适用|无此项|/|／)")


_NOT_A_FIGURE = lazy_compile(
    rf"《[^》]*(?:》|$)|第[\d{_CN_NUM}]+(?:次|批|届|期|季度|号|条|款)|^指标\s*\d+\s*[:：]|12345")


def has_figure(text: str | None) -> bool:
    """A number, share, date or specific count (Arabic or Chinese numerals with a counter).

    Document titles (《…2023年行动计划》), ordinals (第五次), hotline names (12345) and the
    ``指标1：`` prefix are not figures.
    """
    return bool(text) and bool(_FIGURE.search(_NOT_A_FIGURE.sub("", clean(text))))


def is_not_applicable(text: str | None) -> bool:
    """``不涉及`` / ``不涉及此项内容``: nothing measurable is stated."""
    return bool(text) and bool(_NA.match(clean(text)))


def target_is_quantified(target: str | None, weight: float | None = None, name: str | None = None) -> bool:
    """True when the 年度指标值 states a measurable value (domain.md §5.1)."""
    t = clean(target)
    if not t or is_not_applicable(t) or not has_figure(t):
        return False
    if weight is not None and re.fullmatch(r"\d+(\.\d+)?", t) and float(t) == weight:
        # a bare number that only repeats the 分值, on an indicator that is not a count
        if not re.search(r"数|次|个|人|量|份|家|项|场|率|%|人次|户", clean(name)):
            return False
    return True


_DEADLINE_EXPR = lazy_compile(
    r"(?:\d{4}\s*年\s*(?:度)?)?(?:\d{1,2}\s*月\s*(?:份|底|末|中旬|上旬|下旬)?)?(?:\d{1,2}\s*日)?"
    r"\s*(?:之前|以前|前|以内|内)|年内|年底前|月底前")
_DATE_ONLY = lazy_compile(r"^[\d\s年月日度号底末份.\-/至~～]*$")
_DONE_VERB = lazy_compile(r"完成|开展|完工|办结|实施|结算|支付|到位|发放")


def _strip_bounds(text: str) -> str:
    return _NOT_A_FIGURE.sub("", _DEADLINE_EXPR.sub("", _BOUND_EXPR.sub("", text)))


def actual_is_measured(actual: str | None, target: str | None = None) -> bool:
    """True when the 实际完成值 gives a figure comparable with the target (domain.md §5.2).

    Not a measurement: empty, 完成/已完成/完成指标, a sentence with no figure, 优/良 with no figure,
    or only a restated bound (``≥95%``, ``大于80%``, ``满意度90%以上``, a deadline copied from the target).
    """
    a = clean(actual)
    if not a or is_not_applicable(a) or not has_figure(a):
        return False
    if not has_figure(_strip_bounds(a)):
        return False  # every figure sits in a bound: ``≥75%``, ``解决率达到90%以上``
    t = clean(target)
    if t and a == t and (_COMPARATOR_BOUND.search(t) or _DEADLINE_BOUND.search(t) or "达到" in t):
        return False  # the target's bound copied as the result
    if t and a == t and _DONE_VERB.search(t) and _DATE_ONLY.match(_DONE_VERB.sub("", t)):
        return False  # ``2023年度完成`` copied: a deadline restated, not a completion date
    if not _comparable_with(a, t):
        return False
    return True


_RATE_WORDS = lazy_compile(r"率|满意|比例|占比|覆盖|%|百分")


def _comparable_with(actual: str, target: str) -> bool:
    """A share cannot answer a count or an amount; a small bare number cannot answer a share."""
    qa, qt = quantity(actual), quantity(target)
    if qa is None or qt is None:
        return True
    if qa.unit == "%" and qt.unit != "%" and not _RATE_WORDS.search(target):
        return False  # ``100%`` against ``≥30`` or ``100000元``: a completion claim, not a count
    if qt.unit == "%" and not qa.unit and qa.value < 10 <= qt.value:
        return False  # ``5`` against ``90%``: the 分值 spilled into the actual
    return True


# ---- comparable numbers ----------------------------------------------------------------------
@dataclass(frozen=True)
class Quantity:
    """A number read from a cell: comparator (>=, <=, =), value (万 applied), unit as printed."""

    op: str
    value: float
    unit: str


_Q = lazy_compile(r"([\d]+(?:\.\d+)?)\s*(万)?\s*(%|[^\d\s；;，,。、（）()]{0,3})")
_GE = lazy_compile(r"≥|>|＞|不低于|不少于|大于|高于|超过|以上|至少|达到|力争")
_LE = lazy_compile(r"≤|<|＜|不高于|不超过|不大于|小于|低于|以内|以下|控制在|最多|之内|\d\s*[^\d\s]{0,4}内(完成|办结|出具)?$")
_DATE_HINT = lazy_compile(r"\d+\s*(年|月|日|号)|\d{4}[.\-/]\d|季度|月底|年底|年末")


_CN_DIGITS = lazy_compile(r"[一二三四五六七八九十百千两零〇]")


def arabic(text: str) -> str:
    """Chinese numerals as digits (``≥三项`` -> ``≥3项``, ``两次`` -> ``2次``), by cn2an."""
    if not _CN_DIGITS.search(text):
        return text
    import warnings

    import cn2an

    with warnings.catch_warnings():  # cn2an warns on every run it cannot read (十四五)
        warnings.simplefilter("ignore")
        try:
            return cn2an.transform(text.replace("两", "二"), "cn2an")
        except Exception:  # cn2an refuses some mixed strings: keep the text as printed
            return text


def quantity(text: str | None) -> Quantity | None:
    """The first comparable number in a short cell (not dates, not long sentences); Chinese
    numerals count (``≥三项`` compares with ``3项``)."""
    t = clean(text)
    if len(t) > 24:
        return None
    t = arabic(t).replace(",", "").replace("，", "")
    if not t or len(t) > 24 or _DATE_HINT.search(t):
        return None
    nums = _Q.findall(t)
    if not nums or len(nums) > 2:
        return None
    num, wan, unit = nums[0]
    value = float(num) * (10000 if wan and unit != "元" else 1)
    if wan and unit == "元":
        unit = "万元"
        value = float(num)
    unit = unit.strip()
    op = "<=" if _LE.search(t) else ">=" if _GE.search(t) else "="
    return Quantity(op, value, re.sub(r"^(以上|以下|以内)$", "", unit))


def units_compatible(a: Quantity, b: Quantity) -> bool:
    """Same unit, or one side printed without a unit (and neither is a share against a count)."""
    ua, ub = a.unit, b.unit
    if ua == ub:
        return True
    if not ua or not ub:
        other = ua or ub
        return other != "%" or (a.value <= 100 and b.value <= 100 and min(a.value, b.value) >= 10)
    return {ua, ub} <= {"万元", "万"}


def unit_family(unit: str) -> str:
    """A coarse family for mismatch checks."""
    if unit in ("%",):
        return "share"
    if unit in ("元", "万元", "万", "千元", "亿元"):
        return "money"
    return unit or "bare"


_SCALE = lazy_compile(r"优良中差|优良中低差|定性|优秀良好|好中差")
_SLOGAN_ONLY = lazy_compile(r"^(年内|年底|年末|年终|清零|日清|日结|当日|当天|零[\u4e00-\u9fff]+)")


def borderline(name: str | None, target: str | None, weight: float | None) -> str | None:
    """Why the vagueness call on this indicator is a judgement call, or None when it is clear-cut."""
    t, n = clean(target), clean(name)
    quantified = target_is_quantified(target, weight, name)
    if not quantified and has_figure(_NOT_A_FIGURE.sub("", n)):
        return "目标值未量化，但指标名称中写有数字"
    if not quantified and _SCALE.search(t):
        return "目标值为评价等级，需判断是否有分级标准"
    if quantified and _SLOGAN_ONLY.match(t):
        return "目标值只有“年内”“清零”等表述"
    if quantified and weight is not None and re.fullmatch(r"\d+(\.\d+)?", t) and float(t) == weight:
        return "目标值与分值相同"
    return None
