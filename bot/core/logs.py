"""Structured logging: an event name plus fields, as text or JSON lines.

Code logs `log.info("event.name", extra={...fields})`. Lines are built so that they cannot
carry what a person typed, rather than cleaned afterwards; what a line may hold, and what
`PrivacyFilter` (on every handler `configure_logging` sets up) does with each part:

* The event name (`record.msg`) is an identifier chosen by code: lower-case words joined by
  dots (`incident.submitted`, `job.incident_sweep`; `EVENT_NAME`). It is never altered, and
  neither are the logger name, the level and the field names: the log always says what
  happened and where.
* Exceptions appear as their types and where they were raised (`describe_exception`; the
  filter turns `exc_info` into one), never their messages, which can quote input
  (`int("...")` does). That description is `LogSafe`, made by code from code, and is never
  altered, so "KeyError at incidents.py:575 _attempts_pseudonym" stays whole.
* Field values:
  - ints, floats, bools and None pass;
  - a code-chosen string passes untouched: ASCII, at most 128 characters, letters and digits
    joined by at least one of ``_ . : / - { }`` and nothing else (`case_handler`,
    `incident.alert`, `/api/messages`, `http_503`, `2026-11`). No sentence fits that shape,
    and nobody's words are mangled by it;
  - a single word of letters and digits (`message`, `anonymous`, `3FA2B1C9`) also passes,
    unless it is, whole and ignoring case, something the person sent this turn: then it is
    `[redacted]` (a code value is hidden only in the turn where someone sent exactly it);
  - anything else is free text, which code should not log. It is the one place the net
    works: each run of it that is, whole, something the person sent this turn
    (`sensitive()` registers the text and card values at the start of each turn) becomes
    `[redacted]`. Only whole words match ("submit" never touches "submitted"), and the rest
    of the value is kept;
  - any other object is logged as its `str()`, as free text; an exception as its type.
* A message that is not an event name is unstructured: libraries write those. A
  `%`-template's arguments are treated as field values and its template as code's words;
  when the net finds what the person sent in the template itself (or in a message built
  before logging), the whole message is replaced by `[unstructured log message]` (the
  logger, level and fields stay). Code in this project logs event names only.
* Libraries that log request bodies at DEBUG (msrest does) are held at WARNING.

The net is a second line: a single word someone typed that code put in a field would pass
as a code value in a later turn. What keeps people's words out is that code logs only event
names, counts, flags and codes; `tests/core/test_logs.py` and the end-to-end tests check it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
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
    # Pillow logs every EXIF tag it reads at DEBUG (an evidence photo's artist, GPS, camera).
    "PIL",
)


REDACTED = "[redacted]"
_MIN_SENSITIVE_LENGTH = 3
_sensitive: ContextVar[tuple[str, ...]] = ContextVar("edi_sensitive_values", default=())


class LogSafe(str):
    """A log value made by code from code (an exception's types and places): never scrubbed."""

    __slots__ = ()


UNSTRUCTURED = "[unstructured log message]"
# An event name: dotted lower-case identifiers, as code writes them.
EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*")
# A value code chose: ASCII letters and digits joined by separators, no spaces.
_CODE_VALUE = re.compile(r"[A-Za-z0-9_.:/{}\-]{1,128}")
_SEPARATOR = re.compile(r"[_.:/{}\-]")
# One word: code's (`message`) or a person's (`Pagan`): hidden when it is what was sent.
_WORD = re.compile(r"[A-Za-z0-9]{1,128}")


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


@lru_cache(maxsize=64)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    """What was sent, each as a run of whole words (longest first), ignoring case."""
    alternatives = "|".join(re.escape(secret) for secret in secrets)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _value(value: Any, secrets: tuple[str, ...]) -> Any:
    """A field value (or a message's argument) as it may be logged (see the module doc)."""
    if value is None or isinstance(value, bool | int | float | LogSafe):
        return value
    if isinstance(value, BaseException):
        return LogSafe(type(value).__qualname__)
    text = value if isinstance(value, str) else str(value)
    if _CODE_VALUE.fullmatch(text) and _SEPARATOR.search(text):
        return text
    if not secrets:
        return text
    if _WORD.fullmatch(text):
        folded = text.casefold()
        return REDACTED if any(folded == secret.casefold() for secret in secrets) else text
    return _pattern(secrets).sub(REDACTED, text)


def _carries(text: str, secrets: tuple[str, ...]) -> bool:
    return bool(secrets) and _pattern(secrets).search(text) is not None


def _message(record: logging.LogRecord, secrets: tuple[str, ...]) -> str:
    """The record's event name as it is, or its unstructured message made safe."""
    template, args = record.msg, record.args
    if isinstance(template, str) and not args and EVENT_NAME.fullmatch(template):
        return template
    if isinstance(template, BaseException):
        record.__dict__.setdefault("error", describe_exception(template))
        return UNSTRUCTURED
    text = template if isinstance(template, str) else str(template)
    if _carries(text, secrets):
        return UNSTRUCTURED
    if not args:
        return text
    try:
        if isinstance(args, Mapping):
            return text % {key: _value(item, secrets) for key, item in args.items()}
        return text % tuple(_value(item, secrets) for item in args)
    except (TypeError, ValueError, KeyError):
        return UNSTRUCTURED


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
        record.msg, record.args = _message(record, secrets), ()
        for key, value in fields_of(record).items():
            record.__dict__[key] = _value(value, secrets)
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
        line = f"{line} {fields}" if fields else line
        # One record, one line: a value holding a line break cannot forge another record.
        return line.replace("\r", "\\r").replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        # A field never replaces the line's own keys (ts, level, logger, event).
        body.update((k, v) for k, v in fields_of(record).items() if k not in body)
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
