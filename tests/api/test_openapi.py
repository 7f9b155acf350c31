"""The API contract changes only on purpose: the OpenAPI document matches the committed copy."""

import json
from pathlib import Path

from app.api import app

SNAPSHOT = Path(__file__).with_name("openapi.json")


def test_openapi_matches_the_committed_copy():
    current = json.loads(json.dumps(app.openapi(), sort_keys=True))
    committed = json.loads(SNAPSHOT.read_text())
    changed = sorted(
        set(current["paths"]) ^ set(committed["paths"])
        | {p for p in current["paths"] if current["paths"][p] != committed["paths"].get(p)}
    )
    assert current == committed, (
        f"The API contract changed (paths: {changed or 'schemas only'}). If that is intended, "
        "regenerate tests/api/openapi.json with `python -m app.openapi > tests/api/openapi.json`."
    )
