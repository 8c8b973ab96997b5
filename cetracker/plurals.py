"""Counts in words: "1 member", "2 members", "1,204 entries" (one rule for every page)."""

from __future__ import annotations

_VOWELS = "aeiou"


def plural_of(word: str) -> str:
    """The English plural of a regular noun (the last word of a phrase)."""
    if word.endswith("y") and len(word) > 1 and word[-2].lower() not in _VOWELS:
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def plural(count: int | float, word: str, many: str | None = None) -> str:
    """``count`` with ``word``, in the plural unless the count is exactly one.

    ``many`` gives an irregular plural ("person", "people"). Whole counts get thousands
    separators.
    """
    whole = isinstance(count, int) or float(count).is_integer()
    shown = f"{int(count):,}" if whole else f"{count:,}"
    return f"{shown} {word if count == 1 else (many or plural_of(word))}"
