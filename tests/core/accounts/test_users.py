"""Admins set people up: invite, change, deactivate, reactivate; every change audited."""

import pytest
from sqlalchemy import select

from core.accounts import people
from core.accounts.models import User
from core.accounts.queries import user_view, user_views
from core.accounts.schemas import Actor, UserIn
from core.accounts.service import authenticate, create_api_key, revoke_api_key
from core.audit.models import AuditEntry
from core.base import Role
from core.errors import Conflict, Forbidden, Invalid, NotFound
from tests import factories as f


@pytest.fixture
def ada(session) -> User:
    return f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example")


@pytest.fixture
def by_ada(ada) -> Actor:
    return Actor(label=ada.email, user_id=ada.id)


def _body(name="Robin Lee", role=Role.CSM, **fields) -> UserIn:
    return UserIn(name=name, role=role, **fields)


def _audit(session, action: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.occurred_at)
        )
    )


def test_an_invited_person_is_stored_normalised_and_audited(session, ada, by_ada):
    body = _body(title="CSM, EMEA", slack_user_id=" u0123abcd ")
    view = people.invite_user(
        session=session, email=" Robin@Outcomes.Example ", body=body, actor=by_ada
    )
    assert (view.email, view.name, view.role) == ("robin@outcomes.example", "Robin Lee", Role.CSM)
    assert (view.title, view.slack_user_id, view.active) == ("CSM, EMEA", "U0123ABCD", True)
    [entry] = _audit(session, "user.invite")
    assert (entry.actor, entry.actor_user_id, entry.entity_id) == (ada.email, ada.id, str(view.id))
    assert entry.changes == {
        "email": "robin@outcomes.example",
        "name": "Robin Lee",
        "role": "csm",
        "title": "CSM, EMEA",
        "slackUserId": "U0123ABCD",
    }


def test_inviting_a_taken_email_is_a_conflict_naming_email(session, by_ada):
    f.csm(session, "Robin Lee", email="robin@outcomes.example")
    with pytest.raises(Conflict, match="^email: robin@outcomes.example already belongs to Robin"):
        people.invite_user(
            session=session, email="ROBIN@outcomes.example", body=_body(), actor=by_ada
        )
    f.csm(session, "Sam Gone", email="sam@outcomes.example", active=False)
    with pytest.raises(Conflict, match="deactivated; reactivate them"):
        people.invite_user(
            session=session, email="sam@outcomes.example", body=_body(), actor=by_ada
        )
    assert _audit(session, "user.invite") == []


@pytest.mark.parametrize(
    "email", ["", "robin", "robin@", "@outcomes.example", "robin@outcomes", "ro bin@x.example"]
)
def test_a_bad_email_is_refused_naming_the_field(session, by_ada, email):
    with pytest.raises(Invalid, match="^email: "):
        people.invite_user(session=session, email=email, body=_body(), actor=by_ada)


@pytest.mark.parametrize("slack", ["robin", "C0123ABCD", "U012", "U0123-ABCD", "@robin"])
def test_a_bad_slack_id_is_refused_in_plain_words(session, by_ada, slack):
    with pytest.raises(Invalid, match="^slackUserId: must be a Slack member ID such as U0123ABCD"):
        people.invite_user(
            session=session,
            email="robin@outcomes.example",
            body=_body(slack_user_id=slack),
            actor=by_ada,
        )


def test_only_an_active_admin_manages_people(session):
    casey = f.csm(session, email="casey@outcomes.example")
    with pytest.raises(Forbidden, match="not an active admin"):
        people.invite_user(
            session=session,
            email="robin@outcomes.example",
            body=_body(),
            actor=Actor(label=casey.email, user_id=casey.id),
        )


def test_a_change_records_only_what_changed(session, ada, by_ada):
    robin = f.csm(session, "Robin Lee", email="robin@outcomes.example", title="CSM")
    loaded = user_view(session=session, email=robin.email)
    body = _body("Robin Lee-Park", Role.LEADER, expected_updated_at=loaded.updated_at)
    view = people.update_user(session=session, email=robin.email, body=body, actor=by_ada)
    assert (view.name, view.role, view.title) == ("Robin Lee-Park", Role.LEADER, "CSM")
    assert view.updated_at != loaded.updated_at
    [entry] = _audit(session, "user.update")
    assert entry.changes == {
        "email": robin.email,
        "name": ["Robin Lee", "Robin Lee-Park"],
        "role": ["csm", "leader"],
    }
    cleared = people.update_user(
        session=session,
        email=robin.email,
        body=_body("Robin Lee-Park", Role.LEADER, title=""),
        actor=by_ada,
    )
    assert cleared.title is None
    unchanged = people.update_user(
        session=session, email=robin.email, body=_body("Robin Lee-Park", Role.LEADER), actor=by_ada
    )
    assert unchanged.updated_at == cleared.updated_at
    assert len(_audit(session, "user.update")) == 2


def test_an_edit_from_a_stale_form_conflicts_and_saves_nothing(session, by_ada):
    robin = f.csm(session, "Robin Lee", email="robin@outcomes.example")
    loaded = user_view(session=session, email=robin.email)
    first = _body("Robin L.", expected_updated_at=loaded.updated_at)
    people.update_user(session=session, email=robin.email, body=first, actor=by_ada)
    second = _body("Robin Lee", Role.LEADER, expected_updated_at=loaded.updated_at)
    with pytest.raises(
        Conflict, match="Someone else changed Robin L. \\(robin@outcomes.example\\)"
    ):
        people.update_user(session=session, email=robin.email, body=second, actor=by_ada)
    assert (user_view(session=session, email=robin.email).role, robin.name) == (
        Role.CSM,
        "Robin L.",
    )


def test_save_user_invites_then_updates(session, by_ada):
    created, is_new = people.save_user(
        session=session, email="robin@outcomes.example", body=_body(), actor=by_ada
    )
    assert is_new
    updated, is_new = people.save_user(
        session=session, email="robin@outcomes.example", body=_body("Robin"), actor=by_ada
    )
    assert (is_new, updated.id, updated.name) == (False, created.id, "Robin")
    with pytest.raises(Invalid, match="^expectedUpdatedAt: nobody has the email"):
        people.save_user(
            session=session,
            email="new@outcomes.example",
            body=_body(expected_updated_at=created.updated_at),
            actor=by_ada,
        )


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(session, ada, by_ada):
    f.user(session, Role.ADMIN, "Old Admin", email="old@outcomes.example", active=False)
    with pytest.raises(Conflict, match="^Ada Admin is the last active admin"):
        people.deactivate_user(session=session, email=ada.email, actor=by_ada)
    with pytest.raises(Conflict, match="last active admin"):
        people.update_user(
            session=session, email=ada.email, body=_body("Ada Admin", Role.CSM), actor=by_ada
        )
    assert user_view(session=session, email=ada.email).active

    grace = f.user(session, Role.ADMIN, "Grace", email="grace@outcomes.example")
    view = people.deactivate_user(session=session, email=ada.email, actor=by_ada)
    assert not view.active
    by_grace = Actor(label=grace.email, user_id=grace.id)
    with pytest.raises(Conflict, match="^Grace is the last active admin"):
        people.deactivate_user(session=session, email=grace.email, actor=by_grace)


def test_deactivating_stops_bound_keys_until_reactivated(session, by_ada):
    robin = f.csm(session, "Robin Lee", email="robin@outcomes.example")
    _, bound = create_api_key(session=session, name="robin-bot", user_email=robin.email)
    _, unbound = create_api_key(session=session, name="etl", role="csm")
    assert authenticate(session=session, token=bound) is not None

    view = people.deactivate_user(session=session, email=robin.email, actor=by_ada)
    assert (view.active, view.bound_keys) == (False, 1)
    assert authenticate(session=session, token=bound) is None
    assert authenticate(session=session, token=unbound) is not None
    again = people.deactivate_user(session=session, email=robin.email, actor=by_ada)
    assert again.updated_at == view.updated_at  # already deactivated: nothing changes

    people.reactivate_user(session=session, email=robin.email, actor=by_ada)
    assert authenticate(session=session, token=bound) is not None
    [off] = _audit(session, "user.deactivate")
    [on] = _audit(session, "user.reactivate")
    assert off.changes == {"email": robin.email, "active": [True, False], "bound_keys": 1}
    assert on.changes["active"] == [False, True]


def test_unknown_people_are_not_found(session, by_ada):
    with pytest.raises(NotFound):
        people.deactivate_user(session=session, email="nobody@outcomes.example", actor=by_ada)
    with pytest.raises(NotFound):
        people.update_user(
            session=session, email="nobody@outcomes.example", body=_body(), actor=by_ada
        )


def test_people_are_listed_by_status_and_role(session, ada):
    f.csm(session, "Robin Lee", email="robin@outcomes.example")
    f.csm(session, "Sam Gone", email="sam@outcomes.example", active=False)

    def names(**filters) -> list[str]:
        return [v.name for v in user_views(session=session, **filters)]

    assert names() == ["Ada Admin", "Robin Lee"]
    assert names(status="inactive") == ["Sam Gone"]
    assert names(status="all") == ["Ada Admin", "Robin Lee", "Sam Gone"]
    assert names(status="all", role=Role.CSM) == ["Robin Lee", "Sam Gone"]


def test_keys_made_and_revoked_by_an_admin_are_audited_and_revoking_twice_is_harmless(
    session, ada, by_ada
):
    key, _ = create_api_key(session=session, name="crm", role="sales", actor=by_ada)
    revoke_api_key(session=session, key_id=key.id, actor=by_ada)
    revoke_api_key(session=session, key_id=key.id, actor=by_ada)
    assert key.revoked
    [made] = _audit(session, "api_key.create")
    assert (made.actor, made.changes) == (
        ada.email,
        {"name": "crm", "role": "sales", "acts_as": None},
    )
    assert len(_audit(session, "api_key.revoke")) == 1
