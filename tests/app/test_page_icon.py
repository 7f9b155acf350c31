"""The browser tab's icon is a file shipped with the app, not a font fetched from a CDN."""

from pathlib import Path

import streamlit as st

from tests.pages.apptest import new_app

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_page_icon_is_a_local_png_file(scratch_db, monkeypatch):
    seen = {}
    real = st.set_page_config

    def recording(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(st, "set_page_config", recording)
    new_app().run()
    icon = seen["page_icon"]
    assert isinstance(icon, str | Path) and not str(icon).startswith(":")
    path = Path(icon)
    assert path.is_absolute() and path.is_file(), icon
    assert path.read_bytes().startswith(PNG_SIGNATURE)
