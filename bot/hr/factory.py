"""Builds the HR report service and the roster linker from settings and keys."""

from __future__ import annotations

from bot.config import Settings
from bot.core.content import Content
from bot.hr.cellkey import RecordKeys, cell_key_secret
from bot.hr.dataset import Rules
from bot.hr.roster import RosterLinker, UpnKeys
from bot.hr.service import HrReports
from bot.outbox.queue import Outbox
from bot.privacy.core import PrivacyCore


def rules_from(settings: Settings) -> Rules:
    """The disclosure rules from settings; refuses thresholds weaker than the published
    rules unless `EDI_HR_ALLOW_WEAKER_DISCLOSURE` is set."""
    return Rules(
        min_count=settings.hr_min_count,
        rounding=settings.hr_rounding,
        min_denominator=settings.hr_min_denominator,
        min_candidates=settings.hr_min_candidates,
        max_noise=settings.hr_max_noise,
    ).checked(allow_weaker=settings.hr_allow_weaker_disclosure)


def build_hr_reports(
    settings: Settings, content: Content, privacy: PrivacyCore, outbox: Outbox | None = None
) -> HrReports:
    """The HR report service on these settings, content and keys."""
    return HrReports(
        content=content,
        cipher=privacy.cipher,
        audit=privacy.audit,
        rules=rules_from(settings),
        record_keys=record_keys_of(privacy),
        outbox=outbox,
    )


def record_keys_of(privacy: PrivacyCore) -> RecordKeys:
    """Record keys for the cell key method, from a secret derived from the pseudonym key."""
    return RecordKeys(cell_key_secret(privacy.keys.pseudonym))


def build_roster_linker(privacy: PrivacyCore) -> RosterLinker:
    """Links roster rows given by UPN when their person is seen in Teams."""
    return RosterLinker(pseudonyms=privacy.pseudonyms, upn_keys=UpnKeys(privacy.keys.pseudonym))
