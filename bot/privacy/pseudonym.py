"""Keyed pseudonyms: the only link between a person and their declarations or cases.

HMAC-SHA256 over tenant and Entra object id. Stable for a person while the key is kept;
without the key it cannot be reversed or recomputed from a list of staff ids.
"""

from __future__ import annotations

import hashlib
import hmac

from bot.core.people import PersonKey


class Pseudonymiser:
    """Turns a person into their pseudonym."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, person: PersonKey) -> str:
        """The person's pseudonym: 64 hex characters."""
        message = f"{person.tenant_id.lower()}\x1f{person.aad_object_id.lower()}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
