"""Structured logging: an event name plus fields, as text or JSON lines.

Code logs `log.info("event.name", extra={...fields})`. Fields are identifiers, counts and
timings only: never message text, card values or anything a person declared. Three
safeguards make that hold whatever the level and whoever logs:

* libraries that log request bodies at DEBUG (msrest does) are held at WARNING;
* exceptions are logged as their types and where they were raised, never their messages
  (a message can quote input: `int("...")` does);
* `PrivacyFilter` removes, from every record, any text the current turn received
  (`sensitive()` registers it at the start of each turn).
"""

from __future__ import annotations

import json
import logging
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


def describe_exception(error: BaseException) -> str:
    """Exception types and where they were raised, never their messages."""
    parts: list[str] = []
    current: BaseException | None = error
    while current is not None and len(parts) < 5:
        frames = traceback.extract_tb(current.__traceback__)[-6:]
        where = " < ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in frames)
        parts.append(f"{type(current).__qualname__} at {where or 'unknown'}")
        current = current.__cause__ or current.__context__
    return " | caused by ".join(parts)


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


class PrivacyFilter(logging.Filter):
    """Strips exception messages and anything the current turn received from a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.__dict__.setdefault("error", describe_exception(record.exc_info[1]))
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        secrets = _sensitive.get()
        message = record.getMessage()
        record.msg, record.args = (_scrub(message, secrets) if secrets else message), ()
        for key, value in fields_of(record).items():
            if isinstance(value, str) and secrets:
                record.__dict__[key] = _scrub(value, secrets)
            elif not isinstance(value, str | int | float | bool | type(None)):
                record.__dict__[key] = _scrub(str(value), secrets) if secrets else str(value)
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
