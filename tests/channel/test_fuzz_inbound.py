"""Malformed activities, fuzzed over real HTTP on both databases: deep nesting, over-long ids
and names, text no database can store, odd types. Each is refused with a 4xx and a reason
before any turn runs (never a 500, never a failed turn), odd but harmless ones are handled
without failing, and the conversation they were aimed at carries on as if nothing happened.
Deterministic: every random choice comes from one seed."""

from __future__ import annotations

import copy
import json
import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import SETTINGS_KEY
from bot.channel.activity_limits import FIELD_LIMITS, MAX_NESTING
from bot.db.models import AuditEntry
from tests.cards import visible_text
from tests.connector import StandInConnector
from tests.service import Service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

SEED = 20261204
JSON = {"Content-Type": "application/json"}
NUL, SURROGATE = "\x00", "\ud83d"  # half of 😀: json.dumps writes it as "\\ud83d"


class Failures(logging.Handler):
    """Collects ERROR records from the bot (a failed turn, request or reply)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def events(self) -> list[tuple[str, Any]]:
        return [(r.getMessage(), getattr(r, "error", None)) for r in self.records]


@pytest.fixture
def failures() -> Iterator[Failures]:
    handler = Failures()
    logger = logging.getLogger("bot")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _nested(depth: int, kind: str) -> str:
    """JSON nested `depth` deep, as text (json.dumps itself cannot nest that deep)."""
    if kind == "list":
        return "[" * depth + '"x"' + "]" * depth
    return '{"a":' * depth + '"x"' + "}" * depth


def _set(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = body
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _raw(body: Any) -> bytes:
    # ensure_ascii writes a lone surrogate as an escape, as a hostile client would send it.
    return json.dumps(body, ensure_ascii=True).encode()


def _refused(user: TeamsUser, url: str) -> list[tuple[str, bytes]]:
    """(what, raw body) for every activity that must be refused, all aimed at `user`'s chat."""
    rng = random.Random(SEED)
    cases: list[tuple[str, bytes]] = []
    # Nested too deep where a card's value, channel data or entities would be, and at the
    # top; thousands deep too (deeper than Python's own recursion limit).
    for depth in (MAX_NESTING + 1, 1_200, 50_000):
        for kind in ("list", "object"):
            for where in ("value", "channelData", "entities", "attachments"):
                body = user.message("hello", url)
                body[where] = "DEEP"
                raw = json.dumps(body).replace('"DEEP"', _nested(depth, kind))
                cases.append((f"{where} {kind} {depth} deep", raw.encode()))
            cases.append((f"bare {kind} {depth} deep", _nested(depth, kind).encode()))
    # Every id or name longer than its column allows, of the wrong type, or (ids) holding
    # control characters, NULs or half a surrogate pair.
    for path, limit in FIELD_LIMITS:
        values: list[Any] = [
            "x" * (limit + 1),
            "é" * (limit + rng.randint(1, 5000)),
            rng.choice([12345, 1.5, True]),
            rng.choice([["a"], {"id": "a"}]),
            f"a{NUL}b",
            f"a{SURROGATE}b",
        ]
        if path[-1] != "name":
            values += ["a\nb", "a\r\nX-Injected: 1", "a\x7fb"]
        for value in values:
            body = user.message("hello", url)
            _set(body, path, value)
            cases.append((f"{'.'.join(path)}={value!r:.16}", _raw(body)))
    # NUL or half a surrogate pair anywhere: text, a card's values and keys, channel data.
    for bad in (NUL, SURROGATE):
        for where in ("text", "value", "value key", "channelData", "entities"):
            body = user.message("hello", url)
            if where == "text":
                body["text"] = f"hello {bad} there"
            elif where == "value":
                body["value"] = {"form": "x", "details": [f"a{bad}"]}
            elif where == "value key":
                body["value"] = {f"k{bad}": "v"}
            elif where == "channelData":
                body["channelData"]["team"] = {"id": f"19:{bad}"}
            else:
                body["entities"][0]["locale"] = bad
            cases.append((f"{where} holds {bad!r}", _raw(body)))
    # Odd shapes and types where an activity's structure is.
    for path, value in [
        (("type",), "my secret words"),
        (("type",), "message\n"),
        (("type",), ""),
        (("conversation",), "a:1"),
        (("from",), ["29:1"]),
        (("recipient",), None),
        (("serviceUrl",), "ftp://example.invalid/"),
        (("channelId",), 7),
        (("text",), {"text": "hello"}),
        (("timestamp",), "yesterday"),
        (("entities",), "clientInfo"),
        (("attachments",), {"contentType": "x"}),
    ]:
        body = user.message("hello", url)
        _set(body, path, value)
        cases.append((f"{'.'.join(path)}={value!r:.16}", _raw(body)))
    cases += [
        ("not JSON", b'{"type": "message",'),
        ("a big number", b'{"type": "message", "n": ' + b"9" * 5000 + b"}"),
        ("a JSON string", b'"message"'),
        ("not UTF-8", b'{"type": "\xff"}'),
    ]
    return cases


async def test_malformed_activities_are_refused_with_a_reason_and_nothing_is_lost(
    service: Service, connector: StandInConnector, failures: Failures
) -> None:
    user = TeamsUser(name="Fran Fuzz")
    # The person is half-way through something: About EDI is waiting for their choice.
    status, _ = await service.post(user.message("about", connector.url))
    assert status == 201
    asked = len(connector.replies(user.conversation_id))
    assert "What would you like to know about?" in visible_text(
        connector.replies(user.conversation_id)[-1]
    )
    for what, raw in _refused(user, connector.url):
        status, reply = await service.post(None, data=raw, headers=JSON)
        assert 400 <= status < 500, (what, status, reply)
        assert isinstance(reply, dict) and isinstance(reply.get("error"), str), (what, reply)
        assert reply["error"] and "Traceback" not in reply["error"], what
    # Nothing reached a turn: nothing was said back, and nothing failed...
    assert len(connector.replies(user.conversation_id)) == asked
    assert failures.events() == []
    # ...and the question still waits for its answer, which is taken as ever.
    status, _ = await service.post(user.message("duty", connector.url))
    assert status == 201
    answer = visible_text(connector.replies(user.conversation_id)[-1])
    assert "Public Sector Equality Duty" in answer, answer


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, child in items:
        yield (*path, key)
        yield from _leaves(child, (*path, key))


ODD_VALUES: list[Any] = [
    "x" * 300,
    "é" * 2000,
    "\U0001f600" * 50,
    "a\u2028b",
    "../../x?y#z%2f",
    "",
    " ",
    0,
    -1,
    10**30,
    1e308,
    True,
    None,
    [],
    {},
    [1, "a", None],
    {"id": "z", "nested": [{"deep": [1, 2]}]},
]


async def test_odd_but_storable_activities_never_fail_a_turn(
    service: Service, connector: StandInConnector, failures: Failures
) -> None:
    """Any field of a message, a card submission, an install or an invoke, given a value of an
    odd type or size: refused (4xx with a reason) or handled, never a 5xx or a failed turn."""
    rng = random.Random(SEED)
    url = connector.url
    template = TeamsUser()
    shapes = {
        "message": template.message("help", url),
        "submit": template.submit({"command": "about", "note": "n"}, url),
        "installed": template.installed(url),
        "bot_added": template.bot_added(url),
        "invoke": {
            **template.message("", url),
            "type": "invoke",
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "data": {"command": "about"}}},
        },
    }
    for body in shapes.values():
        body["channelData"].update({"team": {"id": "19:t"}, "channel": {"id": "19:c"}})
        body["entities"].append({"type": "mention", "mentioned": {"id": "28:x", "name": "b"}})
    outcomes: dict[str, int] = {"refused": 0, "handled": 0}
    for _ in range(160):
        kind = rng.choice(sorted(shapes))
        body = copy.deepcopy(shapes[kind])
        # The service URL is where replies go: one elsewhere cannot be answered.
        path = rng.choice([p for p in _leaves(body) if p[0] != "serviceUrl"])
        value = copy.deepcopy(rng.choice(ODD_VALUES))
        person = TeamsUser()  # each case its own person and chat
        body["from"].update(id=person.user_id, aadObjectId=person.aad_object_id)
        body["conversation"]["id"] = person.conversation_id
        node = body
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        what = f"{kind} {'.'.join(map(str, path))}={value!r:.20}"
        status, reply = await service.post(None, data=_raw(body), headers=JSON)
        assert status < 500, (what, status, reply)
        if status >= 400:
            assert isinstance(reply, dict) and reply.get("error"), (what, reply)
            outcomes["refused"] += 1
        else:
            outcomes["handled"] += 1
        assert failures.events() == [], what
    assert outcomes["refused"] and outcomes["handled"], outcomes  # both kinds were exercised


async def test_too_big_a_body_gets_413_and_long_text_a_polite_answer(
    service: Service, connector: StandInConnector, failures: Failures
) -> None:
    user = TeamsUser()
    limit = service.runner.app[SETTINGS_KEY].max_body_bytes
    huge = user.message("x" * (limit + 1), connector.url)
    status, reply = await service.post(huge)
    assert status == 413
    assert reply == {"error": f"Body is larger than {limit} bytes."}
    # Long, but within the body limit: the person is told, nothing fails.
    status, _ = await service.post(user.message("word " * 40_000, connector.url))
    assert status == 201
    said = visible_text(connector.replies(user.conversation_id)[-1])
    assert "longer than I can take" in said
    assert failures.events() == []


async def test_ids_of_the_longest_allowed_length_are_stored(
    service: Service, connector: StandInConnector, failures: Failures
) -> None:
    limits = {".".join(path): limit for path, limit in FIELD_LIMITS}
    user = TeamsUser(
        name="N" * limits["from.name"],
        aad_object_id="a" * limits["from.aadObjectId"],
        conversation_id="c" * limits["conversation.id"],
        tenant_id="t" * limits["conversation.tenantId"],
    )
    installed = user.installed(connector.url)
    installed["channelId"] = "m" * limits["channelId"]
    status, _ = await service.post(installed)
    assert status == 201
    message = user.message("report", connector.url)
    message["channelId"] = "m" * limits["channelId"]
    message["id"] = "i" * limits["id"]
    status, _ = await service.post(message)
    assert status == 201
    assert "in danger right now?" in json.dumps(connector.replies(user.conversation_id))
    assert AuditEntry.actor.type.length >= len(f"teams:{user.tenant_id}/{user.aad_object_id}")
    assert failures.events() == []
