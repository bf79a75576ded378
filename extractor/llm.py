"""The single LLM seam: configuration and client construction, nothing else.

Any OpenAI-compatible endpoint works (OpenAI, DeepSeek, Qwen's compatible mode, vLLM, Ollama,
llama.cpp server), chosen by configuration: environment variables ``EXTRACTOR_LLM_*`` (the key also
from ``OPENAI_API_KEY``) over the ``[llm]`` table of a TOML file. The instructor mode is data, per
model: TOOLS, JSON_SCHEMA, MD_JSON or JSON; anything else is an error that lists the valid ones.
The API key is never printed, logged or exported (``repr`` hides it).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from extractor.errors import ConfigError

MODES = ("TOOLS", "JSON_SCHEMA", "MD_JSON", "JSON")
# Known per-model capabilities (data, not branches): which instructor mode each family handles well.
MODEL_MODES = {
    "gpt-": "TOOLS", "deepseek": "JSON", "qwen": "TOOLS", "glm": "TOOLS", "llama": "MD_JSON", "mistral": "TOOLS",
}
OFFLINE_NOTE = "未配置大模型（EXTRACTOR_LLM_API_KEY 或配置文件 [llm] api_key），已跳过大模型步骤，仅使用规则解析结果。"


@dataclass
class LLMConfig:
    """Where and how to call the model."""

    base_url: str = "https://api.openai.com/v1"
    api_key: str = field(default="", repr=False)
    model: str = "gpt-4o-mini"
    mode: str = ""
    concurrency: int = 4
    timeout: float = 60.0
    max_retries: int = 4  # transport retries (429, 5xx, timeouts)
    max_reasks: int = 2  # instructor re-asks on invalid answers
    max_tokens: int = 4096
    price_in_per_1k: float = 0.0
    price_out_per_1k: float = 0.0
    cache_dir: str = "out/llm_cache"

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    @property
    def resolved_mode(self) -> str:
        if self.mode:
            return self.mode
        m = self.model.lower()
        return next((mode for prefix, mode in MODEL_MODES.items() if m.startswith(prefix)), "TOOLS")


_ENV = {f.name: f"EXTRACTOR_LLM_{f.name.upper()}" for f in fields(LLMConfig)}


def load_llm_config(path: str | Path | None = None, **overrides: object) -> LLMConfig:
    """Config file ``[llm]`` table, then environment variables, then explicit overrides."""
    data: dict[str, object] = {}
    if path is not None:
        try:
            data.update(tomllib.loads(Path(path).read_text(encoding="utf-8")).get("llm", {}))
        except FileNotFoundError as exc:
            raise ConfigError(f"找不到大模型配置文件「{path}」") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"大模型配置文件「{path}」格式有误：{exc}") from exc
    for name, env in _ENV.items():
        if os.environ.get(env):
            data[name] = os.environ[env]
    if not data.get("api_key") and os.environ.get("OPENAI_API_KEY"):
        data["api_key"] = os.environ["OPENAI_API_KEY"]
    data.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(data) - set(_ENV)
    if unknown:
        raise ConfigError(f"大模型配置中有未知的键：{sorted(unknown)}；可用的键：{sorted(_ENV)}")
    cfg = LLMConfig()
    for f in fields(LLMConfig):
        if f.name in data:
            v = data[f.name]
            setattr(cfg, f.name, type(getattr(cfg, f.name))(v) if not isinstance(getattr(cfg, f.name), str) else str(v))
    if cfg.mode and cfg.mode.upper() not in MODES:
        raise ConfigError(f"不支持的 instructor 模式“{cfg.mode}”；可用的模式：{', '.join(MODES)}")
    cfg.mode = cfg.mode.upper()
    if cfg.concurrency < 1:
        raise ConfigError("concurrency 至少为 1")
    return cfg


def build_client(cfg: LLMConfig):  # type: ignore[no-untyped-def]
    """An async instructor client for the endpoint (transport retries are ours, not the SDK's)."""
    import instructor
    from openai import AsyncOpenAI

    if not cfg.configured:
        raise ConfigError(OFFLINE_NOTE)
    mode = cfg.resolved_mode
    if mode not in MODES:
        raise ConfigError(f"不支持的 instructor 模式“{mode}”；可用的模式：{', '.join(MODES)}")
    client = AsyncOpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=cfg.timeout, max_retries=0)
    return instructor.from_openai(client, mode=getattr(instructor.Mode, mode))
