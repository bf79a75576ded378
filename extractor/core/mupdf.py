"""pymupdf, imported without the optional add-ons its 2.0 release pulls in on import.

``import pymupdf`` also imports ``pymupdf.layout`` (an ONNX layout model) and ``pymupdf4llm`` when they
are installed, and pymupdf 2.0 requires both: 0.75 s of CPU in every process, seven times the rest of
pymupdf. Nothing here uses them (tables come from the page's ruling lines). They are hidden only while
pymupdf is first imported, so a caller that wants them can still ``import pymupdf.layout`` after.
"""

from __future__ import annotations

import sys

_ADDONS = ("pymupdf.layout", "pymupdf4llm")

if "pymupdf" not in sys.modules:
    _hidden = [name for name in _ADDONS if name not in sys.modules]
    for _name in _hidden:
        sys.modules[_name] = None  # type: ignore[assignment]  # makes their import fail fast
    try:
        import pymupdf
    finally:
        for _name in _hidden:
            if sys.modules.get(_name, False) is None:
                del sys.modules[_name]
else:
    import pymupdf

__all__ = ["pymupdf"]
