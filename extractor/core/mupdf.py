"""pymupdf, imported without the optional add-ons its 2.0 release pulls in on import.

``import pymupdf`` also imports ``pymupdf.layout`` (an ONNX layout model) and ``pymupdf4llm`` when they
are installed, and pymupdf 2.0 requires both: 0.75 s of CPU in every process, seven times the rest of
pymupdf. Nothing here uses them (tables come from the page's ruling lines). They are hidden only while
pymupdf is first imported, so a caller that wants them can still ``import pymupdf.layout`` after.

``pymupdf.table`` (``find_tables``, and the statistics and parsing modules under it: a fifth of the
rest of pymupdf's import) is loaded lazily: ``import pymupdf`` binds it as always, and it runs the
first time one of its names is used, which for a drawn grid is never.
"""

from __future__ import annotations

import importlib
import sys
import types

from extractor.core.startup import heavy_import

_ADDONS = ("pymupdf.layout", "pymupdf4llm")


class _DeferredTable(types.ModuleType):
    """Stands in for ``pymupdf.table`` until one of its names is used; then the real module is imported
    (pymupdf's own ``table`` name then points at it) and the name is taken from there."""

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]  # only for names the stand-in lacks
        if name.startswith("__"):
            raise AttributeError(name)
        if sys.modules.get("pymupdf.table") is self:
            del sys.modules["pymupdf.table"]
        return getattr(importlib.import_module("pymupdf.table"), name)


def _defer_table_module() -> None:
    """Put the stand-in for ``pymupdf.table`` in ``sys.modules`` before pymupdf imports it."""
    if "pymupdf.table" not in sys.modules:
        stand_in = _DeferredTable("pymupdf.table")
        stand_in.__spec__ = None
        sys.modules["pymupdf.table"] = stand_in


if "pymupdf" not in sys.modules:
    _hidden = [name for name in _ADDONS if name not in sys.modules]
    for _name in _hidden:
        sys.modules[_name] = None  # type: ignore[assignment]  # makes their import fail fast
    _defer_table_module()
    try:
        with heavy_import():
            import pymupdf
    finally:
        for _name in _hidden:
            if sys.modules.get(_name, False) is None:
                del sys.modules[_name]
else:
    import pymupdf

__all__ = ["pymupdf"]
