"""The action plans, read from content/actions/plans/*.yaml and checked.

Each file is one plan: its objectives and actions (number, objective, action, lead teams,
deadline as written, success measures, and an optional `confirm:` note for the policy
team where the source text was garbled). Problems are collected, not raised one at a time,
so `edi-bot actions validate` can list them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from bot.actions.deadlines import AnnualReview, Deadline, DeadlineError, parse_deadline
from bot.core.content import ContentError, load_yaml

PLAN_ID = re.compile(r"^\d{4}-\d{2}$")
NUMBER = re.compile(r"^(?:[A-Z]\d{1,2}|\d{1,2}\.\d{1,2})$")


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
            data = load_yaml(path)
        except ContentError as error:
            problems.append(PlanProblem(path.stem, None, str(error)))
            continue
        plan = _read_plan(path, data, problems, annual)
        if plan is None:
            continue
        if plan.id in plans:
            problems.append(PlanProblem(plan.id, None, f"defined twice ({path.name})"))
            continue
        plans[plan.id] = plan
    return Plans(plans, problems)


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _read_plan(
    path: Path, data: Any, problems: list[PlanProblem], annual: AnnualReview | None
) -> Plan | None:
    name = path.stem
    if not isinstance(data, dict):
        problems.append(PlanProblem(name, None, f"{path.name} is not a mapping"))
        return None
    plan_id = _text(data.get("plan"))
    if not PLAN_ID.match(plan_id):
        problems.append(PlanProblem(name, None, '`plan:` must be like "2022-23"'))
        return None
    starts = data.get("starts")
    if not isinstance(starts, date):
        problems.append(PlanProblem(plan_id, None, "`starts:` must be a date (YYYY-MM-DD)"))
        return None
    plan = Plan(plan_id, _text(data.get("title")) or plan_id, starts, path)
    for item in data.get("objectives") or []:
        if not isinstance(item, dict) or not _text(item.get("id")):
            problems.append(PlanProblem(plan_id, None, "an objective without an `id`"))
            continue
        objective = Objective(
            _text(item["id"]), _text(item.get("title")), _text(item.get("confirm")) or None
        )
        if objective.confirm:
            problems.append(
                PlanProblem(plan_id, f"objective {objective.id}", objective.confirm, "confirm")
            )
        plan.objectives[objective.id] = objective
    actions = data.get("actions")
    if not isinstance(actions, list) or not actions:
        problems.append(PlanProblem(plan_id, None, "no `actions:` list"))
        return plan
    for item in actions:
        action = _read_action(plan, item, problems, annual)
        if action is None:
            continue
        if action.number in plan.actions:
            problems.append(
                PlanProblem(plan_id, action.number, "duplicate action number (used twice)")
            )
            continue
        plan.actions[action.number] = action
    return plan


def _read_action(
    plan: Plan, item: Any, problems: list[PlanProblem], annual: AnnualReview | None
) -> Action | None:
    if not isinstance(item, dict):
        problems.append(PlanProblem(plan.id, None, "an action that is not a mapping"))
        return None
    number = _text(item.get("number")).upper()
    if not NUMBER.match(number):
        problems.append(
            PlanProblem(plan.id, number or None, "action number must be like 4.1 or D1")
        )
        return None
    confirm = _text(item.get("confirm")) or None
    if confirm:
        problems.append(PlanProblem(plan.id, number, confirm, "confirm"))
    objective = _text(item.get("objective"))
    if objective not in plan.objectives:
        problems.append(PlanProblem(plan.id, number, f"unknown objective {objective!r}"))
    text = _text(item.get("action"))
    if not text:
        problems.append(PlanProblem(plan.id, number, "no `action:` text"))
    leads = tuple(_text(lead) for lead in item.get("leads") or [] if _text(lead))
    if not leads:
        problems.append(PlanProblem(plan.id, number, "no `leads:`"))
    measures = tuple(_text(m) for m in item.get("success_measures") or [] if _text(m))
    wording = _text(item.get("deadline"))
    deadline: Deadline | None = None
    try:
        deadline = parse_deadline(wording, starts=plan.starts, annual=annual)
    except DeadlineError as error:
        if not (confirm and not wording):
            problems.append(PlanProblem(plan.id, number, f"deadline {wording!r}: {error}"))
    return Action(plan.id, number, objective, text, leads, wording, measures, confirm, deadline)
