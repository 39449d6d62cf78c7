"""People's names, written once: `Maria`, `maria ` and the full-width `Maria` are one person.

Four eyes compares people, so a name that only looks different must not be a different person: a
user's name is NFKC-normalised, case-folded and trimmed (inner runs of spaces become one), and
characters that do not show (zero-width, bidi controls, other format and control characters) are
refused rather than dropped, so a name never hides a second one.
"""

from __future__ import annotations

import unicodedata

from optimizer.errors import InvalidInputError

__all__ = ["MAX_USER_NAME", "person_of", "user_name"]

MAX_USER_NAME = 100
_HIDDEN = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())


def user_name(text: str) -> str:
    """The one spelling of a user's name; InvalidInputError for a name that is empty, too long or
    carries characters that do not show."""
    hidden = sorted(
        {f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in _HIDDEN and not c.isspace()}
    )
    if hidden:
        raise InvalidInputError(
            f"a user's name may not hold invisible, control or direction characters "
            f"({', '.join(hidden)}): type the name as it is shown"
        )
    name = _fold(text)
    if not name or len(name) > MAX_USER_NAME:
        raise InvalidInputError(f"a user's name needs 1 to {MAX_USER_NAME} characters")
    return name


def person_of(label: str) -> str:
    """Who a free-text actor name stands for (a trusted local principal without a user): folded
    like a user's name, hidden characters dropped, so `Maria` and `maria ` are one person. The
    `cli:` the command line puts before its operator's name is not part of the person."""
    shown = "".join(c for c in label if unicodedata.category(c) not in _HIDDEN)
    return _fold(shown.strip().removeprefix("cli:"))
