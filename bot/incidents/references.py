"""Report references and passphrases: how a reporter finds their report again."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Sequence

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I, L, O, 0 or 1


def new_reference() -> str:
    """Eight characters that can be read aloud without confusion: ABCD-EFGH."""
    raw = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


_REFERENCE_CANDIDATE = re.compile(
    # Overlapping (a lookahead), and whole: not inside a longer word or hyphenated run.
    r"(?=(?<![A-Za-z0-9-])([A-Za-z0-9]{4})([\s-]?)([A-Za-z0-9]{4})(?![A-Za-z0-9-]))"
)


def find_reference(text: str) -> str | None:
    """The reference in what someone typed ("abcd efgh", "ABCD-EFGH", "open abcd-efgh"), or
    None. Written with a hyphen or as one word wins; split by a space, the last one does
    (in "take abcd efgh", "take abcd" would also read as a reference)."""
    spaced: list[str] = []
    for first, gap, second in _REFERENCE_CANDIDATE.findall(text or ""):
        raw = f"{first}{second}".upper()
        if not all(ch in REFERENCE_ALPHABET for ch in raw):
            continue
        if gap in ("", "-"):
            return f"{raw[:4]}-{raw[4:]}"
        spaced.append(raw)
    return f"{spaced[-1][:4]}-{spaced[-1][4:]}" if spaced else None


def new_passphrase(words: Sequence[str]) -> str:
    """Four common words and a number, e.g. "otter-candle-summit-plum-42" (about 39 bits;
    guessing is also limited by attempts and a cool-down per report)."""
    chosen = [secrets.choice(words) for _ in range(4)]
    return "-".join([*chosen, f"{secrets.randbelow(90) + 10}"])


def normalise_passphrase(text: str) -> str:
    """How a passphrase is compared: lower case, words joined by single hyphens."""
    return "-".join(re.findall(r"[a-z0-9]+", (text or "").lower()))


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_passphrase(passphrase: str) -> str:
    """scrypt with a random salt, as "scrypt$salt$hash" (base64)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(normalise_passphrase(passphrase).encode(), salt=salt, **_SCRYPT)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def passphrase_matches(passphrase: str, stored: str) -> bool:
    """Whether `passphrase` is the one `stored` was made from."""
    try:
        scheme, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            normalise_passphrase(passphrase).encode(), salt=base64.b64decode(salt), **_SCRYPT
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))
