"""Ports to things other than the database: time, crypto, tokens, mail, queues, throttling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from cpd.domain.auth import AccessClaims, AttemptPolicy, IssuedToken, RefreshClaims
from cpd.domain.certificates import CertificateFields, Logo
from cpd.domain.credentials import SigningKey
from cpd.domain.errors import InvalidInput
from cpd.domain.events import Venue
from cpd.domain.meetings import (
    Meeting,
    MeetingRegistrant,
    MeetingSpec,
    MeetingWebhook,
    Participant,
    RegistrantSpec,
)
from cpd.domain.messaging import RenderedEmail
from cpd.domain.money import Money
from cpd.domain.payments import PaymentEvent, PaymentIntent, RefundReceipt
from cpd.domain.registrations import Registration
from cpd.domain.tasks import EmailMessage, Task


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class PasswordHasher(Protocol):
    """Deliberately slow hashing, done off the event loop on the adapter's own bounded
    workers, so a sign-in never queues behind renders, storage or mail."""

    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


class TokenIssuer(Protocol):
    def issue_access(self, user_id: UUID, session_id: UUID, now: datetime) -> IssuedToken: ...
    def issue_refresh(self, user_id: UUID, family_id: UUID, now: datetime) -> IssuedToken: ...
    def decode_access(self, token: str) -> AccessClaims:
        """Check signature, algorithm, issuer, audience, expiry, type; raise NotAuthenticated."""
        ...

    def decode_refresh(self, token: str) -> RefreshClaims: ...


class CredentialSigner(Protocol):
    """Signs Open Badges credentials (and status lists) with an organization's own key, so
    anyone can verify them from the published JWKS without calling us."""

    @property
    def algorithm(self) -> str:
        """What ``generate_key`` makes, and so what new credentials are signed with."""
        ...

    def generate_key(self, jwks_url: str, now: datetime) -> SigningKey:
        """A new key whose ``kid`` is ``{jwks_url}#{thumbprint}`` (a dereferenceable URI)."""
        ...

    def sign(self, credential: Mapping[str, object], key: SigningKey) -> str:
        """The compact JWS (VC-JWT) of ``credential``, ``alg`` and ``kid`` in the header."""
        ...

    def public_jwks(self, keys: Iterable[SigningKey]) -> dict[str, object]:
        """``{"keys": [...]}`` with public members only, for ``.well-known/jwks.json``."""
        ...


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class EmailRenderer(Protocol):
    def render(self, template: str, context: Mapping[str, object]) -> RenderedEmail:
        """Subject, summary, plain text and HTML of a named template; a field the template
        needs that ``context`` lacks raises (``LookupError``), never renders blank."""
        ...


class TaskQueue(Protocol):
    # True when ``enqueue`` runs the task to completion before returning (in-process).
    runs_inline: bool

    async def enqueue(self, task: Task, *, attempt: int = 1) -> None:
        """Hand a task on; once this returns the queue owns it (it may run it right away).
        ``attempt`` is the relay's count, for a queue that runs the task itself."""
        ...


TaskHandler = Callable[[Task], Awaitable[None]]
TaskHandlers = Mapping[str, TaskHandler]


class AttemptThrottle(Protocol):
    """Attempts per key (an account, an address, a device), slowed down by an AttemptPolicy.

    Every method is one atomic step for all processes sharing the store, so parallel attempts
    cannot all pass a check made before any of them is counted. Memory held is bounded.
    """

    async def attempt(self, *keys: tuple[str, AttemptPolicy]) -> int:
        """Decide an attempt at all ``keys`` (say an account and an address) at once: 0 lets it
        go ahead, counted at every key; otherwise the whole seconds until every key may try
        again, and it is counted at none."""
        ...

    async def refund(self, key: str, policy: AttemptPolicy) -> None:
        """Take one counted attempt back (it turned out well); a key brought back under its
        free attempts waits no more."""
        ...

    async def clear(self, key: str) -> None: ...
    async def remember(self, key: str, seconds: int) -> None:
        """Note ``key`` (a known device) for ``seconds``."""
        ...

    async def remembers(self, key: str) -> bool: ...


@runtime_checkable  # Litestar checks the type of what it injects
class Cache(Protocol):
    """A shared byte cache with one namespace that ``clear`` empties for every reader at once.

    ``get_or_build`` never stores a value built from data older than the last ``clear``: a
    reader that races a writer's clear leaves its result in a generation nobody reads.
    """

    async def get_or_build(
        self, key: str, build: Callable[[], Awaitable[bytes]], ttl_seconds: int
    ) -> bytes: ...
    async def peek(self, key: str) -> bytes | None:
        """The current value, or None; never builds."""
        ...

    async def clear(self) -> None: ...


class PaymentGateway(Protocol):
    """Takes payments and refunds; every mutating call carries an idempotency key, so a retry
    never charges or refunds twice."""

    name: str

    async def start_payment(
        self, registration: Registration, *, idempotency_key: str
    ) -> PaymentIntent: ...
    async def refund(
        self, reference: str, amount: Money, *, idempotency_key: str
    ) -> RefundReceipt: ...
    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """Verify the signature and read the event; raise InvalidInput when it does not verify."""
        ...


class VideoMeetings(Protocol):
    """Online meetings for sessions (Zoom, or a fake that keeps state in memory).

    Provider failures worth retrying raise the adapter's ``VideoProviderUnavailable`` (not a
    domain error); a missing meeting is ``NotFound``, a refused value ``InvalidInput``.
    Creating a meeting is not idempotent at the provider: the caller stores the id it gets
    and updates that meeting afterwards.
    """

    name: str

    async def create_meeting(self, spec: MeetingSpec) -> Meeting: ...
    async def update_meeting(self, meeting_id: str, spec: MeetingSpec) -> None:
        """Reschedule or rename; the id and join link stay the same."""
        ...

    async def delete_meeting(self, meeting_id: str) -> None:
        """Delete it; a meeting that is already gone is fine (retries and cleanups repeat)."""
        ...

    async def add_registrant(
        self, meeting_id: str, registrant: RegistrantSpec
    ) -> MeetingRegistrant:
        """Register a person (auto-approved); the same email again gets the same registrant."""
        ...

    async def participants(self, meeting_id: str) -> list[Participant]:
        """Every stay of every participant of a past meeting (all pages)."""
        ...

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> MeetingWebhook:
        """Verify and read a notification; raise InvalidInput naming the signature header when
        it does not verify (forged, stale, missing), or ``event`` for a kind not handled."""
        ...


class ScheduledSession(Protocol):
    @property
    def id(self) -> UUID: ...
    @property
    def title(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


class ScheduledEvent(Protocol):
    """What a calendar shows of an event: an ``Event`` or an ``EventView`` (no seat count)."""

    @property
    def id(self) -> UUID: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def venue(self) -> Venue | None: ...
    @property
    def status(self) -> str: ...
    @property
    def sessions(self) -> Sequence[ScheduledSession]: ...


@runtime_checkable  # Litestar checks injected dependencies against their annotation
class CalendarWriter(Protocol):
    def calendar(self, events: Iterable[ScheduledEvent], *, name: str, base_url: str) -> bytes:
        """An iCalendar document (``.ics``) of the events' sessions, named ``name``."""
        ...


@runtime_checkable  # Litestar checks injected dependencies against their annotation
class QrCodes(Protocol):
    def svg(self, text: str, *, title: str) -> bytes:
        """``text`` as a QR code, a standalone SVG document titled ``title``."""
        ...


class CertificateRenderer(Protocol):
    """Certificates as PDF documents, one page each, from a template (``None``: the default).

    A template is the organization's own source (Typst for the Typst adapter), i.e. code: a
    template that does not compile, or outlasts the time or memory a compile may take,
    raises InvalidInput (field ``source``). A text the fonts cannot show is logged and
    rendered anyway: a certificate is never refused for a name.
    """

    async def render(self, template: bytes | None, fields: CertificateFields) -> bytes: ...
    async def render_many(
        self, template: bytes | None, many: Sequence[CertificateFields]
    ) -> list[bytes | InvalidInput]:
        """One outcome per certificate, in order: its PDF, or the InvalidInput (field
        ``source``) of that certificate alone; cheaper per certificate than ``render``."""
        ...

    async def check_template(
        self, source: bytes, samples: Sequence[tuple[str, CertificateFields]] = ()
    ) -> None:
        """Compile ``source`` with each of ``samples`` (a note for the message, the fields;
        none given: the product's sample data); raise InvalidInput (field ``source``) with the
        compiler's message and line when one fails, does not make exactly one page, or the
        check outlasts its time limit (an uploaded template is someone's code)."""
        ...

    async def check_logo(self, logo: Logo) -> None:
        """Decode ``logo`` as an image of its type; raise InvalidInput (field ``logo``) when it
        is not one (a truncated PNG, SVG that does not parse). Check uploads with this: rendering
        may leave a raster logo it cannot decode out of the certificate without a word."""
        ...


class FileStorage(Protocol):
    """Bytes by key (``certificates/<org>/<id>.pdf``): a folder, or an S3-compatible bucket.

    Keys are relative paths of safe segments; anything else (``..``, absolute, empty
    segments, backslashes) raises InvalidInput (field ``key``). A write is all or nothing.
    """

    async def put(self, key: str, data: bytes, *, content_type: str) -> None: ...
    async def get(self, key: str) -> bytes:
        """The stored bytes; NotFound when there is nothing under ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove it; a missing key is fine (retries repeat)."""
        ...

    async def exists(self, key: str) -> bool: ...
