"""Generate the deterministic demo dataset: `python -m data.demo [--customers N] [--seed S]`.

The same (customers, seed, as_of) always writes the same rows, ids included: every id and draw
comes from seeded random streams and the daily usage noise from hashing inside PostgreSQL.
"""

import argparse
import sys
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from core.customers.health import refresh_scores
from data import (
    activity,
    expansions,
    goals,
    observations,
    people,
    plan_history,
    scenarios,
    targets,
    usage,
    win_history,
)
from data.load import copy_rows, midnight, rebuilt_afterwards, stream
from data.reference import load_reference

ROOT = Path(__file__).resolve().parent.parent
SEED_LOCK = 7_402_931_118  # advisory lock key: two launchers never seed at once
CHECKED_AFTERWARDS = (
    "customers",
    "customer_contacts",
    "success_plans",
    "goals",
    "milestones",
    "customer_feedback",
    "upsells",
    "upsell_products",
    "timeline_events",
    "customer_events",
)
ANALYZED = CHECKED_AFTERWARDS + ("users", "metrics", "success_templates", "industry_benchmarks")


def generate(
    conn: Connection, *, customers: int = 200, seed: int = 7, as_of: date | None = None
) -> dict[str, int]:
    """Write the whole dataset through `conn` (inside the caller's transaction); return row counts.

    Expects a migrated database without demo rows. Usage data covers the 365 days before `as_of`
    (default: today, UTC), and from before their close for customers with older upsells. What
    the app did before `as_of` is written too: the older upsells' plans, reviews and confirmed
    outcomes (data.plan_history) and the wins reached before the last four weeks, documented at
    the time (data.win_history); the last weeks are left for the jobs' first run.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    as_of = as_of or datetime.now(UTC).date()
    staff = people.make_staff(stream(seed, "staff"), customers)
    by_role = {role: [p for p in staff if p.role == role] for role in ("csm", "sales", "admin")}
    accounts = people.make_accounts(stream(seed, "accounts"), customers, by_role["csm"], as_of)
    plans, all_goals = goals.plan_goals(
        stream(seed, "goals"), accounts, as_of, scenarios.FORCED_KPI
    )
    shapes = scenarios.assign(stream(seed, "scenarios"), all_goals, as_of)
    deals = expansions.plan_expansions(
        stream(seed, "expansions"), accounts, by_role["sales"], as_of
    )
    scenarios.follow(all_goals, shapes, {e.account.id: e.shapes for e in deals}, as_of)
    stops = expansions.stops(deals, as_of)
    series = usage.plan_series(stream(seed, "series"), accounts, shapes, stops)
    left = {e.account.id for e in deals if e.churn_on}

    counts = Counter(users=copy_rows(conn, "users", people.USER_COLUMNS, people.user_rows(staff)))
    counts.update(load_reference(conn, stream(seed, "reference"), by_role["admin"][0].id))
    with ExitStack() as stack:  # foreign keys are checked once per table at the end
        for table in CHECKED_AFTERWARDS:
            stack.enter_context(rebuilt_afterwards(conn, table, indexes=False))
        counts.update(_load_accounts(conn, accounts))
        counts["metric_observations"] = observations.load_observations(
            conn, series, seed=seed, as_of=as_of
        )
        counts.update(_load_goals(conn, plans, all_goals, left, seed=seed, as_of=as_of))
        counts.update(
            _load_activity(conn, stream(seed, "activity"), accounts, plans, series, as_of)
        )
        counts.update(_load_upsells(conn, stream(seed, "upsells"), deals))
    # Fresh statistics: the history below and the app's first queries join these tables.
    conn.exec_driver_sql(f"ANALYZE {', '.join(ANALYZED)}")
    older = [e for e in deals if e.history]
    counts.update(plan_history.load(conn, stream(seed, "plan_history"), older, as_of=as_of))
    metrics_of = defaultdict(list)
    for s in series:
        metrics_of[s.customer_id].append(s.metric_key)
    counts.update(
        win_history.load(conn, stream(seed, "win_history"), all_goals, deals, metrics_of, as_of)
    )
    counts.update(_settle_health(conn, as_of))
    return dict(counts)


def _settle_health(conn: Connection, as_of: date) -> dict[str, int]:
    """Store every customer's score as the health rules combine its seeded factors.

    The seeded score is the CRM's and becomes the `crm_health` factor; the list, Home and the
    customer page then show the same number from the first moment, not after the first job run.
    Nothing is queued for the CRM: it already holds the history the demo writes.
    """
    factors = text("SELECT count(*) FROM health_factors")
    before = conn.execute(factors).scalar_one()
    session = Session(bind=conn)
    try:
        # Computed just before as_of, like everything else the app did before it.
        computed = midnight(as_of) - timedelta(seconds=1)
        refresh_scores(session=session, now=computed, write_back=False)
        session.flush()
    finally:
        session.close()
    return {"health_factors": conn.execute(factors).scalar_one() - before}


def _load_accounts(conn: Connection, accounts) -> dict[str, int]:
    return {
        "customers": copy_rows(
            conn, "customers", people.CUSTOMER_COLUMNS, people.customer_rows(accounts)
        ),
        "customer_contacts": copy_rows(
            conn, "customer_contacts", people.CONTACT_COLUMNS, people.contact_rows(accounts)
        ),
    }


def _load_goals(conn: Connection, plans, all_goals, left, *, seed: int, as_of: date) -> dict:
    probes = observations.probe(
        conn, targets.probe_windows(all_goals, as_of), as_of=as_of, recent_days=targets.RECENT_DAYS
    )
    targets.set_targets(stream(seed, "targets"), all_goals, probes)
    for goal in all_goals:
        if goal.account.id in left:  # the customer left: its CSM closed the goals
            goal.status = "cancelled"
    return {
        "success_plans": copy_rows(
            conn, "success_plans", goals.PLAN_COLUMNS, goals.plan_rows(plans)
        ),
        "goals": copy_rows(conn, "goals", goals.GOAL_COLUMNS, goals.goal_rows(all_goals)),
        "milestones": copy_rows(
            conn, "milestones", goals.MILESTONE_COLUMNS, goals.milestone_rows(plans)
        ),
    }


def _load_activity(conn: Connection, rng, accounts, plans, series, as_of) -> dict[str, int]:
    metrics_of: dict = {}
    for s in series:
        metrics_of.setdefault(s.customer_id, []).append(s.metric_key)
    counts = {
        "customer_feedback": copy_rows(
            conn,
            "customer_feedback",
            activity.FEEDBACK_COLUMNS,
            activity.feedback_rows(rng, accounts, metrics_of, as_of),
        )
    }
    main_plan: dict = {}
    for plan in plans:
        main_plan.setdefault(plan.account.id, plan)
    counts["timeline_events"] = copy_rows(
        conn,
        "timeline_events",
        activity.TIMELINE_COLUMNS,
        activity.timeline_rows(rng, accounts, main_plan, as_of),
    )
    return counts


def _load_upsells(conn: Connection, rng, deals) -> dict[str, int]:
    """Upsells, their lines, and the churn and contraction events with their timeline lines."""
    found = expansions.events(rng, deals)
    counts = {
        "upsells": copy_rows(
            conn, "upsells", expansions.UPSELL_COLUMNS, expansions.upsell_rows(rng, deals)
        ),
        "upsell_products": copy_rows(
            conn, "upsell_products", expansions.UPSELL_PRODUCT_COLUMNS, expansions.line_rows(deals)
        ),
        "customer_events": copy_rows(
            conn, "customer_events", expansions.EVENT_COLUMNS, expansions.event_rows(found)
        ),
    }
    counts["timeline_events"] = copy_rows(
        conn, "timeline_events", activity.TIMELINE_COLUMNS, expansions.event_lines(found)
    )
    return counts


def _customer_count(conn: Connection) -> int:
    return conn.execute(text("SELECT count(*) FROM customers")).scalar_one()


def seed_if_empty(
    bind: Connection | Engine, *, customers: int, seed: int, as_of: date | None = None
) -> bool:
    """Generate the demo data when no customer exists yet; return True if it did.

    Given a Connection, works inside the caller's transaction; given an Engine, in its own.
    """
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            return seed_if_empty(conn, customers=customers, seed=seed, as_of=as_of)
    bind.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK})
    if _customer_count(bind):
        return False
    generate(bind, customers=customers, seed=seed, as_of=as_of)
    return True


def _migrate(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["skip_logging"] = True
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _truncate_all(conn: Connection) -> None:
    from core.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    conn.execute(text(f"TRUNCATE {names} CASCADE"))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m data.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200, help="number of customers (200)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--as-of", type=date.fromisoformat, help="day the data ends before (today)")
    parser.add_argument("--reset", action="store_true", help="empty every app table first")
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error("--customers must be at least 1")

    from core.db import get_engine

    engine = get_engine()
    _migrate(engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        existing = _customer_count(conn)
        if existing and not args.reset:
            print(
                f"The database already has {existing} customers; "
                "run again with --reset to replace everything with demo data.",
                file=sys.stderr,
            )
            return 1
        if args.reset:
            _truncate_all(conn)
        as_of = args.as_of or datetime.now(UTC).date()
        counts = generate(conn, customers=args.customers, seed=args.seed, as_of=as_of)
    elapsed = time.perf_counter() - started
    width = max(map(len, counts))
    for table, count in counts.items():
        print(f"{table:<{width}}  {count:>10,}")
    print(
        f"Generated in {elapsed:.1f} s "
        f"(customers={args.customers}, seed={args.seed}, as of {as_of.isoformat()})."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
