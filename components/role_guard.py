"""Run the page a person opened, or say plainly that it is for other roles and where to go."""

import streamlit as st

from components.cards import page_header
from components.navigation import landing, page_file, spec_at
from core.base import Role

# Role names as they read in "This page is for …" (plural, in the order people think of them).
ROLE_WORDS = {
    Role.CSM: "CSMs",
    Role.LEADER: "CS leaders",
    Role.MARKETING: "marketing",
    Role.SALES: "sales",
    Role.ADMIN: "admins",
}


def who(roles: frozenset[Role]) -> str:
    """Return the roles that may open a page in words: 'CS leaders and admins'."""
    names = [words for role, words in ROLE_WORDS.items() if role in roles]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def run(page: st.Page, role: Role) -> None:
    """Run `page` when `role` may open it, else explain whose page it is and link home."""
    spec = spec_at(page.url_path)
    if spec is None or role in spec.roles:
        page.run()
        return
    home = landing(role)
    page_header(spec.title)
    st.info(
        f"This page is for {who(spec.roles)} — ask an admin if your work needs it; they can "
        "change your role on the People page.",
        icon=":material/lock:",
    )
    st.page_link(page_file(home.path), label=f"Go to {home.title}", icon=":material/home:")
