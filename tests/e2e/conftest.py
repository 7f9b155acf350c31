"""Browser journeys: everything collected under tests/e2e/ carries the `browser` marker.

So `pytest -m "not browser"` (make test-fast) skips every journey and `pytest -m browser` runs
only them, including journeys in new files that forget a module-level `pytestmark`.
"""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # tryfirst: mark before pytest's own -m deselection runs over the same items.
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
