"""Rules on what a form says: vague targets, unmeasured actuals, copied goals, template residue,
unsupported satisfaction, misfiled indicators, units, cost indicators, missing dimensions.

Each rule's docstring cites the item of ../shared/domain.md it applies.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from extractor.core.field_names import FUND_ROWS
from extractor.core.figures import as_json_number, clean
from extractor.core.lazy_regex import lazy_compile
from extractor.core.quantity import (
    actual_is_measured,
    has_figure,
    is_not_applicable,
    quantity,
    target_is_quantified,
    unit_family,
)
from extractor.core.records import Flag, Indicator
from extractor.core.vocabulary import is_template_name
from extractor.review.rulebook import FormContext, rule
from extractor.review.suggest import suggest_actual, suggest_target

_FAMILY = {
    "产出": ("数量", "质量", "时效", "进度", "成本"),
    "效益": ("经济效益", "社会效益", "生态效益", "环境效益", "可持续影响", "可持续发展"),
    "满意度": ("服务对象满意度", "满意度", "社会公众满意度", "公众满意度"),
}


def dimension(ctx: FormContext, i: int) -> str:
    """产出 / 效益 / 满意度 / '' for indicator i: its 二级指标's family first, then its 一级指标."""
    ind = ctx.form.indicators[i]
    l2 = clean(ind.level2).removesuffix("指标").removesuffix("标")
    for fam, members in _FAMILY.items():
        if l2 in members or any(l2.startswith(m) for m in members):
            return fam
    core = ctx.level1_core(ind)
    return "产出" if core == "成本" else core


def whole_table(ctx: FormContext) -> bool:
    """Whether the rows read are the form's whole indicator table, each in a known dimension, so that
    what is absent is absent from the form: a project form (部门整体 tables follow another scheme),
    not cut short, its 总分 row printed, and most rows under a 产出/效益/满意度 heading."""
    f = ctx.form
    if f.kind == "department" or f.cut_off or (f.total_weight is None and f.total_score is None):
        return False
    rows = [i for i, ind in enumerate(f.indicators) if (ind.name or "").strip()]
    known = sum(1 for i in rows if dimension(ctx, i))
    return bool(rows) and known * 2 >= len(rows)


@rule("vague-target", "指标值未量化", "warn", "domain.md §2 item 27 (细化量化), §5.1; CONTRACT vague-target")
def vague_target(ctx: FormContext) -> Iterator[Flag]:
    """年度指标值 states no number, share, date, deadline or count (完成, 有序开展, 优良中差, empty)."""
    for i, ind in enumerate(ctx.form.indicators):
        if target_is_quantified(ind.target, ind.weight, ind.name):
            continue
        shown = ind.target or "（空）"
        na = "（填写“不涉及”的指标宜删除或替换为适用指标）" if is_not_applicable(ind.target) else ""
        yield ctx.flag("vague-target",
                       f"「{ctx.project}」指标{ctx.ind_label(i)}的年度指标值“{shown}”未量化，无法衡量完成程度{na}",
                       indicator=i, evidence=shown, field="target", suggestion=suggest_target(ctx.form, i))


@rule("unmeasured-actual", "完成值无实测数据", "warn", "domain.md §4 item 9, §5.2; CONTRACT unmeasured-actual")
def unmeasured_actual(ctx: FormContext) -> Iterator[Flag]:
    """实际完成值 gives no figure comparable with the target (完成, 已完成, a restated bound, empty)."""
    for i, ind in enumerate(ctx.form.indicators):
        if actual_is_measured(ind.actual, ind.target):
            continue
        shown = ind.actual or "（空）"
        yield ctx.flag("unmeasured-actual",
                       f"「{ctx.project}」指标{ctx.ind_label(i)}的实际完成值“{shown}”没有可与目标比较的实测数据",
                       indicator=i, evidence=f"目标“{ind.target or '（空）'}”，完成值“{shown}”", field="actual",
                       suggestion=suggest_actual(ctx.form, i))


@rule("template-residue", "模板残留", "info", "domain.md §4 item 23 (套用模板); CONTRACT template-residue")
def template_residue(ctx: FormContext) -> Iterator[Flag]:
    """Unfilled template rows (指标2：, ……) left in the table, or rows whose name is only a placeholder."""
    placeholders = [i for i, ind in enumerate(ctx.form.indicators)
                    if ind.name and is_template_name(ind.name) and i not in ctx.unread]
    n = len(ctx.form.template_rows)
    if n or placeholders:
        parts = []
        if n:
            parts.append(f"{n}行未填写的模板行（如“指标2：”“……”）")
        if placeholders:
            parts.append(f"{len(placeholders)}项指标名称只有序号（如“{ctx.form.indicators[placeholders[0]].name}”）")
        yield ctx.flag("template-residue", f"「{ctx.project}」绩效指标表中留有{'、'.join(parts)}",
                       evidence="；".join(parts),
                       suggestion="删除未使用的模板行；不适用的指标不要以“不涉及”占位，应设置与项目相符的指标")


@rule("goal-copied", "完成情况照抄目标", "warn", "domain.md §4 item 18; §1.2 item 5 (实际完成情况 vs 预期目标)")
def goal_copied(ctx: FormContext) -> Iterator[Flag]:
    """实际完成情况 repeats 预期目标 (identical or nearly so)."""
    a, b = clean(ctx.form.goal_expected), clean(ctx.form.goal_actual)
    if not a or not b:
        return
    ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    contained = len(b) >= 10 and (b in a or a in b) and min(len(a), len(b)) / max(len(a), len(b)) >= 0.6
    if ratio >= ctx.cfg.thresholds.goal_similarity or contained:
        how = "照录预期目标原文" if ratio >= 0.99 else "与预期目标基本相同"
        yield ctx.flag("goal-copied",
                       f"「{ctx.project}」年度总体目标的实际完成情况{how}，未反映实际完成结果",
                       evidence=(ctx.form.goal_actual or "")[:80], field="goal_actual",
                       suggestion="按预期目标逐项写明实际完成的数量、质量、时间和效果，附关键数据")


_SURVEY = lazy_compile(r"问卷|调查|抽样|样本|测评|回访|访谈|座谈|评议|满意度调查|调查表|收回|有效问卷")


@rule("satisfaction-unsupported", "满意度缺乏支撑", "warn", "domain.md §2 item 32, §4 item 12")
def satisfaction_unsupported(ctx: FormContext) -> Iterator[Flag]:
    """A satisfaction value with no survey method, sample or source stated anywhere in the form."""
    form = ctx.form
    rows = [i for i, ind in enumerate(form.indicators)
            if ("满意" in clean(ind.name) or "满意" in clean(ind.level2)) and (ind.actual or ind.target)
            and not is_not_applicable(ind.actual)]
    if not rows:
        return
    texts = [form.goal_expected, form.goal_actual] + [x for ind in form.indicators
                                                       for x in (ind.name, ind.target, ind.actual, ind.deviation)]
    if any(_SURVEY.search(clean(t)) for t in texts if t):
        return
    i = rows[0]
    ind = form.indicators[i]
    if "满意" in clean(ind.name):
        msg = f"「{ctx.project}」满意度指标{ctx.ind_label(i)}自评为“{ind.actual or '（空）'}”，表中未说明调查方式、样本或数据来源"
    else:
        msg = (f"「{ctx.project}」满意度指标以{ctx.ind_label(i)}等表述代替满意度（率），完成值为“{ind.actual or '（空）'}”，"
               f"未提供问卷、样本等支撑材料")
    yield ctx.flag("satisfaction-unsupported", msg,
                   indicator=i, evidence=f"{ind.name}：{ind.actual}", field="actual",
                   suggestion="开展抽样问卷调查，注明调查对象、样本量、调查时间和计算方法，并保留问卷与统计表")


@rule("all-exact", "完成值与目标完全一致", "info", "domain.md §5.2 (actual identical to target on every row)")
def all_exact(ctx: FormContext) -> Iterator[Flag]:
    """Every actual equals its target to the letter (at least 3 filled rows)."""
    rows = [ind for ind in ctx.form.indicators if ind.target and not is_not_applicable(ind.target)]
    if len(rows) >= 3 and all(clean(ind.actual) == clean(ind.target) for ind in rows):
        yield ctx.flag("all-exact", f"「{ctx.project}」全部{len(rows)}项指标的实际完成值与年度指标值逐字相同，疑似照抄目标",
                       evidence="；".join(f"{ind.target}={ind.actual}" for ind in rows[:4]),
                       suggestion="逐项填写实际统计结果，并附佐证材料")


_DATE = lazy_compile(r"\d{4}\s*[.年/-]\s*\d{1,2}|\d{1,2}\s*月(底|末|前|份)?|年底|年末|季度|时限|完成时间|期限|日前")
_BUDGET_MGMT = lazy_compile(r"执行率|结余率|结转率|预算调整|科目调整|调整次数|资金到位率")


def _money_measure(ind: Indicator) -> bool:
    """Whether the indicator measures money: an amount as its target, or a name ending in a money
    term (``资金节约率``); a money word inside the name's qualifier (``与补助资金相关的…事故发生数``) is not."""
    if re.search(r"\d\s*(?:万元|元|亿元)", clean(ind.target)):
        return True
    return bool(re.search(r"(?:成本|资金|经费|费用|结余|节约|预算|支出)(?:率|额|金额|总额|数|量|情况)?$",
                          clean(ind.name)))


@rule("misclassified", "指标归类不当", "warn", "domain.md §2 items 30–31, §4 item 5, §5.4")
def misclassified(ctx: FormContext) -> Iterator[Flag]:
    """A deadline under 效益/可持续影响, money under 社会/生态效益, budget metrics as 产出/效益, 满意度 as 效益."""
    for i, ind in enumerate(ctx.form.indicators):
        l2 = clean(ind.level2)
        text = clean(ind.name) + clean(ind.target)
        if is_not_applicable(ind.target) and is_not_applicable(ind.name or "不涉及"):
            continue
        why = None
        if _BUDGET_MGMT.search(clean(ind.name)) and dimension(ctx, i) in ("产出", "效益"):
            why = "预算管理类指标（执行率、结余率、调整次数等）不属于产出或效益"
        elif ("效益" in l2 or "影响" in l2) and _DATE.search(text) and not re.search(r"提升|提高|降低|减少|改善", text):
            why = "时限类指标应归入产出指标中的时效指标"
        elif ("生态" in l2 or "社会效益" in l2) and _money_measure(ind) and not re.search(r"群众|居民|就业|收入", text):
            why = "成本或资金控制类指标不属于社会效益或生态效益"
        elif "效益" in clean(ind.level1) + l2 and "满意" in clean(ind.name):
            why = "满意度不能替代效益指标，应归入满意度指标"
        if why:
            yield ctx.flag("misclassified", f"「{ctx.project}」指标{ctx.ind_label(i)}归类为“{ind.level2 or ind.level1}”不当：{why}",
                           indicator=i, evidence=f"{ind.level1}/{ind.level2}/{ind.name}：{ind.target}", field="name",
                           suggestion="按产出（数量、质量、时效、成本）、效益、满意度的定义重新归类")


def _fund_cells(ctx: FormContext):
    f = ctx.form.funds
    for key, label in FUND_ROWS.items():
        row = getattr(f, key)
        for col in ("initial", "full_year", "executed"):
            yield key, label, col, getattr(row, col)


def _plain_figure(text: str | None, q) -> bool:  # type: ignore[no-untyped-def]
    """Whether a cell is a figure with a short unit (``90%``, ``≥300人``, ``2.48万元``), whose unit a
    comparison can trust: not a sentence with a figure in it, nor a figure in Chinese numerals."""
    t = clean(text)
    return bool(re.search(r"\d", t)) and len(q.unit or "") <= 3 and not (q.unit or "").endswith(("以", "之", "内")) \
        and len(re.sub(r"[\d.,%％≥≤<>=＞＜]", "", t)) <= 6  # ``1亿元以上`` leaves the unit ``亿元以``


@rule("unit-mismatch", "单位不一致", "warn", "CONTRACT funds (never rescaled); domain.md §5.1 (unit or operator anomaly)")
def unit_mismatch(ctx: FormContext) -> Iterator[Flag]:
    """An amount in 元 in a 万元 table, or an actual whose unit does not fit its target."""
    unit = ctx.form.funds.unit or "万元"
    nums = [v for *_, v in _fund_cells(ctx) if isinstance(v, (int, float)) and v > 0]
    if unit == "万元" and nums:
        small = sorted(nums)[len(nums) // 2]
        for _key, label, col, v in _fund_cells(ctx):
            if isinstance(v, (int, float)) and v >= 10000 and v >= 100 * small:
                yield ctx.flag("unit-mismatch", f"「{ctx.project}」资金表“{label}”中的{v:,.0f}疑似以元填报，与表头单位万元不一致",
                               evidence=f"{label}：{v:,.0f}（表头单位：万元）",
                               suggestion=f"统一以万元填报（{v:,.0f}元 = {v / 10000:g}万元），并核对合计")
                break
            if isinstance(v, str) and re.search(r"\d", v) and "元" in v and "万元" not in v:
                yield ctx.flag("unit-mismatch", f"「{ctx.project}」资金表“{label}”填写为“{v}”，与表头单位万元不一致",
                               evidence=v, suggestion="统一以万元填报数字，不带单位文字")
                break
    for i, ind in enumerate(ctx.form.indicators):
        t, a = quantity(ind.target), quantity(ind.actual)
        if not t or not a or not _plain_figure(ind.target, t) or not _plain_figure(ind.actual, a):
            continue  # a sentence (``当年一次性发放48.69万元``): its unit is not read reliably
        ft, fa = unit_family(t.unit), unit_family(a.unit)
        bad = (ft == "share" and fa == "bare" and a.value < 10 <= t.value) or (
            ft != fa and "bare" not in (ft, fa) and {ft, fa} != {"share"})
        if t.unit == "元" and a.unit == "万元" or t.unit == "万元" and a.unit == "元":
            bad = True
        if bad:
            yield ctx.flag("unit-mismatch", f"「{ctx.project}」指标{ctx.ind_label(i)}的完成值“{ind.actual}”与目标“{ind.target}”单位不一致",
                           indicator=i, evidence=f"目标“{ind.target}”，完成值“{ind.actual}”", field="actual",
                           suggestion="按年度指标值的单位和口径填写完成值")


@rule("cost-vs-budget", "成本指标与资金不符", "warn", "domain.md §2 item 29, §4 item 7, §5.1 (成本 = the budget amount)")
def cost_vs_budget(ctx: FormContext) -> Iterator[Flag]:
    """A 成本 indicator whose amount only restates the budget (全年预算数 or 年初预算数)."""
    f = ctx.form.funds.total
    budgets = {v for v in (f.full_year, f.initial) if isinstance(v, (int, float)) and v > 0}
    if not budgets:
        return
    for i, ind in enumerate(ctx.form.indicators):
        if "成本" not in clean(ind.level2) + clean(ind.level1):
            continue
        q = quantity(ind.target)
        if q is None or not has_figure(ind.target):
            continue
        value = q.value / 10000 if q.unit in ("", "万") and q.value >= 10000 else q.value
        if q.unit == "元":
            value = q.value / 10000
        if any(abs(value - b) < 0.005 * max(b, 1) for b in budgets):
            yield ctx.flag("cost-vs-budget",
                           f"「{ctx.project}」成本指标{ctx.ind_label(i)}的目标“{ind.target}”只是重复预算金额，无法反映成本控制",
                           indicator=i, evidence=f"成本目标“{ind.target}”，全年预算数{as_json_number(f.full_year)}万元", field="target",
                           suggestion="改用单位成本（如元/人次）、分项成本上限或成本节约率等指标")


@rule("missing-dimension", "指标维度缺失", "warn", "domain.md §1.2 item 7 (产出/效益/满意度), §1.3 item 8")
def missing_dimension(ctx: FormContext) -> Iterator[Flag]:
    """No 产出, 效益 or 满意度 indicator (with a 分值 above 0) at all."""
    if ctx.form.is_fragment or not ctx.form.indicators or not whole_table(ctx):
        return
    weighted = any(ind.weight is not None for ind in ctx.form.indicators)  # no 分值 column: rows count
    present = {dimension(ctx, i) for i, ind in enumerate(ctx.form.indicators)
               if ((ind.weight or 0) > 0 if weighted else bool((ind.name or "").strip()))}
    missing = [d for d in ("产出", "效益", "满意度") if d not in present]
    if missing:
        yield ctx.flag("missing-dimension", f"「{ctx.project}」未设置{'、'.join(missing)}指标（或其分值为0）",
                       evidence=f"已有维度：{'、'.join(sorted(present - {''})) or '无'}",
                       suggestion=f"补充{'、'.join(missing)}指标，按产出、效益、满意度完整设置绩效目标")


_COUNT = lazy_compile(r"(?<![第\d.])(\d+(?:\.\d+)?|[一二两三四五六七八九十百千]+)\s*"
                    r"(?:个(?!月|工作日)|家|人次|人|户|次|场|期|台|套|件|所|座|处|公里|千米|km|米|亩|平方米|吨|册|篇|项|条|村|辆|名|批|班|栋|间|本)")
_MONEY = lazy_compile(r"\d[\d,]*(?:\.\d+)?\s*(?:万元|亿元|元)")


def clause_around(text: str, m: re.Match[str]) -> str:
    """The clause of ``text`` around a match (between punctuation), at most 40 characters."""
    start = max((text.rfind(c, 0, m.start()) for c in "，。；;,、：:"), default=-1) + 1
    ends = [e for e in (text.find(c, m.end()) for c in "，。；;,") if e >= 0]
    return text[start:min(ends) if ends else len(text)][:40]


@rule("incomplete-indicators", "指标编制不完整", "info", "domain.md §2 item 27 (数量、质量、成本…细化), §2 item 29 (成本指标), §4 item 7")
def incomplete_indicators(ctx: FormContext) -> Iterator[Flag]:
    """A whole project table with no 数量 indicator although the 预期目标 names a count, or no 成本
    indicator although it names an amount of money."""
    f = ctx.form
    if f.kind != "project" or f.is_fragment or not whole_table(ctx):
        return
    rows = [i for i, ind in enumerate(f.indicators) if (ind.name or "").strip()]
    if sum(1 for i in rows if clean(f.indicators[i].level2)) * 2 < len(rows):
        return  # second levels not read: 数量 / 成本 headings cannot be told apart
    goal = clean(f.goal_expected)
    levels = [clean(ind.level1) + "|" + clean(ind.level2) for ind in f.indicators]
    has_count = any("数量" in lv for lv in levels)
    has_cost = any("成本" in lv for lv in levels) or any(
        "成本" in clean(ind.name) or re.search(r"元\s*/", clean(ind.target)) for ind in f.indicators)
    missing: list[tuple[str, str]] = []
    count = _COUNT.search(goal)
    if count and not has_count:
        missing.append(("数量", clause_around(goal, count)))
    money = _MONEY.search(goal)
    if money and not has_cost:
        missing.append(("成本", clause_around(goal, money)))
    elsewhere = next((clean(ind.level2) for ind in f.indicators if clean(ind.level2) and _COUNT.search(clean(ind.target))), "")
    for what, clause in missing:
        aside = f"（数量内容填在了{elsewhere}下）" if what == "数量" and elsewhere else ""
        yield ctx.flag("incomplete-indicators",
                       f"「{ctx.project}」预期目标写明“{clause}”，但指标表未设置{what}指标{aside}",
                       evidence=f"预期目标：{clause}；二级指标：{'、'.join(dict.fromkeys(clean(i.level2) for i in f.indicators if clean(i.level2)))}",
                       field="goal_expected",
                       suggestion=("将预期目标中的数量（人数、次数、工程量等）设为数量指标" if what == "数量" else
                                   "增设成本指标（单位成本、分项成本上限或成本节约率），与预算金额相互印证"))


_GENERIC = set("项目 资金 工作 完成 提高 提升 保障 实现 开展 加强 推进 进一步 有效 确保 顺利 按时 及时 全年 年度 "
               "预算 执行 情况 管理 服务 建设 发展 目标 指标 单位 部门 相关 通过 用于 主要 全面 做好 落实 达到 "
               "促进 推动 满意 满意度 质量 数量 时效 成本 效益 社会 经济 生态 可持续 影响 产出 支出 经费 "
               "根据 实际 需要 需求 日常 正常 要求 规定 按照 进行 有关 各项 能力 水平 开支 费用 任务 办公".split())


_GENERIC_RE = lazy_compile("|".join(sorted(_GENERIC, key=len, reverse=True)))


def _terms(text: str) -> set[str]:
    """The two-character words of a text that are not generic form vocabulary."""
    runs = re.findall(r"[\u4e00-\u9fff]+", _GENERIC_RE.sub("|", text))  # generic words cut the text first
    return {r[k:k + 2] for r in runs for k in range(len(r) - 1)}


@rule("goal-indicator-unrelated", "目标与指标关联性不强", "info", "domain.md §1.6 item 21 (指标与对象紧密相关), §2 item 26 (指向明确、相应匹配)")
def goal_indicator_unrelated(ctx: FormContext) -> Iterator[Flag]:
    """The 预期目标 narrative and the indicators talk about different things: no indicator shares a
    content word with a goal of some length."""
    f = ctx.form
    goal = clean(f.goal_expected)
    named = [ind for ind in f.indicators if clean(ind.name) and dimension_of(ind) != "满意度"]
    if f.is_fragment or len(re.findall(r"[\u4e00-\u9fff]", goal)) < 20 or len(named) < 3:
        return
    words = _terms(goal)
    if len(words) < 15:
        return  # a goal of a few slogans (加强…、提高…能力) says too little to judge; its vagueness is the finding
    shared = [ind for ind in named if words & _terms(clean(ind.name) + clean(ind.target))]
    if not shared:
        yield ctx.flag("goal-indicator-unrelated",
                       f"「{ctx.project}」{len(named)}项产出、效益指标与预期目标没有共同的内容，指标未反映年度目标",
                       evidence=f"预期目标：{goal[:60]}；指标：{'、'.join(clean(i.name) for i in named[:4])}",
                       field="goal_expected",
                       suggestion="按预期目标的主要内容逐项设置对应的产出和效益指标，使指标能够反映目标的完成程度")


def dimension_of(ind: Indicator) -> str:
    """满意度 for a satisfaction row, else ''."""
    return "满意度" if "满意" in clean(ind.level1) + clean(ind.level2) + clean(ind.name) else ""


_OWN_STAFF = lazy_compile(r"本单位|本部门|本局|机关干部|干部职工|单位职工|内部职工|内部人员|工作人员|干警|本院")
_SERVED = lazy_compile(r"群众|居民|农户|农民|村民|学生|幼儿|患者|病人|企业|游客|旅客|市民|老人|困难|贫困|残疾|"
                     r"服务对象|受益|社会公众|公众|家庭|户籍|考生|参训|读者")


# services whose users are the staff themselves (domain.md §2 item 33: 使用人员满意度 for purchases, 学员 for training)
_INTERNAL = lazy_compile(r"党建|廉政|办公|培训|会议|机关运转|订阅|报纸|杂志|报刊|食堂|后勤|设备|购置|信息化|系统")


@rule("satisfaction-own-staff", "满意度由本单位人员评价", "info", "domain.md §2 item 32 (满意度 from the people served), §4 item 12")
def satisfaction_own_staff(ctx: FormContext) -> Iterator[Flag]:
    """A satisfaction indicator asked of the unit's own staff while the goal names other people served."""
    f = ctx.form
    served = _SERVED.search(clean(f.goal_expected))
    if not served:
        return
    for i, ind in enumerate(f.indicators):
        name = clean(ind.name)
        if "满意" in name and _OWN_STAFF.search(name) and not _SERVED.search(name) and not _INTERNAL.search(name):
            yield ctx.flag("satisfaction-own-staff",
                           f"「{ctx.project}」满意度指标{ctx.ind_label(i)}的调查对象是本单位人员，而项目服务对象为{served.group(0)}等",
                           indicator=i, evidence=f"{ind.name}；预期目标：{clause_around(clean(f.goal_expected), served)}",
                           field="name", suggestion=f"以{served.group(0)}等服务对象为调查对象开展满意度调查，注明样本量和调查方式")
            return
