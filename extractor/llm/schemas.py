"""What the model is asked to return: the contract's fields only, every description in Chinese.

No provenance, flags or scores: the model copies values as printed, and grounding
(:mod:`extractor.llm.grounding`) finds each one in the source before it is trusted.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Num = float | None
Text = str | None
Amount = float | str | None  # a funds cell that is not a plain number stays as printed


class LLMFundRow(BaseModel):
    """项目资金表的一行。"""

    model_config = ConfigDict(extra="forbid")

    initial: Amount = Field(None, description="年初预算数（数字，按表头单位，空或“—”填null；不是数字的按原文）")
    full_year: Amount = Field(None, description="全年预算数（数字；不是数字的按原文）")
    executed: Amount = Field(None, description="全年执行数（数字；不是数字的按原文）")


class LLMFundTotal(LLMFundRow):
    """年度资金总额行，另有分值、执行率、得分。"""

    weight: Num = Field(None, description="分值（数字）")
    rate: Num = Field(None, description="执行率的数字部分，如“100%”填100")
    score: Num = Field(None, description="得分（数字）")


class LLMFunds(BaseModel):
    """项目资金表。"""

    model_config = ConfigDict(extra="forbid")

    total: LLMFundTotal = Field(default_factory=LLMFundTotal, description="年度资金总额")
    fiscal: LLMFundRow = Field(default_factory=LLMFundRow, description="其中：当年财政拨款")
    carryover: LLMFundRow = Field(default_factory=LLMFundRow, description="上年结转资金")
    other: LLMFundRow = Field(default_factory=LLMFundRow, description="其他资金")


class LLMIndicator(BaseModel):
    """绩效指标表中已填写的一行。"""

    model_config = ConfigDict(extra="forbid")

    level1: Text = Field(None, description="一级指标，按原文；合并单元格向下填充")
    level2: Text = Field(None, description="二级指标，按原文；合并单元格向下填充")
    name: Text = Field(None, description="三级指标，按原文逐字抄录")
    target: Text = Field(None, description="年度指标值，按原文逐字抄录")
    actual: Text = Field(None, description="实际完成值，按原文逐字抄录")
    weight: Num = Field(None, description="分值（数字）")
    score: Num = Field(None, description="得分（数字）")
    deviation: Text = Field(None, description="偏差原因分析及改进措施，按原文；空填null")


class LLMForm(BaseModel):
    """一份项目支出绩效自评表。只抄录原文中有的内容，没有的填null，不得推测或补写。"""

    model_config = ConfigDict(extra="forbid")

    year: int | None = Field(None, description="表头“（2023年度）”中的年度")
    project_name: Text = Field(None, description="项目名称，按原文")
    department: Text = Field(None, description="主管部门，按原文")
    implementing_unit: Text = Field(None, description="实施单位，按原文")
    project_lead: Text = Field(None, description="项目负责人")
    phone: Text = Field(None, description="联系电话")
    funds: LLMFunds = Field(default_factory=LLMFunds, description="项目资金表")
    goal_expected: Text = Field(None, description="年度总体目标：预期目标，按原文")
    goal_actual: Text = Field(None, description="年度总体目标：实际完成情况，按原文")
    indicators: list[LLMIndicator] = Field(default_factory=list, description="绩效指标表中已填写的各行，自上而下；未填写的模板行（如“指标2：”）不要列出")
    total_weight: Num = Field(None, description="总分行的分值")
    total_score: Num = Field(None, description="总分行的得分")


class LLMDocument(BaseModel):
    """一份文件中的全部项目支出绩效自评表（含部门整体、转移支付自评表及表格残片）。没有就返回空列表。"""

    model_config = ConfigDict(extra="forbid")

    forms: list[LLMForm] = Field(default_factory=list, description="文件中的各张自评表，按出现顺序；目标申报表、报告正文中的评分表不算")


class ReportProject(BaseModel):
    """报告中列出的一个项目。"""

    model_config = ConfigDict(extra="forbid")

    name: Text = Field(None, description="项目名称，按原文")
    amount: Num = Field(None, description="项目金额（万元，数字）")
    score: Num = Field(None, description="该项目的评价得分（数字）")


class ScoringRow(BaseModel):
    """评价指标体系及评分表的一行。"""

    model_config = ConfigDict(extra="forbid")

    level1: Text = Field(None, description="一级指标，合并单元格向下填充")
    level2: Text = Field(None, description="二级指标")
    level3: Text = Field(None, description="三级指标")
    level4: Text = Field(None, description="四级指标（如有）")
    weight: Num = Field(None, description="分值（数字）")
    score: Num = Field(None, description="评价得分（数字）")
    comment: Text = Field(None, description="评价意见，按原文")


class ReportChunk(BaseModel):
    """绩效评价报告（部门整体或项目）中一段文字里能读到的内容。只抄录原文有的，没有的填null或空列表。"""

    model_config = ConfigDict(extra="forbid")

    unit: Text = Field(None, description="被评价的部门或单位名称，按原文")
    year: int | None = Field(None, description="评价年度")
    budget_total: Num = Field(None, description="全年预算数（万元，数字）")
    executed_total: Num = Field(None, description="全年执行（支出）数（万元，数字）")
    execution_rate: Num = Field(None, description="预算执行率的数字部分，如“95.80%”填95.8")
    projects: list[ReportProject] = Field(default_factory=list, description="报告中列出的项目及其金额、得分")
    scoring_rows: list[ScoringRow] = Field(default_factory=list, description="评价指标体系及评分表的各行")
    total_score: Num = Field(None, description="综合评价得分（数字）")
    grade: Text = Field(None, description="评价等级，如“优秀”")
    problems: list[str] = Field(default_factory=list, description="“存在的问题”中的各条，逐条按原文")
    suggestions: list[str] = Field(default_factory=list, description="“建议”中的各条，逐条按原文")


class Opinion(BaseModel):
    """对一项指标的判断。"""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="指标序号（题目中给出的序号）")
    target_quantified: bool = Field(description="年度指标值是否给出了可衡量的数值、比例、日期或具体数量")
    actual_measured: bool = Field(description="实际完成值是否给出了可与目标比较的实测数据")
    reason: str = Field(description="判断理由（中文，一两句）")


class SecondOpinion(BaseModel):
    """对若干项指标的复核意见。"""

    model_config = ConfigDict(extra="forbid")

    items: list[Opinion] = Field(default_factory=list, description="逐项意见，每个给出的序号一项")
