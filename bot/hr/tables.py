"""From one quarter's counts to the report's tables: which counts each table shows, and every
way they add up (which the disclosure step must know, because an outsider does).

Nothing here decides what is shown: `build` returns a `Dataset` (counts, their cell keys and
sums) and table layouts; `disclosure.protect` turns the dataset into a `Release`; outputs read
tables only through that release. A count made from others gets its cell key from theirs
(the sum, or for "not answered" the difference), as the cell key method requires: the same
people, the same key.

Which rows a table has never depends on how many people are in them: every answer, network
and incident category is listed whether or not anyone is in it, because a row that appeared
the quarter someone joined it would say so. The only exceptions (`TableSpec.optional`: answers
on an earlier list, categories no longer in the content) are dropped after release, by
`settle`, when they show nothing but "<10".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.hr.activity_tables import bulletin_tables, event_tables, incident_tables
from bot.hr.aggregates import OLDER_LIST, scope_of_department
from bot.hr.cells import Cell, TableSpec, TargetWords, count, percent, sum_count, text
from bot.hr.config import HrConfig, Target
from bot.hr.dataset import TOO_FEW, Dataset, Release

if TYPE_CHECKING:
    from bot.declarations.feature import Taxonomy

# Cell and TableSpec are defined in bot/hr/cells.py; the report and service read them here.
__all__ = ["Built", "Cell", "TableSpec", "TargetFigure", "build", "settle"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TargetFigure:
    """Where one target's figures for one scope are: numerator, denominator, target."""

    target: Target
    scope: str  # "overall" | "senior"
    numerator: str
    denominator: str
    goal: float


@dataclass
class Built:
    """The dataset to protect and the tables to show from it."""

    dataset: Dataset
    tables: list[TableSpec]
    departments: list[str]
    targets: list[TargetFigure]
    questions: list[str]


SCOPES = {"overall": "all", "senior": "senior"}


def build(
    counts: dict[str, int],
    *,
    config: HrConfig,
    taxonomy: Taxonomy,
    incident_labels: dict[str, dict[str, str]],
    quarter: str,
    network_labels: dict[str, str] | None = None,
    keys: dict[str, int] | None = None,
) -> Built:
    """Every table of the quarterly report for `quarter`, over one dataset (with the cell
    key of every count when `keys`, the collected counts' cell keys, are given)."""
    tables = _Tables(counts, keys, config, taxonomy)
    tables.headcount()
    tables.answers()
    tables.declaration_rate()
    tables.by_department()
    tables.distributions()
    targets = tables.targets()
    c, data, found = tables.count, tables.data, tables.tables
    incident_tables(c, data, found, counts, config, incident_labels, quarter)
    bulletin_tables(c, data, found, counts, config, tables.departments)
    event_tables(c, found, counts, config, network_labels or {})
    questions = [q.id for q in taxonomy.questions]
    return Built(data, found, tables.departments, targets, questions)


class _Tables:
    """Builds the report's tables one at a time over one dataset, recording as it goes every
    way the counts add up (the disclosure check needs all of them)."""

    def __init__(
        self,
        counts: dict[str, int],
        keys: dict[str, int] | None,
        config: HrConfig,
        taxonomy: Taxonomy,
    ) -> None:
        self.data = Dataset(keyed=keys is not None)
        self._counts = counts
        self._keys = keys or {}
        self.config = config
        self.label = config.label
        self.taxonomy = taxonomy
        self.prefer_not = taxonomy.prefer_not_to_say
        self.departments = sorted(
            k.removeprefix("head|d=") for k in counts if k.startswith("head|d=")
        )
        self.scopes_d = [scope_of_department(d) for d in self.departments]
        self.tables: list[TableSpec] = []
        self.codes_of: dict[str, list[str]] = {}
        # Follow-up questions asked only of people with certain answers to another: their
        # figures are out of the people asked ("asked|<scope>|<question>").
        self.routed: set[str] = set()

    def count(self, name: str, *, released: bool = True) -> str:
        """Add the collected count `name` (0 when absent) to the dataset."""
        return self.data.count(
            name,
            int(self._counts.get(name, 0)),
            released=released,
            key=int(self._keys.get(name, 0)),
        )

    def headcount(self) -> None:
        """Headcount: all = sum of departments = Grade 13+ and below."""
        c, data, label = self.count, self.data, self.label
        c("head|all")
        for scope in ("senior", "below", *self.scopes_d):
            c(f"head|{scope}")
        data.add_sum("head|all", [f"head|{s}" for s in self.scopes_d])
        data.add_sum("head|all", ["head|senior", "head|below"])
        c("roster|unlinked")
        data.add_at_most("head|all", ["roster|unlinked"])
        head = TableSpec(
            "headcount", self.config.texts("text.tables.headcount"), [label("headcount")]
        )
        head.rows.append((label("all_staff"), [count("head|all")]))
        for department in self.departments:
            head.rows.append((department, [count(f"head|d={department}")]))
        head.rows.append((label("senior"), [count("head|senior")]))
        head.rows.append((label("below_senior"), [count("head|below")]))
        head.rows.append((label("unlinked"), [count("roster|unlinked")]))
        self.tables.append(head)

    def answers(self) -> None:
        """Answers per scope: every code, prefer-not-to-say and older lists; "answered" is
        their sum and "not answered" the rest of the headcount. Scopes are linked: all =
        senior + below = sum of departments, for every code."""
        c, data = self.count, self.data
        all_scopes = ["all", "senior", "below", *self.scopes_d]
        for question in self.taxonomy.questions:
            codes = [o.code for o in question.options if o.code != self.prefer_not]
            codes += [self.prefer_not, OLDER_LIST]
            self.codes_of[question.id] = codes
            for scope in all_scopes:
                parts = [c(f"ans|{scope}|{question.id}|{code}", released=False) for code in codes]
                answered = sum_count(data, f"answered|{scope}|{question.id}", parts, released=False)
                missing = data.count(
                    f"missing|{scope}|{question.id}",
                    data.values[f"head|{scope}"] - data.values[answered],
                    released=False,
                    key=data.keys[f"head|{scope}"] - data.keys[answered],
                )
                data.add_sum(f"head|{scope}", [answered, missing])
            for code in codes:
                name = f"{question.id}|{code}"
                data.add_sum(f"ans|all|{name}", [f"ans|senior|{name}", f"ans|below|{name}"])
                data.add_sum(f"ans|all|{name}", [f"ans|{s}|{name}" for s in self.scopes_d])
        for question in self.taxonomy.questions:
            self._route(question.id, all_scopes)
        declarants = [c(f"declarants|{s}") for s in ("all", *self.scopes_d)]
        data.add_sum("declarants|all", declarants[1:])
        for scope in ("all", *self.scopes_d):
            data.add_at_most(f"head|{scope}", [f"declarants|{scope}"])
            data.percent(f"declarants|{scope}", f"head|{scope}")

    def _route(self, question_id: str, scopes: list[str]) -> None:
        """A follow-up (`ask_if`): "asked" = the people with a qualifying answer to the
        question it follows, and "not answered" = asked - answered, in every scope. Left
        as an ordinary question if it has answers from people not asked (answers kept
        from an earlier list), since "not answered" would then be below zero."""
        question = self.taxonomy.question(question_id)
        condition = None if question is None else question.ask_if
        if question is None or condition is None or condition.question not in self.codes_of:
            return
        codes = [c for c in self.codes_of[condition.question] if c in condition.codes]
        data, asked = self.data, {}
        for scope in scopes:
            parts = [f"ans|{scope}|{condition.question}|{code}" for code in codes]
            asked[scope] = sum(data.values[p] for p in parts), parts
            if asked[scope][0] < data.values[f"answered|{scope}|{question.id}"]:
                log.warning("hr.follow_up_answered_unasked", extra={"question": question.id})
                return
        for scope in scopes:
            name = sum_count(data, f"asked|{scope}|{question.id}", asked[scope][1], released=False)
            answered = f"answered|{scope}|{question.id}"
            data.count(
                f"missing_asked|{scope}|{question.id}",
                data.values[name] - data.values[answered],
                released=False,
                key=data.keys[name] - data.keys[answered],
            )
            data.add_sum(name, [answered, f"missing_asked|{scope}|{question.id}"])
        self.routed.add(question.id)

    def _routed_note(self, question_id: str) -> str:
        """Says that a follow-up's figures are out of the people asked, and who they are."""
        question = self.taxonomy.question(question_id)
        assert question is not None and question.ask_if is not None
        condition = self.taxonomy.question(question.ask_if.question)
        assert condition is not None
        answers = self.config.texts("text.notes.or").join(
            f'"{o.label}"' for o in condition.options if o.code in question.ask_if.codes
        )
        return self.config.texts(
            "text.notes.routed",
            question=question.title,
            answers=answers,
            condition=condition.title,
        )

    def _out_of(self, scope: str, question_id: str) -> str:
        """What a question's figures in `scope` are out of: the headcount, or for a
        follow-up the people asked."""
        if question_id in self.routed:
            return f"asked|{scope}|{question_id}"
        return f"head|{scope}"

    def declaration_rate(self) -> None:
        """Declaration rate by question (overall)."""
        label, data = self.label, self.data
        rate = TableSpec(
            "declaration_rate",
            self.config.texts("text.tables.declaration_rate"),
            [label("declared"), label("not_answered"), label("asked"), label("rate")],
        )
        notes = []
        for question in self.taxonomy.questions:
            answered = f"answered|all|{question.id}"
            missing = f"missing|all|{question.id}"
            if question.id in self.routed:
                missing = f"missing_asked|all|{question.id}"
                notes.append(self._routed_note(question.id))
            out_of = self._out_of("all", question.id)
            data.released.update((answered, missing, out_of))
            data.percent(answered, out_of)
            rate.rows.append(
                (
                    question.title,
                    [count(answered), count(missing), count(out_of), percent(answered, out_of)],
                )
            )
        rate.note = " ".join(notes) or None
        self.tables.append(rate)

    def by_department(self) -> None:
        """Declaration rate by department: headcount, people who declared anything, and the
        rate for each question (percentages only)."""
        label, data, questions = self.label, self.data, self.taxonomy.questions
        table = TableSpec(
            "declaration_by_department",
            self.config.texts("text.tables.declaration_by_department"),
            [label("headcount"), label("declared"), label("rate")]
            + [
                self.config.texts("text.labels.of_those_asked", question=q.title)
                if q.id in self.routed
                else q.title
                for q in questions
            ],
        )
        table.note = (
            " ".join(self._routed_note(q.id) for q in questions if q.id in self.routed) or None
        )
        for department, scope in zip(self.departments, self.scopes_d, strict=True):
            cells = [
                count(f"head|{scope}"),
                count(f"declarants|{scope}"),
                percent(f"declarants|{scope}", f"head|{scope}"),
            ]
            for question in questions:
                answered = f"answered|{scope}|{question.id}"
                cells.append(percent(*data.percent(answered, self._out_of(scope, question.id))))
            table.rows.append((department, cells))
        table.rows.append(
            (
                label("all_staff"),
                [count("head|all"), count("declarants|all"), percent("declarants|all", "head|all")]
                + [percent(f"answered|all|{q.id}", self._out_of("all", q.id)) for q in questions],
            )
        )
        self.tables.append(table)

    def distributions(self) -> None:
        """Distribution of each characteristic, everyone on the roster."""
        label, data = self.label, self.data
        for question in self.taxonomy.questions:
            routed = question.id in self.routed
            total = self._out_of("all", question.id)
            table = TableSpec(
                f"distribution_{question.id}",
                self.config.texts(
                    "text.tables.distribution_routed" if routed else "text.tables.distribution",
                    question=question.title,
                ),
                [label("headcount"), label("percent")],
                note=self._routed_note(question.id) if routed else None,
            )
            for code in self.codes_of[question.id]:
                name = f"ans|all|{question.id}|{code}"
                data.released.add(name)
                data.percent(name, total)
                if code == self.prefer_not:
                    row_label = label("prefer_not_to_say")
                elif code == OLDER_LIST:
                    row_label = label("older_list")
                    table.optional.add(row_label)
                else:
                    option = question.option(code)
                    row_label = option.label if option else code
                table.rows.append((row_label, [count(name), percent(name, total)]))
            missing = f"{'missing_asked' if routed else 'missing'}|all|{question.id}"
            data.released.update((missing, total))
            data.percent(missing, total)
            table.rows.append((label("not_answered"), [count(missing), percent(missing, total)]))
            table.rows.append(
                (label("total_asked" if routed else "total"), [count(total), text("100%")])
            )
            self.tables.append(table)

    def targets(self) -> list[TargetFigure]:
        """Representation against the targets: the table, and each target's figures."""
        label, config = self.label, self.config
        figures: list[TargetFigure] = []
        table = TableSpec(
            "targets",
            config.texts("text.tables.targets"),
            [
                label("group"),
                label("out_of"),
                label("percent"),
                label("target"),
                label("gap"),
                label("met"),
            ],
        )
        words = TargetWords(
            **{
                key: config.texts(f"text.against.{key}")
                for key in ("above", "below", "on_target", "met", "not_met", "unknown")
            }
        )
        for target in config.targets:
            for scope_key, goal in target.percent.items():
                figure = self._target(target, scope_key, goal)
                figures.append(figure)
                scope_label = config.texts(f"text.scope_{scope_key}")
                numerator, denominator = figure.numerator, figure.denominator
                table.rows.append(
                    (
                        f"{target.label} ({scope_label})",
                        [
                            count(numerator),
                            count(denominator),
                            percent(numerator, denominator),
                            text(f"{goal:.1f}%"),
                            Cell("gap", ratio=(numerator, denominator), goal=goal, words=words),
                            Cell("met", ratio=(numerator, denominator), goal=goal, words=words),
                        ],
                    )
                )
        self.tables.append(table)
        return figures

    def _target(self, target: Target, scope_key: str, goal: float) -> TargetFigure:
        scope = SCOPES[scope_key]
        numerator = sum_count(
            self.data,
            f"target|{target.id}|{scope}|num",
            [f"ans|{scope}|{target.question}|{x}" for x in target.codes],
        )
        if target.denominator == "headcount":
            denominator = f"head|{scope}"
        else:
            answered = [
                x for x in self.codes_of[target.denominator_question] if x != self.prefer_not
            ]
            denominator = sum_count(
                self.data,
                f"target|{target.id}|{scope}|den",
                [f"ans|{scope}|{target.denominator_question}|{x}" for x in answered],
            )
        self.data.percent(numerator, denominator)
        return TargetFigure(target, scope_key, numerator, denominator, goal)


def settle(built: Built, release: Release) -> None:
    """Drop each optional row that shows nothing but "<10" or 0: which rows there are then
    depends only on what is shown."""
    for table in built.tables:
        if not table.optional:
            continue
        table.rows = [
            (row_label, cells)
            for row_label, cells in table.rows
            if row_label not in table.optional or not _empty(cells, release)
        ]


def _empty(cells: list[Cell], release: Release) -> bool:
    counted = [cell.shown(release) for cell in cells if cell.kind == "count"]
    return all(
        (s.hidden and s.reason == TOO_FEW) or (not s.hidden and s.value == 0) for s in counted
    )
