"""An upsell recorded by hand in the app gets its measurement plan at once."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.base import Role
from core.errors import Forbidden, Invalid
from core.upsell.manual_entry import record_manual_upsell
from core.upsell.models import Measurement, Upsell, UpsellSource
from core.upsell.schemas import ManualUpsellIn
from tests import factories as f
from tests.core.upsell.scenarios import catalog

TODAY = datetime.now(UTC).date()


def entry(cust, person, **changes) -> ManualUpsellIn:
    fields = {
        "customer_id": cust.id,
        "name": "Analytics for the EU team",
        "arr_increase": 24000,
        "close_date": TODAY - timedelta(days=2),
        "products": ["analytics"],
        "stated_criteria": "Reach 70% adoption",
        "created_by": person.email,
    }
    return ManualUpsellIn(**{**fields, **changes})


@pytest.fixture
def setup(session):
    catalog(session)
    owner = f.csm(session)
    return f.actor(owner), f.customer(session, owner=owner)


def test_the_upsell_and_its_plan_are_recorded_together(session, setup):
    actor, cust = setup
    plan_id = record_manual_upsell(session=session, entry=entry(cust, actor), actor=actor)
    plan = session.get(Measurement, plan_id)
    upsell = session.get(Upsell, plan.upsell_id)
    assert (upsell.customer_id, upsell.source, upsell.arr_increase) == (
        cust.id,
        UpsellSource.MANUAL,
        24000,
    )
    assert upsell.name == "Analytics for the EU team" and plan.started_on == upsell.close_date


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"products": ["nope"]}, "products: unknown product"),
        ({"close_date": TODAY + timedelta(days=3)}, "cannot close in the future"),
    ],
)
def test_rules_beyond_the_body_name_the_field(session, setup, changes, message):
    actor, cust = setup
    with pytest.raises(Invalid, match=message):
        record_manual_upsell(session=session, entry=entry(cust, actor, **changes), actor=actor)
    assert session.scalar(select(Upsell.id).where(Upsell.customer_id == cust.id)) is None


def test_only_cs_staff_record_upsells(session, setup):
    _, cust = setup
    seller = f.actor(f.user(session, Role.SALES))
    with pytest.raises(Forbidden):
        record_manual_upsell(session=session, entry=entry(cust, seller), actor=seller)
