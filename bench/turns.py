"""Turns per second and latency of our bot beside a bare botbuilder echo bot, in one run.

`python -m bench.turns` (or `make bench`) starts the stand-in Bot Connector in this process
and each bot in a subprocess of its own, so a bot's CPU is not shared with the load
generator's event loop. For each concurrency level it drives that many conversations at
once over real HTTP (POST /api/messages, one distinct Teams user per conversation,
sequential turns within each), and times every turn as the POST round trip: both bots
answer only after the turn's replies have reached the connector.

The conversations follow a mix of what people do (`MIX`): a visit to About EDI; the menu and
the bulletin; a whole confidential report, from "report" to the receipt; and a whole
declaration by forms, saved and then deleted. Conversation n follows the n-th script of the
mix (round robin), again and again; buttons are pressed from the bot's previous card, as a
person would press them. The echo bot gets the same turns (it echoes what is typed).

A turn counts only if it got a 2xx and the connector received exactly the reply the script
expects (the topic card, the goodbye text, "Echo: ...", and so on); anything else is an
error and is reported, so a bot that fails quietly cannot print good numbers.

Our bot keeps its state in a fresh PostgreSQL database (`edi_bench_<random>`, dropped at
the end) on the server in EDI_BENCH_POSTGRES_URL; if that is unreachable it is measured on
SQLite instead and the table says so. `--sqlite` also measures SQLite.

The targets (issue text): our bot on PostgreSQL at least 3x the echo bot's turns/s at 32
concurrent conversations, and its p99 under 100 ms at 8. Missing one is reported as MISSED;
the exit status is still 0, because this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import os
import platform
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy.engine import URL, make_url

from bot.config import DEFAULT_CONTENT_DIR
from bot.core.content import Content
from tests.connector import StandInConnector
from tests.teams import TeamsUser

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"

TARGET_RATIO = 3.0
TARGET_RATIO_AT = 32
TARGET_P99_MS = 100.0
TARGET_P99_AT = 8

ECHO = "echo"
OURS = "edi-bot"


# ---- the conversation script ------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One turn of a script: what the person sends, and what our bot must answer.

    `press` names a button on the bot's previous reply: its data is sent, with `fields`
    filled in as a person fills a card's inputs (the echo bot has no buttons, so it gets
    the fields alone)."""

    label: str
    text: str | None = None
    value: dict[str, Any] | None = None
    press: str | None = None
    fields: dict[str, str] | None = None
    expect: str = ""

    def activity(
        self, user: TeamsUser, service_url: str, previous: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """The Teams activity for this step, from `user`; None if its button is missing."""
        if self.press is not None:
            data = button_data(previous, self.press)
            if data is None and any(reply.get("attachments") for reply in previous):
                return None
            return user.submit({**(data or {}), **(self.fields or {})}, service_url)
        if self.value is not None:
            return user.submit(self.value, service_url)
        return user.message(self.text or "", service_url)


def button_data(replies: list[dict[str, Any]], title: str) -> dict[str, Any] | None:
    """The data of the Action.Submit titled `title` on these replies' cards, if any."""
    for reply in replies:
        for attachment in reply.get("attachments") or []:
            card = attachment.get("content") or {}
            actions = list(card.get("actions") or [])
            for element in card.get("body") or []:
                if isinstance(element, dict) and element.get("type") == "ActionSet":
                    actions += element.get("actions") or []
            for action in actions:
                if action.get("title") == title and isinstance(action.get("data"), dict):
                    data: dict[str, Any] = action["data"]
                    return data
    return None


# A realistic visit to "About EDI": open it, press a topic button, type another topic,
# finish, and go back to the menu. The dialog is idle again at the end, so it loops.
ABOUT: tuple[Step, ...] = (
    Step("about", text="about"),
    Step("submit duty", value={"choice": "duty"}),
    Step("type meaning", text="meaning"),
    Step("done", text="done"),
    Step("menu", text="menu"),
)
# The menu and the bulletin (none published in a fresh database: its "not yet" answer).
MENU_AND_BULLETIN: tuple[Step, ...] = (
    Step("welcome", text="menu"),
    Step("bulletin", text="bulletin", expect="No bulletin has been published yet"),
)
# A whole confidential report, from "report" to the receipt.
REPORT: tuple[Step, ...] = (
    Step("report", text="report", expect="in danger right now?"),
    Step("no danger", press="No, nobody is in danger now", expect="How would you like to report?"),
    Step("confidential", press="Confidentially", expect="Who did this happen to?"),
    Step("victim", press="It happened to me", expect="In your own words, what happened?"),
    Step(
        "narrative",
        press="Next",
        fields={"narrative": "A visitor shouted abuse at me about my religion at reception."},
        expect="A few more details",
    ),
    Step(
        "details",
        press="Next",
        fields={"motivations": "religion", "kinds": "verbal", "location": "workplace"},
        expect="Support and what happens next",
    ),
    Step(
        "support", press="Next", fields={"consent_monitoring": "true"}, expect="Check your report"
    ),
    Step("submit", press="Submit my report", expect="Your report has been received"),
)
# A whole declaration by forms, saved, then deleted (so the script can start again).
DECLARATION: tuple[Step, ...] = (
    Step("declare", text="declare", expect="Equality information about you"),
    Step("forms", press="A form for each part", expect="Part 1 of 4"),
    Step("part 1", press="Next", fields={"age_band": "35_44", "sex": "female"}, expect="Part 2"),
    Step("skip 2", press="Skip this part", expect="Part 3 of 4"),
    Step("skip 3", press="Skip this part", expect="Part 4 of 4"),
    Step("part 4", press="Check my answers", fields={"caring": "no"}, expect="Check your answers"),
    Step("save", press="Save my answers", expect="Saved. Thank you"),
    Step("delete", text="delete my data", expect="Delete all your equality information?"),
    Step("deleted", press="Yes, delete all of it", expect="deleted all your equality information"),
)
# The mix: conversation n follows MIX[n % 4], round and round.
MIX: tuple[tuple[Step, ...], ...] = (ABOUT, MENU_AND_BULLETIN, REPORT, DECLARATION)
STEPS = [step for script in MIX for step in script]


def our_expectations(content: Content) -> dict[str, str]:
    """For each step label, a sentence our bot's one reply must contain (from content/)."""
    about = content.data("shell/about_edi")
    headings = {topic["id"]: topic["heading"] for topic in about["topics"]}
    found = {step.label: step.expect for step in STEPS if step.expect}
    return found | {
        "about": str(about["prompt"]),
        "submit duty": str(headings["duty"]),
        "type meaning": str(headings["meaning"]),
        "done": content.texts("shell.goodbye_topic"),
        "menu": str(content.menu["title"]),
        "welcome": str(content.menu["title"]),
    }


def echo_expectations() -> dict[str, str]:
    """For each step label, what the echo bot must answer (a submit has no text)."""
    return {
        step.label: f"Echo: {step.text if step.press is None and step.value is None else None}"
        for step in STEPS
    }


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for item in node.values():
            yield from _strings(item)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def reply_problem(replies: list[dict[str, Any]], expected: str) -> str | None:
    """Why these replies to one turn are not the single expected one, or None if they are."""
    if len(replies) != 1:
        return f"expected 1 reply, connector got {len(replies)}"
    if not any(expected in text for text in _strings(replies[0])):
        said = next(iter(_strings(replies[0].get("text"))), None) or "a card"
        return f"reply lacks {expected[:40]!r} (said {said[:60]!r})"
    return None


# ---- measuring ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (0 < fraction <= 1); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class LevelResult:
    """What one bot did at one concurrency level."""

    bot: str
    backend: str
    concurrency: int
    elapsed: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    bot_cpu_seconds: float | None = None
    replies: int = 0

    @property
    def turns(self) -> int:
        """Turns that completed correctly."""
        return len(self.latencies_ms)

    @property
    def turns_per_second(self) -> float:
        """Correct turns per wall-clock second."""
        return self.turns / self.elapsed if self.elapsed > 0 else 0.0

    def p(self, fraction: float) -> float:
        """A latency percentile in milliseconds."""
        return percentile(self.latencies_ms, fraction)

    @property
    def cpu_ms_per_turn(self) -> float | None:
        """Bot-process CPU (user + system, all threads) per correct turn."""
        if self.bot_cpu_seconds is None or not self.turns:
            return None
        return 1000 * self.bot_cpu_seconds / self.turns

    def record_error(self, problem: str) -> None:
        """Count a failed turn and keep the first few reasons."""
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(problem)


@dataclass
class Target:
    """A bot under test: where to POST, and what each step must get back."""

    name: str
    backend: str
    url: str
    expectations: dict[str, str]
    process: BotProcess


async def _one_turn(
    session: aiohttp.ClientSession,
    target: Target,
    connector: StandInConnector,
    user: TeamsUser,
    step: Step,
) -> tuple[float, str | None]:
    """POST one activity; the latency in ms and what was wrong with the turn, if anything."""
    previous = connector.replies(user.conversation_id)[-1:]
    activity = step.activity(user, connector.url, previous)
    if activity is None:
        return 0.0, f"{step.label}: no {step.press!r} button on the last reply"
    before = len(connector.replies(user.conversation_id))
    started = time.perf_counter()
    try:
        async with session.post(target.url, json=activity) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        return 1000 * (time.perf_counter() - started), f"{step.label}: {type(error).__name__}"
    latency = 1000 * (time.perf_counter() - started)
    if not 200 <= status < 300:
        return latency, f"{step.label}: HTTP {status}"
    replies = connector.replies(user.conversation_id)[before:]
    problem = reply_problem(replies, target.expectations[step.label])
    return latency, None if problem is None else f"{step.label}: {problem}"


@contextlib.contextmanager
def load_generator_gc_paused() -> Iterator[None]:
    """No garbage collection in this process while a level runs.

    The connector keeps every reply it receives, so this process's heap grows during a run
    and a full collection can stall its event loop for tens of milliseconds; that stall
    would be timed as the bot's latency. A level's garbage is a few megabytes at most.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def drive(
    session: aiohttp.ClientSession,
    target: Target,
    connector: StandInConnector,
    concurrency: int,
    *,
    duration: float,
    max_turns: int | None,
    progress_every: float = 2.0,
    quiet: bool = False,
) -> LevelResult:
    """Run `concurrency` conversations at once for `duration` s (or `max_turns` turns)."""
    result = LevelResult(target.name, target.backend, concurrency)
    users = [TeamsUser(name=f"Bench User {n}") for n in range(concurrency)]
    scripts = {user.conversation_id: MIX[n % len(MIX)] for n, user in enumerate(users)}
    started_turns = 0
    started = time.perf_counter()
    deadline = started + duration
    last_done = started

    def more() -> bool:
        if not target.process.alive:
            return False
        if max_turns is not None:
            return started_turns < max_turns
        return time.perf_counter() < deadline

    async def conversation(user: TeamsUser) -> None:
        nonlocal started_turns, last_done
        position = 0
        while more():
            started_turns += 1
            script = scripts[user.conversation_id]
            step = script[position % len(script)]
            position += 1
            latency, problem = await _one_turn(session, target, connector, user, step)
            last_done = time.perf_counter()
            if problem is None:
                result.latencies_ms.append(latency)
            else:
                result.record_error(problem)

    async def report() -> None:
        while True:
            await asyncio.sleep(progress_every)
            seconds = time.perf_counter() - started
            print(
                f"    {seconds:5.1f}s  {result.turns:6d} turns  "
                f"{result.turns / seconds:7.1f}/s  errors {result.errors}",
                flush=True,
            )

    cpu_before = target.process.cpu_seconds()
    reporter = None if quiet else asyncio.create_task(report())
    try:
        with load_generator_gc_paused():
            await asyncio.gather(*(conversation(user) for user in users))
    finally:
        if reporter is not None:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
    result.elapsed = last_done - started
    result.replies = sum(len(connector.replies(user.conversation_id)) for user in users)
    if result.replies < result.turns:
        # Every correct turn saw its own reply arrive, so this cannot happen; if it does,
        # the counting is wrong and no figure from this level can be trusted.
        result.record_error(f"connector holds {result.replies} replies for {result.turns} turns")
    cpu_after = target.process.cpu_seconds()
    if cpu_before is not None and cpu_after is not None:
        result.bot_cpu_seconds = cpu_after - cpu_before
    return result


# ---- the bots, each in a process of its own ----------------------------------------------------


def free_port() -> int:
    """A loopback port nobody is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class BotProcess:
    """A bot started as a subprocess, its output going to a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process in a session of its own (Ctrl-C here is passed on by `stop`)."""
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    @property
    def alive(self) -> bool:
        """True while the process has not exited."""
        return self.process is not None and self.process.returncode is None

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await asyncio.wait_for(self.process.wait(), grace)

    def cpu_seconds(self) -> float | None:
        """User + system CPU the process has used so far (Linux /proc), or None."""
        if self.process is None:
            return None
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 15) -> str:
        """The last lines the process wrote."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class BenchError(RuntimeError):
    """The benchmark cannot go on (a bot did not start, the database failed, ...)."""


async def wait_ready(bot: BotProcess, probe: Callable[[], Any], within: float) -> float:
    """Poll `probe` until it succeeds; the seconds it took. Fails if the bot exits first."""
    started = time.perf_counter()
    last_problem = "no answer"
    while time.perf_counter() - started < within:
        if not bot.alive:
            raise BenchError(f"{bot.name} exited during startup:\n{bot.log_tail()}")
        try:
            await probe()
            return time.perf_counter() - started
        except (OSError, aiohttp.ClientError, TimeoutError, BenchError) as error:
            last_problem = f"{type(error).__name__}: {error}"
        await asyncio.sleep(0.1)
    raise BenchError(
        f"{bot.name} not ready within {within:.0f}s ({last_problem}):\n{bot.log_tail()}"
    )


def port_probe(port: int) -> Callable[[], Any]:
    """A probe that succeeds once something accepts connections on `port`."""

    async def probe() -> None:
        _, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 1.0)
        writer.close()
        await writer.wait_closed()

    return probe


def http_probe(session: aiohttp.ClientSession, url: str) -> Callable[[], Any]:
    """A probe that succeeds once GET `url` answers 200."""

    async def probe() -> None:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
            if response.status != 200:
                raise BenchError(f"GET {url} answered {response.status}")

    return probe


def python_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without EDI_* settings, plus `extra` (so .env cannot change a run)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("EDI_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def echo_process(workdir: Path) -> BotProcess:
    """The stock botbuilder echo bot, not yet started."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.echo_bot", "--host", HOST, "--port", str(port)]
    return BotProcess(ECHO, argv, python_env({}), port, workdir / "echo-bot.log")


def our_process(workdir: Path, database_url: str, label: str) -> BotProcess:
    """`edi-bot serve` in development mode on `database_url`, not yet started."""
    port = free_port()
    env = python_env(
        {
            "EDI_DATABASE_URL": database_url,
            "EDI_HOST": HOST,
            "EDI_PORT": str(port),
            "EDI_LOG_LEVEL": "WARNING",
            "EDI_APP_ID": "",
            "EDI_ALLOWED_TENANTS": "",
            # Development mode makes its own state keys; keep them out of the repo's var/.
            "EDI_KEYS_FILE": str(workdir / "keys.json"),
        }
    )
    argv = [sys.executable, "-m", "bot", "serve"]
    return BotProcess(OURS, argv, env, port, workdir / f"edi-bot-{label}.log")


# ---- PostgreSQL ---------------------------------------------------------------------------------


def _admin_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def postgres_version(url: URL) -> tuple[str | None, str | None]:
    """The server's version, or why the PostgreSQL server cannot be used."""
    try:
        connection = await asyncpg.connect(_admin_dsn(url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return None, f"{type(error).__name__}: {error}"
    try:
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return str(version), None


@contextlib.asynccontextmanager
async def scratch_database(url: URL) -> AsyncIterator[str]:
    """A new, empty database on the server at `url`, dropped afterwards; yields its URL."""
    name = f"edi_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_admin_dsn(url), timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_admin_dsn(url), timeout=5)
        try:
            await asyncio.wait_for(
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'), 30
            )
        finally:
            await admin.close()


# ---- the run ------------------------------------------------------------------------------------


@dataclass
class Options:
    """What to measure and for how long."""

    levels: list[int]
    duration: float
    turns: int | None
    warmup: float
    bots: list[str]
    sqlite: bool
    postgres_url: str
    startup_timeout: float
    request_timeout: float


async def measure(
    target: Target,
    connector: StandInConnector,
    options: Options,
) -> list[LevelResult]:
    """Warm a started bot up, then measure it at each concurrency level."""
    limit = aiohttp.TCPConnector(limit=max(options.levels) * 2, force_close=False)
    timeout = aiohttp.ClientTimeout(total=options.request_timeout)
    results: list[LevelResult] = []
    async with aiohttp.ClientSession(connector=limit, timeout=timeout) as session:
        if options.warmup > 0:
            print(f"  warming up {options.warmup:.0f}s at {max(options.levels)}", flush=True)
            warm = await drive(
                session,
                target,
                connector,
                max(options.levels),
                duration=options.warmup,
                max_turns=None,
                quiet=True,
            )
            if warm.errors:
                print(f"  warm-up errors: {warm.errors} e.g. {warm.error_samples[:2]}", flush=True)
        for level in options.levels:
            how_long = f"{options.turns} turns" if options.turns else f"{options.duration:.0f}s"
            print(
                f"  {target.name} [{target.backend}] {level} conversations, {how_long}", flush=True
            )
            result = await drive(
                session,
                target,
                connector,
                level,
                duration=options.duration,
                max_turns=options.turns,
            )
            if not target.process.alive:
                raise BenchError(f"{target.name} died:\n{target.process.log_tail()}")
            results.append(result)
            print(f"    -> {summary_line(result)}", flush=True)
            for sample in result.error_samples:
                print(f"       error: {sample}", flush=True)
    return results


async def run_bot(
    bot: BotProcess,
    backend: str,
    expectations: dict[str, str],
    connector: StandInConnector,
    options: Options,
) -> list[LevelResult]:
    """Start one bot, wait until it is ready, measure it, and stop it whatever happens."""
    print(f"starting {bot.name} [{backend}] on {HOST}:{bot.port}", flush=True)
    base = f"http://{HOST}:{bot.port}"
    try:
        await bot.start()
        async with aiohttp.ClientSession() as session:
            if bot.name == OURS:
                seconds = await wait_ready(
                    bot, http_probe(session, f"{base}/healthz"), options.startup_timeout
                )
                await http_probe(session, f"{base}/readyz")()
            else:
                seconds = await wait_ready(bot, port_probe(bot.port), options.startup_timeout)
        pid = bot.process.pid if bot.process else "?"
        print(f"  ready in {seconds:.1f}s (pid {pid})", flush=True)
        target = Target(bot.name, backend, f"{base}/api/messages", expectations, bot)
        results = await measure(target, connector, options)
    finally:
        await bot.stop()
    if any(result.errors for result in results):
        print(f"  {bot.name} log (tail):\n{bot.log_tail()}", flush=True)
    return results


class Interrupted(Exception):
    """SIGTERM or SIGHUP arrived; the bots have been stopped."""


async def run_until_signalled(options: Options) -> list[LevelResult]:
    """`run`, cancelled (so bots are stopped and the database dropped) on SIGTERM/SIGHUP."""
    task = asyncio.ensure_future(run(options))
    loop = asyncio.get_running_loop()
    caught: list[int] = []

    def stop(signum: int) -> None:
        caught.append(signum)
        task.cancel()

    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop, signum)
    try:
        return await task
    except asyncio.CancelledError:
        if caught:
            raise Interrupted(signal.Signals(caught[0]).name) from None
        raise


async def run(options: Options) -> list[LevelResult]:
    """Every measurement the options ask for, each bot started and stopped in turn."""
    connector = await StandInConnector().start(HOST)
    results: list[LevelResult] = []
    content = Content(DEFAULT_CONTENT_DIR)
    try:
        with tempfile.TemporaryDirectory(prefix="edi-bench-") as scratch:
            workdir = Path(scratch)
            if ECHO in options.bots:
                bot = echo_process(workdir)
                results += await run_bot(bot, "none", echo_expectations(), connector, options)
                connector.forget()
            if OURS in options.bots:
                ours = our_expectations(content)
                url = make_url(options.postgres_url)
                version, problem = await postgres_version(url)
                sqlite_url = f"sqlite+aiosqlite:///{workdir / 'edi-bot.db'}"
                if problem is None:
                    print(f"PostgreSQL {version} at {url.host}:{url.port or 5432}", flush=True)
                    async with scratch_database(url) as database_url:
                        bot = our_process(workdir, database_url, "postgresql")
                        results += await run_bot(bot, "postgresql", ours, connector, options)
                        connector.forget()
                else:
                    print(
                        f"PostgreSQL UNREACHABLE at {url.render_as_string()}: {problem}\n"
                        "  measuring our bot on SQLite instead; the PostgreSQL target is not met",
                        flush=True,
                    )
                    bot = our_process(workdir, sqlite_url, "sqlite")
                    backend = "sqlite (no PostgreSQL)"
                    results += await run_bot(bot, backend, ours, connector, options)
                    connector.forget()
                if options.sqlite and problem is None:
                    bot = our_process(workdir, sqlite_url, "sqlite")
                    results += await run_bot(bot, "sqlite", ours, connector, options)
                    connector.forget()
    finally:
        await connector.stop()
    return results


# ---- the report ---------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def summary_line(result: LevelResult) -> str:
    """One result in a line, for progress output."""
    return (
        f"{result.turns} turns in {result.elapsed:.1f}s = {result.turns_per_second:.1f}/s, "
        f"p50 {_ms(result.p(0.50))} p95 {_ms(result.p(0.95))} p99 {_ms(result.p(0.99))} ms, "
        f"errors {result.errors}"
    )


def table(results: list[LevelResult]) -> str:
    """The results as a Markdown table (readable in a terminal too)."""
    header = (
        "| bot | backend | concurrency | turns | replies | turns/s | p50 ms | p95 ms | p99 ms "
        "| errors | bot CPU ms/turn |"
    )
    lines = [header, "|" + "|".join("---" for _ in range(11)) + "|"]
    for r in results:
        cpu = r.cpu_ms_per_turn
        lines.append(
            f"| {r.bot} | {r.backend} | {r.concurrency} | {r.turns} | {r.replies} "
            f"| {r.turns_per_second:.1f} "
            f"| {_ms(r.p(0.50))} | {_ms(r.p(0.95))} | {_ms(r.p(0.99))} | {r.errors} "
            f"| {'-' if cpu is None else f'{cpu:.2f}'} |"
        )
    return "\n".join(lines)


def _find(results: list[LevelResult], bot: str, backend: str, level: int) -> LevelResult | None:
    for result in results:
        if result.bot == bot and result.backend == backend and result.concurrency == level:
            return result
    return None


def verdicts(results: list[LevelResult]) -> list[str]:
    """The ratio ours/echo and whether each target is met, as lines."""
    lines: list[str] = []
    echo = _find(results, ECHO, "none", TARGET_RATIO_AT)
    ours = _find(results, OURS, "postgresql", TARGET_RATIO_AT)
    for backend in ("postgresql", "sqlite", "sqlite (no PostgreSQL)"):
        mine = _find(results, OURS, backend, TARGET_RATIO_AT)
        if echo is not None and mine is not None and echo.turns_per_second > 0:
            ratio = mine.turns_per_second / echo.turns_per_second
            lines.append(
                f"ratio ours/echo at {TARGET_RATIO_AT} [{backend}]: "
                f"{mine.turns_per_second:.1f} / {echo.turns_per_second:.1f} = {ratio:.2f}x"
            )
    if echo is None or ours is None or echo.turns_per_second <= 0:
        lines.append(
            f"target >= {TARGET_RATIO:.0f}x echo at {TARGET_RATIO_AT} on PostgreSQL: NOT MEASURED"
        )
    else:
        ratio = ours.turns_per_second / echo.turns_per_second
        if echo.errors or ours.errors:
            verdict = "INVALID (turns failed)"
        else:
            verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
        lines.append(
            f"target >= {TARGET_RATIO:.0f}x echo at {TARGET_RATIO_AT} on PostgreSQL: "
            f"{ratio:.2f}x -> {verdict}"
        )
    at8 = _find(results, OURS, "postgresql", TARGET_P99_AT)
    if at8 is None or not at8.turns:
        lines.append(
            f"target p99 < {TARGET_P99_MS:.0f} ms at {TARGET_P99_AT} on PostgreSQL: NOT MEASURED"
        )
    else:
        p99 = at8.p(0.99)
        if at8.errors:
            verdict = "INVALID (turns failed)"
        else:
            verdict = "met" if p99 < TARGET_P99_MS else "MISSED"
        lines.append(
            f"target p99 < {TARGET_P99_MS:.0f} ms at {TARGET_P99_AT} on PostgreSQL: "
            f"{p99:.1f} ms -> {verdict}"
        )
    return lines


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of all CPUs from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(value) for value in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return fields[3] + fields[4], sum(fields)


def busy_warning(sample_seconds: float = 1.0) -> str | None:
    """A warning when other processes already keep the CPUs busy (figures would be low)."""
    before = _cpu_times()
    time.sleep(sample_seconds)
    after = _cpu_times()
    if before is None or after is None or after[1] <= before[1]:
        return None
    busy = 1 - (after[0] - before[0]) / (after[1] - before[1])
    if busy < 0.15:
        return None
    return (
        f"WARNING: the CPUs were {busy:.0%} busy before the benchmark started: other "
        "processes are running, so these figures will be low and noisy."
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m bench.turns`."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.turns",
        description=(
            "Measure turns/s and p50/p95/p99 latency of edi-bot (state in PostgreSQL) beside "
            "a bare botbuilder echo bot, over real HTTP against a stand-in Bot Connector."
        ),
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[8, 32],
        metavar="N",
        help="concurrent conversations per level (default: 8 32)",
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per level (default: 10)"
    )
    parser.add_argument(
        "--turns", type=int, default=None, help="turns per level instead of a fixed duration"
    )
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of warm-up per bot (default: 3)"
    )
    parser.add_argument(
        "--bots",
        nargs="+",
        choices=[ECHO, OURS],
        default=[ECHO, OURS],
        help="which bots to measure (default: both)",
    )
    parser.add_argument(
        "--sqlite", action="store_true", help="also measure our bot with state in SQLite"
    )
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="PostgreSQL server to create the scratch database on "
        f"(default: $EDI_BENCH_POSTGRES_URL, else {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--startup-timeout", type=float, default=60.0, help="seconds a bot may take to start"
    )
    parser.add_argument(
        "--request-timeout", type=float, default=30.0, help="seconds one turn may take"
    )
    return parser


def parse_options(argv: Sequence[str] | None) -> Options:
    """Options from the command line, checked."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if any(level < 1 for level in args.concurrency):
        parser.error("--concurrency levels must be at least 1")
    if args.duration <= 0 or (args.turns is not None and args.turns < 1):
        parser.error("--duration must be positive and --turns at least 1")
    return Options(
        levels=sorted(set(args.concurrency)),
        duration=args.duration,
        turns=args.turns,
        warmup=max(0.0, args.warmup),
        bots=list(dict.fromkeys(args.bots)),
        sqlite=args.sqlite,
        postgres_url=args.postgres_url
        or os.environ.get("EDI_BENCH_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL,
        startup_timeout=args.startup_timeout,
        request_timeout=args.request_timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table and the verdicts; 0 unless it could not run."""
    options = parse_options(argv)
    print(
        f"edi-bot benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"levels {options.levels}, "
        + (f"{options.turns} turns" if options.turns else f"{options.duration:.0f}s")
        + " per level",
        flush=True,
    )
    busy = busy_warning()
    if busy:
        print(busy, flush=True)
    started = time.perf_counter()
    try:
        results = asyncio.run(run_until_signalled(options))
    except KeyboardInterrupt:
        print("interrupted; bots stopped", file=sys.stderr)
        return 130
    except Interrupted as signalled:
        print(f"stopped by {signalled}; bots stopped", file=sys.stderr)
        return 143
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    print()
    print(table(results))
    print()
    for line in verdicts(results):
        print(line)
    print(f"(whole run {time.perf_counter() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
