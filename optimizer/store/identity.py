"""Which stored entity each row of an upload belongs to: platform IDs first, names second.

- A row with platform IDs (campaign, ad group, criterion) is the entity with those IDs on that
  platform, whatever it is called today: a rename updates the names (labels) of the entity and of
  every entity under the same campaign or ad group ID, and the history stays one.
- A row without IDs is the entity with its names on its platform. An entity stored without a
  platform (`other`: canonical files, stores older than platforms) is adopted by the first Google
  Ads or Microsoft Advertising row with its names, which also gives it its IDs.
- Names are compared by identity (`optimizer.names.name_key`: NFKC, invisible and bidi characters
  removed, case folded), an exact match first: "shop" finds the stored "Shop" and keeps its
  spelling, and a store made before identities were compared, holding both, keeps both.
- Names are unique per account: the same campaign name on a second platform becomes
  "Brand [Microsoft Advertising]" (the first keeps "Brand"); a second campaign of one platform with
  an existing campaign's name (a removed one, say) gets its ID in brackets.

The account's row is locked for the rest of the transaction (PostgreSQL), so two uploads to one
account resolve one after the other and never create an entity twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection, insert, select, update

from optimizer.errors import TooLargeError
from optimizer.names import name_key, names_key
from optimizer.schema import IDENTITY_COLUMNS, NAME_COLUMNS, PLATFORM_LABELS
from optimizer.settings import get_settings
from optimizer.store.tables import accounts, entities

__all__ = ["Rename", "Resolved", "resolve_entities"]

_Names = tuple[str, ...]
_Ids = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rename:
    """An entity whose names changed: what it was called and what it is called now."""

    platform: str
    before: _Names
    after: _Names


@dataclass(frozen=True)
class Resolved:
    """Entity ids for the distinct entities given (in order), and the renames it made."""

    ids: npt.NDArray[np.int64]
    renames: tuple[Rename, ...] = ()


@dataclass
class _Stored:
    id: int
    names: _Names
    platform: str
    ids: _Ids


@dataclass
class _Index:
    by_ids: dict[tuple[str, ...], _Stored] = field(default_factory=dict)
    by_names: dict[_Names, _Stored] = field(default_factory=dict)
    by_key: dict[_Names, list[_Stored]] = field(default_factory=dict)
    campaign_platforms: dict[str, set[str]] = field(default_factory=dict)

    def add(self, stored: _Stored) -> None:
        if stored.ids[1]:
            self.by_ids[(stored.platform, *stored.ids[1:])] = stored
        self.by_names[stored.names] = stored
        same = self.by_key.setdefault(names_key(stored.names), [])
        if all(other is not stored for other in same):
            same.append(stored)
        self.campaign_platforms.setdefault(name_key(stored.names[0]), set()).add(stored.platform)

    def find(self, names: _Names) -> _Stored | None:
        """The entity with exactly these names, else the oldest one with their identity."""
        exact = self.by_names.get(names)
        if exact is not None:
            return exact
        same = self.by_key.get(names_key(names))
        return same[0] if same else None

    def forget(self, stored: _Stored) -> None:
        self.by_names.pop(stored.names, None)
        key = names_key(stored.names)
        self.by_key[key] = [other for other in self.by_key.get(key, []) if other is not stored]


def resolve_entities(connection: Connection, account_id: int, rows: pd.DataFrame) -> Resolved:
    """Stored entity ids for the distinct entities in `rows` (name and identity columns; ids ''
    when absent), creating, adopting and renaming as the module docstring says."""
    connection.execute(
        select(accounts.c.id).where(accounts.c.id == account_id).with_for_update()
    ).all()
    index = _load(connection, account_id)
    names = _column_tuples(rows, NAME_COLUMNS)
    identity = _column_tuples(rows, IDENTITY_COLUMNS)
    found = np.full(len(rows), -1, dtype=np.int64)
    renames: list[Rename] = []
    created: list[tuple[int, _Stored]] = []
    for position, (wanted, who) in enumerate(zip(names, identity, strict=True)):
        platform, ids = who[0], who[1:]
        stored = index.by_ids.get((platform, *ids[1:])) if ids[1] else None
        if stored is not None:
            if stored.names != wanted:
                renamed = _rename(connection, index, stored, wanted)
                if renamed is not None:
                    renames.append(renamed)
            if stored.id < 0:
                created.append((position, stored))
            found[position] = stored.id
            continue
        stored = _adoptable(index, platform, ids, wanted)
        if stored is not None:
            _adopt(connection, index, stored, platform, ids)
            if stored.id < 0:
                created.append((position, stored))
            found[position] = stored.id
            continue
        label = _free_names(index, platform, ids, wanted)
        fresh = _Stored(-1, label, platform, ids)
        index.add(fresh)
        created.append((position, fresh))
    if created:
        new = len({id(stored) for _, stored in created})
        _check_limit(len(index.by_names) - new, new)
        _insert(connection, account_id, created, found)
    return Resolved(ids=found, renames=tuple(renames))


def _check_limit(stored: int, new: int) -> None:
    limit = get_settings().account_max_entities
    if stored + new > limit:
        raise TooLargeError(
            f"the upload would give the account {stored + new:,} campaigns, ad groups and "
            f"keywords ({new:,} new), over the limit of {limit:,} per account "
            "(PPCOPT_ACCOUNT_MAX_ENTITIES); nothing was stored"
        )


def _column_tuples(rows: pd.DataFrame, columns: Sequence[str]) -> list[tuple[str, ...]]:
    values = [
        rows[name].astype(object).fillna("").astype(str).tolist()
        if name in rows.columns
        else [("other" if name == "platform" else "")] * len(rows)
        for name in columns
    ]
    return list(zip(*values, strict=True))


def _load(connection: Connection, account_id: int) -> _Index:
    index = _Index()
    result = connection.execute(
        select(
            entities.c.id,
            *(entities.c[name] for name in NAME_COLUMNS),
            *(entities.c[name] for name in IDENTITY_COLUMNS),
        )
        .where(entities.c.account_id == account_id)
        .order_by(entities.c.id)
    )
    for row in result:
        values = tuple(str(v) for v in row[1:])
        index.add(_Stored(int(row[0]), values[:4], values[4], values[5:]))
    return index


def _adoptable(index: _Index, platform: str, ids: _Ids, names: _Names) -> _Stored | None:
    """The entity with these names that this row is (same platform, or one not known yet)."""
    for label in (names, _qualified(names, platform, ids, with_id=False)):
        stored = index.find(label)
        if stored is None or stored.platform not in (platform, "other"):
            continue
        if ids[1] and stored.ids[1] and stored.ids[1:] != ids[1:]:
            continue
        return stored
    return None


def _adopt(
    connection: Connection, index: _Index, stored: _Stored, platform: str, ids: _Ids
) -> None:
    if stored.platform == platform and (not ids[1] or stored.ids == ids):
        return
    values: dict[str, str] = {"platform": platform}
    if ids[1]:
        values.update(zip(IDENTITY_COLUMNS[1:], ids, strict=True))
        stored.ids = ids
    stored.platform = platform
    connection.execute(update(entities).where(entities.c.id == stored.id).values(**values))
    index.add(stored)


def _qualified(names: _Names, platform: str, ids: _Ids, *, with_id: bool) -> _Names:
    suffix = f" [{PLATFORM_LABELS.get(platform, platform)}]"
    if with_id:
        suffix = f" [id {ids[1]}]" if ids[1] else " [2]"
    return (f"{names[0]}{suffix}", *names[1:])


def _free_names(index: _Index, platform: str, ids: _Ids, names: _Names) -> _Names:
    """Names for a new entity: its own, unless another platform's campaign already has them."""
    others = index.campaign_platforms.get(name_key(names[0]), set()) - {platform, "other"}
    label = _qualified(names, platform, ids, with_id=False) if others else names
    taken = index.find(label)
    if taken is not None:
        label = _qualified(label, platform, ids, with_id=True)
    return label


def _rename(
    connection: Connection, index: _Index, stored: _Stored, wanted: _Names
) -> Rename | None:
    """Give the entity (and, for a campaign or ad group, everything under its ID) its new names."""
    target = _free_names(index, stored.platform, stored.ids, wanted)
    if index.find(target) not in (None, stored):
        return None
    before = stored.names
    campaign_moved = before[0] != target[0]
    group_moved = before[1] != target[1]
    for other in list(index.by_names.values()):
        if other.platform != stored.platform or other is stored:
            continue
        same_campaign = campaign_moved and other.ids[1] == stored.ids[1] and other.ids[1]
        same_group = group_moved and other.ids[2] == stored.ids[2] and other.ids[2]
        if not (same_campaign or same_group):
            continue
        moved = (
            target[0] if same_campaign else other.names[0],
            target[1] if same_group else other.names[1],
            *other.names[2:],
        )
        if index.find(moved) is None:
            _relabel(connection, index, other, moved)
    _relabel(connection, index, stored, target)
    return Rename(stored.platform, before, target)


def _relabel(connection: Connection, index: _Index, stored: _Stored, names: _Names) -> None:
    index.forget(stored)
    stored.names = names
    index.add(stored)
    connection.execute(
        update(entities)
        .where(entities.c.id == stored.id)
        .values(**dict(zip(NAME_COLUMNS, names, strict=True)))
    )


def _insert(
    connection: Connection,
    account_id: int,
    created: list[tuple[int, _Stored]],
    found: npt.NDArray[np.int64],
) -> None:
    """One multi-row INSERT for the new entities (each once, however many rows name it), then
    their ids by their (unique) names."""
    fresh = list({id(stored): stored for _, stored in created}.values())
    connection.execute(
        insert(entities),
        [
            {
                "account_id": account_id,
                **dict(zip(NAME_COLUMNS, stored.names, strict=True)),
                "platform": stored.platform,
                **dict(zip(IDENTITY_COLUMNS[1:], stored.ids, strict=True)),
            }
            for stored in fresh
        ],
    )
    ids = {
        tuple(str(v) for v in row[1:]): int(row[0])
        for row in connection.execute(
            select(entities.c.id, *(entities.c[name] for name in NAME_COLUMNS)).where(
                entities.c.account_id == account_id
            )
        )
    }
    for position, stored in created:
        stored.id = ids[stored.names]
        found[position] = stored.id
