"""A person's copy of everything held about them: a short-lived download link from *my data*.

The link is `/my-data/<token>`. The token seals who it is for and when it expires with the
field cipher (AES-256-GCM, the active key, its own associated-data context), so it shows no
id or pseudonym to whoever sees it, and any change to it fails authentication: a forged or
altered token is "forged" (404), an old one "expired" (403). It is stateless (no table to
write, clean or keep in step across replicas) and not single-use, because link scanners and
previews may open a link before the person does; the short life, the one-to-one chat it is
given in, `Cache-Control: no-store` and an audit entry per download bound the risk instead.

What it serves is the subject-access export the DPO's `edi-bot person export` prints
(`bot.privacy.subject_access.export_person`), less the keyed pseudonym: that links one
person's records together and is never shown. The file adds a description of each section (from
content/declarations/words.yaml), the words of each equality answer beside its code, and
gives every time in ISO 8601.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.content import Content
from bot.core.people import PersonKey
from bot.core.registry import Feature
from bot.privacy.core import PrivacyCore
from bot.privacy.link_tokens import LinkError, open_link, read_fields, seal_link
from bot.privacy.subject_access import export_person

LINK_CONTEXT = "my-data-download"
LINK_MINUTES = 15
PSEUDONYM_KEY = "pseudonym"


# The same error as every sealed link's ("forged" or "expired").
CopyLinkError = LinkError


@dataclass(frozen=True)
class DataCopyLinks:
    """Makes and checks the sealed, expiring download links, and builds what they serve."""

    privacy: PrivacyCore
    base_url: str
    content: Content
    features: Sequence[Feature]
    minutes: int = LINK_MINUTES

    @property
    def words(self) -> Mapping[str, Any]:
        """The file's words (content/declarations/words.yaml, `copy.file`)."""
        words: Mapping[str, Any] = self.content.data("declarations/words")["copy"]["file"]
        return words

    def token(self, person: PersonKey, *, now: datetime) -> str:
        """A sealed token for `person`'s data, valid for `minutes` from `now`."""
        fields = {"t": person.tenant_id, "a": person.aad_object_id}
        return seal_link(self.privacy.cipher, LINK_CONTEXT, fields, now=now, minutes=self.minutes)

    def url(self, person: PersonKey, *, now: datetime) -> str:
        """The link `person` opens to download their data."""
        return f"{self.base_url.rstrip('/')}/my-data/{self.token(person, now=now)}"

    def check(self, token: str, *, now: datetime) -> PersonKey:
        """Whose data a token is for; CopyLinkError if forged, altered or expired."""
        fields = open_link(self.privacy.cipher, LINK_CONTEXT, token, now=now)
        person: PersonKey = read_fields(fields, lambda f: PersonKey(str(f["t"]), str(f["a"])))
        return person

    async def held(self, session: AsyncSession, person: PersonKey) -> dict[str, Any]:
        """Everything held about `person`, as the DPO's export has it, without the pseudonym."""
        exported = await export_person(
            session,
            self.privacy,
            self.features,
            tenant_id=person.tenant_id,
            aad_object_id=person.aad_object_id,
        )
        pseudonym = str(exported.get(PSEUDONYM_KEY) or self.privacy.pseudonyms.of(person))
        held: dict[str, Any] = _withhold(exported, pseudonym, str(self.words["withheld"]))
        return held

    async def download(
        self, session: AsyncSession, person: PersonKey, *, now: datetime
    ) -> tuple[str, bytes]:
        """The file a link serves, (name, JSON bytes), and the download audited."""
        held = await self.held(session, person)
        await self.privacy.audit.append(
            session,
            actor="subject",
            action="person.copy_downloaded",
            object_type="pseudonym",
            object_id=self.privacy.pseudonyms.of(person),
            detail={"sections": len(held)},
        )
        document = self.document(held, now=now)
        body = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
        return str(self.words["name"]).format(day=now.date().isoformat()), body

    def document(self, held: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
        """The file's contents: what it is, then each section described and in order."""
        described: Mapping[str, str] = self.words["sections"]
        order = [name for name in described if name in held]
        order += [name for name in held if name not in described]
        sections = {
            name: str(described.get(name, self.words["other_section"])).strip() for name in order
        }
        about = {
            "what_this_is": str(self.words["what_this_is"]).strip(),
            "made_at": _readable(now),
            "sections": sections,
        }
        copy = {name: _readable(held[name]) for name in order}
        for feature in self.features:
            if feature.in_words is not None:
                feature.in_words(self.content, copy)
        return {"about_this_file": about, **copy}


def summarise(held: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Counts for the chat's short summary, per line (`summary.items` in the content);
    every line has a `count`, 0 when nothing of that kind is held."""

    def items(*path: str) -> list[Any]:
        node: Any = held
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        return list(node) if isinstance(node, list | tuple) else []

    signups = [s for s in items("events", "event_signups") if isinstance(s, Mapping)]
    feedback = [f for f in items("bulletin", "feedback") if isinstance(f, Mapping)]
    roles = sorted({str(g.get("role")) for g in items("roles") if isinstance(g, Mapping)})
    plans = held.get("action_plans")
    plan_rows = (
        sum(len(v) for v in plans.values() if isinstance(v, list))
        if isinstance(plans, Mapping)
        else 0
    )
    return {
        "event_signups": {
            "count": len(signups),
            "needs": sum(1 for s in signups if s.get("adjustment_needs")),
        },
        "staff_networks": {"count": len(items("events", "staff_networks"))},
        "bulletins": {"count": len(items("bulletin", "sent_or_opened"))},
        "bulletin_reactions": {
            "count": len(feedback),
            "comments": sum(1 for f in feedback if f.get("comment")),
        },
        "bulletin_unsubscribed": {"count": len(items("bulletin", "unsubscribed"))},
        "incident_reports": {"count": len(items("incident_reports"))},
        "private_records": {"count": len(items("private_records"))},
        "roles": {"count": len(roles), "names": ", ".join(r.replace("_", " ") for r in roles)},
        "action_plans": {"count": plan_rows},
        "workforce_roster": {"count": 1 if held.get("workforce_roster") else 0},
        "proactive_messages": {"count": len(items("proactive_messages"))},
        "unfinished_conversations": {"count": len(items("unfinished_conversations"))},
    }


def _withhold(value: Any, pseudonym: str, withheld: str) -> Any:
    """`value` with every "pseudonym" entry left out and the pseudonym itself replaced
    wherever else it appears (a key or any text), however deep."""
    if isinstance(value, Mapping):
        return {
            _withhold(k, pseudonym, withheld): _withhold(v, pseudonym, withheld)
            for k, v in value.items()
            if k != PSEUDONYM_KEY
        }
    if isinstance(value, list | tuple):
        return [_withhold(item, pseudonym, withheld) for item in value]
    if isinstance(value, str) and pseudonym and pseudonym in value:
        return value.replace(pseudonym, withheld)
    return value


def _readable(value: Any) -> Any:
    """JSON-ready: times as ISO 8601 in UTC (to the second), dates as ISO dates, state
    documents as the JSON they hold rather than a string of it."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        readable = {str(k): _readable(v) for k, v in value.items()}
        document = readable.get("unfinished_conversation")
        if isinstance(document, str):
            with contextlib.suppress(ValueError):
                readable["unfinished_conversation"] = json.loads(document)
        return readable
    if isinstance(value, list | tuple):
        return [_readable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
