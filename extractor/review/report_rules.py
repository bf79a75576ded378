"""Review a narrative 绩效评价报告 as an evaluator reads one: what it says of itself against its own
figures and against the forms filed beside it.

- ``problems-none``: 存在的问题 says 无 / 暂无 while execution is below 90%, the report's own figures
  disagree, or the forms beside it carry errors;
- ``claims-complete``: "目标已全部完成" in a report that lists problems of its own;
- ``self-score-high``: the unit's own score (or 优) above the evaluator's;
- ``report-rate-mismatch``: the printed 执行率 is not 执行数 ÷ 预算数;
- ``expense-over-income``: a 部门整体 report's 支出 above its 收入;
- ``parts-over-total``: the projects it lists add up to more than its budget;
- ``report-form-mismatch``: its budget or spending differs from the form of the same project.
"""

from __future__ import annotations

import re

from extractor.core.figures import clean
from extractor.core.records import Flag, Form, Report
from extractor.core.vocabulary import says_nothing

_GRADES = {"优秀": 4, "优": 4, "良好": 3, "良": 3, "中等": 2, "中": 2, "合格": 2, "及格": 2, "较差": 1, "差": 1,
           "不合格": 1}


def _name(rep: Report) -> str:
    return f"「{rep.project or rep.unit or rep.title or '绩效评价报告'}」"


def _flag(code: str, severity: str, message: str, evidence: str, suggestion: str, basis: str = "") -> Flag:
    return Flag(code=code, severity=severity, message=message, evidence=evidence, suggestion=suggestion,  # type: ignore[arg-type]
                basis=basis or "财政部《项目支出绩效评价管理办法》（财预〔2020〕10号）：绩效评价报告应如实反映存在的问题")


def _rate(rep: Report) -> float | None:
    if rep.budget_total and rep.executed_total is not None:
        return round(rep.executed_total / rep.budget_total * 100, 2)
    return None


def _same_project(rep: Report, form: Form) -> bool:
    a, b = clean(rep.project), clean(form.project_name)
    if not a or not b:
        return False
    a, b = re.sub(r"(?:项目|经费|资金|专项)$", "", a), re.sub(r"(?:项目|经费|资金|专项)$", "", b)
    return len(min(a, b, key=len)) >= 4 and (a in b or b in a)


def _same_unit(rep: Report, form: Form) -> bool:
    u = clean(rep.unit)
    return len(u) >= 3 and any(u == clean(x) or (len(clean(x)) >= 3 and (u in clean(x) or clean(x) in u))
                               for x in (form.department, form.implementing_unit) if x)


def review_report(rep: Report, forms: list[Form], own: list[Form] | None = None) -> Report:
    """Attach the report-level flags (in place; returned for chaining). ``forms``: the forms of the
    same file or batch, compared where they are the report's project; ``own``: the forms filed with
    the report (its file's), which with the batch's forms of the same unit are the unit's own."""
    flags: list[Flag] = []
    name = _name(rep)
    rate = rep.execution_rate if rep.execution_rate is not None else _rate(rep)
    computed = _rate(rep)
    if rep.execution_rate is not None and computed is not None and abs(computed - rep.execution_rate) > 0.5:
        flags.append(_flag("report-rate-mismatch", "warn",
                           f"{name}报告写明预算执行率{rep.execution_rate:g}%，按其执行数÷预算数计算应为{computed:g}%",
                           f"预算数 {rep.budget_total:g} 万元，执行数 {rep.executed_total:g} 万元，执行率 {rep.execution_rate:g}%",
                           "核对报告中的预算数、执行数与执行率，更正不一致的数字"))
    if rep.income_total is not None and rep.executed_total is not None and rep.executed_total > rep.income_total + 0.005:
        flags.append(_flag("expense-over-income", "warn",
                           f"{name}报告中支出{rep.executed_total:g}万元大于收入{rep.income_total:g}万元，报告未作说明",
                           f"收入 {rep.income_total:g} 万元，支出 {rep.executed_total:g} 万元",
                           "说明超支部分的资金来源（如动用以前年度结余），或更正收支数字"))
    amounts = [p.amount for p in rep.projects if p.amount is not None]
    if rep.budget_total and len(amounts) >= 2 and len(amounts) == len(rep.projects) \
            and sum(amounts) > rep.budget_total * 1.005 + 0.01:
        flags.append(_flag("parts-over-total", "warn",
                           f"{name}报告所列各项目金额合计{sum(amounts):g}万元，超过预算总额{rep.budget_total:g}万元",
                           "；".join(f"{p.name} {p.amount:g}" for p in rep.projects[:6]),
                           "核对各项目金额与预算总额，说明差额来源"))
    if rep.self_score is not None and rep.total_score is not None and rep.self_score > rep.total_score + 0.5:
        flags.append(_flag("self-score-high", "warn",
                           f"{name}单位自评{rep.self_score:g}分，高于评价得分{rep.total_score:g}分",
                           f"自评 {rep.self_score:g} 分；评价 {rep.total_score:g} 分",
                           "对照评价意见复核自评打分，说明自评偏高的原因"))
    elif rep.self_grade and rep.grade and _GRADES.get(rep.self_grade, 0) > _GRADES.get(rep.grade, 0):
        flags.append(_flag("self-score-high", "warn", f"{name}单位自评等级“{rep.self_grade}”高于评价等级“{rep.grade}”",
                           f"自评 {rep.self_grade}；评价 {rep.grade}", "对照评价意见复核自评等级"))
    mismatched = []
    for form in forms:
        if not _same_project(rep, form):
            continue
        t = form.funds.total
        for label, mine, theirs in (("预算数", rep.budget_total, t.full_year), ("执行数", rep.executed_total, t.executed)):
            if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)) and abs(mine - theirs) > max(0.01, 0.005 * abs(theirs)):
                mismatched.append(f"{label}：报告 {mine:g} 万元，自评表「{form.project_name}」 {theirs:g} 万元")
    if mismatched:
        flags.append(_flag("report-form-mismatch", "warn", f"{name}报告与同一项目的自评表数字不一致",
                           "；".join(mismatched), "核对报告与自评表的资金数字，以财务数据为准统一更正"))
    problems_real = rep.problems and not says_nothing(rep.problems)
    if rep.claims_complete and problems_real:
        flags.append(_flag("claims-complete", "info",
                           f"{name}报告称“{rep.claims_complete[:30]}”，同时列出了{len(rep.problems)}条问题",
                           rep.claims_complete, "结论与问题部分保持一致：未完成或有偏差的目标不应表述为全部完成"))
    if says_nothing(rep.problems):
        why = []
        if rate is not None and rate < 90:
            why.append(f"预算执行率仅{rate:g}%")
        why += [f.message for f in flags if f.severity != "info"][:2]
        mine = list(own if own is not None else forms)
        mine += [f for f in forms if _same_unit(rep, f) and all(f is not g for g in mine)]
        weak = [f for form in mine for f in form.flags if f.severity == "error"]
        if weak:
            why.append(f"同批自评表有{len(weak)}处计分或数字错误")
        if why:
            flags.insert(0, _flag("problems-none", "warn",
                                  f"{name}存在的问题写“{rep.problems[0].strip()}”，但{'；'.join(why)}",
                                  f"存在的问题：{rep.problems[0].strip()}",
                                  "如实分析执行偏差和数字不符的原因，列入存在的问题并提出整改措施"))
    rep.flags = flags
    return rep
