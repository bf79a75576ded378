"""Load versioned prompt files (``prompts/<name>.v<N>.toml``) and render them strictly.

A prompt declares its variables; rendering with a missing or an undeclared variable raises, and a
variable declared but not used in the text is a load error. Every output records ``name@version``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from extractor.core.errors import ExtractorError

PROMPT_DIR = Path(str(files("prompts")))  # the ``prompts`` package's data, in a checkout or an installed wheel


class PromptError(ExtractorError):
    """A prompt file is malformed or was rendered with the wrong variables."""


@dataclass(frozen=True)
class Prompt:
    """One versioned prompt."""

    name: str
    version: int
    variables: tuple[str, ...]
    system: str
    user: str

    @property
    def id(self) -> str:
        return f"{self.name}@v{self.version}"

    def render(self, **values: str) -> list[dict[str, str]]:
        missing = set(self.variables) - set(values)
        extra = set(values) - set(self.variables)
        if missing or extra:
            raise PromptError(f"提示词 {self.id} 的变量不符：缺少 {sorted(missing)}，多出 {sorted(extra)}")
        return [{"role": "system", "content": Template(self.system).substitute(values)},
                {"role": "user", "content": Template(self.user).substitute(values)}]


def load_prompt(name: str, version: int | None = None, directory: Path = PROMPT_DIR) -> Prompt:
    """The given version, or the highest one present."""
    files = sorted(directory.glob(f"{name}.v*.toml"), key=lambda p: int(re.search(r"\.v(\d+)\.toml$", p.name).group(1)))
    if version is not None:
        files = [p for p in files if p.name == f"{name}.v{version}.toml"]
    if not files:
        raise PromptError(f"找不到提示词文件 {name}（{directory}）")
    path = files[-1]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PromptError(f"提示词文件 {path.name} 格式有误：{exc}") from exc
    allowed = {"name", "version", "variables", "system", "user"}
    if set(data) - allowed or not {"name", "version", "system", "user"} <= set(data):
        raise PromptError(f"提示词文件 {path.name} 的键应为 {sorted(allowed)}")
    p = Prompt(data["name"], int(data["version"]), tuple(data.get("variables", [])), data["system"], data["user"])
    used = set(re.findall(r"\$(\w+)", p.system + p.user))
    if used != set(p.variables):
        raise PromptError(f"提示词 {p.id} 声明的变量 {sorted(p.variables)} 与正文中使用的 {sorted(used)} 不一致")
    return p
