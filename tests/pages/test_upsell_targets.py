"""The Upsell progress page says where each target came from, in plain words."""

from core.db import session_scope
from core.upsell.models import TargetSource
from tests.core.upsell.scenarios import CONTACTS
from tests.factories import NOW, auto, csm, customer, manual, plan
from tests.pages import apptest

WHY = "100 users at close raised by 20%: the template's uplift for mid-market customers."


def test_each_target_shows_its_source_and_explanation(scratch_db):
    with session_scope() as session:
        owner = csm(session)
        metrics = [
            auto("Active users", "active_users", 100, 120)
            | {"target_source": TargetSource.TEMPLATE_UPLIFT, "target_explanation": WHY},
            manual("Hours saved", 0, 20) | {"target_source": TargetSource.CSM},
            manual("Dashboards", None, 3),  # drafted elsewhere: no source recorded
        ]
        row = plan(
            session,
            customer(session, owner=owner, contacts=CONTACTS),
            started_on=NOW.date(),
            metrics=metrics,
        )
        owner_id, plan_id = owner.id, row.id
    at = apptest.open_page(owner_id, "../pages/upsells.py", plan=str(plan_id))
    assert not at.exception
    captions = [str(c.value).replace("\\", "") for c in at.caption]
    assert f"Target: **Template uplift** — {WHY}" in captions
    assert "Target: **Set by CSM**" in captions
    assert sum(c.startswith("Target:") for c in captions) == 2
    assert not any("template_uplift" in c or "None" in c for c in captions)
