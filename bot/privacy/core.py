"""The privacy core, built once from settings and handed to whatever needs it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.privacy.audit import AuditLog, audit_key
from bot.privacy.crypto import FieldCipher
from bot.privacy.keys import Keys, load_keys
from bot.privacy.pseudonym import Pseudonymiser
from bot.privacy.roles import RoleChecker


@dataclass(frozen=True)
class PrivacyCore:
    """Keys, the field cipher, pseudonyms, the audit log and role checks."""

    keys: Keys
    cipher: FieldCipher
    pseudonyms: Pseudonymiser
    audit: AuditLog
    roles: RoleChecker


def build_privacy(settings: Settings) -> PrivacyCore:
    """Load the keys (see bot/privacy/keys.py) and build everything that uses them."""
    keys = load_keys(settings)
    return PrivacyCore(
        keys=keys,
        cipher=FieldCipher(keys),
        pseudonyms=Pseudonymiser(keys.pseudonym),
        audit=AuditLog(audit_key(keys.pseudonym)),
        roles=RoleChecker(settings.bootstrap_admins),
    )
