"""The accounts context's task: mail a password-reset link, off the request's path so the
answer to "forgot password" takes the same time whether or not the account exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cpd.domain.tasks import TaskData


@dataclass(frozen=True, slots=True)
class PasswordResetRequested(TaskData):
    NAME: ClassVar[str] = "password_reset_requested"
    email: str
