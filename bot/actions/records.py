"""Action plans' plain values: message kinds, the lead index, answers, and wording helpers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, time

from bot.actions.nudges import Due
from bot.actions.plans import Action, team_key
from bot.core.content import plain_text
from bot.core.people import PersonKey

NUDGE_KIND = "actions.nudge"


ESCALATION_KIND = "actions.escalation"


NOTICE_KIND = "actions.notice"


BOARD = "board_chair"


RAGS = ("green", "amber", "red")


def hours(text: str) -> tuple[time, time]:
    """("09:00", "17:00") from "09:00-17:00"."""
    start, end = text.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


@dataclass(frozen=True)
class Teams:
    """A person as the chat knows them."""

    key: PersonKey
    name: str

    @property
    def actor(self) -> str:
        """How the audit log and the updates name them."""
        return f"teams:{self.key.tenant_id}/{self.key.aad_object_id.lower()}"


@dataclass
class LeadIndex:
    """Every lead assignment, resolved to people the bot can reach."""

    teams: dict[str, set[str]] = field(default_factory=dict)
    actions: dict[str, set[str]] = field(default_factory=dict)
    not_mine: dict[str, set[str]] = field(default_factory=dict)
    resolved: dict[str, str] = field(default_factory=dict)  # object id or UPN → object id
    reachable: dict[str, PersonKey] = field(default_factory=dict)  # object id → person

    def people_for(self, action: Action) -> set[str]:
        """Object ids (lower case) of everyone leading `action`."""
        named: set[str] = set(self.actions.get(action.key, set()))
        for lead in action.leads:
            named |= self.teams.get(team_key(lead), set())
        ids = {self.resolved[p] for p in named if p in self.resolved}
        return ids - self.not_mine.get(action.key, set())

    def named_for(self, action: Action) -> set[str]:
        """Object ids or UPNs as assigned (for listings), less those who said "not mine"."""
        named: set[str] = set(self.actions.get(action.key, set()))
        for lead in action.leads:
            named |= self.teams.get(team_key(lead), set())
        out = self.not_mine.get(action.key, set())
        return {p for p in named if self.resolved.get(p, p) not in out}


@dataclass(frozen=True)
class NudgeRun:
    """What one nudge run did."""

    skipped: str | None = None
    digests: int = 0
    items: int = 0
    escalations: int = 0
    past: int = 0  # actions on the board chair's one summary of what is long past


@dataclass(frozen=True)
class Answer:
    """What to tell the person after a card action: a key of `replies` and its fields."""

    key: str
    fields: dict[str, str] = field(default_factory=dict)


def dedupe_key_of(kind: str, who: str, today: date, dues: list[Due]) -> str:
    keys = sorted(f"{d.action.key}|{d.milestone.on}|{d.label}" for d in dues)
    digest = hashlib.sha256("\n".join([who, *keys]).encode()).hexdigest()[:32]
    return f"{kind}:{today.isoformat()}:{digest}"


def day_text(day: date) -> str:
    return f"{day:%a %-d %b %Y}"


def long_day_text(day: date) -> str:
    """A day in full, as a person says it: "Thursday 28 March 2024"."""
    return f"{day:%A %-d %B %Y}"


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain_fields(fields: dict[str, str]) -> dict[str, str]:
    """Fields as plain text, for Markdown (a card's lines, a message): a name is a person's."""
    return {key: plain_text(value) for key, value in fields.items()}


def notice_fields(name: str, action: Action) -> dict[str, str]:
    """What the admins' notice cards (a claim, a "not mine") say about a person and action."""
    return {
        "name": name,
        "number": action.number,
        "plan": action.plan,
        "text": shorten(action.text, 200),
        "teams": "; ".join(action.leads),
    }
