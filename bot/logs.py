"""Structured logging: an event name plus fields, as text or JSON lines.

Code logs `log.info("event.name", extra={...fields})`. The event name and the field names are
chosen by code; field values are counts, flags, codes and ids, never message text, card values
or anything a person declared. What keeps that true, whatever the level and whoever logs:

* an event name (`incident.submitted`, `job.incident_sweep`) is an identifier and is never
  altered, and neither are logger names, levels and field names: the log always says what
  happened and where;
* exceptions are logged as their types and where they were raised (`describe_exception`),
  never their messages (a message can quote input: `int("...")` does); that description is
  `LogSafe`, made by code, and is never altered either;
* libraries that log request bodies at DEBUG (msrest does) are held at WARNING;
* and, as a net for what gets past the rest, `PrivacyFilter` removes what the current turn
  received (`sensitive()` registers it at the start of each turn) from the only places a
  person's words could still be: free-text messages (libraries write those), free-text field
  values, and a short value that is exactly what the person sent. It never edits an event
  name or a code-chosen value, so it cannot turn `incident.submitted` into
  `incident.[redacted]ted` because someone typed "submit".
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
_QUIET_LIBRARIES = (
    "msrest",
    "botbuilder",
    "botframework",
    "urllib3",
    "requests_oauthlib",
    "msal",
    "aiohttp.access",
    "apscheduler",
    "alembic.runtime.migration",
    # At INFO and below SQLAlchemy logs every statement's parameters: ids, sealed values.
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "aiosqlite",  # logs each operation with its arguments at DEBUG
)


REDACTED = "[redacted]"
_MIN_SENSITIVE_LENGTH = 3
_sensitive: ContextVar[tuple[str, ...]] = ContextVar("edi_sensitive_values", default=())


class LogSafe(str):
    """A log value made by code from code (an exception's types and places): never scrubbed."""

    __slots__ = ()


# An event name: dotted lower-case identifiers, as code writes them.
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*")
# A code-chosen value: one short token (a code, an id, a kind, a month), no spaces.
_TOKEN = re.compile(r"[\w.:/@+\-|]{0,128}")


def describe_exception(error: BaseException) -> LogSafe:
    """Exception types and where they were raised, never their messages."""
    parts: list[str] = []
    current: BaseException | None = error
    while current is not None and len(parts) < 5:
        frames = traceback.extract_tb(current.__traceback__)[-6:]
        where = " < ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in frames)
        parts.append(f"{type(current).__qualname__} at {where or 'unknown'}")
        current = current.__cause__ or current.__context__
    return LogSafe(" | caused by ".join(parts))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def sensitive(*values: Any) -> None:
    """Register what this turn received (text, card values) so no log line can carry it."""
    found = {
        s.strip() for v in values for s in _strings(v) if len(s.strip()) >= _MIN_SENSITIVE_LENGTH
    }
    if found:
        # Longest first, so a value inside another is not left half-redacted.
        _sensitive.set(tuple(sorted(found | set(_sensitive.get()), key=len, reverse=True)))


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _net(value: str, secrets: tuple[str, ...]) -> str:
    """A field value or message as it may be logged: code's own words pass untouched."""
    if not secrets or isinstance(value, LogSafe):
        return value
    if _TOKEN.fullmatch(value):
        # One token: a code, id or kind chosen by code, unless it is exactly what was sent.
        return REDACTED if value.strip() in secrets else value
    return _scrub(value, secrets)


class PrivacyFilter(logging.Filter):
    """Keeps exception messages, and anything the current turn received, out of a record
    without ever altering an event name or a value that code chose (see the module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.__dict__.setdefault("error", describe_exception(record.exc_info[1]))
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        secrets = _sensitive.get()
        message = record.getMessage()
        if not (_EVENT_NAME.fullmatch(message) and not record.args):
            message = _scrub(message, secrets) if secrets else message
        record.msg, record.args = message, ()
        for key, value in fields_of(record).items():
            if isinstance(value, int | float | bool | type(None)):
                continue
            text = value if isinstance(value, str) else str(value)
            record.__dict__[key] = _net(text, secrets)
        return True


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record carries (its `extra`)."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    """`time LEVEL logger event key=value ...`, one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        fields = " ".join(f"{k}={v}" for k, v in fields_of(record).items())
        line = f"{stamp} {record.levelname:<7} {record.name} {record.getMessage()}"
        return f"{line} {fields}" if fields else line


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        body.update(fields_of(record))
        return json.dumps(body, default=str)


def configure_logging(level: str, fmt: str = "text", stream: TextIO | None = None) -> None:
    """Send logs to `stream` (stderr) at `level`, in "text" or "json" form."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(PrivacyFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
