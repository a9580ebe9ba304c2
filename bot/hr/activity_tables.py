"""The activity tables of the quarterly report: hate incident reports, bulletin reach and
feedback, staff network membership and event attendance (built by `tables.build`)."""

from __future__ import annotations

from collections.abc import Callable

from bot.hr.cells import TableSpec, count, percent, sum_count
from bot.hr.config import HrConfig
from bot.hr.dataset import Dataset

Counter = Callable[..., str]  # `c` in `build`: adds a count with its value and cell key


def incident_tables(
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


def bulletin_tables(
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
        responses = sum_count(data, f"fb|{month}|responses", [useful, not_useful])
        feedback.rows.append((month, [count(useful), count(not_useful), count(responses)]))
    tables.append(feedback)


def event_tables(
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
