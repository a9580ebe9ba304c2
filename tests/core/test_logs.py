"""Structured logs: event names, logger names, field names, code-chosen values and exception
descriptions are never altered, whatever a person typed; what they typed is still caught in
free text (`bot/core/logs.py`)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import RUNTIME_KEY
from bot.core import logs
from bot.core.logs import REDACTED, UNSTRUCTURED, configure_logging, sensitive
from tests.connector import StandInConnector
from tests.service import Service
from tests.teams import TeamsUser

log = logging.getLogger("bot.incidents")


@pytest.fixture(autouse=True)
def fresh_turn() -> Iterator[None]:
    """Each test starts as a turn does: nothing registered yet (sync tests share a context)."""
    token = logs._sensitive.set(())
    try:
        yield
    finally:
        logs._sensitive.reset(token)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger, as the service configures it, writing JSON lines to a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "json", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def fail_in_submit_step() -> None:
    """Raises from a function whose name shares words with what people type."""
    raise ValueError("the person typed: incident submitted")


# ---- one turn, end to end ------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize(
    "typed", ["incident", "submitted", "request", "py", "incident submitted by request"]
)
async def test_a_turn_leaves_the_bots_own_words_intact_and_still_catches_free_text(
    service: Service,
    connector: StandInConnector,
    captured: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    typed: str,
) -> None:
    bot = service.runner.app[RUNTIME_KEY].bot

    async def route(turn_context: Any, command: str, **flags: bool) -> None:
        # What code inside a turn logs: an event, code-chosen values, a failure's place...
        log.info(
            "incident.submitted",
            extra={"mode": "confidential", "kind": "incident.alert", "count": 2},
        )
        try:
            fail_in_submit_step()
        except ValueError:
            log.exception("incident.intake_unreadable")
        # ...and, by mistake, free text carrying what the person typed.
        text = turn_context.activity.text
        log.warning("incident.note_logged", extra={"note": f"they wrote {text} today"})

    monkeypatch.setattr(bot, "_route", route)
    user = TeamsUser()
    status, _ = await service.post(user.message(typed, connector.url))
    assert status == 201

    by_event = {line["event"]: line for line in lines(captured)}
    assert {"incident.submitted", "incident.intake_unreadable", "request"} <= set(by_event)
    submitted = by_event["incident.submitted"]
    assert submitted["logger"] == "bot.incidents" and submitted["level"] == "INFO"
    assert (submitted["mode"], submitted["kind"], submitted["count"]) == (
        "confidential",
        "incident.alert",
        2,
    )
    error = by_event["incident.intake_unreadable"]["error"]
    assert error.startswith("ValueError at test_logs.py:")
    assert "fail_in_submit_step" in error and "the person typed" not in error
    request = by_event["request"]
    assert (request["method"], request["path"], request["status"]) == ("POST", "/api/messages", 201)
    # What they typed, in free text, is still caught (a two-letter word is not registered).
    note = by_event["incident.note_logged"]["note"]
    if len(typed) >= 3:
        assert note == f"they wrote {REDACTED} today"
    assert "[redacted]ted" not in captured.getvalue()


@pytest.mark.e2e
async def test_the_access_log_names_the_route_never_the_path(
    service: Service, captured: io.StringIO
) -> None:
    for path in ("/events/calendar/Tok3n-0f-a-LINK.ics", "/my-own-words/as-a-path"):
        async with service.http.get(f"{service.base}{path}") as response:
            assert response.status == 404
    calendar, unmatched = (line for line in lines(captured) if line["event"] == "request")
    assert (calendar["method"], calendar["path"]) == ("GET", "/events/calendar/{token}")
    assert unmatched["path"] == "unmatched"
    assert "Tok3n" not in captured.getvalue() and "my-own-words" not in captured.getvalue()


# ---- the rules, one by one -----------------------------------------------------------------


def test_event_names_logger_names_and_field_names_are_never_altered(
    captured: io.StringIO,
) -> None:
    sensitive("incident", "submitted", "job", "incident_sweep", "sweep")
    logging.getLogger("bot.incident").info(
        "job.incident_sweep", extra={"incident": 1, "submitted": 2}
    )
    [line] = lines(captured)
    assert line["event"] == "job.incident_sweep" and line["logger"] == "bot.incident"
    assert (line["incident"], line["submitted"]) == (1, 2)


def test_code_chosen_values_pass_even_when_the_person_sent_them(captured: io.StringIO) -> None:
    sent = ["case_handler", "incident.alert", "/api/messages", "http_503", "2026-11"]
    sensitive(*sent)
    log.info("access.refused", extra={f"v{i}": value for i, value in enumerate(sent)})
    [line] = lines(captured)
    assert [line[f"v{i}"] for i in range(len(sent))] == sent


def test_a_single_word_is_hidden_only_when_it_is_exactly_what_was_sent(
    captured: io.StringIO,
) -> None:
    sensitive("Pagan", "anonymous")
    log.info(
        "declaration.saved",
        extra={"answer": "pagan", "mode": "anonymous", "type": "message", "near": "Paganism"},
    )
    [line] = lines(captured)
    assert (line["answer"], line["mode"]) == (REDACTED, REDACTED)
    assert (line["type"], line["near"]) == ("message", "Paganism")


def test_free_text_loses_whole_runs_of_what_was_sent_and_nothing_else(
    captured: io.StringIO,
) -> None:
    sensitive("submit", "my manager shouted", "Zoë")
    log.info(
        "form.note",
        extra={
            "resubmitted": "it was resubmitted, then submitted again",
            "said": "Then MY MANAGER SHOUTED at me, said Zoë.",
            "object": {"text": "my manager shouted"},
        },
    )
    [line] = lines(captured)
    assert line["resubmitted"] == "it was resubmitted, then submitted again"
    assert line["said"] == f"Then {REDACTED} at me, said {REDACTED}."
    assert line["object"] == f"{{'text': '{REDACTED}'}}"


def test_an_unstructured_message_is_kept_only_while_it_carries_nothing_sent(
    captured: io.StringIO,
) -> None:
    library = logging.getLogger("aiohttp.server")
    library.warning("Error handling request")  # nothing sent yet: kept
    sensitive("my neighbour Zed")
    library.warning("Error handling request")  # a library's own words: kept
    library.warning("Request body: my neighbour Zed")  # built before logging: replaced
    library.warning("echo: %s (%d)", "my neighbour Zed", 3)  # a template: arguments as values
    library.warning("echo %s %s", "only one argument")  # malformed: replaced, never raised
    [kept, still_kept, built, templated, malformed] = lines(captured)
    assert kept["event"] == still_kept["event"] == "Error handling request"
    assert built["event"] == UNSTRUCTURED and built["logger"] == "aiohttp.server"
    assert templated["event"] == f"echo: {REDACTED} (3)"
    assert malformed["event"] == UNSTRUCTURED
    assert "Zed" not in captured.getvalue()


def test_exceptions_appear_as_their_type_and_place_never_their_message(
    captured: io.StringIO,
) -> None:
    sensitive("fail_in_submit_step", "test_logs.py")
    try:
        fail_in_submit_step()
    except ValueError as error:
        log.exception("incident.failed")
        log.warning("incident.failed_again", extra={"cause": error})
        log.warning(error)
    first, second, bare = lines(captured)
    assert first["error"].startswith("ValueError at test_logs.py:")
    assert first["error"].endswith("fail_in_submit_step")
    assert second["cause"] == "ValueError"
    assert bare["event"] == UNSTRUCTURED and bare["error"].startswith("ValueError at")
    assert "the person typed" not in captured.getvalue()


def test_a_text_line_cannot_be_split_into_two_records() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "text", stream=stream)
    try:
        log.info("outbox.failed", extra={"reason": "bad\n2026-01-01 ERROR forged line"})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    [line] = stream.getvalue().splitlines()
    assert line.endswith("reason=bad\\n2026-01-01 ERROR forged line")
