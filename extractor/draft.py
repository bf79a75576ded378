"""Draft the 存在问题 / 建议 sections from the flags of a batch of reviewed forms.

Flags are grouped into the problem categories evaluators use (domain.md §4). Each problem is a
numbered paragraph in the evaluator's pattern, fact → figure → cause: how many projects and
indicators, named examples quoted from the forms, and what it reflects. Each 建议 answers its
problem with an action, a standard and an owner (domain.md §4 closing note). Every sentence comes
from the flags; nothing is added that the forms do not show.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.numbers import clean

_DIGITS = "零一二三四五六七八九"


def cn_num(n: int) -> str:
    """1 -> 一, 11 -> 十一, 23 -> 二十三 (headings up to 99)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class Category:
    """One problem category: codes it gathers, its heading, what it reflects, and the advice."""

    title: str
    codes: tuple[str, ...]
    reflects: str
    advice: str


CATEGORIES = [
    Category("绩效指标设置不够明确，量化程度不足", ("vague-target",),
             "反映出绩效目标编制时未按数量、质量、时效、成本等维度细化分解，指标“明确、具体、可衡量”的要求落实不到位。",
             "在编制下一年度绩效目标时，按数量、质量、时效、成本、效益逐项细化指标，每项写明数值、计量单位和完成时限；"
             "定性指标须明确分级分档标准。由项目实施单位业务科室提出、财务部门审核。"),
    Category("实际完成值缺乏实测数据，完成情况难以核实", ("unmeasured-actual", "all-exact"),
             "反映出自评时以“完成”等表述代替实际数据，自评结果缺乏可核验的依据。",
             "自评时按年度指标值的口径逐项填写实际完成的数值，并同步整理台账、验收单、支付凭证等佐证材料备查。"),
    Category("自评表计算和填报存在差错", ("weights-not-100", "score-sum-mismatch", "rate-mismatch",
                                     "budget-score-mismatch", "score-over-weight"),
             "反映出自评表填报后缺少复核，表内数据勾稽关系未经核对。",
             "报送前对分值合计、得分合计、执行率及预算执行得分进行复核，与决算数据核对一致后再报送；财务部门负责审核把关。"),
    Category("自评打分不够严格，存在自评偏高现象", ("full-score-shortfall", "score-formula"),
             "反映出自评未严格按“实际完成值÷年度指标值×分值”等计分规则打分，自评结果不够客观。",
             "严格按计分规则打分：正向指标按完成比例计分，反向指标超出目标的按比例扣分，未完成目标的不得给满分。"),
    Category("偏差原因分析缺失", ("deviation-unexplained",),
             "反映出对未完成目标和扣分事项未进行原因分析，难以据此改进管理。",
             "对每项扣分或未完成的指标逐项说明偏差原因，提出具体改进措施和完成时限；执行率低于90%的须说明资金未执行的原因。"),
    Category("预算执行进度偏慢或年中调整幅度较大", ("low-execution", "budget-adjusted"),
             "反映出预算编制的准确性和执行进度管控有待加强。",
             "提高年初预算编制的准确性，加强年中执行监控，按进度拨付和支付资金；对追加或调减预算逐项说明原因。"),
    Category("指标体系不够完整，部分指标归类不当", ("missing-dimension", "misclassified", "weight-allocation",
                                         "template-residue"),
             "反映出指标体系的设置未对照产出、效益、满意度的定义，部分表格照搬模板。",
             "对照《项目支出绩效评价管理办法》（财预〔2020〕10号）的指标框架完善指标体系，补齐缺失维度，"
             "将时效、成本、预算管理类指标归入正确类别，删除未使用的模板行。"),
    Category("成本指标设置不合理，金额口径不一致", ("cost-vs-budget", "unit-mismatch"),
             "反映出成本指标仅重复预算金额，未体现成本控制要求，部分金额与表头单位不一致。",
             "成本指标改用单位成本、分项成本上限或成本节约率；表内金额统一以万元填报。"),
    Category("满意度指标缺乏支撑材料", ("satisfaction-unsupported",),
             "反映出满意度结果缺少问卷调查等数据来源，结论的可信度不足。",
             "开展满意度抽样问卷调查，注明调查对象、样本量、调查时间和计算方法，保留问卷和统计表；有条件的委托第三方实施。"),
    Category("部分指标目标值设置偏低", ("overachievement",),
             "反映出部分目标值未参考历史完成情况和行业标准，目标设置偏于保守。",
             "参考以前年度完成值和行业标准合理设定目标值；对超额完成较多的指标说明原因，下一年度相应提高目标。"),
    Category("年度总体目标完成情况照抄预期目标", ("goal-copied",),
             "反映出实际完成情况未据实填写，总体目标的完成程度无法判断。",
             "按预期目标逐项写明实际完成的数量、质量、时间和效果，并附关键数据。"),
]


@dataclass
class Finding:
    """The flags of one category across the batch."""

    category: Category
    flags: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (project, flag)

    def projects(self) -> OrderedDict[str, int]:
        out: OrderedDict[str, int] = OrderedDict()
        for proj, _ in self.flags:
            out[proj] = out.get(proj, 0) + 1
        return out


def _identity(form: dict[str, Any]) -> tuple:
    inds = form.get("indicators") or []
    return (clean(form.get("project_name")), clean(form.get("department")), form.get("year"),
            form.get("total_weight"), form.get("total_score"), len(inds),
            tuple(clean(i.get("name"))[:20] for i in inds[:3]))


def load_reviewed(paths: list[Path]) -> list[dict[str, Any]]:
    """Forms (with flags) from review outputs: JSON files or folders of them.

    The same form sent twice (as PDF and as Word, say) is counted once.
    """
    forms, seen = [], set()
    for p in paths:
        files = sorted(q for q in p.glob("*.json") if not q.name.startswith("_")) if p.is_dir() else [p]
        for f in files:
            data = json.loads(f.read_text(encoding="utf-8"))
            for form in data.get("forms") or []:
                key = _identity(form)
                if key not in seen:
                    seen.add(key)
                    forms.append(form)
    return forms


def findings(forms: list[dict[str, Any]], accepted_only: bool = False) -> list[Finding]:
    """Flags grouped by category, categories in the order evaluators write them, empty ones dropped."""
    by_code = {code: cat for cat in CATEGORIES for code in cat.codes}
    found: OrderedDict[str, Finding] = OrderedDict((c.title, Finding(c)) for c in CATEGORIES)
    for form in forms:
        proj = form.get("project_name") or "表格残片"
        for fl in form.get("flags") or []:
            if accepted_only and fl.get("decision") not in ("accepted", "edited"):
                continue
            cat = by_code.get(fl.get("code"))
            if cat is not None:
                found[cat.title].flags.append((proj, fl))
    return [f for f in found.values() if f.flags]


def _problem_text(k: int, f: Finding) -> str:
    projects = f.projects()
    n_ind = sum(1 for _, fl in f.flags if fl.get("indicator") is not None)
    scope = f"{len(projects)}个项目" + (f"的{n_ind}项指标" if n_ind else "")
    examples = []
    seen = set()
    # typical cases first: rows left as 不涉及 are the least telling examples
    ordered = sorted(f.flags, key=lambda pf: "不涉及" in (pf[1].get("evidence") or "") + pf[1].get("message", ""))
    for proj, fl in ordered:
        if proj in seen:
            continue
        seen.add(proj)
        examples.append(fl.get("message", "").rstrip("。"))
        if len(examples) == 3:
            break
    names = "、".join(f"{p}（{n}处）" for p, n in list(projects.items())[:8])
    more = f"等{len(projects)}个项目" if len(projects) > 8 else ""
    return (f"（{cn_num(k + 1)}）{f.category.title}。{scope}存在此类问题。"
            f"如：{'；'.join(examples)}。涉及：{names}{more}。{f.category.reflects}")


def _advice_text(k: int, f: Finding) -> str:
    example = next((fl.get("suggestion") for _, fl in f.flags if fl.get("suggestion")), None)
    tail = f"例如，可按审核意见修订为：“{example}”。" if example and f.category.codes[0] == "vague-target" else ""
    num = cn_num(k + 1)
    return f"（{num}）针对问题（{num}）：{f.category.advice}{tail}"


def draft_sections(forms: list[dict[str, Any]], accepted_only: bool = False) -> tuple[str, list[str], list[str]]:
    """(intro, problem paragraphs, advice paragraphs)."""
    fs = findings(forms, accepted_only)
    n_forms = len(forms)
    depts = sorted({f.get("department") for f in forms if f.get("department")})
    scope = f"本次共审核项目支出绩效自评表{n_forms}份" + (f"，涉及{'、'.join(depts[:3])}{'等' if len(depts) > 3 else ''}" if depts else "")
    intro = f"{scope}，发现以下{len(fs)}类问题。" if fs else f"{scope}，未发现需要列示的问题。"
    return intro, [_problem_text(k, f) for k, f in enumerate(fs)], [_advice_text(k, f) for k, f in enumerate(fs)]


def to_markdown(intro: str, problems: list[str], advice: list[str]) -> str:
    lines = ["# 存在的问题及建议", "", intro, "", "## 一、存在的问题", ""]
    for p in problems:
        lines += [p, ""]
    lines += ["## 二、有关建议", ""]
    for a in advice:
        lines += [a, ""]
    return "\n".join(lines)


def write_draft(forms: list[dict[str, Any]], out: Path, accepted_only: bool = False) -> Path:
    """Write the draft as .md or .docx (by the file's extension)."""
    intro, problems, advice = draft_sections(forms, accepted_only)
    if out.suffix.lower() == ".docx":
        import docx

        d = docx.Document()
        d.add_heading("存在的问题及建议", level=1)
        d.add_paragraph(intro)
        d.add_heading("一、存在的问题", level=2)
        for p in problems:
            d.add_paragraph(p)
        d.add_heading("二、有关建议", level=2)
        for a in advice:
            d.add_paragraph(a)
        d.save(str(out))
    else:
        out.write_text(to_markdown(intro, problems, advice), encoding="utf-8")
    return out
