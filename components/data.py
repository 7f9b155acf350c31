"""Run core services from pages, each call in its own database session."""

from collections.abc import Callable
from typing import TypeVar

from core.db import read_session_scope, session_scope

T = TypeVar("T")


def call(service: Callable[..., T], /, **kwargs) -> T:
    """Call `service(session=..., **kwargs)` inside a committed-or-rolled-back session."""
    with session_scope() as session:
        return service(session=session, **kwargs)


def read(service: Callable[..., T], /, **kwargs) -> T:
    """Call the read-only `service(session=..., **kwargs)` on the read replica, if there is one.

    Meant for cached loaders: they show data up to a minute old anyway, so a replica's lag is
    never news to the reader. A service that writes fails here, replica or not.
    """
    with read_session_scope() as session:
        return service(session=session, **kwargs)
