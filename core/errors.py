"""Domain errors that the API maps to HTTP statuses and pages show as messages."""


class DomainError(Exception):
    """Base class for errors a person can act on."""

    status_code = 400


class NotFound(DomainError):
    """The thing asked for does not exist."""

    status_code = 404


class Invalid(DomainError):
    """The input breaks a rule; the message says which."""

    status_code = 422


class Conflict(DomainError):
    """Someone else changed the record first, or it already exists."""

    status_code = 409


class Forbidden(DomainError):
    """The caller's role may not do this."""

    status_code = 403
