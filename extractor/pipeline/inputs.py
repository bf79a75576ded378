"""The inputs a batch is given, every one accounted for: files named directly, every document under
named folders, and what was skipped with its reason (a legacy format, an unsupported type, a folder
without permission, a link that loops, a path the system cannot open). Nothing is skipped in silence.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from extractor.ingest import SUPPORTED

LEGACY = {".doc": "旧版Word（.doc）格式，请用Word或WPS另存为 .docx 后再处理",
          ".xls": "旧版Excel（.xls）格式，请用Excel或WPS另存为 .xlsx 后再处理",
          ".wps": "WPS文字格式，请另存为 .docx 后再处理",
          ".et": "WPS表格格式，请另存为 .xlsx 后再处理"}
OWN_OUTPUTS = {"_batch.json", "triage.csv"}  # what a run writes beside its results


@dataclass
class Inputs:
    """The files to read, in order, and what was skipped (path, Chinese reason)."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _ignored(name: str) -> bool:
    """A run's own outputs, gold files and hidden files: not inputs, not worth a line."""
    return name.startswith(".") or name in OWN_OUTPUTS or name.endswith(".gold.json")


def os_reason(exc: OSError) -> str:
    """An OS error in Chinese."""
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    if exc.errno == errno.ENAMETOOLONG:
        return "路径过长，系统无法打开"
    if exc.errno == errno.ELOOP:
        return "链接层数过多（链接循环）"
    if isinstance(exc, FileNotFoundError):
        return "路径不存在"
    return f"无法访问（{exc.strerror or type(exc).__name__}）"


def _walk(top: Path, out: Inputs) -> None:
    found: list[Path] = []
    seen = {os.path.realpath(top)}

    def on_error(exc: OSError) -> None:
        out.skipped.append((Path(exc.filename or top), f"文件夹{os_reason(exc)}，其中的文件未处理"))

    for root, dirs, names in os.walk(top, onerror=on_error, followlinks=True):
        keep = []
        for d in sorted(dirs):
            full = os.path.join(root, d)
            real = os.path.realpath(full)
            if real in seen:
                out.skipped.append((Path(full), "文件夹链接指向已处理过的文件夹（链接循环），已跳过"))
                continue
            seen.add(real)
            keep.append(d)
        dirs[:] = keep
        for name in names:
            f = Path(root, name)
            suffix = f.suffix.lower()
            if _ignored(name):
                continue
            if suffix in SUPPORTED:
                found.append(f)
            elif suffix in LEGACY:
                out.skipped.append((f, LEGACY[suffix]))
            else:
                out.skipped.append((f, f"不支持的文件类型（{suffix or '无扩展名'}）"))
    out.files.extend(sorted(found))


def find_inputs(paths: Iterable[str | Path]) -> Inputs:
    """Files named directly (kept even when unreadable: reading them says why), plus every supported
    file under named folders (sorted); everything else under those folders is listed as skipped."""
    out = Inputs()
    for raw in paths:
        p = Path(raw)
        try:
            is_dir = p.is_dir()
        except OSError as exc:  # a name too long, a loop of links: stat itself fails
            out.skipped.append((p, os_reason(exc)))
            continue
        if is_dir:
            _walk(p, out)
        else:
            out.files.append(p)
    return out
