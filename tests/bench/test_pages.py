"""The page bench times every page by its own link and each role's landing at the root."""

import uuid

from bench.pages import ROOT_PATH, visits
from components.navigation import LANDINGS, specs_for
from core.base import Role

IDS = {"customer": "c", "plan": "p", "achievement": "a"}


def test_each_role_has_one_root_visit_named_after_its_landing():
    found = visits({role: uuid.uuid4() for role in Role}, IDS)
    roots = {v.role: v.title for v in found if v.path == ROOT_PATH}
    assert set(roots) == set(Role)
    assert roots[Role.CSM] == "/ → Today"
    assert roots[Role.LEADER] == "/ → Team wins and outcomes"
    assert roots[Role.ADMIN] == "/ → System"
    assert roots[Role.SALES] == "/ → Value repository"
    assert roots[Role.MARKETING] == "/ → Marketing candidates"
    assert LANDINGS[Role.ADMIN] == "pages/system.py"  # what the admin's title above relies on


def test_every_page_a_role_may_open_is_visited_by_its_own_path():
    found = visits({role: uuid.uuid4() for role in Role}, IDS)
    for role in Role:
        paths = {v.path for v in found if v.role == role and v.path != ROOT_PATH}
        assert paths == {spec.path for spec in specs_for(role)}
