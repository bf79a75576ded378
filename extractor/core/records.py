"""Typed records for a 项目支出绩效自评表 and where each value came from.

The Chinese field descriptions double as the LLM's instructions, so they say what a person
filling the field should write. Models only: no parsing logic lives here.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.dataclasses import dataclass

# OCR confidence below which a value is marked for the reviewer (checked against the page image).
# Figures get a stricter bar: the arithmetic checks rest on them, and on the scanned seeds a misread
# digit came at 0.89 while 99% of correctly read figures were at 0.98 or more.
LOW_CONFIDENCE = 0.85
LOW_CONFIDENCE_FIGURE = 0.95
FIGURE_FIELDS = frozenset({"initial", "full_year", "executed", "weight", "rate", "score", "total_weight",
                           "total_score", "year", "phone"})


def doubtful(field: str, confidence: float | None) -> bool:
    """Whether an OCR-read value of ``field`` (its last key) must be checked by the reviewer."""
    if confidence is None or field == "label":
        return False
    return confidence < (LOW_CONFIDENCE_FIGURE if field in FIGURE_FIELDS else LOW_CONFIDENCE)

Amount = float | str | None

# Unknown fields are refused. Validators are built when a model is first used, not at import: every
# command imports these records and most use a few (``extract`` never builds a Report's validator);
# building them all at import was a fifth of a small file's whole run. The review configuration's
# models use it too.
STRICT_CONFIG = ConfigDict(extra="forbid", defer_build=True)


@dataclass(slots=True, config=STRICT_CONFIG)
class SourceRef:
    """Where a value was read: page, line and character span in the page text, or a box.

    A slotted dataclass, not a model: a form holds some fifty of them, and as models they were most
    of a form's memory (a 10,000-form file held 1.2 GB of records)."""

    page: int = Field(1, description="页码，从1开始；纯文本和Word文件视为第1页")
    line: int | None = Field(None, description="页文本中的行号，从1开始")
    start: int | None = Field(None, description="值在页文本中的起始字符位置")
    end: int | None = Field(None, description="值在页文本中的结束字符位置（不含）")
    bbox: tuple[float, float, float, float] | None = Field(
        None, description="PDF页面坐标中的单元格边框 (x0, y0, x1, y1)，单位为点")
    confidence: float | None = Field(None, description="OCR识别置信度（0-1），非OCR来源为空")

    def model_dump(self, exclude_none: bool = False) -> dict:
        """The fields as a dict, like a model's."""
        return _source_ref().dump_python(self, exclude_none=exclude_none)

    @classmethod
    def model_json_schema(cls) -> dict:
        return _source_ref().json_schema()


@cache
def _source_ref() -> TypeAdapter[SourceRef]:
    """The adapter that dumps a SourceRef (built on first use, as the models are)."""
    return TypeAdapter(SourceRef)


class FundRow(BaseModel):
    """One row of the 项目资金 table."""

    model_config = STRICT_CONFIG

    initial: Amount = Field(None, description="年初预算数，按表头单位（通常为万元）记数字；空或“—”为null")
    full_year: Amount = Field(None, description="全年预算数（调整后预算数）")
    executed: Amount = Field(None, description="全年执行数")
    weight: float | None = Field(None, description="分值，仅“年度资金总额”行填写")
    rate: float | None = Field(None, description="执行率，百分数的数字部分，如“100%”记为100")
    score: float | None = Field(None, description="得分，仅“年度资金总额”行填写")
    sources: dict[str, SourceRef] = Field(default_factory=dict, description="各字段的来源位置")


class Funds(BaseModel):
    """The 项目资金 table."""

    model_config = STRICT_CONFIG

    unit: str | None = Field(None, description="表头注明的金额单位，如“万元”")
    total: FundRow = Field(default_factory=FundRow, description="年度资金总额")
    fiscal: FundRow = Field(default_factory=FundRow, description="其中：当年财政拨款")
    carryover: FundRow = Field(default_factory=FundRow, description="上年结转资金")
    other: FundRow = Field(default_factory=FundRow, description="其他资金")


class Indicator(BaseModel):
    """One filled row of the 绩效指标 table."""

    model_config = STRICT_CONFIG

    level1: str | None = Field(None, description="一级指标，如“产出指标”；合并单元格向下填充")
    level2: str | None = Field(None, description="二级指标，如“数量指标”；合并单元格向下填充")
    name: str | None = Field(None, description="三级指标名称，按原文")
    target: str | None = Field(None, description="年度指标值，按原文，如“≥300项”")
    actual: str | None = Field(None, description="实际完成值，按原文")
    weight: float | None = Field(None, description="分值（权重），数字")
    score: float | None = Field(None, description="得分，数字")
    deviation: str | None = Field(None, description="偏差原因分析及改进措施，按原文；空为null")
    nature: str | None = Field(None, description="指标性质（≥、≤、=、定性），四川等地表格有此列")
    unit: str | None = Field(None, description="度量单位，四川等地表格有此列")
    target_adjusted: str | None = Field(None, description="调整后指标值（部分表格在年初指标值旁另列）")
    review_score: float | None = Field(None, description="复核分、折算得分等第二个得分列")
    score_rate: str | None = Field(None, description="得分系数（部分表格列出）")
    sources: dict[str, SourceRef] = Field(default_factory=dict, description="各字段的来源位置")


class Flag(BaseModel):
    """One problem the review pass found, with its evidence and a fix."""

    model_config = STRICT_CONFIG

    code: str = Field(description="问题代码（如 vague-target），含义见导出约定")
    severity: Literal["info", "warn", "error"] = Field(description="严重程度：info 提示、warn 警告、error 错误")
    indicator: int | None = Field(None, description="涉及的指标在 indicators 中的序号（从0开始）；表级问题为空")
    message: str = Field(description="中文说明，点明项目名称与指标")
    evidence: str = Field("", description="原文引用（单元格文字或算式）")
    where: SourceRef | None = Field(None, description="原文位置")
    suggestion: str | None = Field(None, description="修改建议（中文），只用表内已有的事实")
    second_opinion: dict | None = Field(None, description="大模型对边界情形的复核意见（是否同意、理由），不改变规则结论")
    self_score: float | None = Field(None, description="计分类问题：自评得分")
    expected_score: float | None = Field(None, description="计分类问题：按规则重算的得分")
    basis: str = Field("", description="依据（文件条款或评价规则）")


class IndicatorRescore(BaseModel):
    """The recomputed score of one indicator."""

    model_config = STRICT_CONFIG

    index: int = Field(description="指标序号（从0开始）")
    method: str = Field(description="重算方法：正向、反向、定性区间或未重算")
    self_score: float | None = Field(None, description="自评得分")
    expected: float | None = Field(None, description="按规则重算的得分")
    note: str = Field("", description="重算说明（中文）")


class Rescore(BaseModel):
    """Every score the form states, recomputed (domain.md §1.4)."""

    model_config = STRICT_CONFIG

    budget_self: float | None = Field(None, description="预算执行自评得分")
    budget_expected: float | None = Field(None, description="预算执行重算得分 = min(执行率,100%) × 分值")
    indicators: list[IndicatorRescore] = Field(default_factory=list, description="各指标重算结果")
    self_total: float | None = Field(None, description="自评总分（总分行，缺失时为各项之和）")
    recomputed_total: float | None = Field(None, description="重算总分")
    gap: float | None = Field(None, description="自评总分 − 重算总分；为正表示可能自评偏高；分值合计不符时不比较")
    note: str = Field("", description="重算说明（中文）")


class LLMRun(BaseModel):
    """What the LLM step did for one form."""

    model_config = STRICT_CONFIG

    prompt: str = Field(description="提示词名称与版本，如 form_extract@v1")
    model: str = Field(description="模型名称")
    cached: bool = Field(False, description="是否命中缓存（未实际调用模型）")
    tokens_in: int = Field(0, description="输入token数")
    tokens_out: int = Field(0, description="输出token数")
    cost: float = Field(0.0, description="估算费用（按配置的千token单价）")
    error: str | None = Field(None, description="调用失败的原因（中文）")
    filled: list[dict] = Field(default_factory=list, description="由大模型补充或更正、并已在原文中核实的值（更正的注明原值 replaced 与原因 why）")
    disagreements: list[dict] = Field(default_factory=list, description="大模型与规则解析不一致之处（保留规则解析结果）")
    unverified: list[dict] = Field(default_factory=list, description="大模型给出但原文中找不到的值（未采用）")
    values: dict[str, dict] = Field(default_factory=dict, description=(
        "逐值来源：字段路径 → {source: parser 规则解析 / model 大模型（已核实） / both 两者一致 / "
        "disputed 两者不一致（保留规则解析） / unverified 大模型的值未核实（未采用）, why 原因}"))


LOW_READING_CONFIDENCE = 0.7  # a form read below this goes first in the review queue and is marked for checking


class Form(BaseModel):
    """One 项目支出绩效自评表 (or a table fragment with no 项目名称)."""

    model_config = STRICT_CONFIG

    kind: Literal["project", "department", "transfer"] = Field(
        "project", description="表的种类：project 项目支出、department 部门整体支出、transfer 转移支付")
    year: int | None = Field(None, description="表头“（2023年度）”中的年度")
    project_name: str | None = Field(None, description="项目名称（转移支付表为转移支付（项目）名称）；表格残片、部门整体表为null")
    department: str | None = Field(None, description="主管部门，按原文（可能是代码）")
    implementing_unit: str | None = Field(None, description="实施单位")
    project_lead: str | None = Field(None, description="项目负责人")
    phone: str | None = Field(None, description="联系电话")
    central_department: str | None = Field(None, description="中央（省级）主管部门，转移支付表有此栏")
    funds: Funds = Field(default_factory=Funds, description="项目资金表")
    funds_extra: list[dict] = Field(default_factory=list, description="资金表中四个标准行以外的行（如地方资金、省级资金），按原文标签")
    goal_expected: str | None = Field(None, description="年度总体目标：预期目标")
    goal_actual: str | None = Field(None, description="年度总体目标：实际完成情况")
    indicators: list[Indicator] = Field(default_factory=list, description="绩效指标表中已填写的各行，自上而下")
    problems_stated: str | None = Field(None, description="表尾“存在问题”栏，按原文（如“无”“暂无”）；表中无此栏为null")
    total_weight: float | None = Field(None, description="总分行的分值")
    total_score: float | None = Field(None, description="总分行的得分")
    is_fragment: bool = Field(False, description="是否为缺少表头的表格残片")
    cut_off: bool = Field(False, description="原文在本表的指标表中途结束（网页或转换件截断），后面的指标行与总分行缺失")
    deviation_column: bool | None = Field(None, description="指标表是否有“偏差原因”一栏（null：表头未读到，不确定）")
    template_rows: list[SourceRef] = Field(default_factory=list, description="未填写的模板行（如“指标1：”）的位置")
    warnings: list[str] = Field(default_factory=list, description="解析中发现的问题（中文）")
    confidence: float = Field(1.0, description="解析置信度（0-1）")
    pages: tuple[int, int] | None = Field(None, description="表格所在的起止页码")
    sources: dict[str, SourceRef] = Field(default_factory=dict, description="表级字段的来源位置")
    flags: list[Flag] = Field(default_factory=list, description="审核发现的问题")
    rescore: Rescore | None = Field(None, description="得分重算结果")
    risk: float | None = Field(None, description="风险分：问题严重程度加权与重算差距之和，越高越需关注")
    llm: LLMRun | None = Field(None, description="大模型步骤的记录（如启用）")


def readings_to_check(form: Form) -> list[tuple[str, object, float]]:
    """(path, value, confidence) of every OCR-read value the reviewer must check (:func:`doubtful`):
    header fields, then funds rows, then indicators. Paths are the contract's (``project_name``,
    ``funds.total.executed``, ``indicators.3.score``); a value may be None (a dash, a cell that did
    not parse, a sub-row's 分值), which each caller decides about."""
    out: list[tuple[str, object, float]] = []
    owners: list[tuple[str, BaseModel]] = [("", form)]
    owners += [(f"funds.{row}.", getattr(form.funds, row)) for row in ("total", "fiscal", "carryover", "other")]
    owners += [(f"indicators.{i}.", ind) for i, ind in enumerate(form.indicators)]
    for prefix, owner in owners:
        for key, ref in owner.sources.items():  # type: ignore[attr-defined]
            if doubtful(key, ref.confidence):
                out.append((prefix + key, getattr(owner, key, None), float(ref.confidence)))  # type: ignore[arg-type]
    return out


REPORT_SCALARS = ("kind", "unit", "project", "year", "budget_total", "executed_total", "income_total",
                  "execution_rate", "total_score", "grade", "self_score", "self_grade")


class ReportProject(BaseModel):
    """A project (or funded item) a report lists by name with its amount."""

    model_config = STRICT_CONFIG

    name: str = Field(description="项目名称，按原文")
    amount: float | None = Field(None, description="金额（万元）")
    score: float | None = Field(None, description="该项目的评价得分")
    where: SourceRef | None = Field(None, description="原文位置")


class Report(BaseModel):
    """One narrative 绩效评价报告 (project, 部门整体, 自评 or 整改) found in a document."""

    model_config = STRICT_CONFIG

    kind: Literal["evaluation", "department", "self", "rectification"] = Field(
        "evaluation", description="报告种类：evaluation 绩效评价报告、department 部门整体、self 单位自评报告、rectification 整改报告")
    title: str | None = Field(None, description="报告标题，按原文")
    unit: str | None = Field(None, description="被评价的部门或单位，按原文；只写“我局”“本单位”时为null")
    project: str | None = Field(None, description="被评价的项目或政策，不含单位、地区和年度；部门整体报告为null")
    year: int | None = Field(None, description="评价的预算年度")
    budget_total: float | None = Field(None, description="预算总额（万元）")
    executed_total: float | None = Field(None, description="执行（支出）总额（万元）")
    income_total: float | None = Field(None, description="部门整体报告的收入合计（万元）")
    execution_rate: float | None = Field(None, description="报告写明的预算执行率（百分数的数字部分）")
    total_score: float | None = Field(None, description="报告的综合得分（评价方的，或自评报告唯一的得分）")
    grade: str | None = Field(None, description="评价等级，如“优秀”“良”")
    self_score: float | None = Field(None, description="与评价得分并列写明的单位自评得分")
    self_grade: str | None = Field(None, description="与评价等级并列写明的单位自评等级")
    projects: list[ReportProject] = Field(default_factory=list, description="报告列出的项目及金额")
    problems: list[str] = Field(default_factory=list, description="“存在的问题”各条，按原文（去掉序号）")
    suggestions: list[str] = Field(default_factory=list, description="“建议”“改进措施”“整改措施”各条，按原文（去掉序号）")
    converted_from_yuan: list[str] = Field(default_factory=list, description="原文以“元”为单位、已换算为万元的字段")
    claims_complete: str | None = Field(None, description="报告中“目标已全部完成”一类的表述（原文）")
    lines: tuple[int, int] | None = Field(None, description="报告在原文中的起止行（从1开始）")
    sources: dict[str, SourceRef] = Field(default_factory=dict, description="各字段（problems.0 等逐条）的来源位置")
    flags: list[Flag] = Field(default_factory=list, description="审核发现的问题")
    warnings: list[str] = Field(default_factory=list, description="读取中发现的问题（中文）")
    llm: dict | None = Field(None, description="大模型补读的记录（如启用）：补充的值与未核实的值")


class ExtractionResult(BaseModel):
    """Everything read from one input file."""

    model_config = STRICT_CONFIG

    source: str = Field(description="输入文件名")
    kind: str | None = Field(None, description="文件类型：txt、pdf、docx、xlsx")
    status: str = Field("ok", description="ok 或 failed")
    error: str | None = Field(None, description="失败原因（中文）")
    forms: list[Form] = Field(default_factory=list, description="文件中找到的全部自评表及表格残片，按出现顺序")
    reports: list[Report] = Field(default_factory=list, description="文件中找到的绩效评价报告（叙述性报告），按出现顺序")
    target_forms: list[dict] = Field(default_factory=list, description="绩效目标申报表、目标表等只有目标值、没有完成值的表（不是自评表）")
    warnings: list[str] = Field(default_factory=list, description="文件级提示（中文）")
