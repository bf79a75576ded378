"""Regular expressions compiled when first used, not when their module is imported.

The readers hold some two hundred module-level patterns, several of them alternations of hundreds of
labels; compiling them all was a tenth of a small file's whole run, and a file of forms never uses
the narrative-report patterns (nor a text file the glued-label ones). A :class:`LazyPattern` stands in
for the compiled pattern: its first attribute lookup compiles it and copies the pattern's methods onto
itself, so every later call is a plain attribute hit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_COPIED = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "scanner",
           "pattern", "flags", "groups", "groupindex")


class LazyPattern:
    """A compiled :mod:`re` pattern made on first use (``source``: the pattern text, or a function
    that builds it)."""

    def __init__(self, source: str | Callable[[], str | re.Pattern[str]], flags: int = 0) -> None:
        self.__dict__["_source"] = (source, flags)

    def compiled(self) -> re.Pattern[str]:
        """The real pattern (compiled now if it was not yet)."""
        got = self.__dict__.get("_compiled")
        if got is None:
            source, flags = self.__dict__["_source"]
            text = source() if callable(source) else source
            got = text if isinstance(text, re.Pattern) else re.compile(text, flags)
            for name in _COPIED:
                self.__dict__[name] = getattr(got, name)
            self.__dict__["_compiled"] = got
        return got

    def __getattr__(self, name: str) -> Any:  # only for names not yet copied onto the instance
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.__dict__['_source'][0]!r})"


def lazy_compile(source: str | Callable[[], str | re.Pattern[str]], flags: int = 0) -> Any:
    """``re.compile(source, flags)``, done the first time the pattern is used."""
    return LazyPattern(source, flags)
