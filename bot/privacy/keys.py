"""Keys from settings (production) or a local file generated on first use (development)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings

log = logging.getLogger(__name__)

KEY_BYTES = 32
MIN_PSEUDONYM_KEY_BYTES = 32


class KeyConfigError(ValueError):
    """A key setting is missing or malformed (the message names the setting, not the key)."""


@dataclass(frozen=True)
class Keys:
    """The encryption keys (first = active) and the pseudonym key."""

    encryption: dict[str, bytes]
    active_id: str
    pseudonym: bytes

    @property
    def retired_ids(self) -> list[str]:
        """Key ids kept only to read older values."""
        return [kid for kid in self.encryption if kid != self.active_id]


def new_key_id() -> str:
    """A short random key id."""
    return "k" + secrets.token_hex(4)


def encode_key(raw: bytes) -> str:
    """Key bytes as the base64 text the settings take."""
    return base64.b64encode(raw).decode("ascii")


def _decode(text: str, setting: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(f"{setting} is not valid base64") from None


def parse_encryption_keys(text: str) -> tuple[dict[str, bytes], str]:
    """`KEYID:BASE64,KEYID:BASE64` as {id: key} and the active (first) id."""
    keys: dict[str, bytes] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        kid, sep, material = entry.partition(":")
        if not sep or not kid.strip() or len(kid.strip()) > 32:
            raise KeyConfigError(
                "EDI_ENCRYPTION_KEYS entries must be KEYID:BASE64 (id <= 32 chars)"
            )
        raw = _decode(material, "EDI_ENCRYPTION_KEYS")
        if len(raw) != KEY_BYTES:
            raise KeyConfigError(
                f"EDI_ENCRYPTION_KEYS key {kid.strip()!r} is not {KEY_BYTES} bytes"
            )
        if kid.strip() in keys:
            raise KeyConfigError(f"EDI_ENCRYPTION_KEYS names key {kid.strip()!r} twice")
        keys[kid.strip()] = raw
    if not keys:
        raise KeyConfigError("EDI_ENCRYPTION_KEYS is empty")
    return keys, next(iter(keys))


def parse_pseudonym_key(text: str) -> bytes:
    """The pseudonym key's bytes, at least 32 of them."""
    raw = _decode(text, "EDI_PSEUDONYM_KEY")
    if len(raw) < MIN_PSEUDONYM_KEY_BYTES:
        raise KeyConfigError(f"EDI_PSEUDONYM_KEY must be at least {MIN_PSEUDONYM_KEY_BYTES} bytes")
    return raw


def private_folder(folder: Path) -> None:
    """Create `folder`, and each missing folder above it, readable by this user only (0700);
    folders that already exist are left as they are."""
    missing: list[Path] = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            path.mkdir(mode=0o700)
            os.chmod(path, 0o700)  # mkdir's mode is narrowed by the umask, never widened


def _development_keys(path: Path) -> tuple[str, str]:
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return str(stored["encryption_keys"]), str(stored["pseudonym_key"])
    private_folder(path.parent)
    encryption = f"{new_key_id()}:{encode_key(secrets.token_bytes(KEY_BYTES))}"
    pseudonym = encode_key(secrets.token_bytes(KEY_BYTES))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"encryption_keys": encryption, "pseudonym_key": pseudonym}, handle)
    log.warning("keys.development_keys_created", extra={"path": str(path)})
    return encryption, pseudonym


def load_keys(settings: Settings) -> Keys:
    """The keys to use: from settings; in development mode, from (or into) `keys_file`."""
    encryption_text = settings.encryption_keys.get_secret_value()
    pseudonym_text = settings.pseudonym_key.get_secret_value()
    if not (encryption_text and pseudonym_text):
        if not settings.development_mode:
            raise KeyConfigError("EDI_ENCRYPTION_KEYS and EDI_PSEUDONYM_KEY are required")
        # Local keys from a file: never for real data.
        log.info("keys.development_keys", extra={"path": str(settings.keys_file)})
        file_encryption, file_pseudonym = _development_keys(settings.keys_file)
        encryption_text = encryption_text or file_encryption
        pseudonym_text = pseudonym_text or file_pseudonym
    encryption, active = parse_encryption_keys(encryption_text)
    return Keys(
        encryption=encryption, active_id=active, pseudonym=parse_pseudonym_key(pseudonym_text)
    )
