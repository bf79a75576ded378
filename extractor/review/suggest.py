"""Concrete rewrites for vague targets and unmeasured actuals, built only from the form itself.

A suggestion uses the indicator's own name, the figures printed elsewhere on the form (in the name,
the 年度总体目标, the funds table) and blanks (``__``) where the form gives no figure: never an
invented fact (domain.md §2 items 26–27, §4 items 1 and 9).
"""

from __future__ import annotations

import re

from extractor.core.figures import as_json_number, clean
from extractor.core.lazy_regex import lazy_compile
from extractor.core.quantity import has_figure, quantity
from extractor.core.records import Form, Indicator

_PREFIX = lazy_compile(r"^指标\s*\d+\s*[:：]\s*")
_NUM_UNIT = lazy_compile(r"(\d+(?:\.\d+)?\s*(?:万元|万|%|个|项|处|人次|人|次|份|家|场|期|篇|台|件|所|座|辆|名|户|公里|米|吨|卷|页|册|天|小时))")
_STOP = set("的和与及等对在了为是有按进行开展完成工作项目情况相关")


_WRAP = lazy_compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_DATE_IN_NAME = lazy_compile(r"(\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?(?:\s*(?:底|末))?(?:\s*前)?|\d{1,2}\s*月\s*(?:底|末)?\s*前?)")


def _topic(ind: Indicator) -> str:
    name = _WRAP.sub("", _PREFIX.sub("", (ind.name or "").strip()))
    return name.rstrip("，,。；;") or (ind.level2 or "该指标")


def _related_clause(form: Form, topic: str) -> str | None:
    """A clause of the goals that shares words with the indicator and holds a figure."""
    keys = {topic[i:i + 2] for i in range(len(topic) - 1)}
    keys = {k for k in keys if not (set(k) & _STOP)}
    best, best_hits = None, 0
    for text in (form.goal_actual, form.goal_expected):
        for clause in re.split(r"[，,。；;！\n]", text or ""):
            c = clause.strip()
            if not c or not _NUM_UNIT.search(c) or len(c) > 40:
                continue
            hits = sum(1 for k in keys if k in c)
            if hits > best_hits:
                best, best_hits = c, hits
    return best if best_hits >= 1 else None


def suggest_target(form: Form, i: int) -> str:
    """A measurable target for indicator i."""
    ind = form.indicators[i]
    topic = _topic(ind)
    from extractor.core.quantity import is_not_applicable

    if is_not_applicable(ind.target) or is_not_applicable(ind.name):
        kind = ind.level2 or "指标"
        return f"删除该行；确属本项目适用的，设置具体的{kind}并写明目标值"
    date = _DATE_IN_NAME.search(clean(ind.name))
    if date:
        d = date.group(1)
        deadline = d if d.endswith("前") else (d + "底前" if d.endswith("月") else d + "前")
        return f"年度指标值写明“{deadline}”；实际完成值填写实际完成日期"
    in_name = _NUM_UNIT.findall(clean(ind.name))
    if in_name:
        subject = _NUM_UNIT.sub("", topic).strip("，,:：/ ") or topic
        money = re.search(r"万元|万|元", in_name[0]) or "成本" in clean(ind.level2)
        if len(subject) < 2:
            subject = "项目成本" if money else (ind.level2 or "该指标")
        op = "≤" if money else "≥"
        amount = in_name[0] + ("元" if in_name[0].endswith("万") else "")
        return f"{subject}：{op} {amount}（将指标名称中的{'金额' if money else '数量'}写入年度指标值，并注明统计口径）"
    clause = _related_clause(form, topic)
    if clause:
        return f"参照本表年度总体目标“{clause}”量化为“{topic} ≥ …（数量＋单位）”，并写明完成时限"
    l2 = clean(ind.level2)
    year = f"{form.year}年" if form.year else "____年"
    if "数量" in l2:
        return f"{topic}：数量 ≥ __（写明单位，如个、项、人次）"
    if "质量" in l2:
        return f"{topic}：合格率（达标率、验收通过率）≥ __%"
    if "时效" in l2 or "进度" in l2:
        return f"{year}__月__日前完成{topic}（或按时完成率 ≥ __%）"
    if "成本" in l2:
        budget = form.funds.total.full_year
        cap = f"，不超过全年预算数{as_json_number(budget)}万元" if isinstance(budget, (int, float)) else ""
        return f"{topic}：单位成本或分项成本 ≤ __万元{cap}"
    if "满意" in l2 or "满意" in topic:
        subject = topic if "满意" in topic else "服务对象满意度"
        return f"{subject} ≥ __%（注明调查方式、样本量和调查时间）"
    if "效益" in l2 or "影响" in l2:
        return f"{topic}：由基期值 __ 提升（降低）至 __，注明数据来源"
    return f"{topic}：写明可衡量的数值、单位和完成时限"


def suggest_actual(form: Form, i: int) -> str:
    """What the actual should report for indicator i."""
    ind = form.indicators[i]
    q = quantity(ind.target)
    unit = f"（单位：{q.unit}）" if q and q.unit else ""
    target = f"与目标“{ind.target}”同口径{unit}" if ind.target and has_figure(ind.target) else "写明数值和单位"
    clause = _related_clause(form, _topic(ind))
    hint = f"；本表实际完成情况写有“{clause}”，可据此填列" if clause else ""
    return f"填写实测值，{target}{hint}，并保留台账、验收记录等佐证材料"
