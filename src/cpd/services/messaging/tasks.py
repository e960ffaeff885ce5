"""The messaging context's task: render and send one email."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self
from uuid import UUID

from cpd.domain.messaging import OutgoingEmail, Related
from cpd.domain.tasks import JSONObject, TaskData


@dataclass(frozen=True, slots=True)
class SendEmail(TaskData):
    NAME: ClassVar[str] = "send_email"
    email: OutgoingEmail

    def to_payload(self) -> JSONObject:
        email = self.email
        return {
            "template": email.template,
            "to": email.to,
            "context": email.context,
            "user_id": str(email.user_id) if email.user_id else None,
            "organization_id": str(email.organization_id) if email.organization_id else None,
            "related_type": email.related.type if email.related else None,
            "related_id": str(email.related.id) if email.related else None,
        }

    @classmethod
    def from_payload(cls, payload: JSONObject) -> Self:
        def uuid_or_none(name: str) -> UUID | None:
            value = payload.get(name)
            return UUID(str(value)) if value else None

        related_id = uuid_or_none("related_id")
        context: dict[str, Any] = dict(payload["context"])
        return cls(
            OutgoingEmail(
                template=str(payload["template"]),
                to=str(payload["to"]),
                context=context,
                user_id=uuid_or_none("user_id"),
                organization_id=uuid_or_none("organization_id"),
                related=Related(str(payload["related_type"]), related_id) if related_id else None,
            )
        )
