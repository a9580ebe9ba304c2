"""The pattern check's rules, without a database: who may be named, and the keyed hash kept.

A reporter who says a colleague or manager did it may ask for a pattern check: the case team
is told only if someone else's report names the same person (docs/incidents.md, "Patterns
across reports"). What is kept of the person named is one keyed hash, in a domain of its own:

- chosen from the directory (Teams' people picker): HMAC(key, "pattern-person:" + tenant +
  ":" + Entra object id), both lower case, so the same person matches however they were found;
- typed: HMAC(key, "pattern-name:" + tenant + ":" + the name normalised), which matches the
  same name typed again (capitals, accents, punctuation and spacing aside), and can match two
  people who share a name.

The key is derived from EDI_PSEUDONYM_KEY with a label of its own, so the hash is never a
person's pseudonym: it cannot be looked up in any other table.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

DIRECTORY = "directory"
TYPED = "typed"
KINDS = (DIRECTORY, TYPED)

# An Entra object id as Teams' people picker submits it: a GUID.
_DIRECTORY_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def pattern_key(pseudonym_key: bytes) -> bytes:
    """The key of the pattern check's hashes, derived from the pseudonym key (never equal)."""
    return hashlib.sha256(b"edi-bot pattern check\x00" + pseudonym_key).digest()


def is_directory_id(value: str) -> bool:
    """Whether `value` has the shape of an Entra object id (a GUID, any case)."""
    return _DIRECTORY_ID.fullmatch(value.strip().lower()) is not None


def normalise_name(name: str) -> str:
    """A typed name as it is compared: accents dropped, case folded, anything but letters and
    digits a space, spaces collapsed ("  Zoë O'Neil-Smith " -> "zoe o neil smith")."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]|_", " ", bare).split())


def person_hash(key: bytes, *, kind: str, tenant_id: str, value: str) -> str:
    """The keyed hash kept for a person named for a pattern check (64 hex characters)."""
    if kind == DIRECTORY:
        message = f"pattern-person:{tenant_id.lower()}:{value.strip().lower()}"
    elif kind == TYPED:
        message = f"pattern-name:{tenant_id.lower()}:{normalise_name(value)}"
    else:
        raise ValueError(f"unknown kind of pattern check: {kind!r}")
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PatternConfig:
    """Whether the pattern check is on (EDI_PATTERNS_ENABLED), its key, and how long an entry
    nobody matched is kept."""

    enabled: bool = False
    key: bytes = b""
    unmatched_years: int = 3


@dataclass(frozen=True)
class Claim:
    """What a report keeps of the person named for a pattern check: the kind and the hash."""

    kind: str
    person_hash: str

    def as_item(self) -> dict[str, str]:
        """As it travels in a sealed intake document."""
        return {"kind": self.kind, "hash": self.person_hash}

    @classmethod
    def from_item(cls, item: object) -> Claim | None:
        """From a sealed intake document (None if it is not one)."""
        if not isinstance(item, dict):
            return None
        kind, found = item.get("kind"), item.get("hash")
        if kind not in KINDS or not isinstance(found, str) or len(found) != 64:
            return None
        return cls(str(kind), found)


def claim_of(config: PatternConfig, answers: dict[str, Any], *, name_chars: int) -> Claim | None:
    """The claim a draft's answers make, hashed; None when the check is off or not asked for
    (or the answer is not one the dialog could have stored)."""
    named = answers.get("pattern")
    if not config.enabled or not isinstance(named, dict):
        return None
    kind, tenant, value = named.get("kind"), named.get("tenant"), named.get("value")
    if not (isinstance(tenant, str) and tenant and isinstance(value, str)):
        return None
    if kind == DIRECTORY and is_directory_id(value):
        return Claim(DIRECTORY, person_hash(config.key, kind=kind, tenant_id=tenant, value=value))
    if kind == TYPED and 0 < len(value) <= name_chars and len(normalise_name(value)) >= 2:
        return Claim(TYPED, person_hash(config.key, kind=kind, tenant_id=tenant, value=value))
    return None
