"""The page registry: which page files exist, where they sit, who may open them, and landings.

To add a page: create `pages/<name>.py` and append one `PageSpec` to `PAGES`. Sections show in
the order of `SECTIONS`; a section with no page the signed-in role may see is left out.

Each role lands on its own page at the app's root (`LANDINGS`). Every registered page is in
every signed-in person's navigation: the ones their role lacks are hidden, so opening their URL
resolves to the page (and `components.role_guard` explains it is for other roles) instead of
Streamlit's "Page not found".
"""

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.base import Role

ROOT = Path(__file__).resolve().parent.parent
EVERYONE = frozenset(Role)

# Sidebar order; later work adds pages to these sections (empty sections are hidden).
SECTIONS = (
    "Overview",
    "Wins",
    "Approvals",
    "Value repository",
    "Upsells",
    "Marketing",
    "Integrations",
    "Administration",
)


@dataclass(frozen=True)
class PageSpec:
    """One page: its file (relative to the repo root), title, icon, section and roles."""

    path: str
    title: str
    icon: str
    section: str
    roles: frozenset[Role] = EVERYONE
    default: bool = False  # the landing of a role LANDINGS does not name
    visible: bool = True  # hidden pages are reached by links (e.g. a win's detail page)

    @property
    def url_path(self) -> str:
        return Path(self.path).stem.replace("_", "-")


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "pages/home.py",
        "Home",
        ":material/space_dashboard:",
        "Overview",
        roles=frozenset({Role.CSM, Role.LEADER, Role.ADMIN}),
        default=True,
    ),
    PageSpec("pages/customers.py", "Customers", ":material/apartment:", "Overview"),
    PageSpec("pages/wins.py", "Wins", ":material/emoji_events:", "Wins"),
    PageSpec(
        "pages/achievement.py", "Win details", ":material/workspace_premium:", "Wins", visible=False
    ),
    PageSpec(
        "pages/approvals.py",
        "Approvals",
        ":material/fact_check:",
        "Approvals",
        roles=frozenset({Role.CSM, Role.LEADER, Role.ADMIN}),
    ),
    PageSpec(
        "pages/value_repository.py",
        "Value repository",
        ":material/inventory_2:",
        "Value repository",
    ),
    PageSpec(
        "pages/upsells.py",
        "Upsell progress",
        ":material/trending_up:",
        "Upsells",
        roles=frozenset({Role.CSM, Role.LEADER, Role.ADMIN}),
    ),
    PageSpec(
        "pages/outcomes.py",
        "Upsell outcomes",
        ":material/insights:",
        "Upsells",
        roles=frozenset({Role.LEADER, Role.ADMIN}),
    ),
    PageSpec(
        "pages/marketing.py",
        "Marketing candidates",
        ":material/campaign:",
        "Marketing",
        roles=frozenset({Role.MARKETING, Role.ADMIN, Role.LEADER}),
    ),
    PageSpec(
        "pages/integrations.py",
        "Integrations",
        ":material/hub:",
        "Integrations",
        roles=frozenset({Role.ADMIN}),
    ),
    PageSpec(
        "pages/users.py",
        "People",
        ":material/group:",
        "Administration",
        roles=frozenset({Role.ADMIN}),
    ),
    PageSpec(
        "pages/api_keys.py",
        "API keys",
        ":material/key:",
        "Administration",
        roles=frozenset({Role.ADMIN}),
    ),
    PageSpec(
        "pages/templates.py",
        "Message templates",
        ":material/edit_note:",
        "Administration",
        roles=frozenset({Role.ADMIN}),
    ),
    PageSpec(
        "pages/catalog.py",
        "Set-up catalogue",
        ":material/tune:",
        "Administration",
        roles=frozenset({Role.ADMIN}),
    ),
    PageSpec(
        "pages/sign_in_settings.py",
        "Sign-in",
        ":material/passkey:",
        "Administration",
        roles=frozenset({Role.ADMIN}),
    ),
    PageSpec(
        "pages/system.py",
        "System",
        ":material/monitor_heart:",
        "Administration",
        roles=frozenset({Role.ADMIN}),
    ),
)


# The page each role lands on at the app's root; a role not named lands on the default page.
LANDINGS: dict[Role, str] = {
    Role.CSM: "pages/home.py",
    Role.LEADER: "pages/home.py",
    Role.MARKETING: "pages/marketing.py",
    Role.SALES: "pages/value_repository.py",
    Role.ADMIN: "pages/system.py",
}


def page_file(path: str) -> Path:
    """Return the absolute file of a registry path, for st.page_link and st.switch_page."""
    return ROOT / path


def specs_for(role: Role, pages: tuple[PageSpec, ...] = PAGES) -> list[PageSpec]:
    """Return the pages `role` may open, in registry order."""
    return [spec for spec in pages if role in spec.roles]


def allowed(path: str, role: Role) -> bool:
    """Tell whether `role` may open the page file `path`."""
    return any(spec.path == path for spec in specs_for(role))


def landing(role: Role) -> PageSpec:
    """Return the page `role` lands on at the app's root."""
    path = LANDINGS.get(role)
    return next(s for s in PAGES if s.path == path or (path is None and s.default))


def spec_at(url_path: str) -> PageSpec | None:
    """Return the registered page whose own URL path is `url_path`, or None."""
    return next((s for s in PAGES if s.url_path == url_path), None)


def _page(spec: PageSpec, *, visible: bool, root: bool = False) -> st.Page:
    return st.Page(
        ROOT / spec.path,
        title=spec.title,
        icon=spec.icon,
        # The root page's own path stays free for its hidden twin: links keep working.
        url_path="" if root else spec.url_path,
        default=root,
        visibility="visible" if visible else "hidden",
    )


def navigation_for(role: Role) -> dict[str, list[st.Page]]:
    """Return st.navigation's input for `role`: section title -> pages."""
    # The landing is served at the root and, hidden, at its own path; pages the role lacks are
    # hidden, so their URLs resolve (and explain themselves) rather than "Page not found".
    sections: dict[str, list[st.Page]] = {}
    specs = specs_for(role)
    home = landing(role)
    for section in (*SECTIONS, *sorted({s.section for s in specs} - set(SECTIONS))):
        pages = [
            _page(spec, visible=spec.visible, root=spec == home)
            for spec in specs
            if spec.section == section
        ]
        if pages:
            sections[section] = pages
    # Registered after every visible page: st.page_link and st.switch_page take the first
    # page with a file, so links to the landing go to the root.
    extras = [_page(home, visible=False)]
    extras += [_page(spec, visible=False) for spec in PAGES if role not in spec.roles]
    sections[home.section].extend(extras)
    return sections
