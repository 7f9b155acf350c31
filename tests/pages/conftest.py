"""Page-test fixtures."""

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def fresh_caches():
    # Cached loaders are keyed by arguments, not by database; tests switch databases.
    st.cache_data.clear()
    yield
    st.cache_data.clear()
