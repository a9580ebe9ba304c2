"""Malformed activities, fuzzed: deep nesting, over-long ids and names, odd types. Each gets a
4xx with a reason before any turn runs, never a 500 or a failed turn, on both databases, and
the person's next ordinary message still works."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from bot.activity_limits import FIELD_LIMITS, MAX_NESTING
from bot.db.models import AuditEntry
from tests.connector import StandInConnector
from tests.service import Service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e


def _nested(depth: int, kind: str) -> str:
    """JSON nested `depth` deep, as text (json.dumps itself cannot nest that deep)."""
    opening, closing = (
        ("[" * depth, "]" * depth) if kind == "list" else ('{"a":' * depth, "}" * depth)
    )
    return f'{opening}"x"{closing}'


def _set(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = body
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _cases(user: TeamsUser, url: str) -> list[tuple[str, bytes]]:
    """(what, raw body) for every malformed activity the test sends."""
    rng = random.Random(20261204)
    cases: list[tuple[str, bytes]] = []
    # Nested far too deep where a card value, channel data or entities would be, and at the
    # top; thousands deep too (deeper than Python's own recursion limit).
    for depth in (MAX_NESTING + 1, 1_200, 50_000):
        for kind in ("list", "object"):
            for where in ("value", "channelData", "entities"):
                body = user.message("hello", url)
                body[where] = "DEEP"
                raw = json.dumps(body).replace('"DEEP"', _nested(depth, kind))
                cases.append((f"{where} {kind} {depth} deep", raw.encode()))
            cases.append((f"bare {kind} {depth} deep", _nested(depth, kind).encode()))
    # Every id or name longer than its column allows, and of the wrong type.
    for path, limit in FIELD_LIMITS:
        for value in ("x" * (limit + 1), "é" * (limit + rng.randint(1, 5000)), 12345, ["a"]):
            body = user.message("hello", url)
            _set(body, path, value)
            cases.append((f"{'.'.join(path)}={str(value)[:12]}", json.dumps(body).encode()))
    return cases


async def test_malformed_activities_get_a_reason_and_lose_nothing(
    service: Service, connector: StandInConnector
) -> None:
    user = TeamsUser(name="Fran Fuzz")
    for what, raw in _cases(user, connector.url):
        status, reply = await service.post(
            None, data=raw, headers={"Content-Type": "application/json"}
        )
        assert 400 <= status < 500, (what, status, reply)
        assert isinstance(reply, dict) and reply.get("error"), what
        assert "Traceback" not in json.dumps(reply)
    # Nothing reached a turn, so nothing was said back...
    assert connector.replies(user.conversation_id) == []
    # ...and the same person's ordinary message is answered as ever.
    status, _ = await service.post(user.message("help", connector.url))
    assert status == 201
    assert connector.replies(user.conversation_id)


async def test_ids_of_the_longest_allowed_length_are_stored(
    service: Service, connector: StandInConnector
) -> None:
    limits = {".".join(path): limit for path, limit in FIELD_LIMITS}
    user = TeamsUser(
        name="N" * limits["from.name"],
        aad_object_id="a" * limits["from.aadObjectId"],
        conversation_id="c" * limits["conversation.id"],
        tenant_id="t" * limits["conversation.tenantId"],
    )
    status, _ = await service.post(user.installed(connector.url))
    assert status == 201
    status, _ = await service.post(user.message("report", connector.url))
    assert status == 201
    assert "in danger right now?" in json.dumps(connector.replies(user.conversation_id))
    assert AuditEntry.actor.type.length >= len(f"teams:{user.tenant_id}/{user.aad_object_id}")
