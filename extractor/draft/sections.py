"""Draft the 存在问题 / 建议 sections from the flags of a batch of reviewed forms.

Flags are grouped into the problem categories evaluators use (domain.md §4). Each problem is a
numbered paragraph, fact → figure → what it suggests: how many projects (and what share of the
batch) and how many indicators, at most two examples quoted from the forms (one per kind of
defect; one sentence per root cause, e.g. a budget adjusted, under-executed and unexplained), and a
hedged reading. Each 建议 answers its problem with an action, a standard, an owner and a year. The
full list of projects per problem goes to an annex table. Every statement comes from the flags and
the forms; nothing is added that the forms do not show.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.core.atomic import write_atomic
from extractor.core.copies import copy_identity
from extractor.core.figures import clean
from extractor.core.lazy_regex import lazy_compile
from extractor.core.records import LOW_READING_CONFIDENCE
from extractor.core.vocabulary import fold, says_nothing
from extractor.draft.word import markdown_to_docx

_DIGITS = "零一二三四五六七八九"


def cn_num(n: int) -> str:
    """1 -> 一, 11 -> 十一, 23 -> 二十三 (headings up to 99)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class Category:
    """One problem category: the codes it gathers, its heading, its reading, and the advice."""

    key: str
    title: str
    codes: tuple[str, ...]
    reflects: str
    advice_title: str
    advice: str


CATEGORIES = [
    Category("vague", "绩效指标设置不够明确，量化程度不足", ("vague-target",),
             "说明绩效目标未按数量、质量、时效、成本等维度细化分解，“明确、具体、可衡量”的要求落实不到位。",
             "细化量化绩效指标", "在编制{next}年度绩效目标时，按数量、质量、时效、成本、效益逐项设置指标，每项写明数值、"
             "计量单位和完成时限；确需定性表述的，明确分级分档标准。由项目单位业务科室提出，财务部门审核把关。"),
    Category("evidence", "实际完成值缺乏实测数据，完成情况难以核实", ("unmeasured-actual", "all-exact"),
             "说明自评以“完成”等表述代替实际数据，自评结果缺乏可核验的依据。",
             "据实填报完成值并留存佐证", "{year}年度自评时，按年度指标值的口径逐项填写实际完成的数值，同步整理台账、验收单、"
             "支付凭证等佐证材料备查。由项目单位负责，财务部门在汇总时抽查。"),
    Category("arith", "自评表计算和填报存在差错", ("weights-not-100", "score-sum-mismatch", "rate-mismatch",
                                         "budget-score-mismatch", "score-over-weight"),
             "说明自评表报送前未对表内勾稽关系进行复核。",
             "加强自评表复核", "报送前对分值合计、得分合计、执行率及预算执行得分逐项复核，并与决算数据核对一致；"
             "由财务部门负责审核，审核后再行报送。"),
    Category("inflated", "自评打分不够严格，存在自评偏高现象", ("full-score-shortfall", "score-formula"),
             "说明自评未严格按“实际完成值÷年度指标值×分值”等计分规则打分，自评结果不够客观。",
             "严格按计分规则自评", "{year}年度自评时，正向指标按完成比例计分，反向指标超出目标的按比例扣分，"
             "未完成目标的不得给满分；财务部门复核时重点核对未完成指标的得分。"),
    Category("deviation", "偏差原因分析缺失", ("deviation-unexplained", "problems-none"),
             "说明对扣分和未完成事项未进行原因分析，难以据此改进管理。",
             "逐项分析偏差原因", "对每项扣分或未完成的指标逐项说明偏差原因，提出具体改进措施和完成时限；"
             "预算执行率未达要求的，说明资金未执行的原因和后续安排。由项目单位填报。"),
    Category("budget", "预算执行进度偏慢或年中调整幅度较大", ("low-execution", "budget-adjusted", "late-execution"),
             "说明预算编制的准确性和执行进度管控有待加强。",
             "提高预算编制准确性，加强执行监控", "编制{next}年度预算时据实测算资金需求；年中对执行进度开展监控，"
             "对追加或调减预算逐项说明原因。由财务部门牵头，项目单位配合。"),
    Category("system", "指标体系不够完整，部分指标归类不当", ("missing-dimension", "misclassified", "weight-allocation",
                                                   "template-residue", "incomplete-indicators"),
             "说明指标体系未对照产出、效益、满意度的定义设置，部分表格留有未使用的模板内容。",
             "完善指标体系", "对照《项目支出绩效评价管理办法》（财预〔2020〕10号）的指标框架，补充与项目相符的效益、"
             "满意度指标，将时效、成本、预算管理类指标归入正确类别，删除未使用的模板行。由项目单位在编制{next}年度绩效目标时落实。"),
    Category("cost", "成本指标设置不合理，计分口径不明确", ("cost-vs-budget",),
             "说明成本指标多以预算金额作为目标，未体现成本控制要求。",
             "改进成本指标设置", "成本指标改用单位成本、分项成本上限或成本节约率等，并写明“≤”等计分口径；"
             "由项目单位在编制{next}年度绩效目标时落实，财务部门审核。"),
    Category("unit", "完成值与目标口径或金额单位不一致", ("unit-mismatch",),
             "说明部分完成值与目标的计量口径不一致，难以比较。",
             "统一计量口径", "完成值按年度指标值的单位和口径填报，表内金额统一以万元填列；由财务部门复核。"),
    Category("satisfaction", "满意度指标缺乏支撑材料", ("satisfaction-unsupported", "satisfaction-own-staff"),
             "说明满意度结果缺少问卷调查等数据来源，结论的可信度不足。",
             "规范满意度调查", "开展满意度抽样问卷调查，注明调查对象、样本量、调查时间和计算方法，留存问卷和统计表；"
             "有条件的委托第三方实施。由项目单位在{year}年度自评前完成。"),
    Category("low-target", "部分指标目标值设置偏低", ("overachievement",),
             "说明部分目标值的设定依据不够充分。",
             "合理设定目标值", "参考以前年度完成值和行业标准设定{next}年度目标值；对超额完成较多的指标说明原因。"
             "由项目单位业务科室提出，财务部门审核。"),
    Category("inputs", "部分指标以资金投入代替产出，指标科学性不足", ("inputs-as-outputs",),
             "说明部分产出指标以资金数额或百分比代替实际产出和成本控制，不能反映资金使用的结果。",
             "以产出和成本设置指标", "编制{next}年度绩效目标时，产出指标写明资金所形成的实物量或服务量（人数、工程量、次数等），"
             "成本指标写明单位成本或分项成本上限；资金金额不作为产出目标。由项目单位业务科室提出，财务部门审核。"),
    Category("match", "资金执行与产出、完成情况的表述不一致", ("execution-outputs-mismatch", "goal-funds-mismatch"),
             "说明资金执行数据与产出完成情况、文字说明之间缺少相互印证，自评结果的可信度不足。",
             "核实资金与产出数据的一致性", "{year}年度自评时，将实际完成情况中的金额与资金表、决算数据逐项核对；执行率偏低而产出"
             "全部完成的，说明资金结余的原因，并在编制{next}年度预算时据实调整。由财务部门与项目单位共同核实。"),
    Category("relevance", "绩效指标与年度目标关联性不强", ("goal-indicator-unrelated",),
             "说明绩效指标未围绕年度目标的主要内容设置，指标完成情况难以反映目标的实现程度。",
             "围绕年度目标设置指标", "编制{next}年度绩效目标时，先写明年度目标的主要任务和预期效果，再逐项设置对应的产出和效益指标，"
             "做到目标与指标一一对应。由项目单位业务科室提出，财务部门审核。"),
    Category("goal", "年度总体目标完成情况照抄预期目标", ("goal-copied",),
             "说明实际完成情况未据实填写，总体目标的完成程度无法判断。",
             "据实填写总体目标完成情况", "按预期目标逐项写明实际完成的数量、质量、时间和效果，并附关键数据。由项目单位填报。"),
]


# an internal office or section (办公室, 财务科, 综合处室) is part of a department, never the department
_SECTION = lazy_compile(r"^(?:办公室|[\u4e00-\u9fff]{0,6}(?:科|科室|处室|股|组))$")
_ABBREVIATIONS = (("发改委", "发展和改革委员会"), ("发改局", "发展和改革局"),
                  ("区政府", "区人民政府"), ("县政府", "县人民政府"), ("市政府", "市人民政府"))
_REGION = lazy_compile(r"^(?:[\u4e00-\u9fff]{2,7}?(?:省|自治区))?(?:[\u4e00-\u9fff]{2,6}?市)?(?=[\u4e00-\u9fff]{2,}[区县市旗])")


def _unit_name(form: dict[str, Any]) -> str:
    """The 主管部门 as a name, in simplified characters: a unit code (101019) or an internal office
    (办公室, 财政处室) gives way to the implementing unit."""
    dept = fold(form.get("department") or "")
    if not dept or re.fullmatch(r"[\d\-]+", dept) or _SECTION.match(dept):
        dept = fold(form.get("implementing_unit") or "") or ("" if _SECTION.match(dept) else dept)
    if not dept or _SECTION.match(dept):
        dept = form.get("document_unit") or ""  # the department the other forms of its file name
    return dept


def department_key(name: str) -> str:
    """One key for the spellings of one department (北京市通州区发展和改革委员会, 通州区发改委): the
    abbreviations written out and the province and city before a district or county dropped."""
    t = fold(name)
    for short, full in _ABBREVIATIONS:
        t = t.replace(short, full)
    return _REGION.sub("", t)


def load_reviewed(paths: list[Path], damaged: list[tuple[Path, str]] | None = None) -> list[dict[str, Any]]:
    """Forms (with flags) from review outputs: JSON files or folders of them.

    The same form sent twice (as PDF and as Word, say) is counted once. A damaged or foreign file
    (cut short, not JSON, not a review output) is passed over and listed in ``damaged`` with why.
    """
    forms, seen = [], set()
    for p in paths:
        files = sorted(q for q in p.glob("*.json") if not q.name.startswith("_")) if p.is_dir() else [p]
        for f in files:
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
                if not isinstance(data, dict) or not isinstance(data.get("forms", []), list):
                    raise ValueError("不是审核结果文件（缺少 forms 列表）")
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                if damaged is not None:
                    why = "文件不完整或不是有效的JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
                    damaged.append((f, why))
                continue
            file_forms = [x for x in data.get("forms") or [] if isinstance(x, dict)]
            named = Counter(u for u in (_unit_name(x) for x in file_forms) if u)
            for form in file_forms:
                if named and not _unit_name(form):  # 办公室 on one form of a department's file
                    form = {**form, "document_unit": named.most_common(1)[0][0]}
                key = copy_identity(form)
                if key not in seen:
                    seen.add(key)
                    forms.append(form)
    return forms


@dataclass
class Finding:
    """The flags of one category across the batch, with their forms."""

    category: Category
    items: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # (form, flag)

    def forms(self) -> list[dict[str, Any]]:
        out, seen = [], set()
        for form, _ in self.items:
            if id(form) not in seen:
                seen.add(id(form))
                out.append(form)
        return out


def _not_applicable(fl: dict[str, Any]) -> bool:
    return "不涉及" in (fl.get("evidence") or "") + (fl.get("message") or "")


def _inflated(fl: dict[str, Any]) -> bool:
    s, e = fl.get("self_score"), fl.get("expected_score")
    return fl.get("code") == "full-score-shortfall" or (s is not None and e is not None and s > e)


def findings(forms: list[dict[str, Any]], accepted_only: bool = False) -> list[Finding]:
    """Flags grouped by category, in the order evaluators write them; empty categories dropped."""
    by_code = {code: cat for cat in CATEGORIES for code in cat.codes}
    cats = {c.key: c for c in CATEGORIES}
    found = {c.key: Finding(c) for c in CATEGORIES}
    for form in forms:
        for fl in form.get("flags") or []:
            if accepted_only and fl.get("decision") not in ("accepted", "edited"):
                continue
            cat = by_code.get(fl.get("code"))
            if cat is None:
                continue
            if cat.key == "inflated" and not _inflated(fl):
                cat = cats["cost"]  # scored below the rule: the scoring basis is unclear, not inflation
            if cat.key == "arith" and fl.get("severity") == "info":
                continue  # rounding-only differences stay in the flag list, not in the report
            found[cat.key].items.append((form, fl))
    return [f for f in found.values() if f.items]


def _label(form: dict[str, Any], clash: set[str]) -> str:
    name = form.get("project_name") or "表格残片"
    return f"「{name}」（{_unit_name(form)}）" if clean(name) in clash and _unit_name(form) else f"「{name}」"


def _budget_sentence(form: dict[str, Any]) -> str | None:
    t = (form.get("funds") or {}).get("total") or {}
    ini, full, ex = t.get("initial"), t.get("full_year"), t.get("executed")
    if not all(isinstance(v, (int, float)) for v in (full, ex)) or not full:
        return None
    parts = []
    if isinstance(ini, (int, float)) and ini and abs(full - ini) / ini > 0.2:
        word = "追加" if full > ini else "调减"
        parts.append(f"年初预算{ini:g}万元，年中{word}至{full:g}万元（{(full - ini) / ini:+.0%}）")
    else:
        parts.append(f"全年预算{full:g}万元")
    parts.append(f"全年执行{ex:g}万元，执行率{ex / full:.2%}")
    unexplained = any(fl.get("code") == "deviation-unexplained" and fl.get("indicator") is None
                      for fl in form.get("flags") or [])  # the review found no reason anywhere in the form
    if ex / full < 0.9 and unexplained:
        parts.append("表中未说明原因")
    return "，".join(parts)


def _plus_budget_forms(f: Finding) -> list[dict[str, Any]]:
    """Forms whose indicator weights alone reach the total, with the budget weight added on top."""
    out = []
    for form in f.forms():
        ws = [i.get("weight") for i in form.get("indicators") or [] if isinstance(i.get("weight"), (int, float))]
        bw = ((form.get("funds") or {}).get("total") or {}).get("weight")
        total = form.get("total_weight") if form.get("total_weight") is not None else 100
        if ws and bw and abs(sum(ws) - total) < 0.05 and any(
                fl.get("code") == "weights-not-100" for fl in form.get("flags") or []):
            out.append(form)
    return out


def _empty_cell(fl: dict[str, Any]) -> bool:
    """A finding on an empty cell (``（空）``): a weaker example than a printed value, which shows the defect."""
    return (fl.get("evidence") or "").strip() in ("", "（空）")


def _examples(f: Finding, clash: set[str], limit: int = 2) -> list[str]:
    """At most ``limit`` examples: one per kind of defect first, typical rows before 不涉及 rows; never
    a table fragment or an empty cell (counted, but nothing a reader could check)."""
    out, used_forms, used_codes = [], set(), set()
    if f.category.key == "arith":
        same = _plus_budget_forms(f)
        if len(same) >= 2:
            units = "、".join(dict.fromkeys(_unit_name(x) for x in same if _unit_name(x)))
            t = same[0].get("total_weight") or 100
            out.append(f"{units}{len(same)}份自评表的三级指标分值合计已达{t:g}分，另计预算执行分值，总分栏仍按{t:g}分填列，"
                       f"导致分值、得分合计与总分不符")
            used_forms.update(id(x) for x in same)
    # a fragment or an empty cell is no example a reader can check: counted, never quoted
    quotable = [it for it in f.items if it[0].get("project_name") and not _empty_cell(it[1])]
    ordered = sorted(quotable, key=lambda it: (_not_applicable(it[1]), it[1].get("code") in used_codes))
    for form, fl in ordered:
        if id(form) in used_forms or len(out) >= limit:
            continue
        if f.category.key == "budget":
            sentence = _budget_sentence(form)
            if sentence:
                out.append(f"{_label(form, clash)}{sentence}")
                used_forms.add(id(form))
            continue
        msg = (fl.get("message") or "").rstrip("。")
        name = form.get("project_name") or "表格残片"
        msg = msg.replace(f"「{name}」", _label(form, clash), 1)
        if f.category.key == "arith" and fl.get("code") == "score-sum-mismatch" and any(
                x.get("code") == "weights-not-100" for x in form.get("flags") or []):
            continue  # the weights finding already explains the totals
        out.append(msg)
        used_forms.add(id(form))
        used_codes.add(fl.get("code"))
    return out


def _problem_text(k: int, f: Finding, n_forms: int, clash: set[str], n_rows: int = 0) -> str:
    """One numbered problem: the count of projects out of the batch's (fragments apart), and of
    indicators out of all the batch's indicators, then examples and what it reflects."""
    forms = f.forms()
    projects = [x for x in forms if x.get("project_name") or not x.get("is_fragment")]
    share = f"（占{len(projects) / n_forms:.0%}）" if n_forms >= 5 and projects else ""
    rows = {(id(form), fl.get("indicator")) for form, fl in f.items
            if fl.get("indicator") is not None and not _not_applicable(fl)}
    scope = f"{n_forms}个项目中有{len(projects)}个{share}" if projects else ""
    if len(forms) > len(projects):
        scope += f"{'，另有' if scope else ''}表格残片{len(forms) - len(projects)}个"
    row_forms = {fid for fid, _ in rows}
    if rows and len(row_forms) == len(forms):
        scope += f"，涉及全部{n_rows}项指标中的{len(rows)}项" if n_rows else f"的{len(rows)}项指标"
    elif rows:  # a category of table-level findings with a few row-level ones: say which is which
        scope += f"（其中{len(row_forms)}个项目涉及具体指标{len(rows)}项）"
    examples = _examples(f, clash)
    ex = f"如{'；'.join(examples)}。" if examples else ""
    return f"（{cn_num(k + 1)}）{f.category.title}。{scope}存在此类问题。{ex}{f.category.reflects}"


def _next_year(year: int | None) -> int | str:
    """The next self-evaluation: the batch's year is being evaluated now (a 2023 form in 2024), so
    the next one is of the year after (``下一`` when the forms give no year)."""
    return year + 1 if year else "下一"


def _target_year(year: int | None) -> int | str:
    """The first year whose targets and budget can still be set: the year after the one already
    under way (2023 forms, evaluated in 2024, whose targets were set in 2023: 2025)."""
    return year + 2 if year else "下一预算"


def _advice_text(k: int, f: Finding, year: int | None) -> str:
    return f"（{cn_num(k + 1)}）{f.category.advice_title}。" + f.category.advice.format(
        year=_next_year(year), next=_target_year(year))


def annex_rows(fs: list[Finding], clash: set[str]) -> list[tuple[str, str, str]]:
    """(problem number and title, project, count) for the annex."""
    rows = []
    for k, f in enumerate(fs):
        places: dict[int, tuple[dict[str, Any], set]] = {}  # per form: the places the body counts
        for form, fl in f.items:
            if fl.get("indicator") is not None and _not_applicable(fl):
                continue  # 不涉及 rows are not counted in the text either
            where = ("row", fl.get("indicator")) if fl.get("indicator") is not None else ("form", fl.get("code"))
            places.setdefault(id(form), (form, set()))[1].add(where)
        for form, seen in places.values():
            n = len(seen)
            name = form.get("project_name") or "表格残片"
            if clean(name) in clash and _unit_name(form):
                name = f"{name}（{_unit_name(form)}）"
            rows.append((f"（{cn_num(k + 1)}）{f.category.title}", name, str(n)))
    return rows


def load_reports(paths: list[Path]) -> list[dict[str, Any]]:
    """The narrative reports (with their flags) of review outputs, each with the file it came from."""
    out = []
    for p in paths:
        for f in sorted(q for q in p.glob("*.json") if not q.name.startswith("_")) if p.is_dir() else [p]:
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                continue  # load_reviewed names the damaged files
            for rep in (data.get("reports") or []) if isinstance(data, dict) else []:
                if isinstance(rep, dict):
                    out.append({**rep, "source": data.get("source")})
    return out


def _report_name(rep: dict[str, Any]) -> str:
    who = rep.get("unit") or ""
    what = rep.get("project") or ("部门整体支出" if rep.get("kind") == "department" else "")
    if not who and rep.get("title"):
        return f"「{rep['title']}」"
    return f"「{who}{what}」" if who or what else f"「{rep.get('source') or '绩效评价报告'}」"


def report_paragraphs(reports: list[dict[str, Any]], k0: int, year: int | None) -> tuple[list[str], list[str]]:
    """The 问题 and 建议 paragraphs the narrative reports give: what the reports themselves list as
    problems, and what the review found in them (a 暂无问题 beside figures that say otherwise)."""
    own = [(r, p) for r in reports if not says_nothing(r.get("problems") or []) for p in r.get("problems") or []]
    flagged = [(r, f) for r in reports for f in r.get("flags") or [] if f.get("severity") != "info"]
    problems, advice = [], []
    if own:
        ex = "；".join(f"{_report_name(r)}报告提出“{p.rstrip('。;；')[:60]}”" for r, p in own[:3])
        problems.append(f"（{cn_num(k0 + 1)}）绩效评价报告自身反映的问题。{len({id(r) for r, _ in own})}份报告共列出"
                        f"{len(own)}条问题，如{ex}。说明相关单位已认识到上述不足，需跟踪整改落实。")
        advice.append(f"（{cn_num(k0 + 1)}）跟踪落实报告所列问题的整改。对各报告列出的问题逐条明确整改措施、责任科室和完成时限，"
                      f"{_next_year(year)}年度自评时报告整改结果。")
    if flagged:
        k = k0 + len(problems)
        ex = "；".join(f"{_report_name(r)}{f.get('message', '').split('」', 1)[-1]}" for r, f in flagged[:3])
        problems.append(f"（{cn_num(k + 1)}）绩效评价报告反映问题不够客观全面。{len({id(r) for r, _ in flagged})}份报告存在"
                        f"此类情况，如{ex}。说明报告未如实分析执行偏差和数据差错，结论的可信度不足。")
        advice.append(f"（{cn_num(k + 1)}）如实撰写绩效评价报告。报告中的预算、执行和得分数据与自评表、决算数据核对一致；"
                      "执行率偏低、目标未完成或数据有误的，在“存在的问题”中如实列示并分析原因，不得以“无”代替。由项目单位负责，财务部门审核。")
    return problems, advice


def _self_scoring(forms: list[dict[str, Any]]) -> str:
    """How the batch scored itself: how many forms gave themselves full marks, and how far the self
    totals sit above the totals recomputed by the scoring rules (domain.md §1.4)."""
    scored = [x for x in forms if isinstance(x.get("total_score"), (int, float))]
    full = [x for x in scored if x["total_score"] >= (x.get("total_weight") or 100) - 1e-9]
    gaps = [g for x in forms if isinstance(g := (x.get("rescore") or {}).get("gap"), (int, float))]
    parts = []
    if len(full) >= 2:
        parts.append(f"{len(scored)}份填有总分的自评表中{len(full)}份自评满分")
    if gaps and (mean := sum(gaps) / len(gaps)) >= 1:
        parts.append(f"按计分规则重算，{len(gaps)}份可重算的表自评总分平均高出{mean:.1f}分")
    return ("其中" + "；".join(parts) + "。") if parts else ""


def _same_indicator_sets(forms: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Groups of two or more forms of different projects whose indicators (three or more, by name and
    target) are the same: one set copied across projects."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for x in forms:
        rows = tuple((clean(i.get("name")), clean(i.get("target"))) for i in x.get("indicators") or []
                     if i.get("name") and i.get("target"))
        if len(rows) >= 3 and x.get("project_name"):
            groups.setdefault(rows, []).append(x)
    return [g for g in groups.values() if len({clean(x.get("project_name")) for x in g}) >= 2]


def _unsure(form: dict[str, Any]) -> bool:
    """A form whose reading is doubtful (low reading confidence, or the review skipped its structure
    checks): the draft neither counts nor quotes it."""
    conf = form.get("confidence")
    return (isinstance(conf, (int, float)) and conf < LOW_READING_CONFIDENCE) or any(
        "未做计分与结构类审核" in w for w in form.get("warnings") or [])


def draft_sections(forms: list[dict[str, Any]], accepted_only: bool = False,  # type: ignore[no-untyped-def]
                   reports: list[dict[str, Any]] | None = None):
    """(intro, problem paragraphs, advice paragraphs, annex rows); ``reports``: the batch's narrative
    reports, whose own problems and review findings get paragraphs of their own."""
    unsure = [x for x in forms if _unsure(x)]  # misread forms are read by a person, never quoted
    forms = [x for x in forms if not _unsure(x)]
    fs = findings(forms, accepted_only)
    n = sum(1 for x in forms if x.get("project_name") or not x.get("is_fragment"))
    n_rows = sum(len(x.get("indicators") or []) for x in forms)
    names: dict[str, set[str]] = {}
    for form in forms:
        names.setdefault(clean(form.get("project_name")), set()).add(_unit_name(form))
    clash = {k for k, v in names.items() if len(v) > 1}
    units = list(dict.fromkeys(u for u in (_unit_name(f) for f in forms) if u))
    who = (f"{units[0]}报送的" if len(units) == 1 else
           f"{'、'.join(units[:4])}{'等' if len(units) > 4 else ''}{len(units)}家单位报送的") if units else ""
    years = {f.get("year") for f in forms if isinstance(f.get("year"), int)}
    year = next(iter(years)) if len(years) == 1 else None  # a batch of several years: advice for 下一年度
    reports = reports or []
    single = [f for f in fs if len(f.forms()) == 1] if n >= 5 else []
    main = [f for f in fs if f not in single] if len(single) >= 2 else fs
    single = single if len(single) >= 2 else []
    problems = [_problem_text(k, f, n, clash, n_rows) for k, f in enumerate(main)]
    advice = [_advice_text(k, f, year) for k, f in enumerate(main)]
    if single:  # categories seen in one project each: one paragraph, not a category apiece
        ex = "；".join(e for f in single for e in _examples(f, clash, limit=1))
        problems.append(f"（{cn_num(len(main) + 1)}）其他问题。个别项目还存在{'、'.join(f.category.title for f in single)}"
                        f"等问题，如{ex}。")
        advice.append(f"（{cn_num(len(main) + 1)}）针对个别项目的问题逐项整改：" + "；".join(
            f.category.advice_title for f in single) + "。由相关项目单位负责，财务部门跟踪落实。")
    same = _same_indicator_sets(forms)
    if same:  # one indicator set filed for several projects
        k = len(problems)
        ex = "；".join("、".join(f"「{x.get('project_name')}」" for x in g[:3]) + f"等{len(g)}个项目的{len(g[0].get('indicators') or [])}项"
                      "指标名称和指标值完全相同" for g in same[:2])
        problems.append(f"（{cn_num(k + 1)}）不同项目的绩效指标雷同。{sum(len(g) for g in same)}个项目存在此类情况，如{ex}。"
                        "说明绩效指标套用同一模板，未结合各项目的内容和资金用途设置。")
        advice.append(f"（{cn_num(k + 1)}）结合项目特点设置绩效指标。编制{_target_year(year)}年度绩效目标时，"
                      "按各项目的实施内容和资金用途分别设置产出和效益指标，不同项目不得整体套用同一套指标。由项目单位业务科室负责。")
    rp, ra = report_paragraphs(reports, len(problems), year)
    papers = f"项目支出绩效自评表{len(forms) + len(unsure)}份" + (f"、绩效评价报告{len(reports)}份" if reports else "")
    if fs or rp:
        tail = "经审核，主要存在以下问题："
    elif accepted_only and any(fl for x in forms for fl in x.get("flags") or []):
        tail = "尚未复核任何审核意见（没有“采纳”或“修改后采纳”的问题），本草稿暂无问题可列；请先在审核界面复核后再生成。"
    else:
        tail = "未发现需要列示的问题。"
    span = (f"{year}年度" if year else f"{min(years)}—{max(years)}年度") if years else ""
    intro = f"本次共审核{who}{span}{papers}。" + _self_scoring(forms) + tail
    if unsure:
        listed = "、".join(f"「{x.get('project_name') or '表格残片'}」" for x in unsure[:5])
        intro += (f"（另有{len(unsure)}份表的读取结果不够可靠，如{listed}，未纳入以下统计和举例，请对照原表人工阅读。）")
    return intro, problems + rp, advice + ra, annex_rows(main + single, clash)


# What evaluators also judge but a form cannot show (seed 000's own report: 3 of its 8 criticisms):
# marked for the evaluator to fill in from the project's files, or delete.
TO_FILL = ("【待评价人补充】以下情况自评表无法反映，请查阅项目资料后补充或删除：项目管理制度是否健全并执行"
           "（查阅管理办法、内控制度）；实施方案、进度计划是否按期落实；合同签订与验收是否规范（查阅合同、验收单）；"
           "满意度调查是否由服务对象填写、样本是否充足（查阅问卷与统计表）。")


def to_markdown(intro: str, problems: list[str], advice: list[str], annex: list[tuple[str, str, str]]) -> str:
    lines = ["# 存在的问题及建议", "", intro, "", "## 一、存在的问题", ""]
    for p in problems:
        lines += [p, ""]
    lines += [TO_FILL, ""]
    lines += ["## 二、有关建议", ""]
    for a in advice:
        lines += [a, ""]
    if annex:
        lines += ["## 附表：问题清单", "", "| 问题 | 项目 | 处数 |", "|---|---|---|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in annex]
        lines.append("")
    return "\n".join(lines)


def department_groups(forms: list[dict[str, Any]]) -> list[tuple[str, int | None, list[dict[str, Any]]]]:
    """The batch by 主管部门 and year ((name, year, forms), largest first): each gets its own problems
    and advice, as an evaluator writes one report per department and budget year. The name shown is
    the longest spelling of the department in the batch."""
    groups: dict[tuple[str, int | None], list[dict[str, Any]]] = {}
    spelled: dict[str, str] = {}
    for f in forms:
        name = _unit_name(f)
        key = department_key(name) if name else ""
        if len(name) > len(spelled.get(key, "")):
            spelled[key] = name
        groups.setdefault((key, f.get("year") if isinstance(f.get("year"), int) else None), []).append(f)
    for key, year in [g for g in groups if g[1] is None]:  # undated forms join their department's one year
        dated = [g for g in groups if g[0] == key and g[1] is not None]
        if len(dated) == 1:
            groups[dated[0]] += groups.pop((key, year))
    out = [(spelled.get(k) or "未注明主管部门的单位", y, fs) for (k, y), fs in groups.items()]
    return sorted(out, key=lambda g: (-len(g[2]), g[0], g[1] or 0))


def draft_markdown(forms: list[dict[str, Any]], accepted_only: bool = False,
                   reports: list[dict[str, Any]] | None = None) -> str:
    """The whole draft: one 存在的问题及建议 when the batch is one department's year, else a part per
    department and year (reports go with the department they name; the rest after)."""
    groups = department_groups(forms)
    if len(groups) <= 1:
        return to_markdown(*draft_sections(forms, accepted_only, reports))
    reports = list(reports or [])
    parts = ["# 存在的问题及建议", "",
             f"本批次共{len(forms)}份自评表，分属{len({department_key(g[0]) for g in groups})}个主管部门、"
             f"{len(groups)}个部门年度，以下按部门和年度分别列示问题与建议（各部分的统计均以该部门该年度的自评表为分母）。", ""]
    for k, (name, year, fs) in enumerate(groups):
        key = department_key(name)
        mine = [r for r in reports if r.get("unit") and department_key(r["unit"]) == key]
        reports = [r for r in reports if r not in mine]
        body = to_markdown(*draft_sections(fs, accepted_only, mine)).split("\n", 1)[1]  # without its title
        title = f"## {cn_num(k + 1)}、{name}" + (f"（{year}年度）" if year else "")
        parts.append(title + "\n" + re.sub(r"^## ", "### ", body, flags=re.M))
    if reports:
        intro, problems, advice, _ = draft_sections([], accepted_only, reports)
        parts.append(f"## {cn_num(len(groups) + 1)}、其他单位的绩效评价报告\n\n" + "\n\n".join(problems + advice) + "\n")
    return "\n".join(parts)


def write_draft(forms: list[dict[str, Any]], out: Path, accepted_only: bool = False,
                reports: list[dict[str, Any]] | None = None) -> Path:
    """Write the draft as .md or .docx (by the file's extension)."""
    text = draft_markdown(forms, accepted_only, reports)
    if out.suffix.lower() == ".docx":
        write_atomic(out, markdown_to_docx(text))
    else:
        write_atomic(out, text)
    return out
