"""Plain words on every page: no enum value, key, missing value or validation jargon on screen.

Every page each role may open renders on the demo data, plus a customer's detail, a win's
details and an upsell plan's detail, and `problems` must find nothing on any of them.
"""

import pytest
from sqlalchemy import create_engine, func, select

from components.navigation import PAGES, specs_for
from core.accounts.models import User
from core.base import Role
from core.customers.models import Customer, Metric
from core.db import session_scope
from core.goals.models import Achievement
from core.outbox import service
from core.upsell.models import Measurement, MeasurementMetric, Product
from tests import factories as f
from tests.pages import apptest
from tests.pages.visible_text import problems

# Detail views, opened by their query parameter: a customer, a win and an upsell plan.
DETAILS = {
    "customer": "pages/customers.py",
    "achievement": "pages/achievement.py",
    "plan": "pages/upsells.py",
}


def _cases() -> list:
    cases = []
    for role in Role:
        for spec in specs_for(role):
            if not spec.visible:
                continue
            cases.append(pytest.param(role, spec.path, None, id=f"{role}-{_name(spec)}"))
        for query, path in DETAILS.items():
            if any(spec.path == path for spec in specs_for(role)):
                cases.append(pytest.param(role, path, query, id=f"{role}-{query}"))
    return cases


def _name(spec) -> str:
    return spec.path.removeprefix("pages/").removesuffix(".py")


@pytest.fixture(scope="module")
def demo(demo_url):
    """Per role: the user owning most customers, and what their detail pages open."""
    owned = select(func.count()).where(Customer.owner_csm_id == User.id).scalar_subquery()
    engine = create_engine(demo_url)
    found = {}
    with engine.connect() as conn:
        keys = set(conn.scalars(select(Metric.key))) | set(conn.scalars(select(Product.code)))
        # A one-word key ("revenue") is also a word people write; keys that are not words count.
        keys = {k for k in keys if "_" in k or "-" in k}
        for role in Role:
            user = conn.execute(
                select(User.id)
                .where(User.role == role, User.active.is_(True))
                .order_by(owned.desc(), User.name)
                .limit(1)
            ).scalar_one()
            mine = Customer.owner_csm_id == user if role == Role.CSM else True
            found[role] = {
                "user": user,
                "customer": _first(conn, select(Customer.id).where(mine).order_by(Customer.name)),
                "achievement": _first(
                    conn,
                    select(Achievement.id)
                    .join(Customer, Customer.id == Achievement.customer_id)
                    .where(mine)
                    .order_by(Achievement.achieved_at.desc()),
                ),
                "plan": _first(
                    conn,
                    select(Measurement.id)
                    .join(Customer, Customer.id == Measurement.customer_id)
                    .where(mine)
                    .order_by(
                        select(func.count())
                        .where(MeasurementMetric.measurement_id == Measurement.id)
                        .scalar_subquery()
                        .desc(),
                        Measurement.id,
                    ),
                ),
            }
    engine.dispose()
    return {"keys": keys, "roles": found}


def _first(conn, stmt):
    value = conn.execute(stmt.limit(1)).scalar_one_or_none()
    assert value is not None, f"demo data has nothing for {stmt}"
    return str(value)


@pytest.mark.parametrize(("role", "path", "detail"), _cases())
def test_the_page_speaks_plain_words(app_db, demo, role, path, detail):
    mine = demo["roles"][role]
    query = {detail: mine[detail]} if detail else {}
    at = apptest.open_page(mine["user"], f"../{path}", **query)
    found = problems(at, keys=demo["keys"])
    assert not found, "\n".join(found)


def test_every_page_is_covered():
    covered = {case.values[1] for case in _cases()}
    assert covered == {spec.path for spec in PAGES}


def _submit(at, prefix: str):
    button = next(b for b in at.button if b.key.startswith(f"FormSubmitter:{prefix}"))
    return button.click().run()


def test_refused_criteria_are_said_in_plain_words(app_db, demo):
    mine = demo["roles"][Role.CSM]
    at = apptest.open_page(mine["user"], "../pages/upsells.py", plan=mine["plan"])
    days = next(t for t in at.text_input if t.label == "Checkpoint days")
    days.input("0, 400")
    _submit(at, "customize_")
    assert not at.exception
    shown = [e.value.replace("\\", "") for e in at.error]
    assert any(m.startswith("Checkpoint days: ") for m in shown), shown
    assert problems(at, keys=demo["keys"]) == []


def test_refused_search_is_said_in_plain_words(app_db, demo):
    mine = demo["roles"][Role.SALES]
    at = apptest.open_page(mine["user"], "../pages/value_repository.py")
    at.text_input(key="rf_q").set_value("automation\nrenewal").run()  # a pasted line break
    assert not at.exception
    shown = [e.value.replace("\\", "") for e in at.error]
    assert any(m.startswith("Search wins: ") for m in shown), shown
    assert problems(at, keys=demo["keys"]) == []


def test_the_delivery_queue_speaks_plain_words(scratch_db):
    with session_scope() as session:
        admin = f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example")
        for channel in ("google_doc", "slack_message"):
            service.enqueue(
                session=session,
                channel=channel,
                payload={"text": channel},
                idempotency_key=f"record:{channel}:weekly_active_users",
            )
        session.flush()
        for delivery in service.claim(session=session, worker="t"):
            service.mark_not_configured(
                session=session, delivery=delivery, error="Google Docs is not configured."
            )
        admin_id = admin.id
    at = apptest.open_page(admin_id, "../pages/integrations.py")
    options = at.multiselect[0].options
    assert options and all(o.startswith(("Google Doc · ", "Slack message · ")) for o in options)
    assert problems(at, keys={"weekly_active_users"}) == []
