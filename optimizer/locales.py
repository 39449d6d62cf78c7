"""An account's locale (a CLDR id such as de_DE or fa_IR) and what it says about typed numbers."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from babel.numbers import get_decimal_symbol

from optimizer.errors import InvalidInputError

__all__ = ["decimal_comma_for", "validate_locale"]


def validate_locale(text: str) -> str:
    """The canonical CLDR id ("de-de" -> "de_DE"), or InvalidInputError naming the bad value."""
    clean = text.strip().replace("-", "_")
    try:
        return str(Locale.parse(clean))
    except (ValueError, UnknownLocaleError):
        raise InvalidInputError(
            f"'{text}' is not a locale we know (a CLDR id such as en_US, de_DE, fr_FR or fa_IR)"
        ) from None


def decimal_comma_for(locale: str | None) -> bool | None:
    """Whether people of `locale` write a decimal comma in ASCII digits; None when it does not say.

    Locales whose own digits are not Latin (fa, ar) are None: their Persian / Arabic-Indic digits
    carry an unambiguous decimal separator, but what "5.000" in ASCII means there is not settled by
    CLDR, so such text is refused with both readings rather than guessed.
    """
    if locale is None:
        return None
    parsed = Locale.parse(validate_locale(locale))
    if parsed.default_numbering_system != "latn":
        return None
    return get_decimal_symbol(parsed, numbering_system="latn") == ","
