"""The Streamlit app from its entry point: sign-in, role navigation and every page per role."""

import socket

import pytest
from sqlalchemy import create_engine, func, select
from streamlit.testing.v1 import AppTest

from components.navigation import PAGES, landing, specs_for
from components.role_guard import who
from core import db
from core.base import Role
from core.models import Customer, User
from tests.pages.apptest import new_app as app
from tests.pages.apptest import signed_in


def page(spec_path: str) -> str:
    """Return a registry path relative to app/ (AppTest resolves pages from the entry point)."""
    return f"../{spec_path}"


@pytest.fixture(scope="module")
def seeded(demo_url):
    """One seeded user per role (the one owning most customers) and the counts Home shows."""
    owned = select(func.count()).where(Customer.owner_csm_id == User.id).scalar_subquery()
    engine = create_engine(demo_url)
    with engine.connect() as conn:
        users = {}
        for role in Role:
            users[role] = conn.execute(
                select(User.id, User.email, User.name)
                .where(User.role == role, User.active.is_(True))
                .order_by(owned.desc(), User.name)
                .limit(1)
            ).one_or_none()
        missing = [role.value for role, u in users.items() if u is None]
        assert not missing, f"demo data has no user with role(s) {missing}"
        total = conn.scalar(select(func.count()).select_from(Customer))
        csm = users[Role.CSM]
        book = conn.scalar(select(func.count()).where(Customer.owner_csm_id == csm.id))
        some = conn.execute(select(Customer.id, Customer.name).order_by(Customer.name)).first()
    engine.dispose()
    return {"users": users, "total": total, "book": book, "customer": some}


def texts(at: AppTest) -> str:
    parts = [*at.title, *at.subheader, *at.caption, *at.markdown, *at.info, *at.warning]
    return "\n".join(str(p.value) for p in parts)


def test_sign_in_screen_when_nobody_is_signed_in(app_db, seeded):
    at = app().run()
    assert not at.exception
    assert "Demo sign-in — choose a seeded user (no password in demo mode)" in texts(at)
    assert {b.key for b in at.button} == {f"sign_in_{r.value}" for r in Role}


def test_sign_in_through_the_widget_then_sign_out(app_db, seeded):
    at = app().run()
    at.button(key="sign_in_leader").click().run()
    assert not at.exception
    assert at.session_state["user_id"] == str(seeded["users"][Role.LEADER].id)
    assert "Team wins and outcomes" in texts(at)
    at.button(key="sign_out").click().run()
    assert "user_id" not in at.session_state
    assert "Demo sign-in" in texts(at)


def test_query_parameter_signs_in_by_email(app_db, seeded):
    leader = seeded["users"][Role.LEADER]
    at = app()
    at.query_params["user"] = leader.email.upper()
    at.run()
    assert not at.exception
    assert at.session_state["user_id"] == str(leader.id)
    assert "user" not in at.query_params


def test_unknown_email_shows_the_sign_in_screen_with_a_notice(app_db, seeded):
    at = app()
    at.query_params["user"] = "nobody@example.invalid"
    at.run()
    assert "user_id" not in at.session_state
    assert "No active user with email" in texts(at)


LANDING_TITLES = {
    Role.CSM: "Today",
    Role.LEADER: "Team wins and outcomes",
    Role.MARKETING: "Marketing candidates",
    Role.SALES: "Value repository",
    Role.ADMIN: "System",
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_lands_on_its_own_page_at_the_root(app_db, seeded, role):
    at = signed_in(seeded["users"][role].id)  # no page asked for: the URL "/"
    assert not at.exception
    assert at.title[0].value == LANDING_TITLES[role]
    assert "Pending approvals" not in {m.label for m in at.metric}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_page_of_every_role_renders(app_db, seeded, role):
    at = signed_in(seeded["users"][role].id)
    assert not at.exception
    expected_customers = seeded["book"] if role == Role.CSM else seeded["total"]
    for spec in specs_for(role):
        at.switch_page(page(spec.path)).run()
        assert not at.exception, f"{spec.path} failed for {role}: {at.exception}"
        assert at.title[0].value in {spec.title, "Today", "Team wins and outcomes"}
        if spec.path == "pages/home.py":
            metrics = {m.label: m.value for m in at.metric}
            assert metrics["Customers"] == str(expected_customers)
        if spec.path == "pages/customers.py":
            assert f"of {expected_customers} customers" in texts(at)
        if spec.path == "pages/system.py":
            assert {"Database", "Latest job runs", "API keys"} <= {s.value for s in at.subheader}
            assert any("python -m app.keys create" in c.value for c in at.code)


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN], ids=lambda r: r.value)
def test_roles_without_a_page_are_told_whose_it_is(app_db, seeded, role):
    at = signed_in(seeded["users"][role].id)
    hidden = [spec for spec in PAGES if role not in spec.roles]
    assert "pages/system.py" in [spec.path for spec in hidden]
    home = landing(role)
    for spec in hidden:
        at.switch_page(page(spec.path)).run()
        assert not at.exception, f"{spec.path} for {role}: {at.exception}"
        assert [t.value for t in at.title] == [spec.title]
        (info,) = at.info
        assert info.value.startswith(f"This page is for {who(spec.roles)} — ask an admin")
        (link,) = [x.proto for x in at.get("page_link") if x.proto.label.startswith("Go to")]
        assert link.label == f"Go to {home.title}"
        assert link.page == ""  # the landing is served at the root
        assert not at.dataframe and not at.metric  # the page itself never ran


def test_customer_detail_opens_from_the_query_parameter(app_db, seeded):
    at = signed_in(seeded["users"][Role.LEADER].id)
    at.query_params["customer"] = str(seeded["customer"].id)
    at.switch_page(page("pages/customers.py")).run()
    assert not at.exception
    assert seeded["customer"].name in {s.value.replace("\\", "") for s in at.subheader}
    assert at.button_group(key="section").options[:2] == ["Health", "Goals, plans & wins"]


def test_unknown_customer_shows_a_message(app_db, seeded):
    at = signed_in(seeded["users"][Role.LEADER].id)
    at.query_params["customer"] = "00000000-0000-0000-0000-000000000000"
    at.switch_page(page("pages/customers.py")).run()
    assert not at.exception
    assert any("does not exist" in w.value for w in at.warning)


def test_empty_database_explains_how_to_load_demo_data(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    db.reset()
    try:
        at = app().run()
        assert not at.exception
        assert "python -m data.demo" in texts(at)
    finally:
        db.reset()


def test_unreachable_database_shows_a_friendly_error(monkeypatch, free_port):
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://nobody@127.0.0.1:{free_port}/none")
    db.reset()
    try:
        at = app().run()
        assert not at.exception
        assert any("Cannot reach the database" in e.value for e in at.error)
    finally:
        db.reset()


@pytest.fixture
def free_port():
    """A port nobody listens on: held bound (not listening) for the whole test, so connecting is
    refused and no other xdist worker's server can take it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
