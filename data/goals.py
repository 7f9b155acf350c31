"""Success plans, milestones and goals of every type, with targets read off the generated data."""

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from data import phrases
from data.catalog import HIGHER, METRIC
from data.load import at, new_id
from data.people import Account

GOAL_TYPES = ("success_plan", "kpi", "onboarding", "roi", "custom")
KPI_METRICS = (
    "weekly_active_users",
    "feature_adoption",
    "automation_runs",
    "ticket_resolution_hours",
    "time_saved_hours",
    "csat",
)
EXTRA_GOALS = (
    ("kpi", 0.5),
    ("success_plan", 0.6),
    ("onboarding", 0.4),
    ("roi", 0.4),
    ("custom", 0.3),
)
KPI_WEIGHT = {"weekly_active_users": 4}


@dataclass
class Milestone:
    id: uuid.UUID
    name: str
    position: int
    due: date
    done_at: datetime | None = None
    goal_id: uuid.UUID | None = None


@dataclass
class Plan:
    id: uuid.UUID
    account: Account
    name: str
    objective: str
    status: str
    start: date
    target: date
    milestones: list[Milestone] = field(default_factory=list)


@dataclass
class Goal:
    id: uuid.UUID
    account: Account
    type: str
    start: date
    due: date | None
    plan: Plan | None = None
    metric: str | None = None
    met: bool = False  # the data should show this goal reached
    scenario: str = "open"  # what its data does (data.scenarios)
    window: tuple[int, int, int] | None = None  # day indices: event, settled, end of data
    status: str = "active"
    name: str = ""
    description: str = ""
    baseline: Decimal | None = None
    start_value: Decimal | None = None  # the value at the start, as verification reads it
    target: Decimal | None = None
    cost: Decimal | None = None


def _finished(rng: random.Random, due: date, start: date, as_of: date) -> date:
    """The day a milestone was done: around its due day, or in the last weeks when early."""
    latest = as_of - timedelta(days=1)
    if due <= latest:
        day = min(due + timedelta(days=rng.randint(-10, 5)), latest)
    else:  # done ahead of schedule
        day = latest - timedelta(days=rng.randint(0, 75))
    return max(day, min(start, latest))


def _in_order(items: list[Milestone]) -> None:
    """Done milestones are done in their order: the earlier position, the earlier day."""
    done = [m for m in items if m.done_at is not None]
    for m, when in zip(done, sorted(m.done_at for m in done), strict=True):
        m.done_at = when


def _milestones(rng: random.Random, names, start: date, end: date, as_of: date, all_done: bool):
    step = max(1, (end - start).days // len(names))
    items = []
    for pos, name in enumerate(names):
        due = start + timedelta(days=step * (pos + 1))
        done = all_done or (due < as_of and rng.random() < 0.75) or rng.random() < 0.08
        finished = at(_finished(rng, due, start, as_of), rng) if done else None
        items.append(Milestone(new_id(rng), name, pos, due, finished))
    _in_order(items)
    return items


def _plan(rng, account, as_of, title, objective, start, target, status="active", done=False):
    plan = Plan(new_id(rng), account, title, objective, status, start, target)
    count = rng.randint(3, 6)
    names = sorted(rng.sample(range(len(phrases.MILESTONES)), count))
    picked = [phrases.MILESTONES[i] for i in names]
    plan.milestones = _milestones(rng, picked, start, target, as_of, done)
    return plan


def _dates(rng: random.Random, as_of: date, met: bool) -> tuple[date, date]:
    start = as_of - timedelta(days=rng.randint(120, 300))
    if not met and rng.random() < 0.25:  # already past due and not there yet
        return start, max(start + timedelta(days=60), as_of - timedelta(days=rng.randint(3, 60)))
    return start, as_of + timedelta(days=rng.randint(14, 200))


def _account_goals(
    rng: random.Random, account: Account, as_of: date, force: str | None, kpi: str | None
):
    """Return the account's plans and goals (metric targets are filled in later)."""
    pick = rng.sample(phrases.PLANS, 1)[0]
    start = as_of - timedelta(days=rng.randint(60, 330))
    main = _plan(
        rng,
        account,
        as_of,
        pick[0],
        pick[1].format(use_case=account.use_case.lower()),
        start,
        start + timedelta(days=rng.randint(180, 365)),
    )
    plans, goals = [main], []
    types = ["kpi"] + [t for t, p in EXTRA_GOALS if rng.random() < p]
    if force and force not in types:
        types.append(force)
    kpis = list(KPI_METRICS)
    met_chance = 0.3 + 0.3 * account.health / 100
    for kind in types:
        met = rng.random() < met_chance
        if kind == "kpi":
            # every account reports weekly active users; its industry's focus metrics come next
            weights = [KPI_WEIGHT.get(k, 3 if k in account.industry.focus else 1) for k in kpis]
            metric = kpis.pop(rng.choices(range(len(kpis)), weights)[0])
            if kpi is not None and kpi != metric:  # a deliberate case (data.scenarios.FORCED)
                kpis.append(metric)
                metric = kpis.pop(kpis.index(kpi)) if kpi in kpis else kpi
            # weekend dips make a target that must hold every day unfair for daily counts
            met = met and metric != "automation_runs"
            s, due = _dates(rng, as_of, met)
            goal = Goal(new_id(rng), account, kind, s, due, metric=metric, met=met)
            goal.plan = main if rng.random() < 0.5 else None
        elif kind == "roi":
            s, due = _dates(rng, as_of, met)
            goal = Goal(new_id(rng), account, kind, s, due, metric="cost_savings", met=met)
        elif kind == "custom":
            s = as_of - timedelta(days=rng.randint(20, 200))
            goal = Goal(new_id(rng), account, kind, s, s + timedelta(days=rng.randint(90, 240)))
            goal.name, goal.description = rng.choice(phrases.CUSTOM_GOALS)
        elif kind == "success_plan":
            done = rng.random() < 0.25
            goal = Goal(new_id(rng), account, kind, main.start, main.target, plan=main)
            goal.name = f"Complete the {main.name.lower()}"
            goal.description = main.objective
            for m in main.milestones:
                m.goal_id = goal.id
                if done and m.done_at is None:
                    m.done_at = at(_finished(rng, m.due, main.start, as_of), rng)
            _in_order(main.milestones)
        else:
            goal, plan = _onboarding(rng, account, as_of, met)
            plans += [plan] if plan else []
        goals.append(goal)
    if len(plans) == 1 and rng.random() < 0.25:  # an earlier plan, closed last year
        start = as_of - timedelta(days=rng.randint(420, 700))
        pick = rng.choice([p for p in phrases.PLANS if p is not pick])
        objective = pick[1].format(use_case=account.use_case.lower())
        end = start + timedelta(days=rng.randint(180, 300))
        finished = rng.random() < 0.85  # the rest were shelved half-way
        status = "completed" if finished else "archived"
        plans.append(_plan(rng, account, as_of, pick[0], objective, start, end, status, finished))
    return plans, goals


def _onboarding(rng: random.Random, account: Account, as_of: date, met: bool):
    variant = rng.choices(("checklist", "metric", "both"), (45, 35, 20))[0]
    team = rng.choice(phrases.TEAMS)
    s, due = _dates(rng, as_of, met)
    goal = Goal(new_id(rng), account, "onboarding", s, due)
    if variant != "checklist":
        goal.metric, goal.met = "onboarding_completion", met
    else:
        goal.name = f"Onboard the {team} team"
        goal.description = "Every item on the onboarding checklist signed off by the customer."
    if variant == "metric":
        return goal, None
    title, objective = phrases.ONBOARDING_PLAN
    objective = objective.format(team=team, use_case=account.use_case.lower())
    plan = Plan(new_id(rng), account, title.format(team=team), objective, "active", s, due)
    names = phrases.CHECKLIST[: rng.randint(4, len(phrases.CHECKLIST))]
    all_done = variant == "checklist" and rng.random() < 0.4
    plan.milestones = _milestones(rng, names, s, max(due, s + timedelta(days=60)), as_of, all_done)
    for m in plan.milestones:
        m.goal_id = goal.id
    goal.plan = plan
    return goal, plan


def plan_goals(
    rng: random.Random, accounts: list[Account], as_of: date, kpi_metrics: dict[int, str]
):
    """Return every plan and goal; the first accounts carry one goal of each type.

    `kpi_metrics` names the KPI metric of the first accounts (their deliberate cases).
    """
    plans, goals = [], []
    for account in accounts:
        force = GOAL_TYPES[account.index] if account.index < len(GOAL_TYPES) else None
        p, g = _account_goals(rng, account, as_of, force, kpi_metrics.get(account.index))
        plans += p
        goals += g
    return plans, goals


PLAN_COLUMNS = (
    "id",
    "customer_id",
    "name",
    "objective",
    "status",
    "owner_id",
    "start_date",
    "target_date",
)
GOAL_COLUMNS = (
    "id",
    "customer_id",
    "plan_id",
    "type",
    "name",
    "description",
    "use_case",
    "metric_key",
    "baseline",
    "target",
    "direction",
    "unit",
    "cost",
    "start_date",
    "due_date",
    "status",
    "owner_id",
)
MILESTONE_COLUMNS = (
    "id",
    "plan_id",
    "goal_id",
    "name",
    "position",
    "due_date",
    "status",
    "completed_at",
    "completed_by_id",
)


def plan_rows(plans: list[Plan]):
    for p in plans:
        owner = p.account.owner.id
        yield (p.id, p.account.id, p.name, p.objective, p.status, owner, p.start, p.target)


def goal_rows(goals: list[Goal]):
    for g in goals:
        m = METRIC.get(g.metric or "")
        yield (
            g.id,
            g.account.id,
            g.plan.id if g.plan else None,
            g.type,
            g.name,
            g.description,
            g.account.use_case,
            g.metric,
            g.baseline,
            g.target,
            m.direction if m else HIGHER,
            m.unit if m else None,
            g.cost,
            g.start,
            g.due,
            g.status,
            g.account.owner.id,
        )


def milestone_rows(plans: list[Plan]):
    for p in plans:
        for m in p.milestones:
            by = p.account.owner.id if m.done_at else None
            status = "done" if m.done_at else "open"
            yield (m.id, p.id, m.goal_id, m.name, m.position, m.due, status, m.done_at, by)
