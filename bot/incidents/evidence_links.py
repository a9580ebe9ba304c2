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

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from bot.core.people import PersonKey
from bot.privacy.crypto import FieldCipher
from bot.privacy.link_tokens import LinkError, open_link, read_fields, seal_link

LINK_CONTEXT = "incident-evidence-download"
LINK_MINUTES = 15
PATH = "/incidents/evidence/"


# The same error as every sealed link's ("forged" or "expired").
EvidenceLinkError = LinkError


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
        fields = {
            "r": link.reference,
            "f": link.evidence_id,
            "t": link.person.tenant_id,
            "a": link.person.aad_object_id,
        }
        token = seal_link(self.cipher, LINK_CONTEXT, fields, now=now, minutes=self.minutes)
        return f"{self.base_url.rstrip('/')}{PATH}{token}"

    def check(self, token: str, *, now: datetime) -> EvidenceLink:
        """The link a token stands for; EvidenceLinkError if forged, altered or expired."""
        fields = open_link(self.cipher, LINK_CONTEXT, token, now=now)
        link: EvidenceLink = read_fields(
            fields,
            lambda f: EvidenceLink(PersonKey(str(f["t"]), str(f["a"])), str(f["r"]), int(f["f"])),
        )
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
