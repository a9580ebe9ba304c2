"""What a feature declares about itself, once, for the app, CLI, scheduler and privacy core.

Each feature package has a `feature.py` holding one `Feature`; `bot/features.py` lists them.
The runtime (services, conversations), the app (jobs) and the CLI iterate that list; the
privacy core (export, erasure, retention, key rotation) is handed it and imports no feature.
Adding a feature touches none of them.

A `feature.py` imports nothing heavy at module level (its callables import their modules
when called): the command line reads every feature's record before it knows which command
runs, and `edi-bot --help` must not load the database layer to print a list.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.people import PersonKey

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.config import Settings
    from bot.core.content import Content
    from bot.outbox.queue import Outbox
    from bot.privacy.core import PrivacyCore
    from bot.privacy.crypto import FieldCipher


@dataclass(frozen=True, slots=True)
class Subject:
    """The person a subject-access export or an erasure is about, in each form data is kept."""

    person: PersonKey
    pseudonym: str

    @property
    def actor(self) -> str:
        """How the audit log and case assignments name the person."""
        return f"teams:{self.person.tenant_id}/{self.person.aad_object_id}"


@dataclass(frozen=True)
class RetentionRule:
    """One kind of data, its policy in words, and how to delete what is past it."""

    kind: str
    policy: str
    purge: Callable[[AsyncSession, datetime], Awaitable[int]]


@dataclass(frozen=True)
class EncryptedColumn:
    """A column of sealed values, the column naming their key, and how each is bound."""

    name: str
    primary_key: Any  # a table Column
    value: Any  # a table Column: .table and .name are used
    key_id: Any
    context: Callable[[Any], str]


Export = Callable[["AsyncSession", "FieldCipher", Subject], Awaitable[dict[str, Any]]]
Erase = Callable[["AsyncSession", Subject], Awaitable[dict[str, int]]]
InWords = Callable[["Content", dict[str, Any]], None]


def _no_rules(settings: Settings) -> list[RetentionRule]:
    return []


def _no_columns() -> list[EncryptedColumn]:
    return []


@dataclass(frozen=True)
class Kit:
    """What a feature's service is built from; the wiring (bot/runtime.py) hands it over."""

    settings: Settings
    content: Content
    privacy: PrivacyCore
    outbox: Outbox
    sessions: async_sessionmaker[AsyncSession]


def load(target: str) -> Any:
    """The object a "module:name" string names, importing its module now."""
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class ContentFile:
    """Files under content/ (a glob, e.g. "actions/plans/*.yaml") and what checks them:
    "module:Model" (a pydantic model; YAML) or "module:function" (called with the path,
    raises ContentError)."""

    pattern: str
    check: str


@dataclass(frozen=True)
class Commands:
    """Top-level CLI commands: their names and one-line help, in order, and the module whose
    `add_commands(subparsers, settings)` adds them (imported only when one of them runs)."""

    module: str
    help: Mapping[str, str]

    def add_to(
        self, subparsers: argparse._SubParsersAction[Any], settings: Callable[[], Settings]
    ) -> None:
        """Add the real commands (importing their module now)."""
        import importlib

        importlib.import_module(self.module).add_commands(subparsers, settings)

    def add_placeholders(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        """Add each command by name and help only, for the command list."""
        for name, text in self.help.items():
            subparsers.add_parser(name, help=text, add_help=False)


@dataclass(frozen=True)
class Feature:
    """One feature's declaration: its tables, commands, and what it holds about people.

    - `models`: the module defining its tables (imported so the schema knows them);
    - `service`: builds the feature's service from a `Kit`;
    - `conversations`: "module:function" of its dialogs' wiring, in dialogs/<feature>/,
      which returns the conversations the bot can start (imported when the bot is built);
    - `jobs`: "module:name" in scheduler/jobs.py of its timed jobs (`Job` records);
    - `commands`: its top-level CLI commands (they log warnings only);
    - `export` / `erase`: its part of a subject-access export and of an erasure, keyed by the
      names the export file uses;
    - `in_words`: adds plain-English labels to its part of a person's own copy;
    - `retention`: its retention rules, from settings;
    - `encrypted_columns`: every column it seals, for key rotation and key usage;
    - `content`: its files under content/<name>/ and the model or function that checks each
      (its menu.yaml is checked for it).
    """

    name: str
    models: str
    service: Callable[[Kit], object] | None = None
    conversations: str | None = None
    jobs: str | None = None
    commands: Commands | None = None
    export: Export | None = None
    erase: Erase | None = None
    in_words: InWords | None = None
    retention: Callable[[Settings], list[RetentionRule]] = _no_rules
    encrypted_columns: Callable[[], list[EncryptedColumn]] = _no_columns
    content: tuple[ContentFile, ...] = ()


def columns_of(features: Sequence[Feature]) -> list[EncryptedColumn]:
    """Every encrypted column the features declare, in the features' order."""
    return [column for feature in features for column in feature.encrypted_columns()]
