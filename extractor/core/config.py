"""Review configuration: thresholds, the first-level weight scheme, which rules run.

Defaults live in ``review_defaults.toml`` beside this module (documented there); a user file passed
with ``--config`` overrides any subset of them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from extractor.core.errors import ConfigError
from extractor.core.records import STRICT_CONFIG

DEFAULTS = Path(__file__).with_name("review_defaults.toml")


class Thresholds(BaseModel):
    """Numeric thresholds of the rules."""

    model_config = STRICT_CONFIG

    low_execution_rate: float = Field(90.0, description="执行率低于该值（%）视为偏低")
    budget_adjust_share: float = Field(0.20, description="预算调整幅度超过该比例视为调整较大")
    overachievement_ratio: float = Field(1.30, description="实际值达到目标的该倍数视为大幅超额")
    score_tolerance: float = Field(0.5, description="得分与公式结果相差超过该分值即提示")
    sum_tolerance: float = Field(0.05, description="合计类核对的容差")
    goal_similarity: float = Field(0.90, description="实际完成情况与预期目标的相似度阈值")
    weight_allocation_tolerance: float = Field(10, description="一级指标权重偏离方案的容差（分）")
    negative_rule: str = Field("hubei", description="反向指标计分：hubei 或 linear")


class Bands(BaseModel):
    """Qualitative score bands."""

    model_config = STRICT_CONFIG

    achieved_min: float = Field(0.8, description="达成年度指标的最低得分比例")
    partial_min: float = Field(0.6, description="部分达成的最低得分比例")


class RiskWeights(BaseModel):
    """How flags and the rescoring gap add up to a risk score."""

    model_config = STRICT_CONFIG

    error: float = Field(5.0, description="每个错误的风险分")
    warn: float = Field(2.0, description="每个警告的风险分")
    info: float = Field(0.5, description="每个提示的风险分")
    gap_weight: float = Field(1.0, description="自评高于重算的每一分计入的风险分")
    per_code_cap: int = Field(3, description="同一问题代码最多计入风险分的次数")
    shaky_weight: float = Field(0.5, description="依据OCR低置信度读数的问题按此比例计入风险分（读数可能有误，须先核对）")
    trust_floor: float = Field(0.3, description="解析置信度低的表，风险分乘以解析置信度（不低于此值）：残片与乱码上的大量问题多为误读")
    code_weights: dict[str, float] = Field(default_factory=dict,
                                           description="按问题代码指定风险分（覆盖按严重程度的默认值）")


class Rules(BaseModel):
    """Which rules run."""

    model_config = STRICT_CONFIG

    disabled: list[str] = Field(default_factory=list, description="不运行的规则代码")


class ReviewConfig(BaseModel):
    """Everything the review pass can be told."""

    model_config = STRICT_CONFIG

    rules: Rules = Field(default_factory=Rules, description="规则开关")
    thresholds: Thresholds = Field(default_factory=Thresholds, description="阈值")
    weights: dict[str, float] = Field(default_factory=lambda: {"产出": 50, "效益": 30, "满意度": 10, "预算执行": 10},
                                      description="一级指标权重方案（分）")
    bands: Bands = Field(default_factory=Bands, description="定性指标得分区间")
    risk: RiskWeights = Field(default_factory=RiskWeights, description="风险分权重")


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in (
            "weights", "code_weights") else v
    return out


def load_config(path: str | Path | None = None) -> ReviewConfig:
    """Defaults, overridden by the user's TOML file when given."""
    data = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    if path is not None:
        p = Path(path)
        try:
            data = _merge(data, tomllib.loads(p.read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise ConfigError(f"找不到配置文件「{p}」。请检查路径，或去掉 --config 使用默认配置") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"配置文件「{p}」格式有误：{exc}。请对照 extractor/core/review_defaults.toml 修改") from exc
    try:
        return ReviewConfig.model_validate(data)
    except ValidationError as exc:
        lines = "；".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"配置文件内容有误：{lines}。请对照 extractor/core/review_defaults.toml 修改") from exc
