"""Page script time: every page as each role that may open it, cold and warm, on a demo book.

Cold is the first run of a fresh AppTest with Streamlit's data caches cleared; warm is a second
run of that same AppTest (what a rerun after a widget change costs when nothing changed). A
fresh AppTest opens every page the way a signed-in deep link does (components/deep_link), so the
first run is the page itself, not the role's landing first. Each role's landing is timed once
more as opened at the app's root "/" (components/navigation.LANDINGS), named after what it shows
(e.g. "/ → Today" for a CSM, "/ → System" for an admin). Each page is opened twice and its best
cold and best warm run are shown: the machine is shared, and the page's own work is the figure.
Garbage is collected before each timed run: a full collection of this long-lived process takes
up to half a second and would land on whichever page happened to allocate last.

Seeding 10,000 customers takes about a minute. To reuse one seeded demo between runs, set
BENCH_PAGES_DATA to a directory: the embedded PostgreSQL there is kept (started, migrated to
head, seeded only while it holds no customers), e.g.
`BENCH_PAGES_DATA=/tmp/bench-10k python -m bench pages --customers 10000`. A kept demo is reused
whatever its size: delete the directory to seed another scale.
"""

import gc
import logging
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

WARM_BUDGET_MS, COLD_BUDGET_MS = 300, 1500
BUDGET = "budget: warm ≤ 300 ms, cold ≤ 1.5 s"
BEFORE = (
    "before (10,000 customers): cold, 7 views over budget at 1.8–2.5 s (Wins for team-wide roles, "
    "the leaders' landing, Home for leader and admin): each derived achievement capture's "
    "unrecorded goals from every usage series (1.6–3.9 s), now stored per goal by a job"
)
KEEP_ENV = "BENCH_PAGES_DATA"  # a directory whose seeded demo is reused between runs
ROOT_PATH = "/"  # a visit with this path opens the app's root: the role's landing
TIMEOUT = 300  # seconds per run: the figure is the point, not a failure
REPEATS = 2  # fresh AppTests per page; the best run shows the page's work, not the machine's load


@dataclass(frozen=True)
class Visit:
    """One page opened by one role, with the query it is opened with."""

    path: str
    title: str
    role: object
    query: dict[str, str] = field(default_factory=dict)


def _users(conn) -> dict:
    """Return one active user per role: the one owning most customers (as the page tests do)."""
    from core.base import Role
    from core.models import Customer, User

    owned = select(func.count()).where(Customer.owner_csm_id == User.id).scalar_subquery()
    users = {}
    for role in Role:
        users[role] = conn.scalar(
            select(User.id)
            .where(User.role == role, User.active.is_(True))
            .order_by(owned.desc(), User.name)
            .limit(1)
        )
    return users


def _detail_ids(conn, csm_id) -> dict[str, str]:
    """Return a customer, a plan and a documented win of the CSM's own book, for detail pages."""
    from core.models import Achievement, Customer, SuccessRecord
    from core.upsell.models import Measurement, MeasurementMetric

    mine = select(Customer.id).where(Customer.owner_csm_id == csm_id)
    customer = conn.scalar(mine.order_by(Customer.name).limit(1))
    metrics = (
        select(func.count())
        .where(MeasurementMetric.measurement_id == Measurement.id)
        .scalar_subquery()
    )
    plan = conn.scalar(
        select(Measurement.id)
        .where(Measurement.customer_id.in_(mine))
        .order_by(metrics.desc(), Measurement.started_on)
        .limit(1)
    )
    win = conn.scalar(
        select(Achievement.id)
        .join(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
        .where(Achievement.customer_id.in_(mine))
        .order_by(Achievement.achieved_at.desc())
        .limit(1)
    )
    return {"customer": str(customer), "plan": str(plan), "achievement": str(win)}


def visits(users: dict, ids: dict[str, str]) -> list[Visit]:
    """Return each role's landing at "/", every page it may open, and the detail views."""
    from components.navigation import specs_for

    details = {
        "pages/customers.py": ("Customer detail", "customer"),
        "pages/upsells.py": ("Plan detail", "plan"),
        "pages/achievement.py": ("Win details (a win)", "achievement"),
    }
    out = []
    for role in users:
        out.append(Visit(ROOT_PATH, f"/ → {landing_title(role)}", role))
        for spec in specs_for(role):
            out.append(Visit(spec.path, spec.title, role))
            if spec.path in details:
                title, key = details[spec.path]
                out.append(Visit(spec.path, title, role, {key: ids[key]}))
    return out


def landing_title(role) -> str:
    """Return what a role's landing shows: Home is a CSM's Today and the team's page otherwise."""
    from components.navigation import landing
    from core.base import Role

    spec = landing(role)
    if spec.path != "pages/home.py":
        return spec.title
    return "Today" if role == Role.CSM else "Team wins and outcomes"


def measure(visit: Visit, user_id) -> tuple[float, float, str | None]:
    """Return the cold and warm script time (ms) of one visit and its exception, if any."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from components.deep_link import TARGET_KEY, Target
    from components.navigation import spec_at
    from tests.pages.apptest import MAIN

    st.cache_data.clear()
    at = AppTest.from_file(str(MAIN), default_timeout=TIMEOUT)
    at.session_state["user_id"] = str(user_id)
    if visit.path != ROOT_PATH:  # every page by its own link, so "/" never stands in for it
        url_path = visit.path.removeprefix("pages/").removesuffix(".py").replace("_", "-")
        assert spec_at(url_path) is not None, visit.path
        at.session_state[TARGET_KEY] = Target(url_path, visit.query)
    times = []
    for _ in range(2):
        gc.collect()
        started = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - started) * 1000)
    problem = str(at.exception[0].message) if at.exception else None
    return times[0], times[1], problem


def verdict(cold: float, warm: float) -> str:
    """Say whether a page meets the budget, and which half it misses."""
    over = [
        name
        for name, ms, cap in (("cold", cold, COLD_BUDGET_MS), ("warm", warm, WARM_BUDGET_MS))
        if ms > cap
    ]
    return "OK" if not over else "over budget (" + ", ".join(over) + ")"


@contextmanager
def _database():
    """Yield a migrated database URL: a throwaway one, or the kept one KEEP_ENV names."""
    from bench.scratch import scratch_database
    from core import db
    from core.embedded import start_embedded
    from tests.pg import migrate

    keep = os.environ.get(KEEP_ENV)
    if not keep:
        with scratch_database() as url:
            yield url
        return
    server, url = start_embedded(Path(keep), database="bench", cleanup_mode=None)
    migrate(url)
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    db.reset()
    try:
        yield url
    finally:
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        db.reset()


def run(customers: int | None = None) -> list[str]:
    """Seed a scratch demo of `customers` (300) customers, time every page; return the table."""
    from streamlit import config

    from core.base import Role
    from core.models import Customer
    from core.reporting.unrecorded import refresh_first_reach
    from data.demo import generate

    customers = customers or 300
    lines = []
    with _database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            if not conn.scalar(select(func.count()).select_from(Customer)):
                generate(conn, customers=customers, seed=7)
            customers = conn.scalar(select(func.count()).select_from(Customer))
        with Session(engine) as session:  # what the jobs process keeps stored for the pages
            refresh_first_reach(session=session)
            session.commit()
        with engine.connect() as conn:
            users = _users(conn)
            ids = _detail_ids(conn, users[Role.CSM])
        engine.dispose()
        measure(Visit(ROOT_PATH, "/", Role.CSM), users[Role.CSM])  # imports, connections
        # Bare-mode warnings on every run, and a failing page's traceback: the table names it.
        config.set_option("logger.enableRich", False)
        for name in list(logging.root.manager.loggerDict):
            if name.startswith("streamlit"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        lines.append(f"pages   {customers:,} customers, AppTest script time   {BUDGET}")
        lines.append(BEFORE)
        lines.append(f"{'page':<26} {'role':<10} {'cold ms':>9} {'warm ms':>9}  verdict")
        over = 0
        for visit in visits(users, ids):
            runs = [measure(visit, users[visit.role]) for _ in range(REPEATS)]
            cold, warm = min(r[0] for r in runs), min(r[1] for r in runs)
            problem = next((r[2] for r in runs if r[2]), None)
            state = verdict(cold, warm)
            over += state != "OK"
            role = visit.role.value
            line = f"{visit.title:<26} {role:<10} {cold:>9,.0f} {warm:>9,.0f}  {state}"
            lines.append(line + (f"  [error: {problem[:80]}]" if problem else ""))
            print(lines[-1], file=sys.stderr, flush=True)  # progress while the table builds
        lines.append(f"{over} page view(s) over budget")
    return lines
