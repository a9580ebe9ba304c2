"""A case handler's link to one evidence file of one case: sealed, for them alone, short-lived.

The link is made in the chat for someone the server has just checked holds `case_handler`
(dialogs/incidents/cases.py); it names the handler, the case and the file, sealed
(AES-256-GCM, its own context), and expires after `LINK_MINUTES`. Opening it
(GET /incidents/evidence/<token>, bot/app.py) checks the role again, so a link outlives
nobody's access, and each download is audited; each link made is audited too. The file is
served as an attachment, never shown in a browser page (see docs/privacy.md for why a link
rather than the file in the chat).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import quote

from bot.core.people import PersonKey
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed

LINK_CONTEXT = "incident-evidence-download"
LINK_MINUTES = 15
MAX_TOKEN_CHARS = 600
PATH = "/incidents/evidence/"


class EvidenceLinkError(ValueError):
    """A link that is forged or altered (`forged`) or past its time (`expired`)."""

    def __init__(self, reason: Literal["forged", "expired"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class EvidenceLink:
    """Who may download which file of which case."""

    person: PersonKey
    reference: str
    evidence_id: int

    @property
    def actor(self) -> str:
        """How the audit log names the handler."""
        return f"teams:{self.person.tenant_id}/{self.person.aad_object_id}"


@dataclass(frozen=True)
class EvidenceLinks:
    """Makes and checks the sealed, expiring links to a case's files."""

    cipher: FieldCipher
    base_url: str
    minutes: int = LINK_MINUTES

    def url(self, link: EvidenceLink, *, now: datetime) -> str:
        """The address the handler opens."""
        expires = int((now + timedelta(minutes=self.minutes)).timestamp())
        body = json.dumps(
            {
                "r": link.reference,
                "f": link.evidence_id,
                "t": link.person.tenant_id,
                "a": link.person.aad_object_id,
                "e": expires,
            }
        )
        sealed = self.cipher.seal(body, context=LINK_CONTEXT)
        raw = f"{sealed.key_id}|{sealed.token}".encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return f"{self.base_url.rstrip('/')}{PATH}{token}"

    def check(self, token: str, *, now: datetime) -> EvidenceLink:
        """The link a token stands for; EvidenceLinkError if forged, altered or expired."""
        if len(token) > MAX_TOKEN_CHARS:
            raise EvidenceLinkError("forged")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            key_id, sealed = raw.split("|", 1)
            body = json.loads(self.cipher.open(Sealed(key_id, sealed), context=LINK_CONTEXT))
            link = EvidenceLink(
                PersonKey(str(body["t"]), str(body["a"])), str(body["r"]), int(body["f"])
            )
            expires = int(body["e"])
        except (ValueError, KeyError, TypeError, binascii.Error, DecryptionError):
            raise EvidenceLinkError("forged") from None
        if now.timestamp() > expires:
            raise EvidenceLinkError("expired")
        return link


def evidence_links(
    cipher: FieldCipher, *, public_base_url: str, host: str, port: int
) -> EvidenceLinks:
    """The links for this deployment (EDI_PUBLIC_BASE_URL, or the bot's own address)."""
    return EvidenceLinks(cipher, public_base_url or f"http://{host}:{port}")


def attachment_disposition(name: str) -> str:
    """A Content-Disposition that always downloads: the name in plain ASCII (anything else,
    quotes and backslashes included, as "_") and in full as RFC 5987 UTF-8."""
    ascii_name = "".join(ch if 32 < ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
