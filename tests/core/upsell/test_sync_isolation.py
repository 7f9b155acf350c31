"""One Salesforce row that cannot be applied is recorded and read again; the others are synced."""

from datetime import UTC, date, datetime

from sqlalchemy import select

from core.audit.models import JobItemFailure, Watermark
from core.integrations.base import Opportunity
from core.upsell.models import Upsell
from core.upsell.sources import OPPORTUNITY_WATERMARK, sync_salesforce
from tests import factories as f
from tests.core.upsell.scenarios import catalog

ACCOUNT = "001000000000001AAA"


def _opportunity(opp_id: str, amount: float, modified: datetime) -> Opportunity:
    return Opportunity(
        id=opp_id,
        account_id=ACCOUNT,
        name=f"Expansion {opp_id}",
        type="Upsell",
        amount=amount,
        close_date=date(2026, 11, 1),
        owner_name=None,
        owner_email=None,
        last_modified=modified,
        success_criteria=None,
        products=[{"code": "analytics", "name": "Analytics", "quantity": 1, "arr": 1000.0}],
    )


class Crm:
    """Answers like Salesforce: rows modified after the mark (to the second), oldest first."""

    def __init__(self, opportunities: list[Opportunity]) -> None:
        self.opportunities = opportunities
        self.asked: list[datetime | None] = []

    def closed_upsells_since(self, since):
        self.asked.append(since)
        cut = since.replace(microsecond=0) if since else None
        return [o for o in self.opportunities if cut is None or o.last_modified > cut]

    def amendments_since(self, since):
        return []

    def lost_renewals_since(self, since):
        return []


def _failures(session) -> dict[str, JobItemFailure]:
    stmt = select(JobItemFailure).execution_options(populate_existing=True)
    return {r.item_id: r for r in session.scalars(stmt)}


def test_a_row_that_cannot_be_applied_holds_the_watermark_and_is_read_again(session):
    catalog(session)
    f.customer(session, crm_id=ACCOUNT)
    at = [datetime(2026, 11, d, 10, tzinfo=UTC) for d in (2, 3, 4)]
    # 10^13 does not fit an upsell's ARR (Numeric(14, 2)): the database refuses that row.
    rows = [_opportunity("006A", 1000, at[0]), _opportunity("006X", 1e13, at[1])]
    crm = Crm([*rows, _opportunity("006C", 3000, at[2])])

    result = sync_salesforce(session=session, crm=crm, now=at[2])

    assert result["opportunities"]["created"] == 2
    assert set(session.scalars(select(Upsell.opportunity_id))) == {"006A", "006C"}
    failure = _failures(session)["006X"]
    assert failure.item_type == "salesforce_opportunity"
    assert failure.reason.startswith("The database refused it:")
    mark = session.get(Watermark, OPPORTUNITY_WATERMARK)
    assert datetime.fromisoformat(mark.value) < at[1]  # just before the failed row

    crm.opportunities[1] = _opportunity("006X", 2000, at[1])  # corrected in Salesforce
    result = sync_salesforce(session=session, crm=crm, now=at[2])
    assert result["opportunities"]["created"] == 1  # 006X; 006C is read again, unchanged
    assert result["opportunities"]["unchanged"] == 1
    assert set(session.scalars(select(Upsell.opportunity_id))) == {"006A", "006X", "006C"}
    assert _failures(session) == {}
    session.expire_all()
    mark = session.get(Watermark, OPPORTUNITY_WATERMARK)
    assert datetime.fromisoformat(mark.value) == at[2]
