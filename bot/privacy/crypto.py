"""Field-level authenticated encryption: AES-256-GCM, the key id stored beside each value.

Each value is bound to where it lives (`context`, e.g. "bot_state:<key>") as associated
data, so a ciphertext copied into another row or column fails to decrypt.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.privacy.keys import Keys

NONCE_BYTES = 12


class DecryptionError(ValueError):
    """A value could not be decrypted: unknown key id, wrong place, or tampered with."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """An encrypted value: the id of the key that sealed it, and nonce + ciphertext (base64)."""

    key_id: str
    token: str


class FieldCipher:
    """Encrypts with the active key; decrypts with any key still configured."""

    def __init__(self, keys: Keys) -> None:
        self._aeads = {kid: AESGCM(raw) for kid, raw in keys.encryption.items()}
        self.active_id = keys.active_id

    def seal(self, plaintext: str, *, context: str) -> Sealed:
        """Encrypt `plaintext` for the place `context` names."""
        nonce = os.urandom(NONCE_BYTES)
        data = self._aeads[self.active_id].encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        return Sealed(self.active_id, base64.b64encode(nonce + data).decode("ascii"))

    def open(self, sealed: Sealed, *, context: str) -> str:
        """Decrypt a value sealed for `context`."""
        aead = self._aeads.get(sealed.key_id)
        if aead is None:
            raise DecryptionError(f"no key with id {sealed.key_id!r} is configured")
        try:
            raw = base64.b64decode(sealed.token, validate=True)
            plain = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode("utf-8"))
        except (InvalidTag, ValueError):
            raise DecryptionError("value is corrupt or belongs elsewhere") from None
        return plain.decode("utf-8")
