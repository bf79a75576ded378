"""Regular expressions compiled when first used, not when their module is imported.

The readers hold some two hundred module-level patterns, several of them alternations of hundreds of
labels; compiling them all was a tenth of a small file's whole run, and a file of forms never uses
the narrative-report patterns (nor a text file the glued-label ones). A :class:`LazyPattern` stands in
for the compiled pattern: the first call of one of its methods compiles it and puts the compiled
pattern's methods on the instance, so every later call goes straight to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "scanner")


class LazyPattern:
    """A compiled :mod:`re` pattern made on first use (``source``: the pattern text, or a function
    that builds it).

    Its matching methods (set on the class below this definition) compile the pattern on the first
    call and put the compiled pattern's bound methods on the instance: they shadow the class's,
    so every later call costs one instance lookup (the class has no ``__getattr__``, which would
    slow down every lookup, found or not)."""

    def __init__(self, source: str | Callable[[], str | re.Pattern[str]], flags: int = 0) -> None:
        self._source = (source, flags)
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        """The real pattern (compiled now if it was not yet)."""
        got = self._compiled
        if got is None:
            source, flags = self._source
            text = source() if callable(source) else source
            got = text if isinstance(text, re.Pattern) else re.compile(text, flags)
            for name in _METHODS:
                self.__dict__[name] = getattr(got, name)
            self._compiled = got
        return got

    def __repr__(self) -> str:
        return f"LazyPattern({self._source[0]!r})"


def _deferred_method(name: str) -> Callable[..., Any]:
    def method(self: LazyPattern, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.compiled(), name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


def _deferred_attribute(name: str) -> property:
    return property(lambda self: getattr(self.compiled(), name), doc=f"The compiled pattern's ``{name}``.")


for _name in _METHODS:
    setattr(LazyPattern, _name, _deferred_method(_name))
for _name in ("pattern", "flags", "groups", "groupindex"):
    setattr(LazyPattern, _name, _deferred_attribute(_name))


def lazy_compile(source: str | Callable[[], str | re.Pattern[str]], flags: int = 0) -> Any:
    """``re.compile(source, flags)``, done the first time the pattern is used."""
    return LazyPattern(source, flags)
