"""Evidence files in a hate-incident report, end to end on SQLite and PostgreSQL: sent in the
chat as Teams sends them (a file download link, or an image pasted in), fetched from the
stand-in connector over real HTTP, checked by content, sealed at rest, listed on the review,
and opened by a case handler through a short-lived, audited link with no metadata left in it.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.core.people import PersonKey
from bot.db.models import AuditEntry, utcnow
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.incidents.evidence_links import EvidenceLink
from bot.incidents.models import IncidentEvidence, IncidentIntakeFile, IncidentReport
from bot.privacy import rotation
from bot.privacy.retention import purge, retention_rules
from bot.privacy.roles import Role, revoke_role
from bot.privacy.subject_access import erase_person, export_person
from dialogs.incidents.evidence_ui import evidence_links_for
from tests.cards import cards
from tests.chat import Chat
from tests.connector import StandInConnector
from tests.harness import TEST_ENCRYPTION_KEYS, dev_settings
from tests.incidents.test_incidents import (
    NARRATIVE,
    deliver,
    make_handler,
    receipt_value,
    runtime_of,
    walk_to_review,
)
from tests.privacy.test_privacy import KEY_B, cipher_for, in_use
from tests.service import Service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

MAX_BYTES = 256 * 1024
PHOTO = "holiday-at-county-hall.jpg"


@pytest.fixture
def settings(database_url: str, connector: StandInConnector) -> Settings:
    # The stand-in connector is the one place download links may point at (plain http, its
    # port only); small limits, so that "too big" and "too many" are quick to reach.
    return dev_settings(
        database_url=database_url,
        outbox_worker=False,
        evidence_download_hosts=[connector.url.rstrip("/")],
        evidence_max_bytes=MAX_BYTES,
        evidence_max_files=3,
    )


# ---- files as a phone would make them -----------------------------------------------------


def gps_jpeg(width: int = 64, height: int = 32) -> bytes:
    """A photo with everything a phone writes: GPS position, camera, artist, orientation
    (rotate 90°), and a comment."""
    image = Image.new("RGB", (width, height), (180, 40, 40))
    image.paste((20, 20, 200), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90° clockwise to view
    exif[0x013B] = "Rosa Reporter"  # Artist
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 38.0, 24.0), 3: "W", 4: (1.0, 8.0, 3.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at County Hall")
    data = out.getvalue()
    sent = Image.open(io.BytesIO(data))
    assert sent.getexif().get_ifd(0x8825)[2] == (52.0, 38.0, 24.0), "the photo has GPS"
    return data


def assert_no_metadata(data: bytes, *, size: tuple[int, int]) -> None:
    """No EXIF (so no GPS, camera or artist), no XMP, ICC or comment: pixels only, upright."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == size
    assert dict(image.getexif()) == {} and image.getexif().get_ifd(0x8825) == {}
    assert not {"exif", "icc_profile", "xmp", "comment", "XML:com.adobe.xmp"} & set(image.info)
    for marker in (b"Exif\x00\x00", b"Rosa Reporter", b"PhoneMaker", b"County Hall", b"GPS"):
        assert marker not in data


async def send_file(chat: Chat, name: str, data: bytes = b"", *, url: str = "") -> str:
    """Send a file in the chat as Teams does (a download link); what the person sees."""
    link = url or chat.connector.serve_file(name, data)
    activity = chat.user.file_message(chat.connector.url, name=name, download_url=link)
    return chat.seen(await chat.post(activity))


def link_paths(chat: Chat) -> list[str]:
    """The paths of the "Download ..." links on the last card."""
    found = []
    for reply in chat.last:
        for card in cards(reply):
            for action in card.get("actions", []):
                if action.get("type") == "Action.OpenUrl":
                    url = str(action["url"])
                    found.append(url[url.index("/incidents/evidence/") :])
    return found


async def get(service: Service, path: str, method: str = "GET") -> tuple[int, bytes, Any]:
    async with service.http.request(method, f"{service.base}{path}") as response:
        return response.status, await response.read(), response.headers


async def count(service: Service, table: type) -> int:
    async with runtime_of(service).sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar() or 0)


async def raw_tables(engine: AsyncEngine, *names: str) -> str:
    """Every stored value of these tables, as text: what a database reader sees."""
    dumped = []
    async with engine.connect() as connection:
        for name in names:
            rows = await connection.execute(text(f'SELECT * FROM "{name}"'))
            dumped.append(json.dumps([list(row) for row in rows], default=str))
    return "\n".join(dumped)


async def downloads(service: Service) -> int:
    async with runtime_of(service).sessions() as session:
        return len(
            (
                await session.execute(
                    select(AuditEntry.id).where(AuditEntry.action == "incident.evidence_downloaded")
                )
            ).all()
        )


# ---- the whole way: reporter, database, case handler ----------------------------------------


async def test_a_photo_with_gps_is_sealed_and_reaches_the_handler_with_no_metadata(
    service: Service, connector: StandInConnector, settings: Settings, engine: AsyncEngine
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    chat = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await chat.install()
    photo = gps_jpeg()
    seen = await walk_to_review(chat, "Confidentially")
    assert "None. To add a photo, screenshot, PDF or text file, send it here" in seen

    seen = await send_file(chat, PHOTO, photo)
    assert f"I've added “{PHOTO.replace('-', '-')}”" in seen.replace("\\", "")
    assert "You can send 2 more." in seen
    assert "Check your report" in seen and NARRATIVE in seen  # the review again, all kept
    assert "Remove" in json.dumps([cards(r) for r in chat.last])
    # Teams' download link is pre-authenticated: the bot sent no token there.
    assert [auth for path, auth in connector.file_requests] == [None]

    seen = await chat.press("Submit my report")
    reference = receipt_value(seen, "Your reference")
    assert "Files: 1 file" in seen
    assert await count(service, IncidentEvidence) == 1
    assert await count(service, IncidentIntakeFile) == 0

    # At rest: sealed. Neither the photo, its base64, nor its name is readable.
    stored = await raw_tables(
        engine, "incident_evidence", "incident_evidence_chunks", "incident_intake_files"
    )
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        report = (await session.execute(select(IncidentReport))).scalar_one()
        [info] = await runtime.incidents.evidence.files_of(session, report.id)
        found = await runtime.incidents.evidence.content(
            session, report_id=report.id, evidence_id=info.id
        )
    assert found is not None
    kept = found[1]
    for plain in (
        PHOTO,
        base64.b64encode(kept[:300]).decode(),
        base64.b64encode(photo[:300]).decode(),
    ):
        assert plain not in stored
    assert_no_metadata(kept, size=(32, 64))  # stored: turned upright, metadata gone

    # The case handler sees the file on the case card, and gets a link of their own.
    await deliver(service, settings)
    handler.last = connector.replies(handler.user.conversation_id)[-1:]
    seen = await handler.press(f"Open {reference}")
    assert "Files" in seen and f"{PHOTO} (JPEG image," in seen
    seen = await handler.press("Get links to the files")
    assert "Each link works for 15 minutes, and only for you" in seen
    [path] = link_paths(handler)

    status, body, headers = await get(service, path, "HEAD")
    assert status == 200 and await downloads(service) == 0  # a HEAD is not a download
    status, body, headers = await get(service, path)
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"].startswith(f'attachment; filename="{PHOTO}"')
    assert body == kept
    assert_no_metadata(body, size=(32, 64))  # served: the same clean bytes
    assert await downloads(service) == 1
    async with runtime.sessions() as session:
        actions = set(
            (
                await session.execute(
                    select(AuditEntry.action).where(AuditEntry.object_id == reference)
                )
            ).scalars()
        )
    assert {"incident.evidence_links", "incident.evidence_downloaded"} <= actions

    # Forged: 404. Expired: 403, with how to get a new one. Role gone: 403.
    status, body, _ = await get(service, path[:-6] + "AAAAAA")
    assert status == 404 and b"No such file" in body
    status, _, _ = await get(service, "/incidents/evidence/" + "x" * 5000)
    assert status == 404
    links = evidence_links_for(runtime.settings, runtime.privacy)
    person = PersonKey(handler.user.tenant_id, handler.user.aad_object_id)
    old = links.url(EvidenceLink(person, reference, info.id), now=utcnow() - timedelta(minutes=16))
    status, body, _ = await get(service, old[old.index("/incidents/") :])
    assert status == 403 and b"This link has expired" in body
    async with unit_of_work(runtime.sessions) as session:
        await revoke_role(session, role=Role.CASE_HANDLER, person=handler.user.aad_object_id)
    status, body, _ = await get(service, path)
    assert status == 403 and b"you no longer are one" in body
    assert await downloads(service) == 1


async def test_files_that_cannot_be_kept_get_a_sentence_and_nothing_else_is_lost(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector, TeamsUser(name="Sam Sender"))
    await chat.install()
    await walk_to_review(chat, "Confidentially")
    zip_bytes = b"PK\x03\x04" + b"\x00" * 200
    bomb = io.BytesIO()
    Image.new("1", (8000, 8000)).save(bomb, "PNG")  # tiny file, 64 million pixels
    refused = {
        "too big": (PHOTO, b"\xff\xd8\xff" + b"\x00" * (MAX_BYTES + 10), "bigger than 256 KB"),
        "a zip named .jpg": ("photo.jpg", zip_bytes, "isn't one of them, whatever its name says"),
        "HTML named .jpg": ("photo.jpg", b"<html><script>x()</script></html>", "whatever its"),
        "SVG named .png": ("chart.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "whatever"),
        "a program": ("notes.txt", b"MZ\x90\x00\x03\x00\x00\x00", "whatever its name says"),
        "a bomb": ("huge.png", bomb.getvalue(), "the picture is too large"),
        "a PDF that runs": (
            "a.pdf",
            b"%PDF-1.7\n<</OpenAction<</S/JavaScript/JS(x)>>>>\n%%EOF",
            "has scripts",
        ),
    }
    for what, (name, data, said) in refused.items():
        seen = await send_file(chat, name, data)
        assert said in seen, what
        assert "Everything else you've told me is kept." in seen, what
        assert "Check your report" in seen and NARRATIVE in seen, what  # the draft, as it was
    assert await count(service, IncidentIntakeFile) == 0

    # Not from where Teams keeps files: refused before any request is made.
    before = len(connector.file_requests)
    elsewhere = connector.url.replace("127.0.0.1", "localhost") + "files/x.jpg"
    for url in ("https://evil.example/x.jpg", "http://169.254.169.254/latest/meta-data", elsewhere):
        assert "I can only take files sent here in Teams" in await send_file(chat, "x.jpg", url=url)
    assert len(connector.file_requests) == before
    # An allowed link that redirects elsewhere is not followed there.
    bounce = connector.redirect_to("http://169.254.169.254/latest/meta-data")
    assert "I can only take files sent here in Teams" in await send_file(chat, "y.jpg", url=bounce)
    # An image "pasted in" from another host than the connector: refused.
    activity = chat.user.inline_image(connector.url, content_url="https://evil.example/i.png")
    assert "I can only take files sent here in Teams" in chat.seen(await chat.post(activity))
    # A body with no end: reading stops at the limit.
    seen = await send_file(chat, "endless.jpg", url=connector.url + "files/endless")
    assert "bigger than 256 KB" in seen
    assert connector.endless_sent < 16 * MAX_BYTES

    # Three kept (a photo, a PDF, a text file); the fourth is one too many.
    await send_file(chat, "one.jpg", gps_jpeg())
    await send_file(chat, "statement.pdf", b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n")
    seen = await send_file(chat, "notes.txt", b"He said it twice.\n")
    assert "That's the most files a report can hold (3)." in seen
    seen = await send_file(chat, "four.jpg", gps_jpeg())
    assert "a report can hold 3 files. Remove one on the review to make room." in seen
    assert await count(service, IncidentIntakeFile) == 3

    # Removing one is said in words, and the file is deleted.
    seen = await chat.press("Remove")
    assert "I've removed “one.jpg”" in seen and "and deleted it" in seen
    assert await count(service, IncidentIntakeFile) == 2
    assert "one.jpg" not in "\n".join(seen.splitlines()[1:])
    seen = await chat.press("Submit my report")
    assert "Files: 2 files" in seen
    assert await count(service, IncidentEvidence) == 2
    assert await count(service, IncidentIntakeFile) == 0


async def test_a_discarded_draft_takes_its_files_with_it(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector, TeamsUser(name="Dee Discard"))
    await chat.install()
    await walk_to_review(chat, "Anonymously")
    seen = await send_file(chat, PHOTO, gps_jpeg())
    assert "stay in your own Teams chat and in your OneDrive" in seen
    assert "plain names (like image-1.jpg)" in seen
    assert await count(service, IncidentIntakeFile) == 1
    await chat.say("cancel")
    assert await count(service, IncidentIntakeFile) == 0


async def test_files_added_later_reach_the_case(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    chat = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await chat.install()
    await walk_to_review(chat, "Confidentially")
    reference = receipt_value(await chat.press("Submit my report"), "Your reference")
    await deliver(service, settings)

    # After the status card: the file waits, and a card asks which report it is for.
    await chat.say("check report")
    seen = await chat.say(reference)
    assert "Files" in seen and "No files." in seen
    seen = await send_file(chat, "later.jpg", gps_jpeg())
    assert "I've kept “later.jpg”" in seen and "Add this to your report?" in seen
    seen = await chat.press("Add to my report", reference=reference, note="")
    assert f"I've added 1 file to report {reference} and told the case handler." in seen
    await deliver(service, settings)
    last = connector.replies(handler.user.conversation_id)[-1]
    assert f"New information on report {reference}" in json.dumps(last)

    # Before the reference: kept, then added once the report is found.
    await chat.say("check report")
    seen = await send_file(chat, "notes.txt", b"The second time was on Friday.\n")
    assert "I've kept “notes.txt”" in seen
    seen = await chat.say(reference)
    assert f"I've added 1 file to report {reference}" in seen
    assert "later.jpg" in seen and "notes.txt" in seen  # the status card lists them

    # "Don't add it" deletes the waiting file.
    await chat.say("check report")
    await chat.say(reference)
    await send_file(chat, "oops.txt", b"wrong file\n")
    seen = await chat.press("Don't add it")
    assert "I haven't added “oops.txt”" in seen
    assert await count(service, IncidentIntakeFile) == 0
    assert await count(service, IncidentEvidence) == 2


async def test_an_anonymous_reports_files_go_through_the_intake_with_neutral_names(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    chat = Chat(service, connector, TeamsUser(name="Anna Anon"))
    await chat.install()
    await walk_to_review(chat, "Anonymously")
    await send_file(chat, "Anna-Smith-bruise.jpg", gps_jpeg())
    seen = await chat.press("Submit my report")
    reference = receipt_value(seen, "Your reference")
    passphrase = receipt_value(seen, "Your passphrase")
    # Waiting, sealed, with the report in the intake: nothing in the case list yet.
    assert await count(service, IncidentEvidence) == 0
    assert await count(service, IncidentIntakeFile) == 1
    # Added later, before the release: it waits too.
    await chat.say("check report")
    await send_file(chat, "Anna-notes.txt", b"It happened again.\n")
    seen = await chat.say(f"{reference} {passphrase}")
    assert "within a day" in seen and "image-1.jpg" in seen and "text-2.txt" in seen

    runtime = runtime_of(service)
    async with unit_of_work(runtime.sessions) as session:
        await runtime.incidents.release(session, today=date.today(), force=True)
    assert await count(service, IncidentIntakeFile) == 0
    async with runtime.sessions() as session:
        rows = (await session.execute(select(IncidentEvidence))).scalars().all()
    assert len(rows) == 2 and all(row.name is None for row in rows)

    await handler.say("cases")
    seen = await handler.say(reference)
    assert "image-1.jpg (JPEG image," in seen and "text-2.txt (text file," in seen
    assert "Anna" not in seen


async def test_export_erasure_retention_and_key_rotation_cover_files(
    service: Service, connector: StandInConnector, settings: Settings, engine: AsyncEngine
) -> None:
    chat = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await chat.install()
    await walk_to_review(chat, "Confidentially")
    await send_file(chat, "Rosa-photo.jpg", gps_jpeg())
    await chat.press("Submit my report")
    runtime = runtime_of(service)
    who = {"tenant_id": chat.user.tenant_id, "aad_object_id": chat.user.aad_object_id}

    # Subject access: the person's own file, its name, kind, size and bytes.
    async with runtime.sessions() as session:
        held = await export_person(session, runtime.privacy, FEATURES, **who)
        report = (await session.execute(select(IncidentReport))).scalar_one()
        [info] = await runtime.incidents.evidence.files_of(session, report.id)
        found = await runtime.incidents.evidence.content(
            session, report_id=report.id, evidence_id=info.id
        )
    assert found is not None
    [exported] = held["incident_reports"][0]["files"]
    assert exported["name"] == "Rosa-photo.jpg" and exported["type"] == "image/jpeg"
    assert base64.b64decode(exported["content_base64"]) == found[1]

    # Key rotation re-seals every part of the file; the new key alone then reads it.
    sessions = runtime.sessions
    await rotation.rotate(sessions, cipher_for(f"{KEY_B},{TEST_ENCRYPTION_KEYS}"), FEATURES)
    async with sessions() as session:
        usage = in_use(await rotation.key_usage(session, FEATURES))
    for column in (
        "incident_evidence.name",
        "incident_evidence.meta",
        "incident_evidence_chunks.data",
    ):
        assert usage[column] == {"kB": usage[column].get("kB", 0)} and usage[column]["kB"] >= 1
    from bot.incidents.evidence_store import EvidenceLimits, EvidenceStore

    rotated = EvidenceStore(cipher_for(KEY_B), EvidenceLimits())
    async with sessions() as session:
        again = await rotated.content(session, report_id=report.id, evidence_id=info.id)
    assert again is not None and again[1] == found[1]

    # Erasure: the name the file was sent with goes; the case keeps the file.
    async with unit_of_work(sessions) as session:
        counts, _ = await erase_person(session, runtime.privacy, FEATURES, **who)
    assert counts["incident_file_names_removed"] == 1
    async with sessions() as session:
        [renamed] = await rotated.files_of(session, report.id)
    assert renamed.name == "image-1.jpg"

    # Retention: a case closed long ago goes with its files and their chunks.
    async with unit_of_work(sessions) as session:
        row = await session.get(IncidentReport, report.id)
        assert row is not None
        row.status, row.closed_on = "closed", date.today() - timedelta(days=365 * 7)
    audit = runtime.privacy.audit
    rules = retention_rules(runtime.settings, audit, FEATURES)
    await purge(sessions, rules, audit, now=utcnow())
    assert await count(service, IncidentEvidence) == 0
    assert (await raw_tables(engine, "incident_evidence_chunks")) == "[]"
