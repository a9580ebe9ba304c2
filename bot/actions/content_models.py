"""The shape of content/actions/words.yaml (the plans: bot/actions/plans.py).

Each model describes one file: a key misspelt, missing or of the wrong kind is reported with
the file and line (`bot.core.content.load_model`), by `edi-bot content check` and at start-up.
"""

from __future__ import annotations

from pydantic import Field

from bot.core.content import ContentModel as _Model


class ActionLimits(_Model):
    """The `limits` section."""

    note_chars: int = Field(ge=1)
    items_per_card: int = Field(ge=1)
    snooze_max_days: int = Field(ge=1)
    reminder_weeks: int = Field(ge=1)


class ActionRag(_Model):
    """The `rag` section."""

    green: str
    amber: str
    red: str


class ActionStatuses(_Model):
    """The `statuses` section."""

    done: str
    green: str
    amber: str
    red: str
    no_update: str


class ActionDigest(_Model):
    """The `digest` section."""

    summary: str
    heading: str
    intro: str
    due_in: str
    due_tomorrow: str
    due_today: str
    check_in: str
    overdue: str
    check_in_overdue: str
    was_due: str
    check_in_was_due: str
    status: str
    more: str


class ActionButtons(_Model):
    """The `buttons` section."""

    done: str
    not_mine: str
    save: str
    snooze_week: str
    snooze_until: str
    rag_label: str
    rag_placeholder: str
    note_label: str
    note_placeholder: str
    until_label: str


class ActionMine(_Model):
    """The `mine` section."""

    heading: str
    none: str
    intro: str
    typed: str
    typed_one: str
    typed_named: str
    press_which: str
    note_not_saved: str
    fill_in: str


class ActionReplies(_Model):
    """The `replies` section."""

    done: str
    already_done: str
    progress_saved: str
    note_too_long: str
    note_missing: str
    snoozed: str
    snooze_past: str
    snooze_too_far: str
    snooze_bad_date: str
    not_yours: str
    unknown_action: str
    not_mine_sent: str
    claim_sent: str
    claim_pending: str
    claim_already_lead: str
    claim_unknown: str
    claim_confirmed: str
    claim_declined: str
    claim_decided: str
    claim_gone: str
    not_admin: str
    told_confirmed: str
    told_declined: str
    bad_card: str
    no_admins: str


class ActionEscalation(_Model):
    """The `escalation` section."""

    summary: str
    heading: str
    intro: str
    line: str
    facts_due: str
    facts_leads: str
    facts_status: str


class ActionPast(_Model):
    """The `past` section: the board chair's summary of actions long past."""

    summary: str
    and_summary: str
    heading: str
    line: str
    how: str


class ActionReassign(_Model):
    """The `reassign` section."""

    summary: str
    heading: str
    text: str
    how: str


class ActionClaim(_Model):
    """The `claim` section."""

    summary: str
    heading: str
    text: str
    confirm: str
    decline: str


class ActionWords(_Model):
    """The whole file."""

    limits: ActionLimits
    rag: ActionRag
    statuses: ActionStatuses
    digest: ActionDigest
    buttons: ActionButtons
    mine: ActionMine
    replies: ActionReplies
    escalation: ActionEscalation
    past: ActionPast
    reassign: ActionReassign
    claim: ActionClaim
