"""A person's copy of everything held about them: a short-lived download link from *my data*.

The link carries who the person is sealed (AES-GCM, its own context) with an expiry, so it
reveals no id or pseudonym to whoever sees it, and it cannot be altered or made to last
longer. What it serves is the subject-access export the DPO's `edi-bot person export` gives,
less the keyed pseudonym: that links one person's records together and is never shown.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.repo_references import PersonKey
from bot.people import export_person
from bot.privacy.core import PrivacyCore
from bot.privacy.crypto import DecryptionError, Sealed

LINK_CONTEXT = "my-data-download"
LINK_MINUTES = 15


class CopyLinkError(ValueError):
    """A download link that is forged, altered or malformed ("forged"), or too old."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DataCopyLinks:
    """Makes and checks the sealed, expiring download links."""

    privacy: PrivacyCore
    base_url: str
    minutes: int = LINK_MINUTES

    def url(self, person: PersonKey, *, now: datetime) -> str:
        """The link `person` opens to download their data, valid for `minutes`."""
        expires = int((now + timedelta(minutes=self.minutes)).timestamp())
        body = json.dumps({"t": person.tenant_id, "a": person.aad_object_id, "e": expires})
        sealed = self.privacy.cipher.seal(body, context=LINK_CONTEXT)
        raw = f"{sealed.key_id}|{sealed.token}".encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return f"{self.base_url.rstrip('/')}/my-data/{token}"

    def check(self, token: str, *, now: datetime) -> PersonKey:
        """Whose data a link is for; CopyLinkError if forged or expired."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            key_id, sealed = raw.split("|", 1)
            body = json.loads(
                self.privacy.cipher.open(Sealed(key_id, sealed), context=LINK_CONTEXT)
            )
            person = PersonKey(str(body["t"]), str(body["a"]))
            expires = int(body["e"])
        except (ValueError, KeyError, TypeError, binascii.Error, DecryptionError):
            raise CopyLinkError("forged") from None
        if now.timestamp() > expires:
            raise CopyLinkError("expired")
        return person


async def copy_for(
    session: AsyncSession, privacy: PrivacyCore, person: PersonKey
) -> dict[str, Any]:
    """Everything held about `person`, as the DPO's export has it, without the pseudonym."""
    held = await export_person(
        session, privacy, tenant_id=person.tenant_id, aad_object_id=person.aad_object_id
    )
    held = _without_pseudonyms(held)
    await privacy.audit.append(
        session,
        actor=f"teams:{person.tenant_id}/{person.aad_object_id}",
        action="person.copy_downloaded",
        object_type="person",
        detail={"sections": sorted(held)},
    )
    return {"what_this_is": "Everything edi-bot holds about you", **held}


def _without_pseudonyms(value: Any) -> Any:
    """`value` with every "pseudonym" entry left out, however deep."""
    if isinstance(value, dict):
        return {k: _without_pseudonyms(v) for k, v in value.items() if k != "pseudonym"}
    if isinstance(value, list):
        return [_without_pseudonyms(item) for item in value]
    return value
