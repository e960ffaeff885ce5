"""The domain's error hierarchy; each entrypoint maps it to its own output (HTTP, CLI, worker)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    title = "Domain error"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    """The request is well-formed but breaks a rule about one of its values."""

    title = "Invalid input"


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""

    title = "Not found"


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a rule about the whole)."""

    title = "Conflict"


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""

    title = "Permission denied"


class NotAuthenticated(DomainError):
    """Credentials are missing, wrong, expired or revoked."""

    title = "Not authenticated"


class RateLimited(DomainError):
    """Too many attempts; the caller should wait ``retry_after`` seconds."""

    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """The request is sound but cannot be answered now (e.g. the organization's certificate
    template fails to render); the caller may try again after ``retry_after`` seconds."""

    title = "Unavailable"

    def __init__(self, detail: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.retry_after = retry_after
