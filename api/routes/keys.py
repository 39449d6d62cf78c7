"""API keys (admin): create (the key is shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import CurrentPrincipal, RowId, StoreEngine
from api.schemas import KeyCreatedOut, KeyIn, KeyOut
from optimizer.access import Role
from optimizer.usecases.keys import ApiKey, create_key, list_keys, revoke_key

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["keys"])


def _out(key: ApiKey) -> KeyOut:
    return KeyOut(
        id=key.id,
        prefix=key.prefix,
        role=key.role.value,
        label=key.label,
        accounts=None if key.accounts is None else list(key.accounts),
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        user=key.user,
        created_by=key.created_by,
    )


@router.post("/keys", status_code=status.HTTP_201_CREATED)
def create(body: KeyIn, engine: StoreEngine, principal: CurrentPrincipal) -> KeyCreatedOut:
    key, plaintext = create_key(
        engine,
        principal,
        role=Role(body.role),
        label=body.label,
        account_names=body.accounts,
        all_accounts=body.all_accounts,
        user=body.user,
    )
    return KeyCreatedOut(**_out(key).model_dump(), key=plaintext)


@router.get("/keys")
def list_(engine: StoreEngine, principal: CurrentPrincipal) -> list[KeyOut]:
    return [_out(k) for k in list_keys(engine, principal)]


@router.delete("/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke(key_id: RowId, engine: StoreEngine, principal: CurrentPrincipal) -> Response:
    """Revoke a key: it fails from the next request on."""
    revoke_key(engine, principal, key_id)
    return Response(status_code=204)
