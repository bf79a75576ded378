"""How sure the reading of a form is, from what is left over and what does not add up.

Not a count of warnings: the cells no column took, the checks the form's own arithmetic fails
(weights adding up to the 总分, scores to the total, a score above its weight, 执行率 = 执行数 ÷
预算数), how well the cells fit the table's columns, a missing anchor. A form read with low
confidence goes first in the review queue and to the LLM step when one is configured.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from extractor.core.field_names import FUND_AMOUNTS, FUND_ROWS
from extractor.core.lazy_regex import lazy_compile
from extractor.core.records import Form
from extractor.reading.values import kind_of

if TYPE_CHECKING:
    from extractor.reading.build import Built
    from extractor.reading.forms import Blocks, FormSpan



def checks(form: Form) -> list[str]:
    """The form's own arithmetic that fails (Chinese, for the warnings)."""
    out: list[str] = []
    inds = form.indicators
    for k, i in enumerate(inds):
        if i.weight is not None and i.score is not None and i.score > i.weight + 1e-6:
            out.append(f"第{k + 1}个指标得分{i.score:g}高于分值{i.weight:g}")
    t = form.funds.total
    if isinstance(t.full_year, float) and isinstance(t.executed, float) and t.full_year and t.rate is not None:
        if abs(t.executed / t.full_year * 100 - t.rate) > 1.0:
            out.append("执行率与全年执行数÷全年预算数不符")
    if t.weight is not None and t.score is not None and t.score > t.weight + 1e-6:
        out.append("预算执行得分高于分值")
    return out


_NOTHING = frozenset({"无", "暂无", "/", "-", "—", "不涉及"})
_FIGURE_END = lazy_compile(r"(?:^|[^\d.])\d+(?:\.\d+)?\s*%?$")


def odd_name(name: str) -> bool:
    """A name that is a figure, ends in one glued on (``充分1``), or is a one-character fragment."""
    t = name.strip()
    if t in _NOTHING:
        return False  # a group printed as 无: the form's own way to say it has no indicator there
    if len(t) <= 1:
        return True
    if kind_of(t).name in ("number", "percent", "amount", "cmp"):
        return True
    return bool(_FIGURE_END.search(t)) and not re.search(r"指标\s*\d+$", t)


def assess(form: Form, built: "Built", blocks: "Blocks", span: "FormSpan") -> None:
    """Set the form's warnings and confidence."""
    w = form.warnings
    penalty = 0.0
    if form.is_fragment:
        w.append("表格残片：缺少项目名称等表头，可能是上一页表格的续表")
        penalty += 0.15
    elif form.project_name is None and form.kind == "project":
        w.append("未找到项目名称")
        penalty += 0.2
    if not form.funds.total.sources and not form.is_fragment:
        w.append("未找到项目资金表的“年度资金总额”行")
        penalty += 0.1
    if not form.indicators:
        w.append("绩效指标表中没有已填写的指标")
        penalty += 0.15
    if form.total_weight is None and form.total_score is None:
        w.append("未找到总分行")
        penalty += 0.05
    for key, label in FUND_ROWS.items():
        row = getattr(form.funds, key)
        for col, cname in FUND_AMOUNTS.items():
            v = getattr(row, col)
            if isinstance(v, str):
                w.append(f"资金表“{label}/{cname}”不是数字：{v}（已按原文保留）")
                # digits and points that read as no figure (32.06.579.27107.93): the figures were garbled
                penalty += 0.12 if re.fullmatch(r"[\d.,]+", v.strip()) else 0.05
    failed = checks(form)
    w.extend(failed)
    penalty += 0.1 * len(failed)
    if built.leftovers:
        w.append(f"有{built.leftovers}处单元格未能归入任何栏目，请核对")
        penalty += min(0.3, 0.04 * built.leftovers)
    if built.fit_cost > 0.9:
        penalty += min(0.3, (built.fit_cost - 0.9) * 0.4)
        w.append("指标表的版式与表头对应不够确定，请核对各栏数值")
    odd = sum(1 for i in form.indicators if i.name and odd_name(i.name))
    if odd:
        w.append(f"{odd}个指标名称像是数值或被截断的片段，指标表可能未读对")
        penalty += min(0.4, 0.05 * odd)
    hollow = sum(1 for i in form.indicators if (i.name or "").strip() not in _NOTHING
                 and all(v is None for v in (i.target, i.actual, i.weight, i.score)))
    if form.indicators and hollow > 0.3 * len(form.indicators) and hollow > 1:
        w.append(f"{hollow}个指标行没有任何数值，指标表可能未读对")
        penalty += min(0.3, 0.3 * hollow / len(form.indicators))
    if form.goal_expected and len(form.goal_expected) >= 20 and not form.goal_actual:
        w.append("年度总体目标只有预期目标、没有实际完成情况：两栏可能被读成了一栏，请核对")
        penalty += 0.1
    scored = [i for i in form.indicators if (i.name or "").strip() not in _NOTHING]
    unscored = sum(1 for i in scored if i.score is None)
    if scored and unscored < len(scored) and unscored * 3 >= len(scored) and unscored > 1:
        w.append(f"{unscored}个指标行有名称却没有得分，而其他行有：得分一栏可能未读对")
        penalty += 0.1
    sum_scores = sum(i.score for i in scored if isinstance(i.score, (int, float)))
    if isinstance(form.total_score, (int, float)) and isinstance(form.funds.total.score, (int, float)):
        sum_scores += form.funds.total.score
    if isinstance(form.total_score, (int, float)) and scored and sum_scores > form.total_score + 0.51:
        w.append(f"各项得分合计{sum_scores:g}超过总分{form.total_score:g}")
        penalty += 0.1
    elif isinstance(form.total_score, (int, float)) and len(scored) >= 3 and unscored <= 1 and \
            form.total_score - sum_scores > max(5.0, 0.1 * form.total_score):
        w.append(f"各项得分合计{sum_scores:g}比总分{form.total_score:g}少得多：得分一栏可能未读全")
        penalty += 0.15
    nameless = sum(1 for i in form.indicators if not i.name)
    if nameless:
        w.append(f"{nameless}个指标行没有指标名称")
        penalty += min(0.2, 0.05 * nameless)
    del blocks, span
    form.confidence = max(0.1, round(1.0 - penalty, 3))
