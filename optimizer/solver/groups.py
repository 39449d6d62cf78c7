"""Which entities each campaign group covers (by glob, regular expression or label)."""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.solver.options import Group

__all__ = ["ResolvedGroup", "resolve_groups"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class ResolvedGroup:
    group: Group
    members: npt.NDArray[np.bool_]


def resolve_groups(
    campaigns: pd.Series, groups: Sequence[Group], labels: Mapping[str, str]
) -> tuple[ResolvedGroup, ...]:
    """One boolean member mask per group over the curve table's rows."""
    names = campaigns.fillna("").astype(str)
    unique = pd.unique(names)
    folded_labels = {str(k): str(v).casefold() for k, v in labels.items()}
    resolved = []
    for group in groups:
        matcher = _matcher(group, folded_labels)
        chosen = {name for name in unique if matcher(name)}
        members = names.isin(chosen).to_numpy()
        if not members.any():
            _log.warning(
                "group '%s' (%s '%s') matches no campaign", group.name, group.by, group.match
            )
        resolved.append(ResolvedGroup(group, members))
    return tuple(resolved)


def _matcher(group: Group, labels: Mapping[str, str]) -> Callable[[str], bool]:
    if group.by == "regex":
        try:
            pattern = re.compile(group.match)
        except re.error as exc:
            raise InvalidInputError(
                f"group '{group.name}': '{group.match}' is not a valid regular expression ({exc})"
            ) from None
        return lambda name: pattern.search(name) is not None
    if group.by == "label":
        wanted = group.match.casefold()
        return lambda name: labels.get(name) == wanted
    folded = group.match.casefold()
    return lambda name: fnmatch.fnmatchcase(name.casefold(), folded)
