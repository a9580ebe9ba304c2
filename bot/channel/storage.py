"""Bot state in the database: a botbuilder `Storage` of encrypted JSON documents with e-tags.

Every document read carries its e-tag, and botbuilder's `BotState` writes back the very
dict it read, so a write from a turn that started before another replica's turn finished
is refused (`StateConflictError`) instead of silently overwriting it. A write inside a
`UnitOfWork` joins that transaction, so a turn's state and its domain writes commit together.

Documents hold answers people are still giving (a report half written), so each is sealed
with AES-GCM and bound to its key: a document copied to another conversation won't open.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from botbuilder.core import ConversationState, Storage, TurnContext
from botbuilder.core.bot_state import CachedBotState
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channel.wire import register_model_handler
from bot.db.models import BotStateDocument, utcnow
from bot.db.session import current_session, unit_of_work
from bot.db.state import state_context
from bot.privacy.crypto import FieldCipher, Sealed

ETAG_KEY = "e_tag"
WILDCARD = "*"


class StateConflictError(KeyError):
    """A state write carried an e-tag that is no longer the stored one (another turn won)."""


def _to_json(item: object) -> str:
    flat = Pickler().flatten(item)
    if isinstance(flat, dict):
        flat.pop(ETAG_KEY, None)
    return json.dumps(flat, separators=(",", ":"))


def _from_json(document: str, etag: str) -> Any:
    item = Unpickler().restore(json.loads(document))
    if isinstance(item, dict):
        item[ETAG_KEY] = etag
    else:
        item.e_tag = etag
    return item


def _etag_of(item: object) -> str | None:
    value = item.get(ETAG_KEY) if isinstance(item, Mapping) else getattr(item, ETAG_KEY, None)
    return None if value is None else str(value)


def _set_etag(item: object, etag: str) -> None:
    if isinstance(item, dict):
        item[ETAG_KEY] = etag
    elif hasattr(item, ETAG_KEY):
        setattr(item, ETAG_KEY, etag)


_STATE = BotStateDocument.__table__
assert isinstance(_STATE, Table)
# Built once: statements compiled per turn were a measurable share of a turn's CPU.
_SELECT_DOCUMENTS = select(_STATE.c.key, _STATE.c.document, _STATE.c.key_id, _STATE.c.etag).where(
    _STATE.c.key.in_(bindparam("keys", expanding=True))
)
_GUARDED_UPDATE = (
    update(_STATE)
    .where(_STATE.c.key == bindparam("match_key"), _STATE.c.etag == bindparam("expected"))
    .values(
        document=bindparam("document"),
        key_id=bindparam("key_id"),
        etag=bindparam("etag"),
        updated_at=bindparam("now"),
    )
)

# A change to write: the item (whose e-tag guards the write) and its JSON, when already made.
Change = tuple[Any, str | None]


class SqlStorage(Storage):
    """botbuilder `Storage` on SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
    ) -> None:
        super().__init__()
        self._engine = engine
        self._sessions = sessions
        self._cipher = cipher
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        register_model_handler()

    async def read(self, keys: Iterable[str]) -> dict[str, Any]:
        """Documents for the keys that exist, each with its current e-tag."""
        if keys is None:
            raise TypeError("Keys are required when reading")
        return {key: item for key, (item, _) in (await self.read_documents(list(keys))).items()}

    async def read_documents(self, keys: list[str]) -> dict[str, tuple[Any, str]]:
        """For each key that exists: the item (with its e-tag) and its plaintext JSON."""
        if not keys:
            return {}
        session = current_session()
        if session is not None:
            rows = (await session.execute(_SELECT_DOCUMENTS, {"keys": keys})).all()
        else:
            async with self._sessions() as own:
                rows = (await own.execute(_SELECT_DOCUMENTS, {"keys": keys})).all()
        found: dict[str, tuple[Any, str]] = {}
        for key, document, key_id, etag in rows:
            if key_id is not None:
                document = self._cipher.open(Sealed(key_id, document), context=state_context(key))
            found[key] = (_from_json(document, etag), document)
        return found

    async def write(self, changes: dict[str, Any]) -> None:
        """Store each change; refuse one whose e-tag is stale. All or nothing."""
        if changes is None:
            raise TypeError("Changes are required when writing")
        if not changes:
            return
        await self.write_documents({key: (item, None) for key, item in changes.items()})

    async def write_documents(self, changes: dict[str, Change]) -> None:
        """`write`, for items whose JSON the caller has already made (None: make it here)."""
        if not changes:
            return
        session = current_session()
        if session is not None:
            await self._write_all(session, changes)
            return
        async with unit_of_work(self._sessions) as own:
            await self._write_all(own, changes)

    async def delete(self, keys: Iterable[str]) -> None:
        """Remove the documents for these keys; unknown keys are ignored."""
        wanted = list(keys)
        if not wanted:
            return
        statement = delete(BotStateDocument).where(BotStateDocument.key.in_(wanted))
        session = current_session()
        if session is not None:
            await session.execute(statement)
            return
        async with unit_of_work(self._sessions) as own:
            await own.execute(statement)

    async def _write_all(self, session: AsyncSession, changes: dict[str, Change]) -> None:
        new_etags: dict[str, str] = {}
        for key, (item, document) in changes.items():
            expected = _etag_of(item)
            if expected == "":
                raise ValueError(f"SqlStorage.write(): empty e-tag for {key!r}")
            etag = uuid.uuid4().hex
            plain = document if document is not None else _to_json(item)
            sealed = self._cipher.seal(plain, context=state_context(key))
            await self._write_one(session, key, sealed, expected, etag)
            new_etags[key] = etag
        # Only after every write succeeded: hand the new e-tags back to the caller's objects,
        # so a second save in the same turn is not mistaken for a stale one.
        for key, etag in new_etags.items():
            _set_etag(changes[key][0], etag)

    async def _write_one(
        self, session: AsyncSession, key: str, sealed: Sealed, expected: str | None, etag: str
    ) -> None:
        # The day only: retention needs no more, and a precise time of a conversation's last
        # turn could be lined up with an anonymous report's submission.
        now = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        document, key_id = sealed.token, sealed.key_id
        if expected is None or expected == WILDCARD:
            upsert = self._insert(BotStateDocument).values(
                key=key, document=document, key_id=key_id, etag=etag, updated_at=now
            )
            upsert = upsert.on_conflict_do_update(
                index_elements=[BotStateDocument.key],
                set_={"document": document, "key_id": key_id, "etag": etag, "updated_at": now},
            )
            await session.execute(upsert)
            return
        values = {
            "match_key": key,
            "expected": expected,
            "document": document,
            "key_id": key_id,
            "etag": etag,
            "now": now,
        }
        if (await session.execute(_GUARDED_UPDATE, values)).rowcount == 1:  # type: ignore[attr-defined]
            return
        # No row with that e-tag: either the document is gone (write it afresh, as
        # botbuilder's MemoryStorage does) or another writer changed it first (conflict).
        fresh = self._insert(BotStateDocument).values(
            key=key, document=document, key_id=key_id, etag=etag, updated_at=now
        )
        fresh = fresh.on_conflict_do_nothing(index_elements=[BotStateDocument.key])
        if (await session.execute(fresh)).rowcount != 1:  # type: ignore[attr-defined]
            raise StateConflictError(key)


class _DocumentCache(CachedBotState):
    """botbuilder's per-turn state cache, whose "hash" is the stored JSON document itself."""

    def __init__(self, state: Any, document: str | None) -> None:
        self.state = state if state is not None else {}
        self.hash = document

    def compute_hash(self, obj: object) -> str:
        return _to_json(obj)


class SqlConversationState(ConversationState):
    """`ConversationState` that encodes its document once per turn.

    botbuilder decides whether state changed by flattening it with jsonpickle three times a
    turn (on load, to compare, after writing): a fifth of a turn's CPU. Here the document
    read from the database is the reference, and the one encoding made to compare is the
    one written.
    """

    def __init__(self, storage: SqlStorage) -> None:
        super().__init__(storage)
        self._documents = storage

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        """Read the conversation's document (unless this turn already has it)."""
        cached = self.get_cached_state(turn_context)
        if force or not cached or not cached.state:
            key = self.get_storage_key(turn_context)
            item, document = (await self._documents.read_documents([key])).get(key, (None, None))
            turn_context.turn_state[self._context_service_key] = _DocumentCache(item, document)

    async def save_changes(self, turn_context: TurnContext, force: bool = False) -> None:
        """Write the document if it differs from what was read (or `force`)."""
        cached = self.get_cached_state(turn_context)
        if cached is None:
            return
        document = _to_json(cached.state)
        if force or document != cached.hash:
            key = self.get_storage_key(turn_context)
            await self._documents.write_documents({key: (cached.state, document)})
            cached.hash = document
