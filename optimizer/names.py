"""Campaign, ad group and keyword names: one identity however a name was typed, the platform's
own spelling kept for display, and names that can pass for another one flagged.

Identity (`name_key`) is decided, not left to bytes:
- NFKC: composed and decomposed accents (`é` and `e` + U+0301), full-width letters and ligatures
  are one name.
- Default-ignorable characters are removed: zero-width space and joiners, word joiner, BOM, soft
  hyphen, variation selectors, Hangul fillers, the bidi marks (LRM, RLM, ALM) and the bidi
  embeddings, overrides and isolates. They change nothing a person reads, so they must not make a
  second campaign.
- White space runs are one space, trimmed; case is folded (`Shop` and `shop` are one). Google Ads
  matches keywords without regard to case, and a person never means two campaigns by two cases;
  where a platform does hold two campaigns differing only in case they carry different platform
  IDs, and IDs decide before names (`store.identity`), the second shown with its ID.

Names are stored and shown exactly as the platform spells them (the ad script finds campaigns by
them). Invisible and bidi characters, and words mixing Latin with Cyrillic or Greek letters (a
lookalike: Cyrillic U+0430 for the `a` of `Shop`), are warnings of the upload, never refused.
The lookalike check is a mixed-script test per word with `unicodedata`, not a confusables table
(no confusables library is locked): a word written wholly in Cyrillic that looks Latin is not
caught.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["name_key", "name_warning", "names_key"]

_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
"""Unicode's Default_Ignorable_Code_Point characters (DerivedCoreProperties), as ranges."""

_BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_JOINERS = frozenset([0x200C, 0x200D])
"""ZWNJ and ZWJ spell Persian, Arabic and Indic words correctly between their letters."""

_LOOKALIKE_SCRIPTS = frozenset(["LATIN", "CYRILLIC", "GREEK"])
_SPACES = re.compile(r"\s+")
_WORDS = re.compile(r"\w+")


def _ignorable(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in _IGNORABLE_RANGES)


def name_key(name: str) -> str:
    """The identity of a name (see the module docstring); '' stays ''."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(char for char in text if not _ignorable(char))
    text = _SPACES.sub(" ", text).strip()
    return unicodedata.normalize("NFKC", text.casefold())


def names_key(names: Iterable[str]) -> tuple[str, ...]:
    """`name_key` of each name of an entity (campaign, ad group, keyword, match type)."""
    return tuple(name_key(name) for name in names)


def name_warning(name: str) -> str | None:
    """Why a name could be mistaken for another one on screen, or None."""
    hidden = _hidden_characters(name)
    if hidden:
        return (
            f"contains characters that do not show ({', '.join(hidden)}); it is stored as "
            "the platform spells it and is the same campaign, ad group or keyword as the name "
            "without them"
        )
    for word in _WORDS.findall(unicodedata.normalize("NFKC", name)):
        scripts = {_script(char) for char in word if char.isalpha()} & _LOOKALIKE_SCRIPTS
        if len(scripts) > 1:
            return (
                f"the word '{word}' mixes {' and '.join(sorted(s.title() for s in scripts))} "
                "letters, so it can look like another name that it is not"
            )
    return None


def _hidden_characters(name: str) -> list[str]:
    found: dict[str, None] = {}
    for position, char in enumerate(name):
        point = ord(char)
        if not _ignorable(char):
            continue
        if point in _JOINERS and _between_non_latin_letters(name, position):
            continue
        kind = "bidi control" if point in _BIDI_CONTROLS else "invisible"
        found[f"U+{point:04X} {unicodedata.name(char, kind).title()}"] = None
    return list(found)


def _between_non_latin_letters(name: str, position: int) -> bool:
    before = name[position - 1] if position > 0 else ""
    after = name[position + 1] if position + 1 < len(name) else ""
    return all(c.isalpha() and _script(c) not in _LOOKALIKE_SCRIPTS for c in (before, after))


def _script(char: str) -> str:
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
