"""Who a person is to the bot: their tenant and Entra object id."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PersonKey:
    """A person as Teams identifies them: their tenant and Entra ID (AAD) object id."""

    tenant_id: str
    aad_object_id: str
