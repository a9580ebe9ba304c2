"""Files sent in the chat, for the incident conversations: fetched (only from where Teams
keeps them), checked by content, kept waiting, and each outcome said in a sentence.

A file that can't be kept never costs the person anything else: the draft, the answers and
the other files stay as they were, and the reply says so.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import TurnContext

from bot.channel.files import FetchRefused, FilePolicy
from bot.channel.turn import Turn
from bot.config import Settings
from bot.core.clock import today_in_london
from bot.core.content import Markdown, plain_text
from bot.core.logs import sensitive
from bot.db.session import turn_session
from bot.incidents.evidence import EvidenceRefused, size_text
from bot.incidents.evidence_links import EvidenceLinks, evidence_links
from bot.incidents.evidence_store import FileInfo
from bot.incidents.service import Incidents
from bot.privacy.core import PrivacyCore


def file_policy(settings: Settings) -> FilePolicy:
    """Where files may be fetched from, and how much of them, from settings."""
    return FilePolicy.of(
        settings.evidence_download_hosts,
        max_bytes=settings.evidence_max_bytes,
        timeout_seconds=settings.evidence_fetch_timeout_seconds,
        production=not settings.development_mode,
    )


def evidence_links_for(settings: Settings, privacy: PrivacyCore) -> EvidenceLinks:
    """Case handlers' links to a case's files, at this deployment's address."""
    return evidence_links(
        privacy.cipher,
        public_base_url=settings.public_base_url,
        host=settings.host,
        port=settings.port,
    )


def shown(name: str, size: int | None = None) -> Markdown:
    """A file as a sentence or a card names it: “photo.jpg” (1.2 MB); the name as plain text
    (a name is the sender's words: no link or format in it works)."""
    quoted = f"“{plain_text(name)}”"
    return Markdown(f"{quoted} ({size_text(size)})" if size is not None else quoted)


def as_draft_file(info: FileInfo) -> dict[str, Any]:
    """What a draft (or a conversation's state) keeps about a waiting file."""
    return {"id": info.id, "name": info.name, "size": info.size, "type": info.kind.media_type}


@dataclass
class Received:
    """What became of the files in one message."""

    kept: list[FileInfo] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one sentence each


class FileIntake:
    """Takes the files of a message for a report: fetch, check, keep waiting."""

    def __init__(self, incidents: Incidents, policy: FilePolicy) -> None:
        self._incidents = incidents
        self._policy = policy
        self.words: dict[str, Any] = incidents.words["evidence"]

    @property
    def max_files(self) -> int:
        """How many files a report may hold."""
        return self._incidents.evidence.limits.max_files

    def limits(self) -> dict[str, str]:
        """The limits as sentences fill them in: {max_files}, {max_size}."""
        limits = self._incidents.evidence.limits
        return {"max_files": str(limits.max_files), "max_size": size_text(limits.max_bytes)}

    def count(self, number: int) -> str:
        """ "1 file", "3 files"."""
        words = self.words
        return str(words["one_file"] if number == 1 else words["many_files"].format(count=number))

    async def receive(self, context: TurnContext, *, room: int, purpose: str) -> Received:
        """Each file of this message kept waiting (at most `room` of them) or refused."""
        turn = Turn.of(context)
        received = Received()
        for file in turn.files:
            sensitive(file.name)  # never in a log line, whatever happens next
            name = shown(file.name) if file.name.strip() else str(self.words["unnamed"])
            if room <= 0:
                received.refused.append(self._refusal("too_many", name))
                continue
            try:
                data = await turn.fetch_file(file, self._policy)
                cleaned = await asyncio.to_thread(self._incidents.evidence.clean, data)
            except (FetchRefused, EvidenceRefused) as refused:
                received.refused.append(self._refusal(refused.reason, name))
                continue
            info = await self._incidents.evidence.stage(
                turn_session(), cleaned, name=file.name, today=today_in_london(), purpose=purpose
            )
            received.kept.append(info)
            room -= 1
        return received

    def _refusal(self, reason: str, name: str) -> str:
        return str(self.words["refused"][reason]).format(name=name, **self.limits())

    def listing(self, files: list[dict[str, Any]]) -> str:
        """Waiting files named in a sentence: “a.jpg” (1.2 MB), “b.pdf” (20 KB)."""
        return ", ".join(shown(f["name"], int(f["size"])) for f in files)
