import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from core.base import Role
from core.schemas import json_ready


def test_json_ready_writes_plain_readable_values():
    ident = uuid.uuid4()
    value = {
        "money": Decimal("60.0000"),
        "rate": Decimal("73.3300"),
        "when": datetime(2026, 11, 20, 12, tzinfo=UTC),
        "day": date(2026, 11, 20),
        "role": Role.CSM,
        "id": ident,
        "pair": (1, None),
        3: True,
    }
    assert json_ready(value) == {
        "money": "60",
        "rate": "73.33",
        "when": "2026-11-20T12:00:00+00:00",
        "day": "2026-11-20",
        "role": "csm",
        "id": str(ident),
        "pair": [1, None],
        "3": True,
    }
