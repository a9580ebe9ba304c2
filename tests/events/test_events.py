"""Staff network events and Big Conversations end to end: real HTTP in, replies at the
stand-in connector, reminders and offers through the outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from bot.config import Settings
from bot.core.people import PersonKey
from bot.db.models import AuditEntry
from bot.db.session import unit_of_work
from bot.events import repo as repo_events
from bot.events.models import Event, EventSignup, NetworkMember
from bot.events.records import EventDraft
from bot.events.service import EventService
from bot.features import FEATURES
from bot.privacy.retention import purge, retention_rules
from bot.privacy.roles import Role, grant_role
from tests.cards import cards, inputs, visible_text
from tests.chat import Chat
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.incidents.test_incidents import deliver, runtime_of
from tests.service import Service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

LONDON = ZoneInfo("Europe/London")
# A fixed "now" for every test: a Monday in winter (GMT), 10:00 in London.
NOW = datetime(2027, 1, 18, 10, 0, tzinfo=UTC)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The outbox is drained explicitly, so each test decides when messages go.
    return dev_settings(
        database_url=database_url,
        outbox_worker=False,
        public_base_url="https://edi-bot.example.org",
        event_claim_hours=24,
    )


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def events_of(service: Service) -> EventService:
    events: EventService = runtime_of(service).events
    return events


def set_clock(service: Service, now: datetime = NOW) -> Clock:
    clock = Clock(now)
    events_of(service).clock = clock
    return clock


def london(text: str) -> datetime:
    """A Europe/London wall-clock time as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


def draft(**changes: Any) -> EventDraft:
    values: dict[str, Any] = {
        "title": "Big Conversation: race equality at work",
        "kind": "big_conversation",
        "network": None,
        "description": "A safe space to talk about race equality at work.",
        "starts_at": london("2027-01-20T12:30"),
        "ends_at": london("2027-01-20T13:30"),
        "signup_deadline": london("2027-01-19T17:00"),
        "capacity": 2,
        "location": "County Hall, Glenfield",
        "online_url": None,
        "accessibility": "Step-free access; hearing loop.",
    }
    values.update(changes)
    return EventDraft(**values)


async def create_event(service: Service, **changes: Any) -> str:
    runtime = runtime_of(service)
    async with unit_of_work(runtime.sessions) as session:
        event = await events_of(service).create(session, draft(**changes), actor="cli:test")
        return event.slug


async def person(service: Service, connector: StandInConnector, name: str) -> Chat:
    chat = Chat(service, connector, TeamsUser(name=name))
    await chat.install()
    return chat


async def organiser(
    service: Service, connector: StandInConnector, name: str, scopes: tuple[str, ...]
) -> Chat:
    chat = await person(service, connector, name)
    runtime = runtime_of(service)
    async with unit_of_work(runtime.sessions) as session:
        await grant_role(
            session,
            role=Role.ORGANISER,
            person=chat.user.aad_object_id,
            tenant_id=chat.user.tenant_id,
            granted_by="test",
        )
        for scope in scopes:
            await repo_events.add_organiser(
                session,
                network=scope,
                tenant_id=chat.user.tenant_id,
                aad_object_id=chat.user.aad_object_id,
                granted_by="test",
            )
    return chat


def links(chat: Chat) -> list[tuple[str, str]]:
    """(title, url) of every Action.OpenUrl on the last cards shown."""
    found = []
    for reply in chat.last:
        for card in cards(reply):
            for action in card.get("actions", []):
                if action.get("type") == "Action.OpenUrl":
                    found.append((action["title"], action["url"]))
    return found


async def fetch_ics(service: Service, url: str) -> tuple[int, bytes]:
    path = url.removeprefix("https://edi-bot.example.org")
    async with service.http.get(f"{service.base}{path}") as response:
        return response.status, await response.read()


async def calendar_of(service: Service, chat: Chat) -> Calendar:
    (title, url), *_ = links(chat)
    # The link says what it does: a cancellation takes the event out of the calendar.
    assert title in ("Add to calendar", "Remove it from my calendar")
    cancelling = "Your place is cancelled" in chat.seen(chat.last) or "Cancelled:" in chat.seen(
        chat.last
    )
    assert (title == "Remove it from my calendar") == cancelling
    status, body = await fetch_ics(service, url)
    assert status == 200
    return Calendar.from_ical(body)


def proactive(connector: StandInConnector, chat: Chat) -> str:
    """Everything the person has been sent, as text."""
    return "\n".join(visible_text(r) for r in connector.replies(chat.user.conversation_id))


async def signups(service: Service, slug: str) -> dict[str, int]:
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(EventSignup.status, func.count())
            .join(Event, Event.id == EventSignup.event_id)
            .where(Event.slug == slug)
            .group_by(EventSignup.status)
        )
        return {s: int(n) for s, n in rows}


async def sign_up(chat: Chat, slug: str, **inputs: Any) -> str:
    return await chat.tap({"command": "sign up", "event": slug, **inputs})


# ---- signing up --------------------------------------------------------------------------------


async def test_sign_up_with_needs_gives_a_place_and_a_calendar_invitation(
    service: Service, connector: StandInConnector
) -> None:
    set_clock(service)
    slug = await create_event(service)
    chat = await person(service, connector, "Priya Shah")

    seen = await chat.say("events")
    assert "Big Conversation: race equality at work" in seen
    assert "2 of 2 left" in seen
    seen = await chat.press("Details and sign up")
    assert "Step-free access; hearing loop." in seen
    assert "seen only by this event's organisers" in seen
    seen = await chat.press("Sign me up", needs="bsl,step_free", details="Vegetarian lunch")
    assert "You have a place: Big Conversation: race equality at work" in seen
    assert "Wednesday 20 January 2027, 12:30" in seen

    calendar = await calendar_of(service, chat)
    assert calendar["METHOD"] == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event["SEQUENCE"] == 0
    assert str(event["UID"]).startswith("edi-bot-event-")
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/London"
    assert (start.hour, start.minute) == (12, 30)
    assert event.decoded("DTEND").astimezone(UTC) == london("2027-01-20T13:30")
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]

    # Twice: a clear answer, and still one place taken.
    seen = await sign_up(chat, slug)
    assert "You already have a place" in seen
    assert await signups(service, slug) == {"confirmed": 1}

    # The needs are sealed in the database, and the person's "my events" shows the place.
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        stored = (await session.execute(select(EventSignup))).scalar_one()
    assert stored.needs is not None and "Vegetarian" not in stored.needs
    assert stored.who is not None and "Priya" not in stored.who
    seen = await chat.say("my events")
    assert "You have a place" in seen


async def test_the_last_place_taken_at_once_by_two_people_goes_to_exactly_one(
    service: Service, connector: StandInConnector
) -> None:
    set_clock(service)
    slug = await create_event(service, capacity=1)
    first = await person(service, connector, "Sam Okafor")
    second = await person(service, connector, "Jo Patel")

    seen = await asyncio.gather(sign_up(first, slug), sign_up(second, slug))

    assert sum("You have a place" in s for s in seen) == 1
    assert sum("You're on the waitlist" in s for s in seen) == 1
    assert await signups(service, slug) == {"confirmed": 1, "waitlisted": 1}


async def test_many_people_at_once_never_oversubscribe(
    service: Service, connector: StandInConnector
) -> None:
    set_clock(service)
    slug = await create_event(service, capacity=3)
    people = [await person(service, connector, f"Colleague {n}") for n in range(8)]

    await asyncio.gather(*(sign_up(p, slug) for p in people))

    assert await signups(service, slug) == {"confirmed": 3, "waitlisted": 5}


# ---- the waitlist ----------------------------------------------------------------------------


async def test_a_freed_place_is_offered_claimed_or_moved_on_when_unclaimed(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    clock = set_clock(service)
    slug = await create_event(service, capacity=1)
    holder = await person(service, connector, "Alex Taylor")
    waiting = await person(service, connector, "Bea Jones")
    later = await person(service, connector, "Cai Evans")
    assert "You have a place" in await sign_up(holder, slug)
    seen = await sign_up(waiting, slug)
    assert "You're on the waitlist" in seen and "You're number 1 in the queue" in seen
    assert "24 hours to claim it" in seen
    assert "You're number 2 in the queue" in await sign_up(later, slug)
    assert "You're number 2 on the waitlist" in await later.say("my events")

    # The holder cancels: their calendar gets a cancellation, the first waiting is offered.
    seen = await holder.tap({"command": "cancel my place", "event": slug})
    assert "Give up your place at" in seen and "it goes to the next person waiting" in seen
    assert await signups(service, slug) == {"confirmed": 1, "waitlisted": 2}  # not yet
    seen = await holder.press("Yes, give up my place")
    assert "Your place is cancelled" in seen
    calendar = await calendar_of(service, holder)
    assert calendar["METHOD"] == "CANCEL"
    assert calendar.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
    await deliver(service, settings)
    assert "A place has come up" in proactive(connector, waiting)
    assert "A place has come up" not in proactive(connector, later)

    # Bea lets the window pass; the sweep moves the place on to Cai.
    clock.now = NOW + timedelta(hours=25)
    runtime = runtime_of(service)
    async with unit_of_work(runtime.sessions) as session:
        counts = await events_of(service).sweep(session)
    assert (counts.lapsed, counts.offered) == (1, 1)
    await deliver(service, settings)
    assert "A place has come up" in proactive(connector, later)

    # Bea's late claim gets a clear answer; Cai claims in time and gets an invitation.
    seen = await waiting.tap({"command": "claim place", "event": slug})
    assert "has now been offered to the next person" in seen
    offer = [
        r for r in connector.replies(later.user.conversation_id) if "come up" in visible_text(r)
    ]
    later.last = offer
    seen = await later.press("Claim my place")
    assert "You've claimed your place" in seen
    assert (await calendar_of(service, later))["METHOD"] == "REQUEST"
    assert await signups(service, slug) == {"cancelled": 1, "lapsed": 1, "confirmed": 1}


async def test_a_claim_after_the_window_moves_the_place_on_even_before_the_sweep(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    clock = set_clock(service)
    slug = await create_event(service, capacity=1)
    holder = await person(service, connector, "Alex Taylor")
    waiting = await person(service, connector, "Bea Jones")
    later = await person(service, connector, "Cai Evans")
    for chat in (holder, waiting, later):
        await sign_up(chat, slug)
    await holder.tap({"command": "cancel my place", "event": slug})
    await holder.press("Yes, give up my place")

    clock.now = NOW + timedelta(hours=24, minutes=1)
    seen = await waiting.tap({"command": "claim place", "event": slug})
    assert "has now been offered to the next person" in seen
    await deliver(service, settings)
    assert "A place has come up" in proactive(connector, later)
    assert await signups(service, slug) == {"cancelled": 1, "lapsed": 1, "offered": 1}


# ---- bad input -------------------------------------------------------------------------------


async def test_closed_cancelled_past_and_unknown_events_get_clear_answers(
    service: Service, connector: StandInConnector
) -> None:
    clock = set_clock(service)
    slug = await create_event(service)
    chat = await person(service, connector, "Dee Brown")

    clock.now = london("2027-01-19T17:01")
    assert "sign-up for" in (await sign_up(chat, slug)).lower()
    assert "closed on Tuesday 19 January 2027, 17:00" in await sign_up(chat, slug)
    clock.now = london("2027-01-20T12:31")
    assert "has already started or taken place" in await sign_up(chat, slug)
    clock.now = NOW
    assert "no place being held" in await chat.tap({"command": "claim place", "event": slug})
    runtime = runtime_of(service)
    async with unit_of_work(runtime.sessions) as session:
        await events_of(service).cancel_event(session, slug, actor="cli:test")
    assert "has been cancelled" in await sign_up(chat, slug)
    for odd in ("no-such-event", "../../etc", "Robert'); DROP TABLE events;--"):
        assert "couldn't find that event" in await sign_up(chat, odd)
    unreadable: list[Any] = ["x" * 5000, 42, None, {"a": 1}]
    for value in unreadable:
        assert "Which event?" in await sign_up(chat, value)
    assert "couldn't read the adjustments" in await sign_up(chat, slug, needs="bsl,free_lunch")
    assert "couldn't read the adjustments" in await sign_up(chat, slug, needs=["bsl"])
    assert "don't have a place" in await chat.tap({"command": "cancel my place", "event": slug})
    assert "has been cancelled" in await chat.tap({"command": "claim place", "event": slug})
    assert await signups(service, slug) == {}


async def test_organiser_rules_are_checked_on_the_server(
    service: Service, connector: StandInConnector
) -> None:
    set_clock(service)
    events = events_of(service)
    # End before start, deadline after start, no capacity: every problem in one answer.
    problems = events.check_draft(
        draft(
            ends_at=london("2027-01-20T11:00"),
            signup_deadline=london("2027-01-21T09:00"),
            capacity=0,
        ),
        now=NOW,
    )
    assert problems == [
        "The event must end after it starts.",
        "The sign-up deadline must be before the event starts.",
        "The number of places must be a whole number from 1 to 10,000.",
    ]
    # Someone without the organiser role is refused in chat.
    stranger = await person(service, connector, "Not An Organiser")
    assert "organiser" in (await stranger.say("organise events")).lower()
    assert "Organise events" not in (await stranger.say("organise events"))
    # An organiser of another network cannot touch a Big Conversation.
    slug = await create_event(service)
    other = await organiser(service, connector, "Net Organiser", ("bame",))
    await other.say("organise events")
    seen = await other.tap({"choice": "edit", "event": slug})
    assert "only change events of the networks you organise" in seen


# ---- organisers in chat -----------------------------------------------------------------------


async def test_an_organiser_creates_edits_and_cancels_an_event_in_chat(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    set_clock(service)
    boss = await organiser(service, connector, "Olu Organiser", ("big_conversation", "bame"))
    seen = await boss.say("organise events")
    assert "You have no upcoming events." in seen
    seen = await boss.press("New event")
    assert "New event" in seen
    form = {
        "title": "Lunch and learn",
        "host": "bame",
        "description": "An informal session for members and allies.",
        "start_date": "2027-02-04",
        "start_time": "13:00",
        "end_time": "12:00",
        "deadline_date": "2027-02-03",
        "deadline_time": "17:00",
        "location": "County Hall",
        "online_url": "",
        "capacity": "30",
        "accessibility": "",
    }
    seen = await boss.tap({**boss.button("Save event"), **form})
    assert "The event must end after it starts." in seen
    seen = await boss.tap({**boss.button("Save event"), **form, "end_time": "14:00"})
    assert 'Saved. "Lunch and learn" is open for sign-up.' in seen
    assert "Black, Asian and Minority Ethnic Network" in seen
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        event = (await session.execute(select(Event))).scalar_one()
    assert event.network == "bame"
    assert event.starts_at.replace(tzinfo=UTC) == london("2027-02-04T13:00")

    attendee = await person(service, connector, "Ella Green")
    assert "You have a place" in await sign_up(attendee, event.slug)

    # An edit raises SEQUENCE; the attendee is sent the change with an updated invitation.
    await boss.tap({"choice": "edit", "event": event.slug})
    seen = await boss.tap({**boss.button("Save event"), **form, "end_time": "14:30"})
    assert "Everyone with a place has been sent the updated details" in seen
    await deliver(service, settings)
    updates = [
        r
        for r in connector.replies(attendee.user.conversation_id)
        if "has changed" in visible_text(r)
    ]
    assert len(updates) == 1
    attendee.last = updates
    calendar = await calendar_of(service, attendee)
    (item,) = calendar.walk("VEVENT")
    assert (calendar["METHOD"], item["SEQUENCE"]) == ("REQUEST", 1)
    assert item.decoded("DTEND").astimezone(UTC) == london("2027-02-04T14:30")

    # Cancelling tells them, with a cancelling calendar file under the same UID.
    await boss.tap({"choice": "cancel event", "event": event.slug})
    seen = await boss.press("Yes, cancel the event")
    assert '"Lunch and learn" is cancelled; 1 people will be told.' in seen
    await deliver(service, settings)
    cancelled = [
        r
        for r in connector.replies(attendee.user.conversation_id)
        if "Cancelled:" in visible_text(r)
    ]
    attendee.last = cancelled
    calendar = await calendar_of(service, attendee)
    (cancel_item,) = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "CANCEL"
    assert (cancel_item["STATUS"], cancel_item["SEQUENCE"]) == ("CANCELLED", 2)
    assert cancel_item["UID"] == item["UID"]


async def test_attendance_marked_in_chat_reaches_the_hr_rows(
    service: Service, connector: StandInConnector
) -> None:
    clock = set_clock(service)
    boss = await organiser(service, connector, "Olu Organiser", ("big_conversation",))
    slug = await create_event(service, capacity=5)
    came = await person(service, connector, "Came Along")
    stayed = await person(service, connector, "Stayed Away")
    await sign_up(came, slug, needs="captions")
    await sign_up(stayed, slug)

    await boss.say("organise events")
    seen = await boss.tap({"choice": "attendees", "event": slug})
    assert "Came Along" in seen and "Stayed Away" in seen
    assert "Needs: Live captions." in seen
    ids = {s.name: s.signup_id for s in await _views(service, slug)}
    seen = await boss.press("Save attendance", **{f"attended_{ids['Came Along']}": "true"})
    assert "You can mark attendance from the day of the event." in seen

    clock.now = london("2027-01-20T14:00")
    await boss.tap({"choice": "attendees", "event": slug})
    seen = await boss.press(
        "Save attendance",
        **{f"attended_{ids['Came Along']}": "true", f"attended_{ids['Stayed Away']}": "false"},
    )
    assert "Attendance saved: 1 attended." in seen

    runtime = runtime_of(service)
    pseudonyms = runtime.privacy.pseudonyms
    async with runtime.sessions() as session:
        # attendance_rows() counts events started by now; these are in 2027.
        assert await repo_events.attendance_rows(session) == []
        rows = [
            tuple(row)
            for row in await session.execute(repo_events.attendance_select(now=clock.now))
        ]
    assert sorted(rows) == sorted(
        [
            (pseudonyms.of(_key(came)), "big_conversation", None, date(2027, 1, 20), True),
            (pseudonyms.of(_key(stayed)), "big_conversation", None, date(2027, 1, 20), False),
        ]
    )


def _key(chat: Chat) -> PersonKey:
    return PersonKey(chat.user.tenant_id, chat.user.aad_object_id)


async def _views(service: Service, slug: str) -> list[Any]:
    runtime = runtime_of(service)
    async with unit_of_work(runtime.sessions) as session:
        event = await events_of(service).event(session, slug)
        assert event is not None
        return await events_of(service).attendees(session, event, actor="cli:test")


# ---- reminders, organiser lists, deleting needs -----------------------------------------------


async def test_reminders_and_the_organiser_list_go_once_the_day_before(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    clock = set_clock(service)
    boss = await organiser(service, connector, "Olu Organiser", ("big_conversation",))
    slug = await create_event(service)
    coming = await person(service, connector, "Fay Coming")
    await sign_up(coming, slug, needs="bsl", details="Please sit me near the interpreter")
    runtime = runtime_of(service)

    async def sweep() -> Any:
        async with unit_of_work(runtime.sessions) as session:
            return await events_of(service).sweep(session)

    clock.now = london("2027-01-19T08:45")  # the day before, but before 09:00
    assert (await sweep()).reminders == 0
    clock.now = london("2027-01-19T09:15")
    first = await sweep()
    second = await sweep()
    assert (first.reminders, first.organiser_lists) == (1, 1)
    await deliver(service, settings)

    reminders = [
        r
        for r in connector.replies(coming.user.conversation_id)
        if "is tomorrow" in visible_text(r)
    ]
    assert len(reminders) == 1
    coming.last = reminders
    assert coming.button("Cancel my place") == {"command": "cancel my place", "event": slug}
    lists = [
        r for r in connector.replies(boss.user.conversation_id) if "Who's coming" in visible_text(r)
    ]
    assert len(lists) == 1
    text = visible_text(lists[0])
    assert "Fay Coming" in text and "British Sign Language interpreter" in text
    assert "Please sit me near the interpreter" in text
    assert (second.reminders, second.organiser_lists) == (0, 0)
    # The attendee list was read (audited) once, for the one message.
    async with runtime.sessions() as session:
        reads = await session.execute(
            select(func.count()).where(AuditEntry.action == "event.attendees_read")
        )
    assert reads.scalar() == 1


async def test_adjustment_needs_are_deleted_the_day_after_the_event(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    set_clock(service)
    slug = await create_event(service)
    chat = await person(service, connector, "Gus Hill")
    await sign_up(chat, slug, needs="dietary", details="Halal")
    runtime = runtime_of(service)
    rules = retention_rules(settings, runtime.privacy.audit, FEATURES)

    counts = await purge(
        runtime.sessions, rules, runtime.privacy.audit, now=london("2027-01-20T23:00")
    )
    assert counts["events"] == 0
    counts = await purge(
        runtime.sessions, rules, runtime.privacy.audit, now=london("2027-01-21T02:30")
    )
    assert counts["events"] == 1
    async with runtime.sessions() as session:
        stored = (await session.execute(select(EventSignup))).scalar_one()
        audited = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action == "retention.purge")
                )
            )
            .scalars()
            .all()
        )
    assert stored.needs is None and stored.needs_key is None
    assert stored.who is not None  # still needed to mark attendance
    assert [a.detail for a in audited][-1] is not None
    # Thirty days on, who signed up is wiped too; the pseudonymous place is kept for HR.
    await purge(runtime.sessions, rules, runtime.privacy.audit, now=london("2027-02-20T02:30"))
    async with runtime.sessions() as session:
        stored = (await session.execute(select(EventSignup))).scalar_one()
    assert stored.who is None and stored.status == "confirmed"


# ---- networks --------------------------------------------------------------------------------


async def test_network_membership_is_seen_only_by_that_networks_organisers(
    service: Service, connector: StandInConnector
) -> None:
    set_clock(service)
    member = await person(service, connector, "Hana Ali")
    seen = await member.say("networks")
    assert "Black, Asian and Minority Ethnic Network" in seen
    seen = await member.press("Join")
    assert "You've joined the Black, Asian and Minority Ethnic Network" in seen
    assert "You're a member." in seen
    assert "already a member" in await member.tap({"command": "join network", "network": "bame"})
    assert "couldn't find that network" in await member.tap(
        {"command": "join network", "network": "chess_club"}
    )

    outsider = await organiser(service, connector, "Big Conv Organiser", ("big_conversation",))
    await outsider.say("organise events")
    seen = await outsider.tap({"choice": "members", "network": "bame"})
    assert "Only the organisers of that network" in seen and "Hana Ali" not in seen
    insider = await organiser(service, connector, "Network Organiser", ("bame",))
    await insider.say("organise events")
    seen = await insider.press("Members: Black, Asian and Minority Ethnic Network")
    assert "Hana Ali" in seen

    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        rows = await repo_events.network_membership_rows(session)
        stored = (await session.execute(select(NetworkMember))).scalar_one()
        refused = await session.execute(
            select(func.count()).where(AuditEntry.action == "network.members_refused")
        )
    assert rows == [(runtime.privacy.pseudonyms.of(_key(member)), "bame")]
    assert "Hana" not in stored.who
    assert refused.scalar() == 1

    seen = await member.tap({"command": "leave network", "network": "bame"})
    assert "You've left the Black, Asian and Minority Ethnic Network" in seen
    async with runtime.sessions() as session:
        assert await repo_events.network_membership_rows(session) == []


# ---- calendar links ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: url.replace(".request.", ".cancel."),
        lambda url: url[:-8] + "0000.ics",
        lambda url: url.rsplit("/", 1)[0] + "/nonsense",
        lambda url: url.rsplit("/", 1)[0] + "/" + "a" * 3000,
    ],
)
async def test_a_forged_calendar_link_is_not_found(
    service: Service, connector: StandInConnector, tamper: Callable[[str], str]
) -> None:
    set_clock(service)
    slug = await create_event(service)
    chat = await person(service, connector, "Ivy Moss")
    await sign_up(chat, slug)
    (_, url), *_ = links(chat)
    status, _ = await fetch_ics(service, tamper(url))
    assert status == 404


async def test_an_expired_calendar_link_is_refused(
    service: Service, connector: StandInConnector
) -> None:
    clock = set_clock(service)
    slug = await create_event(service)
    chat = await person(service, connector, "Jay Lee")
    await sign_up(chat, slug)
    (_, url), *_ = links(chat)
    clock.now = london("2027-01-28T13:31")
    status, _ = await fetch_ics(service, url)
    assert status == 403
    clock.now = london("2027-01-27T13:29")
    status, _ = await fetch_ics(service, url)
    assert status == 200


# ---- one person's data ------------------------------------------------------------------------


async def test_export_and_erase_include_events_and_networks(
    service: Service, connector: StandInConnector
) -> None:
    from bot.privacy.subject_access import erase_person, export_person

    set_clock(service)
    slug = await create_event(service)
    chat = await person(service, connector, "Kit Moore")
    await sign_up(chat, slug, needs="other", details="A quiet room")
    await chat.tap({"command": "join network", "network": "bame"})
    runtime = runtime_of(service)
    key = _key(chat)
    async with unit_of_work(runtime.sessions) as session:
        exported = await export_person(
            session,
            runtime.privacy,
            FEATURES,
            tenant_id=key.tenant_id,
            aad_object_id=key.aad_object_id,
        )
    (signup,) = exported["events"]["event_signups"]
    assert signup["adjustment_needs"] == {"needs": ["other"], "details": "A quiet room"}
    assert exported["events"]["staff_networks"] == ["bame"]
    async with unit_of_work(runtime.sessions) as session:
        counts, _ = await erase_person(
            session,
            runtime.privacy,
            FEATURES,
            tenant_id=key.tenant_id,
            aad_object_id=key.aad_object_id,
        )
    assert counts["event_rows"] == 2
    assert await signups(service, slug) == {}


async def test_a_bulletins_featured_event_signs_people_up(
    service: Service, connector: StandInConnector
) -> None:
    from dataclasses import replace

    from bot.bulletins.authoring import FeaturedEvent

    set_clock(service)
    slug = await create_event(service)
    bulletins = runtime_of(service).bulletins
    bulletin = replace(
        bulletins.load("2026-12"),
        events=(FeaturedEvent("Big Conversation", date(2027, 1, 20), "County Hall", event=slug),),
    )
    chat = await person(service, connector, "Lee Reader")

    def submits(element: Any) -> list[dict[str, Any]]:
        if isinstance(element, list):
            return [found for item in element for found in submits(item)]
        if not isinstance(element, dict):
            return []
        here = [element] if element.get("type") == "Action.Submit" else []
        return here + [found for value in element.values() for found in submits(value)]

    (button,) = [a for a in submits(bulletins.card(bulletin)) if a["title"] == "Sign me up"]
    assert button["data"] == {"command": "sign up", "event": slug}
    seen = await chat.tap(button["data"])
    assert "You have a place: Big Conversation: race equality at work" in seen


async def test_key_rotation_reseals_identities_needs_and_memberships(
    service: Service, connector: StandInConnector
) -> None:
    from bot.events.service import export_event_data
    from bot.privacy import rotation
    from tests.harness import TEST_ENCRYPTION_KEYS
    from tests.privacy.test_privacy import KEY_B, cipher_for

    set_clock(service)
    slug = await create_event(service)
    chat = await person(service, connector, "Max Rowe")
    await sign_up(chat, slug, needs="captions", details="Front row please")
    await chat.tap({"command": "join network", "network": "bame"})
    runtime = runtime_of(service)

    results = await rotation.rotate(
        runtime.sessions, cipher_for(f"{KEY_B},{TEST_ENCRYPTION_KEYS}"), FEATURES
    )
    done = {r.column: (r.reencrypted, r.skipped) for r in results}
    assert done["event_signups.who"] == (1, 0)
    assert done["event_signups.needs"] == (1, 0)
    assert done["network_members.who"] == (1, 0)
    async with runtime.sessions() as session:
        exported = await export_event_data(
            session, cipher_for(KEY_B), pseudonym=runtime.privacy.pseudonyms.of(_key(chat))
        )
    assert exported["event_signups"][0]["adjustment_needs"] == {
        "needs": ["captions"],
        "details": "Front row please",
    }


# ---- pure functions ---------------------------------------------------------------------------


def test_uk_times_are_read_as_europe_london_and_impossible_ones_refused() -> None:
    from bot.events.records import parse_local

    assert parse_local("2027-07-01 12:30") == datetime(2027, 7, 1, 11, 30, tzinfo=UTC)
    assert parse_local("2027-01-20T12:30") == datetime(2027, 1, 20, 12, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="does not exist in UK time"):
        parse_local("2027-03-28 01:30")
    for bad in ("", "tomorrow", "2027-02-30 10:00", "2027-01-20 25:00"):
        with pytest.raises(ValueError):
            parse_local(bad)


def test_a_summer_event_is_written_in_british_summer_time_with_its_zone() -> None:
    from bot.events.calendar import build_ics

    event = Event(
        id=7,
        slug="2027-07-01-talk",
        kind="network",
        network="bame",
        title="Summer talk",
        description="",
        starts_at=datetime(2027, 7, 1, 11, 30, tzinfo=UTC),
        ends_at=datetime(2027, 7, 1, 12, 30, tzinfo=UTC),
        location=None,
        online_url="https://teams.microsoft.com/l/meetup-join/x",
        status="scheduled",
        sequence=3,
    )
    calendar = Calendar.from_ical(build_ics(event, method="request", organiser_name="BAME"))
    (item,) = calendar.walk("VEVENT")
    assert "DTSTART;TZID=Europe/London:20270701T123000" in calendar.to_ical().decode()
    assert item["SEQUENCE"] == 3 and item["LOCATION"] == "Online"
    (zone,) = calendar.walk("VTIMEZONE")
    assert {c.name for c in zone.subcomponents} >= {"STANDARD", "DAYLIGHT"}


def test_calendar_links_are_signed_and_expire() -> None:
    from bot.events.calendar import CalendarLinks, LinkError

    event = Event(slug="2027-01-20-talk", ends_at=datetime(2027, 1, 20, 13, 30, tzinfo=UTC))
    links = CalendarLinks(b"k" * 32, "https://bot.example.org/")
    token = links.token(event, "cancel")
    assert links.url(event, "cancel").startswith("https://bot.example.org/events/calendar/")
    assert links.check(token + ".ics", now=NOW) == ("2027-01-20-talk", "cancel")
    other = CalendarLinks(b"x" * 32, "https://bot.example.org")
    with pytest.raises(LinkError) as forged:
        other.check(token, now=NOW)
    assert forged.value.reason == "forged"
    with pytest.raises(LinkError) as expired:
        links.check(token, now=datetime(2027, 1, 27, 13, 31, tzinfo=UTC))
    assert expired.value.reason == "expired"


def test_the_event_sweep_is_registered_in_london_time(settings: Settings) -> None:
    from scheduler.jobs import find_job

    job = find_job("events")
    assert job is not None and job.id == "event_sweep"
    trigger = job.trigger(settings)
    assert str(trigger.timezone) == "Europe/London"


async def test_more_places_are_offered_to_the_waitlist_and_lists_filter_by_network(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    set_clock(service)
    network_slug = await create_event(
        service, title="Lunch and learn", kind="network", network="bame", capacity=1
    )
    await create_event(service)
    first = await person(service, connector, "Nia First")
    second = await person(service, connector, "Omar Second")
    await sign_up(first, network_slug)
    await sign_up(second, network_slug)

    seen = await second.tap({"command": "events", "network": "bame"})
    assert "Upcoming: Black, Asian and Minority Ethnic Network" in seen
    assert "Lunch and learn" in seen and "race equality" not in seen
    assert "You're on the waitlist" in seen
    seen = await second.tap({"command": "events", "network": "no_such_network"})
    assert "Lunch and learn" in seen and "race equality" in seen

    runtime = runtime_of(service)
    events = events_of(service)
    async with unit_of_work(runtime.sessions) as session:
        event = await events.event(session, network_slug)
        assert event is not None
        bigger = events.draft_of(event)
        bigger.capacity = 2
        await events.edit(session, network_slug, bigger, actor="cli:test")
    await deliver(service, settings)
    assert "A place has come up: Lunch and learn" in proactive(connector, second)
    assert "This event has changed: Lunch and learn" in proactive(connector, first)
    assert "This event has changed" not in proactive(connector, second)
    assert await signups(service, network_slug) == {"confirmed": 1, "offered": 1}

    seen = await second.say("my events")
    assert "A place is held for you until" in seen
    seen = await second.press("Claim my place")
    assert "You've claimed your place" in seen


# ---- managing one's own place ------------------------------------------------------------------


async def test_needs_are_seen_and_changed_from_my_events_and_reach_the_organisers(
    service: Service, connector: StandInConnector
) -> None:
    set_clock(service)
    slug = await create_event(service)
    chat = await person(service, connector, "Priya Shah")
    await sign_up(chat, slug, needs="step_free", details="A seat near the door.")
    seen = await chat.say("my events")
    assert "Your needs: Step-free access; A seat near the door." in seen
    seen = await chat.press("Change my needs")
    assert "Your needs for" in seen
    box = {i["id"]: i for r in chat.last for i in inputs(r)}
    assert box["needs"]["value"] == "step_free"
    assert box["details"]["value"] == "A seat near the door."
    seen = await chat.press("Save my needs", needs="bsl,step_free", details="")
    assert "you've asked for: British Sign Language interpreter, Step-free access." in seen
    [view] = await _views(service, slug)
    assert view.needs == ["bsl", "step_free"] and view.details == ""
    await chat.say("my events")
    await chat.press("Change my needs")
    seen = await chat.press("Save my needs", needs="", details="")
    assert "You haven't asked for anything to be arranged" in seen
    [view] = await _views(service, slug)
    assert view.needs == [] and view.details == ""
    assert await signups(service, slug) == {"confirmed": 1}  # the place was never at risk


async def test_giving_up_a_place_asks_first_and_keep_keeps_it(
    service: Service, connector: StandInConnector
) -> None:
    set_clock(service)
    slug = await create_event(service, capacity=1)
    holder = await person(service, connector, "Alex Taylor")
    waiting = await person(service, connector, "Bea Jones")
    await sign_up(holder, slug)
    await sign_up(waiting, slug)
    await holder.say("my events")
    await holder.press("Details and your place")
    seen = await holder.press("Cancel my place")
    assert "Give up your place at" in seen
    seen = await holder.press("Keep my place")
    assert "My events" in seen and "You have a place" in seen
    assert await signups(service, slug) == {"confirmed": 1, "waitlisted": 1}
    seen = await waiting.tap({"command": "cancel my place", "event": slug})
    assert "Leave the waitlist for" in seen and "lose your place in the queue" in seen


async def test_the_list_labels_say_what_the_person_already_has(
    service: Service, connector: StandInConnector
) -> None:
    set_clock(service)
    slug = await create_event(service, capacity=1)
    holder = await person(service, connector, "Alex Taylor")
    waiting = await person(service, connector, "Bea Jones")
    newcomer = await person(service, connector, "Cai Evans")
    await sign_up(holder, slug)
    await sign_up(waiting, slug)
    await holder.say("events")
    assert holder.button("Details and your place")["event"] == slug
    await waiting.say("events")
    assert waiting.button("Details and your waitlist place")["event"] == slug
    await newcomer.say("events")
    assert newcomer.button("Details and sign up")["event"] == slug


async def test_needs_typed_into_the_chat_go_into_the_form_not_lost(
    service: Service, connector: StandInConnector
) -> None:
    set_clock(service)
    slug = await create_event(service)
    chat = await person(service, connector, "Priya Shah")
    await chat.tap({"command": "event details", "event": slug})
    seen = await chat.say("I use a wheelchair and need a space at the front")
    assert "I've put what you typed in the box below" in seen
    box = {i["id"]: i for r in chat.last for i in inputs(r)}
    assert box["details"]["value"] == "I use a wheelchair and need a space at the front"
    seen = await chat.press("Sign me up")
    assert "You have a place" in seen
    [view] = await _views(service, slug)
    assert view.details == "I use a wheelchair and need a space at the front"
