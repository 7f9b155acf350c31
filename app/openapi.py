"""Print the API's OpenAPI document (the committed copy in tests/api/ is compared with it)."""

import json

from app.api import app

if __name__ == "__main__":
    print(json.dumps(app.openapi(), indent=1, sort_keys=True))
