"""A route class for paths served by several operations (GET and PUT of one resource)."""

from typing import Any, ClassVar

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send


class SharedPathRoute(APIRoute):
    """An APIRoute whose 405 answer lists every method of its path in `Allow`.

    Starlette answers a method a path does not serve from the first route of that path, so its
    `Allow` names only that route's method; clients (and the contract checks) expect all of them.
    """

    methods_of: ClassVar[dict[str, set[str]]] = {}

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.methods_of.setdefault(self.path, set()).update(self.methods or ())

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            allowed = ", ".join(sorted(self.methods_of.get(self.path, self.methods)))
            raise HTTPException(status_code=405, headers={"Allow": allowed})
        await super().handle(scope, receive, send)
