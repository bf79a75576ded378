"""Rules on a form's arithmetic and scoring: weight and score sums, execution rate and its score,
scores above weights or off the formula, missed targets with full marks or no explanation,
overachievement, budget adjustment, low execution, first-level weight allocation.

Each rule's docstring cites the item of ../shared/domain.md it applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from extractor.core.figures import clean, in_wan
from extractor.core.lazy_regex import lazy_compile
from extractor.core.quantity import Quantity
from extractor.core.records import Flag, Indicator
from extractor.core.vocabulary import says_nothing
from extractor.review.rescore import indicator_expected, indicator_pair
from extractor.review.rulebook import FormContext, amount, fmt, rule
from extractor.review.rules_values import clause_around, dimension, whole_table


def _decimals(x: float) -> int:
    if float(x).is_integer():
        return 0
    return min(4, len(repr(float(x)).split(".")[1]))


def _tolerance(printed: float) -> float:
    """Half a unit of the printed precision, at least 0.01 (truncation to 2 places is not an error)."""
    return max(0.5 * 10 ** -_decimals(printed), 0.01)


def _is_cost(ind: Indicator) -> bool:
    return "成本" in clean(ind.level2) + clean(ind.level1)


def _pair(ind: Indicator) -> tuple[Quantity, Quantity] | None:
    return indicator_pair(ind)


def _missed(t: Quantity, a: Quantity) -> bool:
    return a.value > t.value if t.op == "<=" else a.value < t.value


def _empty_deviation(text: str | None) -> bool:
    return clean(text) in ("", "无", "—", "-", "/", "无偏差", "暂无")


@rule("weights-not-100", "分值合计不为100", "error", "domain.md §1.4 item 17 (weight integrity), item 16")
def weights_not_100(ctx: FormContext) -> Iterator[Flag]:
    """Indicator weights plus the budget-execution weight do not add up to the printed total (or 100)."""
    f = ctx.form
    ws = [ind.weight for ind in f.indicators if ind.weight is not None]
    if not ws or f.is_fragment or f.cut_off or f.total_weight is None:
        return  # no 合计 row printed, or the table cut short: the rows read are not the whole table
    budget = f.funds.total.weight or 0
    total = sum(ws) + budget
    expected = f.total_weight
    if abs(total - expected) > ctx.cfg.thresholds.sum_tolerance:
        yield ctx.flag("weights-not-100",
                       f"「{ctx.project}」各指标分值合计{fmt(sum(ws))}加预算执行分值{fmt(budget)}为{fmt(total)}，"
                       f"与总分分值{fmt(expected)}不符",
                       evidence=f"{'+'.join(fmt(w) for w in ws)}+{fmt(budget)}={fmt(total)}≠{fmt(expected)}",
                       field="total_weight", suggestion="核对各级指标分值，使指标分值与预算执行分值之和等于总分100分")


@rule("score-sum-mismatch", "得分合计不符", "error", "domain.md §1.4 item 16 (total = Σ scores + 执行率得分)")
def score_sum_mismatch(ctx: FormContext) -> Iterator[Flag]:
    """The indicator scores plus the budget-execution score do not add up to the printed 总分."""
    f = ctx.form
    ss = [ind.score for ind in f.indicators if ind.score is not None]
    if f.total_score is None or not ss or f.is_fragment or f.cut_off:
        return
    budget = f.funds.total.score or 0
    total = sum(ss) + budget
    if abs(total - f.total_score) > ctx.cfg.thresholds.sum_tolerance:
        yield ctx.flag("score-sum-mismatch",
                       f"「{ctx.project}」各项得分合计为{fmt(total)}，与自评总分{fmt(f.total_score)}不符",
                       evidence=f"指标得分{fmt(sum(ss))}+预算执行得分{fmt(budget)}={fmt(total)}≠{fmt(f.total_score)}",
                       field="total_score", suggestion="重新汇总各项得分，确保总分与明细一致")


@rule("rate-mismatch", "执行率计算有误", "error", "domain.md §1.4 item 10 (执行率 = 全年执行数 ÷ 全年预算数)")
def rate_mismatch(ctx: FormContext) -> Iterator[Flag]:
    """The printed 执行率 differs from 全年执行数 ÷ 全年预算数 at the printed precision."""
    t = ctx.form.funds.total
    computed = ctx.computed_rate
    printed = ctx.printed_rate
    if printed is None or computed is None or computed > 100.5:
        return
    if abs(round(computed, _decimals(printed)) - printed) > 1e-6:
        minor = abs(computed - printed) < 1
        tail = "（仅为取整差异，不影响得分）" if minor else ""
        yield ctx.flag("rate-mismatch",
                       f"「{ctx.project}」执行率填报为{fmt(t.rate)}%，按全年执行数{fmt(t.executed)}÷全年预算数"
                       f"{fmt(t.full_year)}计算为{computed:.2f}%{tail}", severity="info" if minor else None,
                       evidence=f"{fmt(t.executed)}÷{fmt(t.full_year)}={computed:.2f}%≠{fmt(t.rate)}%",
                       suggestion="按“全年执行数÷全年预算数”重新计算执行率，并据此计算预算执行得分")


@rule("budget-score-mismatch", "执行率得分不符", "error", "domain.md §1.4 item 10 (得分 = 执行率 × 分值, capped)")
def budget_score_mismatch(ctx: FormContext) -> Iterator[Flag]:
    """The budget-execution score differs from min(执行率, 100%) × 分值 beyond the printed precision."""
    t = ctx.form.funds.total
    rate = ctx.rate
    if t.score is None or t.weight is None or rate is None:
        return
    expected = min(rate, 100.0) / 100 * t.weight
    if abs(expected - t.score) > _tolerance(t.score):
        yield ctx.flag("budget-score-mismatch",
                       f"「{ctx.project}」预算执行得分填报为{fmt(t.score)}分，按执行率{fmt(rate)}%×分值{fmt(t.weight)}"
                       f"应为{expected:.2f}分", severity="warn" if abs(expected - t.score) < 1 else None,
                       self_score=t.score, expected_score=round(expected, 2),
                       evidence=f"{fmt(rate)}%×{fmt(t.weight)}={expected:.2f}≠{fmt(t.score)}",
                       suggestion="按“执行率×分值”计算预算执行得分（最高不超过分值）")


@rule("score-over-weight", "得分超分值", "error", "domain.md §1.4 item 11 (得分不得突破权重)")
def score_over_weight(ctx: FormContext) -> Iterator[Flag]:
    """A score above its weight, or negative."""
    t = ctx.form.funds.total
    if t.score is not None and t.weight is not None and (t.score > t.weight + 1e-9 or t.score < 0):
        yield ctx.flag("score-over-weight", f"「{ctx.project}」预算执行得分{fmt(t.score)}超出分值{fmt(t.weight)}",
                       evidence=f"{fmt(t.score)}>{fmt(t.weight)}", suggestion="得分不得超过分值")
    for i, ind in enumerate(ctx.form.indicators):
        if ind.score is None or ind.weight is None:
            continue
        if ind.score > ind.weight + 1e-9 or ind.score < 0:
            yield ctx.flag("score-over-weight",
                           f"「{ctx.project}」指标{ctx.ind_label(i)}得分{fmt(ind.score)}超出分值{fmt(ind.weight)}（或为负数）",
                           indicator=i, evidence=f"得分{fmt(ind.score)}，分值{fmt(ind.weight)}", field="score",
                           suggestion="得分应在0与分值之间")


@rule("full-score-shortfall", "未达标仍满分", "warn", "domain.md §1.4 item 11, §4 item 11 (自评偏高)")
def full_score_shortfall(ctx: FormContext) -> Iterator[Flag]:
    """A quantified target visibly missed, yet the indicator has full marks."""
    for i, ind in enumerate(ctx.form.indicators):
        pair = _pair(ind)
        if pair is None or ind.score is None or ind.weight is None:
            continue
        t, a = pair
        if _missed(t, a) and abs(ind.score - ind.weight) < 1e-9:
            _, expected, _note = indicator_expected(pair, ind.weight, ctx.cfg)
            yield ctx.flag("full-score-shortfall",
                           f"「{ctx.project}」指标{ctx.ind_label(i)}目标“{ind.target}”未完成（实际“{ind.actual}”），仍自评满分{fmt(ind.score)}",
                           self_score=ind.score, expected_score=None if expected is None else round(expected, 2),
                           indicator=i, evidence=f"目标{ind.target}，实际{ind.actual}，得分{fmt(ind.score)}/{fmt(ind.weight)}",
                           field="score", suggestion="按完成比例扣分，并在偏差原因中说明未完成的原因和改进措施")


@rule("score-formula", "得分与规则不符", "warn", "domain.md §1.4 items 11 and 13, §5.3 item 1 (tolerance 0.5)")
def score_formula(ctx: FormContext) -> Iterator[Flag]:
    """A quantified indicator's score differs from min(1, actual/target) × weight (≤: the inverse rule)."""
    tol = ctx.cfg.thresholds.score_tolerance
    for i, ind in enumerate(ctx.form.indicators):
        pair = _pair(ind)
        if pair is None or ind.score is None or ind.weight is None:
            continue
        _, expected, note = indicator_expected(pair, ind.weight, ctx.cfg)
        if expected is not None and abs(ind.score - expected) > tol:
            implicit_cap = _is_cost(ind) and not re.search(r"≤|<|不超过|不高于|以内|以下|控制在", ind.target or "") \
                and (ind.nature or "") not in ("≤", "<=")
            if implicit_cap and ind.score < expected:
                msg = (f"「{ctx.project}」成本指标{ctx.ind_label(i)}目标“{ind.target}”未写明是否为上限，自评按支出比例计"
                       f"{fmt(ind.score)}分；若按成本控制口径（不超过目标即满分）应为{expected:.2f}分，计分口径不明确")
                sug = "成本指标写明“≤”上限，并按成本控制口径计分"
            else:
                msg = f"「{ctx.project}」指标{ctx.ind_label(i)}自评{fmt(ind.score)}分，按计分规则应为{expected:.2f}分（{note}）"
                sug = f"按{note}重新计分"
            yield ctx.flag("score-formula", msg, indicator=i,
                           evidence=f"目标{ind.target}，实际{ind.actual}，分值{fmt(ind.weight)}", field="score",
                           suggestion=sug, self_score=ind.score, expected_score=round(expected, 2))


@rule("deviation-unexplained", "偏差未说明", "warn", "domain.md §1.2 item 5, §1.5 item 18, §4 item 10, §5.3 item 7")
def deviation_unexplained(ctx: FormContext) -> Iterator[Flag]:
    """Points deducted or a target missed with 偏差原因 empty/无; or 执行率 < 90% explained nowhere."""
    form = ctx.form
    if form.deviation_column is False:
        return  # a table header without a 偏差原因 column: the reason may stand in a box or section elsewhere
    for i, ind in enumerate(form.indicators):
        if not _empty_deviation(ind.deviation):
            continue
        lost = ind.score is not None and ind.weight is not None and ind.score < ind.weight - 1e-9
        pair = _pair(ind)
        missed = pair is not None and _missed(*pair)
        if lost or missed:
            why = f"扣{fmt(ind.weight - ind.score)}分" if lost else f"目标“{ind.target}”未完成"
            yield ctx.flag("deviation-unexplained",
                           f"「{ctx.project}」指标{ctx.ind_label(i)}{why}，但未填写偏差原因及改进措施",
                           indicator=i, evidence=f"得分{fmt(ind.score)}/{fmt(ind.weight)}，偏差原因“{ind.deviation or '（空）'}”",
                           field="score", suggestion="逐项说明未完成或扣分的原因，并提出具体改进措施和完成时限")
    rate = ctx.figures_rate
    if rate is not None and rate < ctx.cfg.thresholds.low_execution_rate:
        explained = re.search(r"由于|因为|受.{0,12}影响|原因|导致|致使|延期|滞后|未到位|结余|闲置", clean(ctx.form.goal_actual))
        # where a reason would stand: the 偏差原因 column, or (header unread) a whole table
        shown = form.deviation_column is True or (form.deviation_column is None and form.indicators and not form.cut_off)
        if shown and all(_empty_deviation(ind.deviation) for ind in form.indicators) and not explained:
            yield ctx.flag("deviation-unexplained",
                           f"「{ctx.project}」预算执行率{rate:.2f}%，低于{fmt(ctx.cfg.thresholds.low_execution_rate)}%，表中未说明原因",
                           evidence=f"执行率{rate:.2f}%", suggestion="说明资金未执行的原因（如项目延期、结算滞后）及后续安排")


@rule("overachievement", "大幅超额完成", "info", "domain.md §1.4 item 12 (130% rule), §4 item 8")
def overachievement(ctx: FormContext) -> Iterator[Flag]:
    """Actual ≥ 130% of a ≥/= target: the target was likely set too low."""
    ratio = ctx.cfg.thresholds.overachievement_ratio
    for i, ind in enumerate(ctx.form.indicators):
        pair = _pair(ind)
        if pair is None:
            continue
        t, a = pair
        if a.unit in ("%", "％") and a.value > 100 and "满意" in clean(ind.name) + clean(ind.level2):
            continue  # a satisfaction above 100% is a misprint (``≥90%`` read as ``290%``), not overachievement
        if t.op != "<=" and t.value > 0 and a.value >= ratio * t.value:
            yield ctx.flag("overachievement",
                           f"「{ctx.project}」指标{ctx.ind_label(i)}实际完成“{ind.actual}”为目标“{ind.target}”的{a.value / t.value:.0%}，目标可能设置偏低",
                           indicator=i, evidence=f"{ind.actual}÷{ind.target}={a.value / t.value:.0%}", field="actual",
                           suggestion="说明超额完成的原因；下一年度参考历史完成值和行业标准提高目标值")


@rule("budget-adjusted", "预算调整幅度大", "warn", "domain.md §1.5 items 18–19, §4 item 15")
def budget_adjusted(ctx: FormContext) -> Iterator[Flag]:
    """全年预算数 differs from 年初预算数 by more than the configured share (default 20%)."""
    t = ctx.form.funds.total
    initial, full = amount(t.initial), amount(t.full_year)
    if initial is None or full is None or initial <= 0:
        return
    share = (full - initial) / initial
    if abs(share) > ctx.cfg.thresholds.budget_adjust_share + 1e-9:
        word = "追加" if share > 0 else "调减"
        yield ctx.flag("budget-adjusted",
                       f"「{ctx.project}」年中{word}预算：年初预算数{fmt(initial)}万元，全年预算数{fmt(full)}万元，调整幅度{share:+.0%}",
                       evidence=f"({fmt(full)}−{fmt(initial)})÷{fmt(initial)}={share:+.1%}",
                       suggestion="提高年初预算编制的准确性，对追加或调减逐项说明原因")


@rule("low-execution", "执行率偏低", "warn", "domain.md §1.5 item 18 (Sichuan 90%), §4 item 14")
def low_execution(ctx: FormContext) -> Iterator[Flag]:
    """执行率 below the configured threshold (default 90%)."""
    rate = ctx.figures_rate
    if rate is not None and rate < ctx.cfg.thresholds.low_execution_rate:
        t = ctx.form.funds.total
        yield ctx.flag("low-execution",
                       f"「{ctx.project}」预算执行率为{rate:.2f}%，低于{fmt(ctx.cfg.thresholds.low_execution_rate)}%",
                       evidence=f"全年执行数{fmt(t.executed)}÷全年预算数{fmt(t.full_year)}" if ctx.computed_rate is not None
                       else f"执行率{fmt(t.rate)}%",
                       suggestion="加快预算执行进度，加强年中执行监控，对长期未执行的资金及时收回或调整")


@rule("weight-allocation", "权重分配偏离", "info", "domain.md §1.3 items 8–9 (10/50/30/10; local variants)")
def weight_allocation(ctx: FormContext) -> Iterator[Flag]:
    """First-level weights (产出 incl. 成本, 效益, 满意度, 预算执行) depart from the configured scheme."""
    f = ctx.form
    if f.is_fragment or not whole_table(ctx) or not any(ind.weight for ind in f.indicators):
        return
    sums = {"产出": 0.0, "效益": 0.0, "满意度": 0.0, "预算执行": float(f.funds.total.weight or 0)}
    for i, ind in enumerate(f.indicators):
        d = dimension(ctx, i)
        if d in sums and ind.weight:
            sums[d] += ind.weight
    tol = ctx.cfg.thresholds.weight_allocation_tolerance
    off = [f"{k}{fmt(v)}分（方案{fmt(ctx.cfg.weights.get(k, 0))}分）" for k, v in sums.items()
           if abs(v - ctx.cfg.weights.get(k, 0)) > tol + 1e-9]
    if off:
        yield ctx.flag("weight-allocation", f"「{ctx.project}」一级指标权重偏离常规方案：{'，'.join(off)}",
                       evidence="，".join(f"{k}{fmt(v)}" for k, v in sums.items()),
                       suggestion="按产出50、效益30、满意度10、预算执行10的常规方案（或本地规定）分配权重，偏离时说明理由")


_MONEY_TARGET = lazy_compile(r"(?:发放|拨付|支付|投入|使用|下达|安排)?(?:资金|金额|经费|补助|补贴)?[^，。;；]{0,6}?\d[\d,.]*\s*(?:万元|元|亿元)")


@rule("inputs-as-outputs", "以投入代替产出", "warn", "domain.md §2 item 28 (inputs are not targets), §2 item 29, §4 item 7")
def inputs_as_outputs(ctx: FormContext) -> Iterator[Flag]:
    """An 产出 (数量/质量/时效) indicator measured in money (``发放金额231万元``, the budget as a count), or a
    成本 indicator that is only a percentage: money invested is not a result."""
    for i, ind in enumerate(ctx.form.indicators):
        target = clean(ind.target)
        if not target or dimension(ctx, i) != "产出":
            continue
        if _is_cost(ind):
            if re.fullmatch(r"[≥≤=<>]?\d+(?:\.\d+)?%", target) and not re.search(r"节约|节支|降低|率", clean(ind.name)):
                yield ctx.flag("inputs-as-outputs", f"「{ctx.project}」成本指标{ctx.ind_label(i)}的目标“{ind.target}”只是百分比，"
                               "没有成本数额，无法衡量成本控制", indicator=i, evidence=f"{ind.name}：{ind.target}", field="target",
                               suggestion="改为单位成本（元/人、元/亩等）、分项成本上限或成本节约率，并写明计算方法")
            continue
        m = _MONEY_TARGET.search(target)
        budget = [b for b in (amount(ctx.form.funds.total.full_year), amount(ctx.form.funds.total.initial)) if b]
        bare = re.fullmatch(r"[≥≤=]?(\d+(?:\.\d+)?)", target)
        echo = bare and any(abs(float(bare.group(1)) - b * k) < 0.005 * b * k for b in budget for k in (1, 10000))
        if (m and not re.match(r"(?:以上|以下|及以上)?的|规模|级", target[m.end():])) or echo:  # ``100亿元以上的重大项目``: a size
            yield ctx.flag("inputs-as-outputs", f"「{ctx.project}」{ind.level2 or '产出'}{ctx.ind_label(i)}以资金金额“{ind.target}”"
                           "作为目标，反映的是投入而非产出", indicator=i, evidence=f"{ind.name}：{ind.target}", field="target",
                           suggestion="改为资金所形成的产出（如补助人数、完成工程量），金额控制放入成本指标")


@rule("execution-outputs-mismatch", "执行偏低而产出全额完成", "warn",
      "domain.md §1.5 item 18 (execution below target), §4 item 3 (targets matched to funds: 相应匹配)")
def execution_outputs_mismatch(ctx: FormContext) -> Iterator[Flag]:
    """执行率 below 80% while every 产出 indicator with a comparable actual reached its target."""
    rate = ctx.figures_rate
    if rate is None or rate >= 80:
        return
    met, missed = [], False
    for i, ind in enumerate(ctx.form.indicators):
        if dimension(ctx, i) != "产出" or _is_cost(ind) or not clean(ind.actual):
            continue
        pair = _pair(ind)
        if pair is not None:
            missed = missed or _missed(*pair)
            met.append(i)
        elif clean(ind.actual) == clean(ind.target) or _DONE.fullmatch(clean(ind.actual)):
            met.append(i)  # 完成 / the target restated: reported as met
    if len(met) >= 2 and not missed:
        yield ctx.flag("execution-outputs-mismatch",
                       f"「{ctx.project}」预算执行率仅{rate:.2f}%，但{len(met)}项产出指标均已完成目标，资金执行与产出完成情况不匹配",
                       evidence=f"执行率{rate:.2f}%；" + "；".join(
                           f"{ctx.form.indicators[i].name}：{ctx.form.indicators[i].target}→{ctx.form.indicators[i].actual}" for i in met[:3]),
                       suggestion="核实产出完成值是否属实；产出已全部完成而资金大量结余的，说明原因并在编制下年预算时据实压减")


_DONE = lazy_compile(r"(?:已|均已)?(?:全部|全面|按时|按期|如期)?(?:完成|达到|达标|实现)(?:目标|任务)?|是")
_PAID = lazy_compile(r"(?:已|累计|实际|共)?(?:支付|拨付|使用|支出|执行|兑付|发放)[^\d，,。;；:：]{0,8}?\s*(\d[\d,]*(?:\.\d+)?)\s*(万元|元)")


@rule("goal-funds-mismatch", "完成情况与资金表不符", "warn", "domain.md §1.2 item 5 (实际完成情况), §4 item 3")
def goal_funds_mismatch(ctx: FormContext) -> Iterator[Flag]:
    """The 实际完成情况 states an amount spent or paid that differs from the table's 全年执行数 by more than 1%."""
    executed = amount(ctx.form.funds.total.executed)
    text = clean(ctx.form.goal_actual)
    if executed is None or executed <= 0 or not text:
        return
    for m in _PAID.finditer(text):
        value = in_wan(m.group(1), m.group(2))
        if value > 0 and abs(value - executed) > 0.01 * executed and value > 0.2 * executed:
            yield ctx.flag("goal-funds-mismatch",
                           f"「{ctx.project}」实际完成情况写明“{m.group(0)}”，与资金表全年执行数{fmt(executed)}万元不一致",
                           evidence=f"实际完成情况：{m.group(0)}；全年执行数：{fmt(executed)}万元",
                           suggestion="核对完成情况中的金额与资金表、决算数据，统一口径后更正")
            return


@rule("problems-none", "存在问题填“无”", "warn", "domain.md §5.3 item 8, §4 item 10 (存在问题 = 无 / 暂无)")
def problems_none(ctx: FormContext) -> Iterator[Flag]:
    """The form's 存在问题 says 无 / 暂无 while points were lost or 执行率 is below 90%."""
    f = ctx.form
    if f.problems_stated is None or not says_nothing([f.problems_stated]):
        return
    why: list[str] = []
    if f.total_score is not None and f.total_weight is not None and f.total_score < f.total_weight - 0.05:
        why.append(f"总分{fmt(f.total_score)}分（满分{fmt(f.total_weight)}）")
    lost = [i for i, ind in enumerate(f.indicators)
            if ind.score is not None and ind.weight is not None and ind.score < ind.weight - 0.05]
    if lost:
        why.append(f"{len(lost)}项指标扣分（如{ctx.ind_label(lost[0])}得{fmt(f.indicators[lost[0]].score)}分，"
                   f"分值{fmt(f.indicators[lost[0]].weight)}）")
    rate = ctx.figures_rate
    if rate is not None and rate < 90:
        why.append(f"预算执行率{rate:.2f}%")
    if why:
        yield ctx.flag("problems-none", f"「{ctx.project}」存在问题栏填“{f.problems_stated}”，但{'，'.join(why)}",
                       evidence=f"存在问题：{f.problems_stated}；" + "；".join(why), field="problems_stated",
                       suggestion="逐项分析扣分和执行偏差的原因，如实填写存在问题并提出改进措施")


_PAY = r"(?:资金|经费|补助|补贴|款项)?(?:拨付|支付|下达|到位|到账|兑付|发放|使用)"
_LATE_WORDS = lazy_compile(r"(?:下达|拨付|到位|支付|申请|审批)(?:时间)?(?:较晚|滞后|延迟|迟缓|晚)|(?:年底|年末|岁末|年终)(?:集中|突击)"
                         r"(?:支付|拨付|使用|支出)|资金到位(?:晚|迟)")
_LATE_DATE = lazy_compile(r"(?<!截止)(?<!截至)(?<!截止到)(?<!截止于)(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月(?:\s*\d{1,2}\s*日)?"
                        r"(?:底|末|份|中旬|下旬|左右)?(?:才|方|省级|市级|县级)?[^，。；;,\d]{0,6}?" + _PAY)


_LATER_YEAR = lazy_compile(r"(\d{4})\s*年(?!度?(?:预算|计划|目标))[^，。；;\d]{0,6}?(?:实际)?(?:支出|支付|拨付|结算|兑付)")


@rule("late-execution", "资金下达或支付滞后", "info", "domain.md §4 item 14 (专项资金申请、拨付滞后), §1.5 item 18")
def late_execution(ctx: FormContext) -> Iterator[Flag]:
    """The form's own text says funds came or were paid late: 下达滞后, 年底集中支付, or funds issued
    or paid in the 11th–12th month of the form's year or in the next year."""
    f = ctx.form
    texts: list[tuple[str, str | None, int | None, str]] = [("实际完成情况", f.goal_actual, None, "goal_actual")] + [
        (f"指标{ctx.ind_label(i)}偏差原因", ind.deviation, i, "deviation") for i, ind in enumerate(f.indicators)]
    for where, text, row, field in texts:
        t = clean(text)
        if not t:
            continue
        hit = _LATE_WORDS.search(t)
        if hit is None:
            for m in _LATE_DATE.finditer(t):
                year = int(m.group(1)) if m.group(1) else f.year
                month = int(m.group(2))
                before = t[max(0, m.start() - 2):m.start()]
                if f.year and year and (year > f.year or (year == f.year and month >= 11)) and "前" not in t[m.end():m.end() + 1] \
                        and not re.search(r"截[止至]", before):
                    hit = m
                    break
        if hit is None and f.year:  # ``2024年（实际支出83.436万元）：完成尾款结算`` on a 2023 form
            for m in _LATER_YEAR.finditer(t):
                if int(m.group(1)) > f.year:
                    hit = m
                    break
        if hit is not None:
            yield ctx.flag("late-execution", f"「{ctx.project}」{where}写明“{clause_around(t, hit)}”，资金下达或支付时间偏晚",
                           evidence=f"{where}：{clause_around(t, hit)}", field=field if row is None else None,
                           suggestion="按用款计划及时申请、下达和拨付资金，加强年度中期执行进度监控，避免年底集中支付")
            return
