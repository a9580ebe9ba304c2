"""The sealed link tokens every download link uses (data copy, HR report, evidence): what a
prober, a forwarder or someone editing a link gets."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from bot.privacy.link_tokens import LinkError, open_link, seal_link
from tests.privacy.test_privacy import KEY_A, KEY_B, cipher_for

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
FIELDS = {"t": "tenant-1", "a": "3f2a1b4c-aaaa", "r": "ABCD-EFGH", "f": 7}


def reason(context: str, token: str, *, now: datetime = NOW, keys: str = KEY_A) -> str:
    with pytest.raises(LinkError) as raised:
        open_link(cipher_for(keys), context, token, now=now)
    return raised.value.reason


def test_a_token_opens_to_its_fields_until_it_expires_and_shows_none_of_them() -> None:
    token = seal_link(cipher_for(KEY_A), "evidence", FIELDS, now=NOW, minutes=15)
    assert open_link(cipher_for(KEY_A), "evidence", token, now=NOW) == FIELDS
    assert all(str(value) not in token for value in FIELDS.values())
    assert "3f2a1b4c" not in base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    later = NOW + timedelta(minutes=15, seconds=1)
    assert reason("evidence", token, now=later) == "expired"


def test_forged_altered_foreign_or_oversized_tokens_are_forged() -> None:
    token = seal_link(cipher_for(KEY_A), "evidence", FIELDS, now=NOW, minutes=15)
    # One kind of link is never another kind: the context is part of the seal.
    assert reason("hr-report", token) == "forged"
    # Any changed character, under another key, junk, or a huge token.
    flipped = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    for bad in (flipped, token[:-3], "", "not-a-token", "x" * 5000):
        assert reason("evidence", bad) == "forged", bad
    assert reason("evidence", token, keys=KEY_B) == "forged"
    # A sealed body that is not a token's (no expiry) is forged, not a crash.
    sealed = cipher_for(KEY_A).seal('["a list"]', context="evidence")
    raw = base64.urlsafe_b64encode(f"{sealed.key_id}|{sealed.token}".encode()).decode()
    assert reason("evidence", raw) == "forged"
