"""Exception tree for the extractor: one root, messages in Chinese that say what to do next."""

from __future__ import annotations


class ExtractorError(Exception):
    """Root of every error the extractor raises on purpose."""


class IngestError(ExtractorError):
    """A file could not be read; the message names the file and the remedy."""

    def __init__(self, path: str, reason: str, remedy: str = "") -> None:
        self.path = path
        self.reason = reason
        self.remedy = remedy
        msg = f"无法读取文件「{path}」：{reason}"
        if remedy:
            msg += f"。处理建议：{remedy}"
        super().__init__(msg)


class UnsupportedFormat(IngestError):
    """The file type is not one the extractor reads."""


class ConfigError(ExtractorError):
    """A configuration value is missing or invalid."""
