"""The action plans, read from content/actions/plans/*.yaml and checked.

Each file is one plan: its objectives and actions (number, objective, action, lead teams,
deadline as written, success measures, and an optional `confirm:` note for the policy
team where the source text was garbled). Problems are collected, not raised one at a time,
so `edi-bot actions validate` can list them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from bot.actions.deadlines import AnnualReview, Deadline, DeadlineError, parse_deadline
from bot.actions.plan_files import ActionEntry, PlanFile
from bot.core.content import ContentError, load_model


def team_key(name: str) -> str:
    """How a lead team's name is compared: lower case, single spaces."""
    return " ".join(name.split()).lower()


@dataclass(frozen=True)
class Objective:
    """One objective (or theme) of a plan."""

    id: str
    title: str
    confirm: str | None = None


@dataclass(frozen=True)
class Action:
    """One action of a plan, as written, with its deadline parsed (None if it could not be)."""

    plan: str
    number: str
    objective: str
    text: str
    leads: tuple[str, ...]
    deadline_text: str
    success_measures: tuple[str, ...]
    confirm: str | None
    deadline: Deadline | None

    @property
    def key(self) -> str:
        """ "PLAN/NUMBER", e.g. "2022-23/4.1"."""
        return f"{self.plan}/{self.number}"


@dataclass
class Plan:
    """One action plan."""

    id: str
    title: str
    starts: date
    source: Path
    objectives: dict[str, Objective] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    closed_on: date | None = None  # set when the admins have closed the plan

    @property
    def closed(self) -> bool:
        """A closed plan is never nudged nor escalated."""
        return self.closed_on is not None

    def as_of(self, today: date) -> date:
        """The day its actions are measured on: today, or the day a closed plan closed."""
        return today if self.closed_on is None else min(today, self.closed_on)


@dataclass(frozen=True)
class PlanProblem:
    """Something `validate` reports: an error, or a note waiting for confirmation."""

    plan: str
    number: str | None
    message: str
    kind: Literal["error", "confirm"] = "error"

    def __str__(self) -> str:
        where = f"{self.plan} {self.number}" if self.number else self.plan
        label = "error" if self.kind == "error" else "to confirm"
        return f"{where}: {label}: {self.message}"


@dataclass
class Plans:
    """Every plan in the directory, with whatever is wrong with them."""

    plans: dict[str, Plan]
    problems: list[PlanProblem]

    @property
    def errors(self) -> list[PlanProblem]:
        """The problems that must be fixed."""
        return [p for p in self.problems if p.kind == "error"]

    def plan(self, plan_id: str) -> Plan | None:
        """One plan by id ("2022-23"; "2022/23" is accepted)."""
        return self.plans.get(plan_id.strip().replace("/", "-"))

    def action(self, plan_id: str, number: str) -> Action | None:
        """One action, its number compared without regard to case."""
        plan = self.plan(plan_id)
        return None if plan is None else plan.actions.get(number.strip().upper())

    def by_key(self, key: str) -> Action | None:
        """An action from "PLAN/NUMBER"."""
        plan_id, _, number = key.partition("/")
        return self.action(plan_id, number)

    def find_number(self, number: str, *, prefer: list[str]) -> Action | None:
        """The action with `number` in the first of `prefer` that has it, else the newest."""
        order = [*prefer, *sorted(self.plans, reverse=True)]
        for plan_id in order:
            found = self.action(plan_id, number)
            if found is not None:
                return found
        return None

    def all_actions(self) -> list[Action]:
        """Every action of every plan, plans in order."""
        return [a for p in sorted(self.plans) for a in self.plans[p].actions.values()]

    def teams(self) -> dict[str, str]:
        """Every lead team named in the plans: compared form → as written (first seen)."""
        found: dict[str, str] = {}
        for action in self.all_actions():
            for lead in action.leads:
                found.setdefault(team_key(lead), lead)
        return found


def plans_directory(content_root: Path) -> Path:
    """Where the plan files live."""
    return content_root / "actions" / "plans"


def load_plans(directory: Path, *, annual: AnnualReview | None = None) -> Plans:
    """Read and check every *.yaml plan file in `directory`."""
    plans: dict[str, Plan] = {}
    problems: list[PlanProblem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            written = load_model(path, PlanFile)
        except ContentError as error:
            problems += [PlanProblem(path.stem, None, line) for line in str(error).splitlines()]
            continue
        plan = _read_plan(path, written, problems, annual)
        if plan.id in plans:
            problems.append(PlanProblem(plan.id, None, f"defined twice ({path.name})"))
            continue
        plans[plan.id] = plan
    return Plans(plans, problems)


def check_plan_file(path: Path) -> None:
    """For `edi-bot content check`: ContentError with a plan file's errors (notes to confirm
    are for `edi-bot actions validate`)."""
    problems: list[PlanProblem] = []
    _read_plan(path, load_model(path, PlanFile), problems, None)
    errors = [f"{path}: {p}" for p in problems if p.kind == "error"]
    if errors:
        raise ContentError("\n".join(errors))


def _read_plan(
    path: Path, written: PlanFile, problems: list[PlanProblem], annual: AnnualReview | None
) -> Plan:
    """The plan, with what needs the whole of it checked: objectives, numbers, deadlines."""
    plan_id = written.plan
    plan = Plan(plan_id, written.title or plan_id, written.starts, path)
    plan.closed_on = written.closed_on if written.status == "closed" else None
    for item in written.objectives:
        objective = Objective(item.id, item.title, item.confirm or None)
        if objective.confirm:
            problems.append(
                PlanProblem(plan_id, f"objective {objective.id}", objective.confirm, "confirm")
            )
        plan.objectives[objective.id] = objective
    for entry in written.actions:
        action = _read_action(plan, entry, problems, annual)
        if action.number in plan.actions:
            problems.append(
                PlanProblem(plan_id, action.number, "duplicate action number (used twice)")
            )
            continue
        plan.actions[action.number] = action
    return plan


def _read_action(
    plan: Plan, item: ActionEntry, problems: list[PlanProblem], annual: AnnualReview | None
) -> Action:
    number, confirm = item.number, item.confirm or None
    if confirm:
        problems.append(PlanProblem(plan.id, number, confirm, "confirm"))
    if item.objective not in plan.objectives:
        problems.append(PlanProblem(plan.id, number, f"unknown objective {item.objective!r}"))
    deadline: Deadline | None = None
    try:
        deadline = parse_deadline(item.deadline, starts=plan.starts, annual=annual)
    except DeadlineError as error:
        if not (confirm and not item.deadline):
            problems.append(PlanProblem(plan.id, number, f"deadline {item.deadline!r}: {error}"))
    return Action(
        plan.id,
        number,
        item.objective,
        item.action,
        tuple(item.leads),
        item.deadline,
        tuple(m for m in item.success_measures if m),
        confirm,
        deadline,
    )
