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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.hr.aggregates import OLDER_LIST, scope_of_department
from bot.hr.cellkey import KEY_RANGE
from bot.hr.config import HrConfig, Target
from bot.hr.dataset import TOO_FEW, Dataset, Release, Shown

if TYPE_CHECKING:
    from bot.declarations.feature import Taxonomy

CellKind = Literal["count", "percent", "text"]


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell: a count, a percentage (numerator, denominator) or fixed text."""

    kind: CellKind
    count: str | None = None
    ratio: tuple[str, str] | None = None
    text: str = ""

    def shown(self, release: Release) -> Shown:
        """How this cell is released."""
        if self.kind == "count" and self.count is not None:
            return release.count(self.count)
        if self.kind == "percent" and self.ratio is not None:
            return release.percent(*self.ratio)
        return Shown(self.text)


@dataclass
class TableSpec:
    """A table's title, columns and rows of cells."""

    id: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]] = field(default_factory=list)
    note: str | None = None
    optional: set[str] = field(default_factory=set)  # row labels `settle` may drop


def count(name: str) -> Cell:
    """A count cell."""
    return Cell("count", count=name)


def percent(numerator: str, denominator: str) -> Cell:
    """A percentage cell."""
    return Cell("percent", ratio=(numerator, denominator))


def text(value: str) -> Cell:
    """A fixed text cell."""
    return Cell("text", text=value)


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
    _incident_tables(c, data, found, counts, config, incident_labels, quarter)
    _bulletin_tables(c, data, found, counts, config, tables.departments)
    _event_tables(c, found, counts, config, network_labels or {})
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
                answered = _sum_count(
                    data, f"answered|{scope}|{question.id}", parts, released=False
                )
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
        declarants = [c(f"declarants|{s}") for s in ("all", *self.scopes_d)]
        data.add_sum("declarants|all", declarants[1:])
        for scope in ("all", *self.scopes_d):
            data.add_at_most(f"head|{scope}", [f"declarants|{scope}"])
            data.percent(f"declarants|{scope}", f"head|{scope}")

    def declaration_rate(self) -> None:
        """Declaration rate by question (overall)."""
        label, data = self.label, self.data
        rate = TableSpec(
            "declaration_rate",
            self.config.texts("text.tables.declaration_rate"),
            [label("declared"), label("not_answered"), label("rate")],
        )
        for question in self.taxonomy.questions:
            answered = f"answered|all|{question.id}"
            missing = f"missing|all|{question.id}"
            data.released.update((answered, missing))
            data.percent(answered, "head|all")
            rate.rows.append(
                (question.title, [count(answered), count(missing), percent(answered, "head|all")])
            )
        self.tables.append(rate)

    def by_department(self) -> None:
        """Declaration rate by department: headcount, people who declared anything, and the
        rate for each question (percentages only)."""
        label, data, questions = self.label, self.data, self.taxonomy.questions
        table = TableSpec(
            "declaration_by_department",
            self.config.texts("text.tables.declaration_by_department"),
            [label("headcount"), label("declared"), label("rate")] + [q.title for q in questions],
        )
        for department, scope in zip(self.departments, self.scopes_d, strict=True):
            cells = [
                count(f"head|{scope}"),
                count(f"declarants|{scope}"),
                percent(f"declarants|{scope}", f"head|{scope}"),
            ]
            for question in questions:
                answered = f"answered|{scope}|{question.id}"
                cells.append(percent(*data.percent(answered, f"head|{scope}")))
            table.rows.append((department, cells))
        table.rows.append(
            (
                label("all_staff"),
                [count("head|all"), count("declarants|all"), percent("declarants|all", "head|all")]
                + [percent(f"answered|all|{q.id}", "head|all") for q in questions],
            )
        )
        self.tables.append(table)

    def distributions(self) -> None:
        """Distribution of each characteristic, everyone on the roster."""
        label, data = self.label, self.data
        for question in self.taxonomy.questions:
            table = TableSpec(
                f"distribution_{question.id}",
                self.config.texts("text.tables.distribution", question=question.title),
                [label("headcount"), label("percent")],
            )
            for code in self.codes_of[question.id]:
                name = f"ans|all|{question.id}|{code}"
                data.released.add(name)
                data.percent(name, "head|all")
                if code == self.prefer_not:
                    row_label = label("prefer_not_to_say")
                elif code == OLDER_LIST:
                    row_label = label("older_list")
                    table.optional.add(row_label)
                else:
                    option = question.option(code)
                    row_label = option.label if option else code
                table.rows.append((row_label, [count(name), percent(name, "head|all")]))
            missing = f"missing|all|{question.id}"
            data.percent(missing, "head|all")
            table.rows.append(
                (label("not_answered"), [count(missing), percent(missing, "head|all")])
            )
            table.rows.append((label("total"), [count("head|all"), text("100%")]))
            self.tables.append(table)

    def targets(self) -> list[TargetFigure]:
        """Representation against the targets: the table, and each target's figures."""
        label, config = self.label, self.config
        figures: list[TargetFigure] = []
        table = TableSpec(
            "targets",
            config.texts("text.tables.targets"),
            [label("group"), label("out_of"), label("percent"), label("target")],
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
                        ],
                    )
                )
        self.tables.append(table)
        return figures

    def _target(self, target: Target, scope_key: str, goal: float) -> TargetFigure:
        scope = SCOPES[scope_key]
        numerator = _sum_count(
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
            denominator = _sum_count(
                self.data,
                f"target|{target.id}|{scope}|den",
                [f"ans|{scope}|{target.denominator_question}|{x}" for x in answered],
            )
        self.data.percent(numerator, denominator)
        return TargetFigure(target, scope_key, numerator, denominator, goal)


def _sum_count(data: Dataset, name: str, parts: list[str], *, released: bool = True) -> str:
    """A count that is the sum of `parts`, with the sum of their cell keys."""
    total = sum(data.values[p] for p in parts)
    data.count(name, total, released=released, key=sum(data.keys[p] for p in parts) % KEY_RANGE)
    data.add_sum(name, parts)
    return name


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


Counter = Callable[..., str]  # `c` in `build`: adds a count with its value and cell key


def _incident_tables(
    c: Counter,
    data: Dataset,
    tables: list[TableSpec],
    counts: dict[str, int],
    config: HrConfig,
    incidents: dict[str, dict[str, str]],
    quarter: str,
) -> None:
    label = config.label
    total = c("inc|total")
    for prefix, key, table_id in (
        ("inc|mot|", "motivations", "incidents_motivation"),
        ("inc|kind|", "kinds", "incidents_kind"),
        ("inc|loc|", "location", "incidents_location"),
    ):
        labels: dict[str, str] = dict(incidents.get(key, {}))
        found = sorted(k.removeprefix(prefix) for k in counts if k.startswith(prefix))
        codes = list(labels) + [code for code in found if code not in labels]
        if key == "location":
            codes.append("none")
        codes = list(dict.fromkeys(codes))
        names = [c(f"{prefix}{code}") for code in codes]
        table = TableSpec(table_id, config.texts(f"text.tables.{table_id}"), [label("reports")])
        for code, name in zip(codes, names, strict=True):
            row = labels.get(code) or (label("not_given") if code == "none" else code)
            table.rows.append((row, [count(name)]))
            if code not in labels and code != "none":
                table.optional.add(row)  # a category no longer in content/incidents/words.yaml
        table.rows.append((label("total"), [count(total)]))
        if key == "location":
            data.add_sum(total, names)
        else:
            data.add_at_most(total, names)
            table.note = config.texts("text.notes.incidents_multi")
        tables.append(table)
    quarters = sorted(k.removeprefix("incq|") for k in counts if k.startswith("incq|"))
    by_quarter = TableSpec(
        "incidents_quarters", config.texts("text.tables.incidents_quarters"), [label("reports")]
    )
    for earlier in quarters:
        by_quarter.rows.append((earlier, [count(c(f"incq|{earlier}"))]))
    by_quarter.rows.append((quarter, [count(total)]))
    tables.append(by_quarter)


def _bulletin_tables(
    c: Counter,
    data: Dataset,
    tables: list[TableSpec],
    counts: dict[str, int],
    config: HrConfig,
    departments: list[str],
) -> None:
    label = config.label
    months = sorted({k.split("|")[1] for k in counts if k.startswith("reach|")})
    if not months:
        return
    reach = TableSpec("bulletin_reach", config.texts("text.tables.bulletin_reach"), list(months))
    for month in months:
        parts = []
        for department in departments:
            name = c(f"reach|{month}|d={department}", released=False)
            parts.append(name)
            data.add_at_most(f"head|d={department}", [name])
        c(f"reach|{month}|all", released=False)
        data.add_sum(f"reach|{month}|all", parts)
        data.add_at_most("head|all", [f"reach|{month}|all"])
    for department in departments:
        reach.rows.append(
            (
                department,
                [
                    percent(*data.percent(f"reach|{m}|d={department}", f"head|d={department}"))
                    for m in months
                ],
            )
        )
    reach.rows.append(
        (label("all_staff"), [percent(*data.percent(f"reach|{m}|all", "head|all")) for m in months])
    )
    tables.append(reach)
    feedback = TableSpec(
        "bulletin_feedback",
        config.texts("text.tables.bulletin_feedback"),
        [label("useful"), label("not_useful"), label("responses")],
    )
    for month in months:
        useful = c(f"fb|{month}|useful")
        not_useful = c(f"fb|{month}|not_useful")
        responses = _sum_count(data, f"fb|{month}|responses", [useful, not_useful])
        feedback.rows.append((month, [count(useful), count(not_useful), count(responses)]))
    tables.append(feedback)


def _event_tables(
    c: Counter,
    tables: list[TableSpec],
    counts: dict[str, int],
    config: HrConfig,
    networks_named: dict[str, str],
) -> None:
    label = config.label
    found = sorted(k.removeprefix("member|") for k in counts if k.startswith("member|"))
    membership = TableSpec(
        "network_membership", config.texts("text.tables.network_membership"), [label("members")]
    )
    # Every network in content/events/networks.yaml, members or not: a row that appeared when its
    # first member joined would name the network they joined.
    for network in list(networks_named) + [n for n in found if n not in networks_named]:
        row = networks_named.get(network, network)
        membership.rows.append((row, [count(c(f"member|{network}"))]))
        if network not in networks_named:
            membership.optional.add(row)
    tables.append(membership)
    attendance = TableSpec(
        "event_attendance", config.texts("text.tables.event_attendance"), [label("attended")]
    )
    # The events held in the quarter are public, so their rows are listed whoever came
    # (`aggregates` records each as a count, zero when nobody attended).
    for key in sorted(k for k in counts if k.startswith("attend|")):
        _, kind, network = key.split("|", 2)
        named = networks_named.get(network, network)
        row = label(f"kind_{kind}") if network == "-" else f"{label(f'kind_{kind}')}: {named}"
        attendance.rows.append((row, [count(c(key))]))
    tables.append(attendance)
