"""`edi-bot events ...` as an operator runs it: a real process against each database."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_sessionmaker
from bot.events.models import Event, NetworkOrganiser
from tests.cli_runner import run_cli
from tests.privacy.test_privacy_cli import env_for
from tests.test_process import ROOT

EVENT_FILE = """\
slug: 2031-03-12-big-conversation
title: "Big Conversation: disability at work"
network: big_conversation
description: What would make work better for disabled colleagues?
start: "2031-03-12 12:30"
end: "2031-03-12 13:30"
capacity: 25
location: County Hall, Glenfield
"""


async def test_create_list_load_and_organisers_from_the_shell(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "events" / "calendar" / "2031-03-12-big-conversation.yaml").write_text(EVENT_FILE)
    env = {**env_for(database_url), "EDI_CONTENT_DIR": str(content)}

    code, out, _ = await run_cli(
        "events", "create", "--title", "Lunch and learn", "--network", "bame",
        "--start", "2031-02-04 13:00", "--end", "2031-02-04 12:00", "--capacity", "0",
        env=env,
    )  # fmt: skip
    assert code == 1
    assert "The event must end after it starts." in out
    assert "The number of places must be a whole number from 1 to 10,000." in out
    assert "nothing was saved" in out

    code, out, _ = await run_cli(
        "events", "create", "--title", "Lunch and learn", "--network", "bame",
        "--start", "2031-02-04 13:00", "--end", "2031-02-04 14:00", "--capacity", "30",
        "--place", "County Hall", env=env,
    )  # fmt: skip
    assert code == 0, out
    assert "created 2031-02-04-lunch-and-learn" in out

    code, out, _ = await run_cli("events", "load", env=env)
    assert code == 0, out
    assert "created 2031-03-12-big-conversation" in out
    code, out, _ = await run_cli("events", "load", env=env)
    assert "unchanged 2031-03-12-big-conversation" in out

    code, out, _ = await run_cli("events", "list", env=env)
    assert "2031-02-04-lunch-and-learn: 'Lunch and learn' (Black, Asian and Minority" in out
    assert "0/25 places, 0 waiting" in out

    code, out, _ = await run_cli(
        "events", "organisers", "add", "chess_club", "abc", "--tenant", "t", env=env
    )
    assert code == 2 and "unknown network 'chess_club'" in out
    for command in (["create", "--title", "Chess"], ["edit", "2031-02-04-lunch-and-learn"]):
        code, out, _ = await run_cli("events", *command, "--network", "chess_club", env=env)
        assert code == 2
        assert "unknown network 'chess_club'; choose one of: big_conversation, bame" in out
    code, out, _ = await run_cli(
        "events", "organisers", "add", "bame", "ABC-123", "--tenant", "t1", env=env
    )
    assert code == 0 and "abc-123 now organises bame" in out.lower()

    code, out, _ = await run_cli("events", "cancel", "2031-02-04-lunch-and-learn", env=env)
    assert code == 2
    code, out, _ = await run_cli("events", "cancel", "2031-02-04-lunch-and-learn", "--yes", env=env)
    assert code == 0

    async with create_sessionmaker(engine)() as session:
        events = {e.slug: e for e in (await session.execute(select(Event))).scalars()}
        scopes = (await session.execute(select(NetworkOrganiser))).scalars().all()
    assert events["2031-02-04-lunch-and-learn"].status == "cancelled"
    assert events["2031-03-12-big-conversation"].capacity == 25
    assert [(s.network, s.aad_object_id) for s in scopes] == [("bame", "abc-123")]
