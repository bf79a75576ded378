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
from typing import Any

from extractor.core.errors import ConfigError

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
    form_deadline: float = 300.0  # seconds one form (all its calls, retries and re-asks) may take
    batch_deadline: float = 3600.0  # seconds the whole LLM pass of a batch may take; 0 = no limit
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
            kind = type(getattr(cfg, f.name))
            try:
                setattr(cfg, f.name, str(v) if kind is str else kind(v))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"大模型配置项 {f.name} 的值“{v}”不是{'整数' if kind is int else '数字'}") from exc
    if cfg.mode and cfg.mode.upper() not in MODES:
        raise ConfigError(f"不支持的 instructor 模式“{cfg.mode}”；可用的模式：{', '.join(MODES)}")
    cfg.mode = cfg.mode.upper()
    if cfg.concurrency < 1:
        raise ConfigError("concurrency 至少为 1")
    return cfg


def failure_text(cfg: LLMConfig, exc: BaseException, limit: int = 200) -> str:
    """An exception as a line for users and exports, with the API key masked wherever the endpoint
    echoed it (in an error body, a URL, a header dump)."""
    text = f"{type(exc).__name__}: {exc}"
    key = cfg.api_key
    if key and len(key) >= 4:
        text = text.replace(key, "***")
    return text[:limit]


class HTTPCounter:
    """Every HTTP request the client sends, by outcome (a re-ask after a garbage answer, a retry after
    a 429 and a request that timed out are each a request)."""

    def __init__(self) -> None:
        self.sent = 0
        self.by_status: dict[str, int] = {}

    @property
    def unanswered(self) -> int:
        """Requests with no response (timed out, connection lost)."""
        return self.sent - sum(self.by_status.values())

    async def on_request(self, request: Any) -> None:
        self.sent += 1

    async def on_response(self, response: Any) -> None:
        code = response.status_code
        key = "成功" if code < 300 else ("限流429" if code == 429 else ("服务端错误5xx" if code >= 500 else f"错误{code}"))
        self.by_status[key] = self.by_status.get(key, 0) + 1

    def text(self) -> str:
        parts = [f"{k} {v}" for k, v in sorted(self.by_status.items())]
        if self.unanswered:
            parts.append(f"无响应（超时或断开） {self.unanswered}")
        return f"HTTP 请求 {self.sent} 次" + (f"（{'，'.join(parts)}）" if parts else "")


def build_client(cfg: LLMConfig, counter: HTTPCounter | None = None):  # type: ignore[no-untyped-def]
    """An async instructor client for the endpoint (transport retries are ours, not the SDK's);
    ``counter`` sees every HTTP request it sends."""
    import instructor
    from openai import AsyncOpenAI, DefaultAsyncHttpxClient

    if not cfg.configured:
        raise ConfigError(OFFLINE_NOTE)
    mode = cfg.resolved_mode
    if mode not in MODES:
        raise ConfigError(f"不支持的 instructor 模式“{mode}”；可用的模式：{', '.join(MODES)}")
    http = None
    if counter is not None:
        http = DefaultAsyncHttpxClient(event_hooks={"request": [counter.on_request], "response": [counter.on_response]})
    client = AsyncOpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=cfg.timeout, max_retries=0,
                         http_client=http)
    return instructor.from_openai(client, mode=getattr(instructor.Mode, mode))


async def close_client(client: Any) -> None:
    """Close the SDK client inside an instructor client (before its event loop ends)."""
    close = getattr(getattr(client, "client", None), "close", None)
    if close is not None:
        try:
            await close()
        except Exception:  # noqa: S110 - closing a broken connection must not mask the results
            pass


def _unwrap(exc: BaseException | None) -> BaseException | None:
    """The SDK's own exception inside instructor's wrappers."""
    seen = 0
    while exc is not None and seen < 6:
        if getattr(exc, "response", None) is not None or type(exc).__module__.startswith("openai"):
            return exc
        exc = exc.__cause__ or getattr(exc, "last_exception", None) or exc.__context__
        seen += 1
    return exc


def _retry_after(exc: BaseException) -> float | None:
    exc = _unwrap(exc) or exc
    resp = getattr(exc, "response", None)
    if resp is None:
        return None
    value = resp.headers.get("retry-after") if hasattr(resp, "headers") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


async def call_model(client: Any, cfg: LLMConfig, messages: list[dict[str, str]],
                     response_model: type) -> tuple[Any, int, int]:
    """One model call with transport retries and a larger budget after truncation."""
    import openai
    from instructor.core.exceptions import IncompleteOutputException
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

    transient = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError,
                 openai.APIConnectionError)

    def is_transient(exc: BaseException) -> bool:
        return isinstance(_unwrap(exc), transient)  # instructor may wrap the SDK's exception

    def wait(state: Any) -> float:
        exc = state.outcome.exception()
        ra = _retry_after(exc) if exc is not None else None
        return min(ra if ra is not None else 0.5 * 2 ** (state.attempt_number - 1), 30.0)

    budget = cfg.max_tokens
    for _truncation in range(2):
        try:
            async for attempt in AsyncRetrying(retry=retry_if_exception(is_transient), wait=wait,
                                               stop=stop_after_attempt(cfg.max_retries + 1), reraise=True):
                with attempt:
                    answer, completion = await client.chat.completions.create_with_completion(
                        model=cfg.model, response_model=response_model, messages=messages,
                        max_retries=cfg.max_reasks, max_tokens=budget)
            usage = getattr(completion, "usage", None)
            return answer, getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0
        except IncompleteOutputException:
            budget *= 2  # the answer was cut off: once more with room to finish
    raise RuntimeError("大模型回答两次被截断（已加大输出上限）")
