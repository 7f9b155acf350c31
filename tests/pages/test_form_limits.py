"""The UI's forms follow the API's input policy: the same limits (shown as counters), the same
refusal of control characters and of line breaks in one-line fields, in the same words."""

import uuid
from datetime import timedelta
from decimal import Decimal

from annotated_types import MaxLen
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from core.accounts.models import User
from core.base import Role, Segment
from core.customers.models import Customer
from core.db import session_scope
from core.drafts import service
from core.drafts.models import Draft, DraftKind
from core.drafts.templates import BODY_MAX, SUBJECT_MAX
from core.goals.schemas import AchieveIn
from core.marketing.schemas import FlagIn
from core.schemas import NOTE_LENGTH
from core.upsell.models import Review
from core.upsell.progress import update_progress
from core.upsell.schemas import ReviewIn
from tests.core.upsell.scenarios import CONTACTS
from tests.factories import NOW, auto, csm, customer, observe_days, plan
from tests.pages import apptest


def api_limit(model, field: str) -> int:
    """Return the maximum length the API's request model allows for `field`."""
    return next(m.max_length for m in model.model_fields[field].metadata if isinstance(m, MaxLen))


def _shown(elements, text: str) -> bool:
    return any(text in str(e.value).replace("\\", "") for e in elements)


def _form_button(at: AppTest, prefix: str):
    return next(b for b in at.button if b.key.startswith(f"FormSubmitter:{prefix}"))


def _plan() -> tuple[uuid.UUID, uuid.UUID]:
    start = NOW.date() - timedelta(days=35)
    with session_scope() as session:
        owner = csm(session)
        cust = customer(session, owner=owner, contacts=CONTACTS)
        metrics = [auto("Active users", "active_users", 10, 50)]
        row = plan(session, cust, started_on=start, metrics=metrics)
        observe_days(session, cust, "active_users", start - timedelta(days=40), NOW.date(), 20)
        update_progress(session=session, now=NOW, measurement_ids=[row.id])
        return owner.id, row.id


def _reviews() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Review))


def test_the_api_and_the_forms_share_their_limits():
    assert api_limit(ReviewIn, "findings") == api_limit(ReviewIn, "next_steps") == 5000
    assert api_limit(AchieveIn, "note") == api_limit(FlagIn, "notes") == NOTE_LENGTH


def test_the_review_form_counts_to_the_api_limit_and_refuses_control_characters(scratch_db):
    owner_id, plan_id = _plan()
    at = apptest.open_page(owner_id, "../pages/upsells.py", plan=str(plan_id))
    findings, steps = at.text_area[0], at.text_area[1]
    assert findings.max_chars == api_limit(ReviewIn, "findings")
    assert steps.max_chars == api_limit(ReviewIn, "next_steps")
    findings.input("Strong start\x07 in the EU team")
    _form_button(at, "review_").click().run()
    assert not at.exception
    assert _shown(at.error, "Findings: must not contain control characters")
    assert _reviews() == 0

    at.text_area[0].input("Strong start.\nThe EU team uses it daily.")
    _form_button(at, "review_").click().run()
    assert _shown(at.success, "Recorded the day-30 review") and _reviews() == 1


def _draft() -> tuple[uuid.UUID, uuid.UUID]:
    with session_scope() as session:
        owner = User(email="casey@outcomes.example", name="Casey CSM", role=Role.CSM)
        session.add(owner)
        session.flush()
        acme = Customer(
            name="Acme",
            industry="Retail",
            segment=Segment.SMB,
            region="EMEA",
            arr=Decimal(1000),
            owner_csm_id=owner.id,
        )
        session.add(acme)
        session.flush()
        draft = service.create_draft(
            session=session,
            kind=DraftKind.CUSTOMER_EMAIL,
            customer_id=acme.id,
            owner_id=owner.id,
            related_type="goal_achievement",
            related_id=uuid.uuid4(),
            to=["pat@acme.example"],
            subject="Congratulations",
            body="Hi Pat",
        )
        return owner.id, draft.id


def test_the_draft_editor_counts_to_its_limits_and_keeps_subjects_on_one_line(scratch_db):
    owner_id, draft_id = _draft()
    at = apptest.open_page(owner_id, "../pages/approvals.py")
    subject = at.text_input(key=f"draft_subject_{draft_id}")
    body = at.text_area(key=f"draft_body_{draft_id}")
    reason = at.text_input(key=f"draft_reason_{draft_id}")
    assert (subject.max_chars, body.max_chars) == (SUBJECT_MAX, BODY_MAX)
    assert reason.max_chars == NOTE_LENGTH

    subject.input("Well done\u2028Bcc: someone")
    at.button(key=f"draft_save_{draft_id}").click().run()
    assert not at.exception
    assert _shown(at.error, "Subject: must be a single line")
    body_nul = at.text_area(key=f"draft_body_{draft_id}")
    at.text_input(key=f"draft_subject_{draft_id}").input("Well done")
    body_nul.input("Hi Pat\x00")
    at.button(key=f"draft_save_{draft_id}").click().run()
    assert _shown(at.error, "Body: must not contain a NUL character")
    with session_scope() as session:
        stored = session.get(Draft, draft_id)
        assert (stored.subject, stored.body) == ("Congratulations", "Hi Pat")
