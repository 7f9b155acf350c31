"""Run core services from pages, each call in its own database session."""

from collections.abc import Callable
from typing import TypeVar

from core.db import session_scope

T = TypeVar("T")


def call(service: Callable[..., T], /, **kwargs) -> T:
    """Call `service(session=..., **kwargs)` inside a committed-or-rolled-back session."""
    with session_scope() as session:
        return service(session=session, **kwargs)
