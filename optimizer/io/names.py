"""Entity names as compact categoricals: NFC-normalised, stripped, match types in one vocabulary.

Names repeat on every day of a report, so each distinct spelling is cleaned once and rows only carry
integer codes; spellings that normalise to the same text share one category.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["empty_names", "normalise_match_types", "normalise_names", "split_keyword_notation"]

_EMPTY_MARKERS = ("--",)
_MATCH_TYPES = {
    "exact": "exact",
    "exact match": "exact",
    "exact match (close variant)": "exact",
    "exact (close variant)": "exact",
    "phrase": "phrase",
    "phrase match": "phrase",
    "phrase match (close variant)": "phrase",
    "phrase (close variant)": "phrase",
    "broad": "broad",
    "broad match": "broad",
}


def _recode(values: pd.Categorical, clean: Callable[[str], str]) -> pd.Categorical:
    """Apply `clean` to each category and merge categories that become equal."""
    cleaned = [clean(str(category)) for category in values.categories]
    merged_codes, merged = pd.factorize(pd.Index(cleaned, dtype=object))
    codes = np.asarray(values.codes)
    return pd.Categorical.from_codes(
        np.asarray(merged_codes)[codes], categories=pd.Index(merged, dtype=object)
    )


def _clean_name(text: str) -> str:
    cleaned = unicodedata.normalize("NFC", text).strip()
    return "" if cleaned in _EMPTY_MARKERS else cleaned


def empty_names(length: int) -> pd.Categorical:
    """A column of '' for a name level the file does not have."""
    return pd.Categorical.from_codes(
        np.zeros(length, dtype=np.int8), categories=pd.Index([""], dtype=object)
    )


def normalise_names(raw: pd.Series) -> pd.Categorical:
    """NFC + strip each distinct cell; Google's '--' placeholder becomes ''."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    distinct = pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))
    return _recode(distinct, _clean_name)


def _clean_match_type(text: str) -> str:
    lowered = text.casefold()
    return _MATCH_TYPES.get(lowered, lowered)


def normalise_match_types(names: pd.Categorical) -> pd.Categorical:
    """'Exact match', 'EXACT', 'Exact match (close variant)' -> 'exact'; others lower-cased."""
    return _recode(names, _clean_match_type)


def _unwrap(keyword: str) -> tuple[str, str]:
    if len(keyword) > 2 and keyword[0] == "[" and keyword[-1] == "]":
        return keyword[1:-1].strip(), "exact"
    if len(keyword) > 2 and keyword[0] == keyword[-1] == '"':
        return keyword[1:-1].strip(), "phrase"
    return keyword, ""


def split_keyword_notation(
    keywords: pd.Categorical, match_types: pd.Categorical
) -> tuple[pd.Categorical, pd.Categorical]:
    """[shoes] -> (shoes, exact) and "shoes" -> (shoes, phrase); an explicit match type wins."""
    unwrapped = [_unwrap(str(keyword)) for keyword in keywords.categories]
    if not any(implied for _, implied in unwrapped):
        return keywords, match_types
    codes = np.asarray(keywords.codes)
    implied = np.array([kind for _, kind in unwrapped], dtype=object)[codes]
    explicit = np.asarray(match_types.astype(object), dtype=object)
    merged = np.where(explicit == "", implied, explicit)
    merged_codes, merged_categories = pd.factorize(merged)
    bare = _recode(keywords, lambda keyword: _unwrap(keyword)[0])
    return bare, pd.Categorical.from_codes(
        merged_codes, categories=pd.Index(merged_categories, dtype=object)
    )
