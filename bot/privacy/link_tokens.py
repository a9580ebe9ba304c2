"""Sealed, expiring link tokens: the one way a download link says who it is for and what it
opens (a person's data copy, HR's full report, a case's evidence file).

A token seals its fields and the moment it expires with the field cipher (AES-256-GCM) under
the link's own context, so it shows no id to whoever sees it, one kind of link can never be
used as another, and any change to it fails authentication. It is stateless: no table to
clean, and rotating the keys out ends every link made under the old ones. A forged, altered
or malformed token is "forged" (a 404 for whoever probes), an old one "expired" (a 403 with a
sentence).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed

# A real token is a few hundred characters; anything much longer is not worth decrypting.
MAX_TOKEN_CHARS = 600

Reason = Literal["forged", "expired"]


class LinkError(ValueError):
    """A link that is forged or altered (`forged`) or past its time (`expired`)."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


def seal_link(
    cipher: FieldCipher, context: str, fields: dict[str, Any], *, now: datetime, minutes: int
) -> str:
    """A URL-safe token for `fields`, valid for `minutes` from `now`."""
    expires = int((now + timedelta(minutes=minutes)).timestamp())
    sealed = cipher.seal(json.dumps({**fields, "e": expires}), context=context)
    raw = f"{sealed.key_id}|{sealed.token}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def open_link(cipher: FieldCipher, context: str, token: str, *, now: datetime) -> dict[str, Any]:
    """The fields a token was sealed with; LinkError if forged, altered or expired."""
    if len(token) > MAX_TOKEN_CHARS:
        raise LinkError("forged")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        key_id, sealed = raw.split("|", 1)
        fields = json.loads(cipher.open(Sealed(key_id, sealed), context=context))
        expires = int(fields.pop("e"))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, DecryptionError):
        raise LinkError("forged") from None
    if not isinstance(fields, dict):
        raise LinkError("forged")
    if now.timestamp() > expires:
        raise LinkError("expired")
    return fields


def read_fields(fields: dict[str, Any], read: Any) -> Any:
    """`read(fields)`, with any missing or mistyped field counted as a forged link."""
    try:
        return read(fields)
    except (ValueError, KeyError, TypeError):
        raise LinkError("forged") from None
