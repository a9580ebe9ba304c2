"""The quarterly HR report: freeze a quarter's counts, protect them, and hand out releases.

Every release of a quarter (the card, "hr report" in chat, `edi-bot report quarterly`, and
later quarters' trend lines) is built from the one frozen snapshot of that quarter's counts
and cell keys, through `disclosure.protect` with that snapshot's own perturbation
(bot/hr/cellkey.py). Releasing two slightly different versions of the same table
(Monday's and Tuesday's, after one person declared) would let anyone subtract one from the
other; a frozen quarter cannot be differenced against itself, and two different quarters
(or a quarter frozen again after a change) draw fresh noise for every figure.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.content import Content, ContentError
from bot.declarations import feature as declarations
from bot.hr import repo as repo_hr
from bot.hr import tables
from bot.hr.aggregates import collect
from bot.hr.cellkey import RecordKeys
from bot.hr.config import HrConfig, load_hr_config
from bot.hr.dataset import Release, Rules, Shown
from bot.hr.disclosure import protect
from bot.hr.quarters import Quarter
from bot.incidents import feature as incidents
from bot.outbox.queue import Outbox, queued_card
from bot.privacy.audit import AuditLog
from bot.privacy.crypto import FieldCipher, Sealed
from bot.privacy.roles import Role

if TYPE_CHECKING:
    from bot.declarations.feature import Taxonomy

log = logging.getLogger(__name__)

QUARTERLY_KIND = "hr.quarterly_report"
SNAPSHOT_VERSION = 2  # {"version": 2, "counts": {...}, "keys": {...}}; 1 was counts alone
MAX_VERSIONS = 3  # a quarter is issued at most this often (first freeze + 2 re-issues)


@dataclass(frozen=True)
class Frozen:
    """One quarter's frozen counts and their cell keys, as sealed in `hr_snapshots`.

    `keys` is None for a quarter frozen before cell keys: it is released as it was then,
    without noise, so its figures (in later trends too) never change.
    """

    counts: dict[str, int]
    keys: dict[str, int] | None
    taken_on: date
    version: int = 1  # 1 when first frozen; each re-issue adds one (not in the document)
    reason: str | None = None  # why it was re-issued

    def document(self) -> str:
        """The snapshot's JSON, canonical: the same counts and keys give the same text."""
        if self.keys is None:
            body: dict[str, Any] = dict(self.counts)
        else:
            body = {"version": SNAPSHOT_VERSION, "counts": self.counts, "keys": self.keys}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def digest(self) -> bytes:
        """SHA-256 of the document: what makes this release's noise its own."""
        return hashlib.sha256(self.document().encode()).digest()


def snapshot_context(quarter: str) -> str:
    """The associated data a quarter's counts are sealed with: its own row."""
    return f"hr_snapshots:{quarter}"


class QuarterUnavailable(ValueError):
    """A quarter that has not ended, or an earlier one with no frozen counts."""

    def __init__(self, key: str, quarter: Quarter) -> None:
        super().__init__(f"{key}: {quarter}")
        self.key = key
        self.quarter = quarter


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One quarter of one target: how it was released then."""

    quarter: str
    numerator: Shown
    denominator: Shown
    percent: Shown


@dataclass
class QuarterReport:
    """One quarter's release: the tables, how each cell is shown, and the target trends."""

    quarter: Quarter
    taken_on: date
    built: tables.Built
    release: Release
    trends: dict[tuple[str, str], list[TrendPoint]] = field(default_factory=dict)
    empty: bool = False
    version: int = 1
    # (version, frozen on) of every version of the quarter, oldest first.
    versions: list[tuple[int, date]] = field(default_factory=list)
    reason: str | None = None

    def shown(self, cell: tables.Cell) -> Shown:
        """How one cell is released."""
        return cell.shown(self.release)


class HrReports:
    """Builds quarterly reports and sends the quarterly card to HR."""

    def __init__(
        self,
        *,
        content: Content,
        cipher: FieldCipher,
        audit: AuditLog,
        rules: Rules,
        record_keys: RecordKeys,
        outbox: Outbox | None = None,
    ) -> None:
        self.content = content
        self.config: HrConfig = load_hr_config(content)
        self.taxonomy: Taxonomy = declarations.taxonomy(content)
        self._incident_labels = incidents.category_labels(content)
        self._cipher = cipher
        self._audit = audit
        self.rules = rules
        self._record_keys = record_keys
        self._outbox = outbox

    # ---- snapshots ----------------------------------------------------------------------

    async def counts(
        self, session: AsyncSession, *, quarter: Quarter, today: date, version: int | None = None
    ) -> Frozen:
        """The quarter's frozen counts (its current version, or `version`), freezing them now
        if this is the quarter just ended."""
        if quarter.end >= today:
            raise QuarterUnavailable("future_quarter", quarter)
        if version is not None:
            found = await repo_hr.get_snapshot(session, quarter=str(quarter), version=version)
            if found is None:
                raise QuarterUnavailable("no_version", quarter)
            return self._open(found)
        stored = await repo_hr.get_snapshot(session, quarter=str(quarter))
        if stored is None:
            if quarter != Quarter.last_completed(today):
                raise QuarterUnavailable("old_quarter", quarter)
            frozen, sealed = await self._freeze(session, quarter, today)
            if sealed is None:
                return frozen  # no roster yet: nothing to freeze
            await repo_hr.put_snapshot(
                session,
                quarter=str(quarter),
                taken_on=today,
                counts=sealed.token,
                key_id=sealed.key_id,
            )
            stored = await repo_hr.get_snapshot(session, quarter=str(quarter))
            assert stored is not None
            log.info(
                "hr.snapshot_taken", extra={"quarter": str(quarter), "counts": len(frozen.counts)}
            )
        return self._open(stored)

    async def _freeze(
        self, session: AsyncSession, quarter: Quarter, today: date
    ) -> tuple[Frozen, Sealed | None]:
        """The quarter's counts and cell keys as they stand, collected by SQL, and sealed for
        its snapshot; (empty, None) when there is no roster to count."""
        collected = await collect(
            session,
            quarter=quarter,
            config=self.config,
            taxonomy=self.taxonomy,
            record_keys=self._record_keys,
        )
        if not collected.counts:
            return Frozen({}, {}, today), None
        frozen = Frozen(collected.counts, collected.keys, today)
        return frozen, self._cipher.seal(frozen.document(), context=snapshot_context(str(quarter)))

    def _open(self, stored: repo_hr.StoredSnapshot) -> Frozen:
        document = json.loads(
            self._cipher.open(
                Sealed(stored.key_id, stored.counts), context=snapshot_context(stored.quarter)
            )
        )
        version, reason = stored.version, stored.reason
        if document.get("version") == SNAPSHOT_VERSION:
            counts = {str(k): int(v) for k, v in document["counts"].items()}
            keys = {str(k): int(v) for k, v in document["keys"].items()}
            return Frozen(counts, keys, stored.taken_on, version, reason)
        plain = {str(k): int(v) for k, v in document.items()}
        return Frozen(plain, None, stored.taken_on, version, reason)

    async def reissue(
        self, session: AsyncSession, *, quarter: Quarter, today: date, actor: str, reason: str
    ) -> tuple[int, int]:
        """Freeze `quarter` again from the roster and declarations as they stand (after a
        late roster import): a new version, the one before kept; (old, new) version numbers.

        Each version is one more release of the quarter with its own noise, so a quarter may
        be issued at most MAX_VERSIONS times (docs/hr_reports.md)."""
        stored = await repo_hr.get_snapshot(session, quarter=str(quarter))
        if quarter.end >= today:
            raise QuarterUnavailable("future_quarter", quarter)
        if stored is None:
            raise QuarterUnavailable("not_frozen", quarter)
        if stored.version >= MAX_VERSIONS:
            raise QuarterUnavailable("too_many_versions", quarter)
        _, sealed = await self._freeze(session, quarter, today)
        if sealed is None:
            raise QuarterUnavailable("no_roster_to_reissue", quarter)
        version = await repo_hr.replace_snapshot(
            session,
            quarter=str(quarter),
            taken_on=today,
            counts=sealed.token,
            key_id=sealed.key_id,
            reason=reason,
        )
        await self._audit.append(
            session,
            actor=actor,
            action="hr.report.reissued",
            object_type="hr_report",
            object_id=str(quarter),
            detail={"version": version, "replaces": stored.version},
        )
        log.info("hr.snapshot_reissued", extra={"quarter": str(quarter), "version": version})
        return stored.version, version

    # ---- reports ------------------------------------------------------------------------

    def protect_counts(self, frozen: Frozen, quarter: Quarter) -> tuple[tables.Built, Release]:
        """Tables for one quarter's frozen counts and their release (deterministic: the same
        snapshot always gives the same release)."""
        built = tables.build(
            frozen.counts,
            config=self.config,
            taxonomy=self.taxonomy,
            incident_labels=self.incident_labels(),
            quarter=str(quarter),
            network_labels=self.network_labels(),
            keys=frozen.keys,
        )
        perturbation = (
            None
            if frozen.keys is None
            else self._record_keys.perturbation(
                self.rules.ptable(), release=str(quarter), digest=frozen.digest()
            )
        )
        release = protect(built.dataset, self.rules, perturbation)
        tables.settle(built, release)
        return built, release

    def network_labels(self) -> dict[str, str]:
        """Staff network names by code (content/events/networks.yaml), if the file exists."""
        try:
            data = self.content.data("events/networks")
        except ContentError:
            return {}
        return {
            str(n["code"]): str(n.get("name", n["code"]))
            for n in (data or {}).get("networks", [])
            if isinstance(n, dict) and "code" in n
        }

    def incident_labels(self) -> dict[str, dict[str, str]]:
        """Labels of the incident categories the tables break down by."""
        return self._incident_labels

    async def report(
        self, session: AsyncSession, *, quarter: Quarter, today: date, version: int | None = None
    ) -> QuarterReport:
        """The release for `quarter` (its current version, or `version`), with the trend of
        each target over earlier quarters."""
        frozen = await self.counts(session, quarter=quarter, today=today, version=version)
        built, release = self.protect_counts(frozen, quarter)
        report = QuarterReport(
            quarter,
            frozen.taken_on,
            built,
            release,
            empty=not frozen.counts,
            version=frozen.version,
            versions=await repo_hr.snapshot_versions(session, quarter=str(quarter)),
            reason=frozen.reason,
        )
        earlier = {str(q) for q in quarter.back(self.config.trend_quarters)[:-1]}
        history: list[tuple[str, tables.Built, Release]] = []
        for name in await repo_hr.snapshot_quarters(session):
            if name in earlier:
                stored = await repo_hr.get_snapshot(session, quarter=name)
                if stored is not None:
                    old_built, old_release = self.protect_counts(
                        self._open(stored), Quarter.parse(name)
                    )
                    history.append((name, old_built, old_release))
        history.append((str(quarter), built, release))
        for figure in built.targets:
            key = (figure.target.id, figure.scope)
            points = []
            for name, old_built, old_release in history:
                match = next((f for f in old_built.targets if (f.target.id, f.scope) == key), None)
                if match is None or old_built.dataset.values.get("head|all", 0) == 0:
                    continue
                points.append(
                    TrendPoint(
                        name,
                        old_release.count(match.numerator),
                        old_release.count(match.denominator),
                        old_release.percent(match.numerator, match.denominator),
                    )
                )
            report.trends[key] = points
        return report

    # ---- the card ---------------------------------------------------------------------------

    def summary_card(self, report: QuarterReport) -> dict[str, Any]:
        """The summary card: headcount, declaration rate, targets, incidents."""
        texts = self.config.texts
        quarter = str(report.quarter)
        if report.empty:
            return self.content.card(
                "hr_summary",
                heading=texts("text.card_heading", quarter=quarter),
                intro=texts("text.no_roster"),
                facts=[],
                targets=[],
                targets_heading="",
                key=None,
                quarter=quarter,
                button=None,
                full_button=None,
            )
        release = report.release
        facts = [
            {"title": texts("text.card_headcount"), "value": release.count("head|all").text},
            {
                "title": texts("text.card_declared"),
                "value": _with_percent(
                    release.count("declarants|all"), release.percent("declarants|all", "head|all")
                ),
            },
            {"title": texts("text.card_incidents"), "value": release.count("inc|total").text},
        ]
        targets = []
        for figure in report.built.targets:
            shown = release.percent(figure.numerator, figure.denominator)
            points = report.trends.get((figure.target.id, figure.scope), [])
            targets.append(
                {
                    "label": figure.target.label,
                    "scope": texts(f"text.scope_{figure.scope}"),
                    "value": shown.text,
                    "target": f"{figure.goal:.1f}%",
                    "met": (shown.value is not None and shown.value >= figure.goal),
                    "standing": self._standing(shown, figure.goal, points),
                }
            )
        version = self.version_line(report)
        return self.content.card(
            "hr_summary",
            heading=texts("text.card_heading", quarter=quarter),
            intro=texts("text.card_intro") + (f" {version}" if version else ""),
            facts=facts,
            targets=targets,
            targets_heading=texts("text.card_targets_heading"),
            key=texts(
                "text.hidden_key",
                too_few="too few people",
                protects="hidden to protect another cell",
            ),
            quarter=quarter,
            button=texts("text.card_button"),
            full_button=texts("text.full_button"),
        )

    def version_line(self, report: QuarterReport) -> str | None:
        """Which version of its quarter a report is, in words; None for a quarter never
        re-issued."""
        return version_line(report, self.config)

    def _standing(self, shown: Shown, goal: float, points: list[TrendPoint]) -> str:
        """Met or how far short, and what changed since the quarter before, in words."""
        texts = self.config.texts
        if shown.value is None:
            return str(texts("text.card_hidden"))
        gap = goal - shown.value
        met = texts("text.card_met") if gap <= 0 else texts("text.card_short", gap=f"{gap:.1f}")
        earlier = [p for p in points[:-1] if p.percent.value is not None]
        if len(points) <= 1:
            change = texts("text.card_first")
        elif not earlier:
            change = texts("text.card_no_earlier")
        else:
            before = earlier[-1]
            moved = shown.value - float(before.percent.value or 0)
            key = "up" if moved >= 0.05 else "down" if moved <= -0.05 else "same"
            change = texts(
                f"text.card_change_{key}", points=f"{abs(moved):.1f}", quarter=before.quarter
            )
        return f"{met}; {change}"

    async def send_quarterly(self, session: AsyncSession, *, today: date) -> int:
        """Queue the quarter-just-ended card to everyone holding `hr`; once per quarter."""
        if self._outbox is None:
            raise RuntimeError("HrReports was built without an outbox")
        quarter = Quarter.last_completed(today)
        report = await self.report(session, quarter=quarter, today=today)
        recipients = await repo_hr.people_holding(session, role=Role.HR.value)
        card = self.summary_card(report)
        result = await self._outbox.enqueue(
            session,
            kind=QUARTERLY_KIND,
            recipients=recipients,
            message=queued_card(
                card, summary=self.config.texts("text.card_summary", quarter=str(quarter))
            ),
            dedupe_key=f"{QUARTERLY_KIND}:{quarter}",
        )
        await self._audit.append(
            session,
            actor="job:hr_quarterly_report",
            action="hr.report.sent",
            object_type="hr_report",
            object_id=str(quarter),
            detail={"recipients": result.queued, "unreachable": result.unreachable},
        )
        log.info(
            "hr.quarterly_sent",
            extra={"quarter": str(quarter), "queued": result.queued},
        )
        return result.queued

    async def audit_access(
        self, session: AsyncSession, *, actor: str, quarter: Quarter, how: str
    ) -> None:
        """Record that `actor` (acting as HR) was shown `quarter`'s report."""
        await self._audit.append(
            session,
            actor=actor,
            role=Role.HR.value,
            action="hr.report.viewed",
            object_type="hr_report",
            object_id=str(quarter),
            detail={"how": how},
        )


def _with_percent(count: Shown, percent: Shown) -> str:
    return count.text if percent.hidden else f"{count.text} ({percent.text})"


def version_line(report: QuarterReport, config: HrConfig) -> str | None:
    """Which version of its quarter a report is, in words ("2026-Q3, version 2 of 2, ..."),
    for the card, the CLI and the HTML; None for a quarter never re-issued."""
    if len(report.versions) <= 1:
        return None
    key = "text.version_line" if report.reason else "text.version_line_first"
    return str(
        config.texts(
            key,
            quarter=str(report.quarter),
            version=report.version,
            count=len(report.versions),
            day=report.taken_on.strftime("%-d %B %Y"),
            latest=max(v for v, _ in report.versions),
            reason=report.reason or "-",
        )
    )
