"""The words forms are built from: field labels, fund rows and columns, indicator columns and levels.

Everything is matched on normalised text (NFKC, no white space), so ``年初预 算数`` and
``年初预算数`` are one label. Regional variants (Sichuan 指标性质/度量单位/权重/未完成原因, Hubei
自评分, 2021-style 成本指标 as a first level) are part of the vocabulary.
"""

from __future__ import annotations

import re
from functools import lru_cache

from extractor.numbers import clean

# ---- form header fields -------------------------------------------------------------------
_FIELD_PATTERNS = {
    "project_name": r"项目名称",
    "department": r"(?:主管部门|主管单位|预算部门|主管部门及代码|主管部门\(单位\)|部门名称|主管部门名称)",
    "implementing_unit": r"(?:实施单位|项目实施单位|执行单位|实施单位名称|预算单位|项目单位)",
    "project_lead": r"(?:项目负责人?|项目负责人姓名|负责人)",
    "phone": r"(?:联系电话|电话|联系方式)",
}
_FIELD_RE = {k: re.compile(rf"^{v}[:：]?$") for k, v in _FIELD_PATTERNS.items()}
_FIELD_PREFIX_RE = {k: re.compile(rf"^{v}\s*[:：]\s*(\S.*)$") for k, v in _FIELD_PATTERNS.items()}


@lru_cache(maxsize=65536)
def field_label(text: str) -> str | None:
    """The header field a label cell names, or None."""
    t = clean(text)
    if not t or len(t) > 12:
        return None
    for role, rx in _FIELD_RE.items():
        if rx.match(t):
            return role
    return None


def split_label_value(text: str) -> tuple[str, str] | None:
    """``项目名称：XXX`` in one cell -> ("project_name", "XXX")."""
    t = text.strip()
    for role, rx in _FIELD_PREFIX_RE.items():
        m = rx.match(t)
        if m:
            return role, m.group(1).strip()
    return None


# ---- funds table ----------------------------------------------------------------------------
def fund_row_label(text: str) -> str | None:
    """Which funds row a label cell names: total, fiscal, carryover, other."""
    t = clean(text)
    if not t or len(t) > 16:
        return None
    if "资金总额" in t or t in ("合计", "资金合计", "总计"):
        return "total"
    if re.search(r"财政拨款|当年财政|本年财政|财政资金|财政拨付", t):
        return "fiscal"
    if "结转" in t:
        return "carryover"
    if t.startswith("其他资金") or t in ("其他", "其中:其他资金"):
        return "other"
    return None


def fund_column(text: str) -> str | None:
    """Which funds column a header cell names."""
    t = clean(text)
    if not t or len(t) > 14:
        return None
    if t.startswith("年初预算"):
        return "initial"
    if re.match(r"^(全年预算|调整后预算|预算数|全年预算数|年度预算)", t):
        return "full_year"
    if re.match(r"^(全年执行|执行数|实际支出|预算执行数|全年实际支出|实际执行)", t):
        return "executed"
    if re.match(r"^(分值|权重|分数)", t):
        return "weight"
    if t.startswith(("执行率", "预算执行率")):
        return "rate"
    if re.match(r"^(得分|自评分|自评得分|评分)", t):
        return "score"
    return None


def funds_unit(text: str) -> str | None:
    """The amount unit a 项目资金 header names."""
    t = clean(text)
    m = re.search(r"[(（]?(万元|元|千元|亿元)[)）]?", t)
    return m.group(1) if m and "资金" in t else None


# ---- indicator table --------------------------------------------------------------------------
def indicator_column(text: str) -> str | None:
    """Which indicator-table column a header cell names."""
    t = clean(text)
    if not t or len(t) > 20:
        return None
    if t.startswith("一级指") or t == "级指标":  # OCR loses a leading 一 (one stroke, like a rule)
        return "level1"
    if t.startswith("二级指"):
        return "level2"
    if t.startswith("三级指") or t in ("指标名称", "绩效指标名称", "指标内容"):
        return "name"
    if t == "指标性质":
        return "nature"
    if re.match(r"^(年度指标值|指标值|年度目标值|目标值|预期指标值|计划指标值|年度绩效指标值|绩效指标值|预期值|年度目标)", t):
        return "target"
    if t in ("度量单位", "计量单位", "单位"):
        return "unit"
    if re.match(r"^(实际完成值|完成值|实际值|全年实际值|全年完成值|实际完成|实际达成值|实际完成指标值)", t) and "情况" not in t:
        return "actual"
    if re.match(r"^(分值|权重|指标分值|标准分)", t):
        return "weight"
    if re.match(r"^(得分|自评分|自评得分|评分|实际得分|自评分值)", t):
        return "score"
    if re.search(r"偏差原因|未完成原因|原因分析|改进措施|偏差分析", t):
        return "deviation"
    if t in ("绩效指标", "绩效目标"):
        return "label"
    return None


_L1 = {"产出", "效益", "满意度", "成本", "效果", "项目产出", "项目效益", "影响"}
_L2 = {"数量", "质量", "时效", "进度", "成本", "经济成本", "社会成本", "生态环境成本", "生态成本",
       "环境成本", "经济效益", "社会效益", "生态效益", "环境效益", "可持续影响", "可持续发展",
       "服务对象满意度", "满意度", "社会公众满意度", "公众满意度"}
_LEVEL_SUFFIX = re.compile(r"(?:[(（]\d+(?:\.\d+)?分?[)）]|\d+(?:\.\d+)?分?)$")
_KW_SUFFIX = re.compile(r"(?:指标|标指|指|标)$")


@lru_cache(maxsize=65536)
def level_kind(text: str) -> frozenset[str]:
    """{"L1"}, {"L2"}, both, or empty: whether a cell reads as a first/second-level label."""
    t = _LEVEL_SUFFIX.sub("", clean(text))
    if not t or len(t) > 12:
        return frozenset()
    if t == "指标":
        return frozenset({"L2"})
    has_suffix = bool(_KW_SUFFIX.search(t))
    core = _KW_SUFFIX.sub("", t)
    kinds = set()
    if core in _L1 and (has_suffix or core in ("产出", "效益", "满意度")):
        kinds.add("L1")
    if core in _L2 and (has_suffix or core in ("数量", "质量", "时效", "经济效益", "社会效益",
                                               "生态效益", "可持续影响", "服务对象满意度", "满意度")):
        kinds.add("L2")
    return frozenset(kinds)


def strip_points(text: str) -> str:
    """``产出指标(50分)`` -> ``产出指标``."""
    return _LEVEL_SUFFIX.sub("", clean(text))


_TOTAL_RE = re.compile(r"^(总分|合计|总计|综合得分|总得分|分值合计)[:：]?$")
_TEMPLATE_RE = re.compile(r"^(指标\d*[:：]?|[…\.。·]+|指标[NnＮ][:：]?|\d+[.、]?)$")


def is_total_label(text: str) -> bool:
    """A 总分 row's label."""
    return bool(_TOTAL_RE.match(clean(text)))


def is_template_name(text: str) -> bool:
    """An unfilled template placeholder: ``指标1：``, ``……``."""
    return bool(_TEMPLATE_RE.match(clean(text)))


_TITLE_RE = re.compile(r"自评表|自评情况表|绩效评价表")
_YEAR_RE = re.compile(r"[(（]\s*(20\d{2})\s*年度?\s*[)）]|(20\d{2})\s*年度|年度\s*[:：]\s*(20\d{2})")


def heading_year(text: str) -> int | None:
    """The year of a heading such as ``(2023年度)`` or ``2023年度项目支出绩效自评表``."""
    t = clean(text)
    if len(t) > 40:
        return None
    m = _YEAR_RE.search(t)
    if not m:
        return None
    if m.group(1) and (t.startswith(("(", "（")) or _TITLE_RE.search(t)):
        return int(m.group(1))
    if m.group(2) and _TITLE_RE.search(t):
        return int(m.group(2))
    if m.group(1):
        return int(m.group(1))
    if m.group(3):
        return int(m.group(3))
    return None


def is_title(text: str) -> bool:
    """The form's title line."""
    t = clean(text)
    return bool(_TITLE_RE.search(t)) and len(t) <= 40


ROW_START_LABELS = ("项目资金", "年度总体目标", "绩效指标")


def starts_row(text: str) -> bool:
    """A label that always begins a new table row (never continues one)."""
    t = clean(text)
    return bool(field_label(t) or fund_row_label(t) or is_total_label(t)
                or any(t.startswith(x) for x in ROW_START_LABELS))


_PAGE_MARK = re.compile(r"^([-—–－]+\s*\d+\s*[-—–－]+|第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+)$")


def is_page_marker(text: str) -> bool:
    """A page number line (``- 2 -``, ``— 1 —``, ``第1页 共3页``) printed between table parts."""
    return bool(_PAGE_MARK.match(text.strip().replace("\f", "")))


_GOAL_HEADINGS = ("年度总体目标", "预期目标", "实际完成情况", "实际完成", "总体目标", "年度目标")


def goal_heading(text: str) -> str | None:
    """The goal-table heading a cell holds (预期目标, 实际完成情况, ...), or None for content.

    Scans lose a character under a seal or at a rule (际完成情况, 预期目); a short cell that is all
    but one character of a heading is still that heading.
    """
    t = clean(text)
    if not t or len(t) > 8:
        return None
    for h in _GOAL_HEADINGS:
        if len(h) >= 4 and len(t) >= len(h) - 1 and t in h:
            return "实际完成情况" if h.startswith("实际完成") else h
    return None
