"""Import the modules that record delivery references on business rows (their `on_sent`)."""


def load() -> None:
    """Register every on_sent handler."""
    import core.drafts.service  # noqa: F401
    import core.goals.pipeline  # noqa: F401
