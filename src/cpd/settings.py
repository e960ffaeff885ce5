"""Typed settings read from ``CPD_*`` environment variables, with safe defaults.

Nothing reads the environment except ``Settings.from_env``; the result is passed explicitly to
the composition root, so tests build settings directly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production"  # noqa: S105
PREFIX = "CPD_"
MIN_RENDER_MEMORY_MIB = 512
_S3_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
REDACTED = "***"
# Never shown by repr, in a traceback's locals or in the start-up summary.
SECRET_FIELDS = frozenset(
    {
        "secret_key",
        "credential_key_secret",
        "smtp_password",
        "stripe_api_key",
        "stripe_webhook_secret",
        "zoom_client_secret",
        "zoom_webhook_secret",
        "s3_secret_access_key",
    }
)
URL_FIELDS = frozenset({"database_url", "redis_url"})  # shown without their passwords
_SECRET_QUERY_KEY = re.compile(r"pass|secret|token|key", re.IGNORECASE)


class SettingsError(ValueError):
    """Why settings cannot run: one line an operator can act on per problem, all of them."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite+aiosqlite:///./var/cpd.db"
    persistence: Literal["sql", "memory"] = "sql"
    auto_migrate: bool | None = None  # None: migrate at start on SQLite only
    db_pool_size: int = 10
    secret_key: str = DEV_SECRET_KEY
    jwt_algorithm: Literal["HS256", "HS384", "HS512", "RS256", "ES256"] = "HS256"
    jwt_private_key_file: str | None = None
    jwt_public_key_file: str | None = None
    jwt_issuer: str = "cpd"
    jwt_audience: str = "cpd-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 14 * 24 * 3600
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    mail_backend: Literal["file", "smtp", "memory"] = "file"
    mail_outbox_dir: str = "./var/mail"
    mail_from: str = "CPD Events <no-reply@cpd.local>"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    http_cache: bool = True  # serve anonymous catalog reads from the shared cache
    payment_provider: Literal["offline", "stripe"] = "offline"
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None  # a local fake in tests; Stripe's own when unset
    video_provider: Literal["fake", "zoom"] = "fake"
    zoom_account_id: str | None = None
    zoom_client_id: str | None = None
    zoom_client_secret: str | None = None
    zoom_webhook_secret: str | None = None
    zoom_api_base: str | None = None  # a local fake in tests; https://api.zoom.us/v2 when unset
    zoom_oauth_base: str | None = None  # https://zoom.us when unset
    housekeeping_seconds: float = 30.0  # expired holds and offers are released this often
    redis_url: str | None = None  # shared state for every process (throttle, cache, tasks)
    login_max_failures: int = 5  # per account (unknown devices) and per known device
    login_address_max_failures: int = 20  # per client address: many people may share one
    login_first_delay_seconds: int = 30  # the wait after the last free attempt; then doubling
    login_window_seconds: int = 900  # the longest wait; counts are forgotten this long after
    account_mail_per_recipient: int = 3  # sign-up and reset requests per email an hour...
    account_mail_per_address: int = 10  # ...and per client address, before waits that double
    invitations_per_organization: int = 200  # invitation emails an organization sends an hour
    # Proxies (IPs or CIDRs, comma-separated) whose Forwarded / X-Forwarded-For is believed.
    trusted_proxies: str = ""
    argon2_time_cost: int | None = None  # None: argon2-cffi's RFC 9106 defaults
    argon2_memory_cost_kib: int | None = None
    password_hash_threads: int = 2  # Argon2 runs on these threads only, shared with nothing
    outbox_poll_seconds: float = 1.0
    task_queue: Literal["inprocess", "saq"] = "inprocess"  # saq: a `cpd worker` on Redis runs them
    task_attempts: int = 5  # tries per task on the worker before it is recorded as failed
    task_timeout_seconds: int = 300
    task_heartbeat_seconds: int = 15  # a task silent this long (its worker died) is retried
    worker_concurrency: int = 10
    worker_sweep_seconds: int = 60  # how often a worker looks for tasks of dead workers
    file_storage: Literal["local", "memory", "s3"] = "local"  # where PDFs are kept
    file_storage_dir: str = "./var/files"
    s3_bucket: str | None = None  # required with file_storage=s3
    s3_endpoint_url: str | None = None  # MinIO, Ceph...; None: AWS S3
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None  # None (both): the SDK's default credential chain
    s3_secret_access_key: str | None = None
    s3_prefix: str = ""  # keys are stored under this folder of the bucket
    certificate_font_dirs: str = ""  # extra font folders (e.g. CJK), separated like PATH
    certificate_render_processes: int = 2  # Typst compiles at once, each in its own process
    certificate_render_seconds: float = 10.0  # one certificate's compile, at most
    certificate_render_memory_mib: int = 1024  # address space of each compiling process
    certificate_check_seconds: float = 20.0  # an uploaded template's test compile, at most
    certificate_checks_at_once: int = 2  # template checks and previews in this process
    certificate_checks_per_organization: int = 1  # of those, by one organization
    certificate_renderer: Literal["typst", "fake"] = "typst"  # fake: placeholder PDFs, for tests
    # Who may create organizations: open | approval | closed (superadmins only). Unset:
    # approval in production (new ones publish once a superadmin approves), open elsewhere.
    organization_signup: Literal["open", "approval", "closed"] | None = None
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    # Wraps organizations' credential signing keys at rest; unset falls back to secret_key.
    # Its own variable so rotating the token secret does not orphan every signing key.
    credential_key_secret: str | None = None
    # New organizations' signing keys: Ed25519, or RSA for verifiers that only know RS256
    # (the one algorithm Open Badges 3.0 requires everywhere). Existing keys keep theirs.
    credential_algorithm: Literal["EdDSA", "RS256"] = "EdDSA"
    openapi_docs: bool | None = None  # /schema and its pages; None: on except in production
    # Production refuses the development stand-ins unless one of these says it is meant.
    allow_test_payments: bool = False  # the offline gateway, or Stripe test-mode keys
    allow_fake_video: bool = False  # meeting links that lead nowhere
    allow_fake_certificates: bool = False  # placeholder PDFs instead of the templates'
    allow_file_mail: bool = False  # emails written to CPD_MAIL_OUTBOX_DIR, never sent
    allow_memory_backends: bool = False  # memory persistence, mail or files: lost on restart
    allow_http_public_url: bool = False  # links in emails and certificates over plain http

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"Settings({fields})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """What rich (pretty printing, tracebacks with locals) shows: secrets redacted."""
        return [(name, self.redacted(name)) for name in self.__struct_fields__]

    def redacted(self, name: str) -> Any:
        """The field's value as it may be shown: secrets masked, URLs without passwords."""
        value = getattr(self, name)
        if value is None:
            return None
        if name in SECRET_FIELDS:
            return REDACTED
        if name in URL_FIELDS:
            return redact_url(value)
        return value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        known = set(cls.__struct_fields__)
        values: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith(PREFIX) and key[len(PREFIX) :].lower() in known:
                values[key[len(PREFIX) :].lower()] = value
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Settings:
        try:
            settings = msgspec.convert(dict(values), cls, strict=False)
        except msgspec.ValidationError as error:
            raise SettingsError(_env_name_in(str(error))) from None
        settings.check()
        return settings

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise SettingsError(problems)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.persistence == "sql" and self.database_url.startswith("sqlite")

    @property
    def certificate_font_paths(self) -> list[str]:
        return [part for part in self.certificate_font_dirs.split(os.pathsep) if part.strip()]

    @property
    def organization_signup_mode(self) -> str:
        if self.organization_signup is not None:
            return self.organization_signup
        return "approval" if self.is_production else "open"

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        parts = (part.strip() for part in self.trusted_proxies.split(","))
        return tuple(ip_network(part, strict=False) for part in parts if part)

    @property
    def uses_dev_secret(self) -> bool:
        return self.secret_key == DEV_SECRET_KEY

    @property
    def credential_signing_secret(self) -> str:
        return self.credential_key_secret or self.secret_key

    @property
    def serves_openapi_docs(self) -> bool:
        return not self.is_production if self.openapi_docs is None else self.openapi_docs

    @property
    def should_auto_migrate(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate

    @property
    def state_kept_per_process(self) -> list[str]:
        """Settings under which a process keeps state other processes need: with these,
        several server processes (``cpd serve --workers``) would each see their own."""
        reasons = []
        if self.persistence == "memory":
            reasons.append("CPD_PERSISTENCE=memory keeps every record in the process")
        if self.file_storage == "memory":
            reasons.append("CPD_FILE_STORAGE=memory keeps certificate files in the process")
        if self.video_provider == "fake":
            reasons.append(
                "CPD_VIDEO_PROVIDER=fake keeps its meetings in the process (a meeting one "
                "process created is unknown to the others)"
            )
        if not self.redis_url:
            reasons.append(
                "without CPD_REDIS_URL the catalog cache and the sign-in and mail limits are "
                "per process (stale catalog pages, limits multiplied by the workers)"
            )
        return reasons

    def problems(self) -> list[str]:
        """Every reason these settings cannot run, one line each (empty: they can)."""
        problems = [problem for area in AREA_CHECKS for problem in area(self)]
        if self.is_production and not _bad_public_url(self):
            problems += [problem for refusal in STAND_IN_REFUSALS for problem in refusal(self)]
        return problems

    def summary(self) -> dict[str, object]:
        """The effective configuration an operator checks at start, without any secret."""
        mail: dict[str, object] = {"mail_backend": self.mail_backend}
        if self.mail_backend == "smtp":
            mail |= {
                "smtp": f"{self.smtp_host}:{self.smtp_port}",
                "smtp_security": self.smtp_security,
            }
        elif self.mail_backend == "file":
            mail["mail_outbox_dir"] = self.mail_outbox_dir
        storage = {
            "local": self.file_storage_dir,
            "s3": f"s3://{self.s3_bucket}/{self.s3_prefix.strip('/')}",
            "memory": "",
        }[self.file_storage]
        return {
            "environment": self.environment,
            "database": self.redacted("database_url") if self.persistence == "sql" else "memory",
            **mail,
            "task_queue": self.task_queue,
            "payment_provider": self.payment_provider,
            "video_provider": self.video_provider,
            "file_storage": f"{self.file_storage} {storage}".strip(),
            "redis": self.redacted("redis_url"),
            "public_base_url": self.public_base_url,
        }


def redact_url(url: str) -> str:
    """``url`` with its password, and query values that look secret, masked."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return REDACTED
    if password is not None:
        user, _, host = parts.netloc.rpartition("@")
        url = url.replace(f"//{parts.netloc}", f"//{user.partition(':')[0]}:{REDACTED}@{host}", 1)
    if parts.query:
        query = urlencode(
            [
                (key, REDACTED if _SECRET_QUERY_KEY.search(key) else value)
                for key, value in parse_qsl(parts.query, keep_blank_values=True)
            ],
            safe="*",
        )
        url = url.replace(f"?{parts.query}", f"?{query}", 1)
    return url


def _env_name_in(message: str) -> str:
    """msgspec says "... - at `$.smtp_port`"; operators know the variable as CPD_SMTP_PORT."""
    if "`$." in message:
        head, _, rest = message.partition("`$.")
        name = rest.split("`", 1)[0]
        return f"{PREFIX}{name.upper()}: {head.rstrip().removesuffix(' - at')}"
    return message


# -- Checks, one per area: each yields its problems, one operator-readable line each ----------

Check = Callable[[Settings], Iterator[str]]


def _token_problems(s: Settings) -> Iterator[str]:
    public_token_key = s.uses_dev_secret and s.jwt_algorithm.startswith("HS")
    if s.is_production and public_token_key:
        yield "CPD_SECRET_KEY must be set in production (the default is public)."
    if s.jwt_algorithm.startswith("HS") and len(s.secret_key) < 32:
        yield "CPD_SECRET_KEY must be at least 32 characters."
    if s.is_production and s.credential_signing_secret == DEV_SECRET_KEY and not public_token_key:
        yield (  # not said twice when the token key above is the default too
            "CPD_CREDENTIAL_KEY_SECRET (or CPD_SECRET_KEY) must be set in production: "
            "it protects the organizations' signing keys."
        )
    if len(s.credential_signing_secret) < 32:  # the signer refuses shorter ones
        yield (
            "CPD_CREDENTIAL_KEY_SECRET (or CPD_SECRET_KEY, its fallback) must be at least "
            "32 characters."
        )
    if not s.jwt_algorithm.startswith("HS") and not (
        s.jwt_private_key_file and s.jwt_public_key_file
    ):
        yield (
            f"CPD_JWT_ALGORITHM={s.jwt_algorithm} needs CPD_JWT_PRIVATE_KEY_FILE and "
            "CPD_JWT_PUBLIC_KEY_FILE."
        )


def _payment_problems(s: Settings) -> Iterator[str]:
    if s.payment_provider == "stripe" and not (s.stripe_api_key and s.stripe_webhook_secret):
        yield "CPD_PAYMENT_PROVIDER=stripe needs CPD_STRIPE_API_KEY and CPD_STRIPE_WEBHOOK_SECRET."


def _task_problems(s: Settings) -> Iterator[str]:
    if s.task_queue == "saq" and not s.redis_url:
        yield "CPD_TASK_QUEUE=saq needs CPD_REDIS_URL."
    if min(s.task_attempts, s.task_timeout_seconds, s.task_heartbeat_seconds) < 1:
        yield (
            "CPD_TASK_ATTEMPTS, CPD_TASK_TIMEOUT_SECONDS and CPD_TASK_HEARTBEAT_SECONDS "
            "must be at least 1."
        )


def _video_problems(s: Settings) -> Iterator[str]:
    zoom = (s.zoom_account_id, s.zoom_client_id, s.zoom_client_secret, s.zoom_webhook_secret)
    if s.video_provider == "zoom" and not all(zoom):
        yield (
            "CPD_VIDEO_PROVIDER=zoom needs CPD_ZOOM_ACCOUNT_ID, CPD_ZOOM_CLIENT_ID, "
            "CPD_ZOOM_CLIENT_SECRET and CPD_ZOOM_WEBHOOK_SECRET."
        )


def _storage_problems(s: Settings) -> Iterator[str]:
    if s.file_storage == "s3" and not s.s3_bucket:
        yield "CPD_FILE_STORAGE=s3 needs CPD_S3_BUCKET."
    if bool(s.s3_access_key_id) != bool(s.s3_secret_access_key):
        yield (
            "CPD_S3_ACCESS_KEY_ID and CPD_S3_SECRET_ACCESS_KEY go together (or leave both "
            "unset for the default credential chain)."
        )
    if s.s3_prefix.strip("/") and not _S3_PREFIX.fullmatch(s.s3_prefix.strip("/")):
        yield (
            "CPD_S3_PREFIX: a folder path of names made of letters, digits, '.', '_' and "
            "'-' (each starting with a letter or digit)."
        )


def _certificate_problems(s: Settings) -> Iterator[str]:
    missing = [path for path in s.certificate_font_paths if not os.path.isdir(path)]
    if missing:
        yield f"CPD_CERTIFICATE_FONT_DIRS: not a folder: {', '.join(missing)}."
    if min(s.certificate_check_seconds, s.certificate_render_seconds) <= 0:
        yield "CPD_CERTIFICATE_CHECK_SECONDS and CPD_CERTIFICATE_RENDER_SECONDS must be above 0."
    if s.certificate_render_memory_mib < MIN_RENDER_MEMORY_MIB:
        yield (
            f"CPD_CERTIFICATE_RENDER_MEMORY_MIB must be at least {MIN_RENDER_MEMORY_MIB} "
            "(a compiling process needs about 300 MiB of address space)."
        )
    slots = (
        s.certificate_render_processes,
        s.certificate_checks_at_once,
        s.certificate_checks_per_organization,
    )
    if min(slots) < 1:
        yield (
            "CPD_CERTIFICATE_RENDER_PROCESSES, CPD_CERTIFICATE_CHECKS_AT_ONCE and "
            "CPD_CERTIFICATE_CHECKS_PER_ORGANIZATION must be at least 1."
        )


def _sign_in_problems(s: Settings) -> Iterator[str]:
    if min(s.login_max_failures, s.login_address_max_failures) < 1:
        yield "CPD_LOGIN_MAX_FAILURES and CPD_LOGIN_ADDRESS_MAX_FAILURES must be at least 1."
    mail = (s.account_mail_per_recipient, s.account_mail_per_address)
    if min(*mail, s.invitations_per_organization) < 1:
        yield (
            "CPD_ACCOUNT_MAIL_PER_RECIPIENT, CPD_ACCOUNT_MAIL_PER_ADDRESS and "
            "CPD_INVITATIONS_PER_ORGANIZATION must be at least 1."
        )
    if not 1 <= s.login_first_delay_seconds <= s.login_window_seconds:
        yield (
            "CPD_LOGIN_FIRST_DELAY_SECONDS must be at least 1 and at most CPD_LOGIN_WINDOW_SECONDS."
        )
    try:
        s.trusted_proxy_networks  # noqa: B018 - parsed here to fail at start
    except ValueError as error:
        yield f"CPD_TRUSTED_PROXIES: {error}."
    if s.password_hash_threads < 1:
        yield "CPD_PASSWORD_HASH_THREADS must be at least 1."


def _logging_problems(s: Settings) -> Iterator[str]:
    if s.log_level.upper() not in LOG_LEVELS:
        yield f"CPD_LOG_LEVEL: one of {', '.join(LOG_LEVELS)}."


def _bad_public_url(s: Settings) -> bool:
    url = urlsplit(s.public_base_url)
    return (
        url.scheme not in ("http", "https") or not url.hostname or bool(url.query or url.fragment)
    )


def _public_url_problems(s: Settings) -> Iterator[str]:
    if _bad_public_url(s):
        yield (
            "CPD_PUBLIC_BASE_URL: the http(s) address people reach this service at, "
            "e.g. https://cpd.example.org (no query or fragment)."
        )


AREA_CHECKS: tuple[Check, ...] = (
    _token_problems,
    _payment_problems,
    _task_problems,
    _video_problems,
    _storage_problems,
    _certificate_problems,
    _sign_in_problems,
    _logging_problems,
    _public_url_problems,
)


# -- Production: development stand-ins that lose money, mail or data, refused unless the
# operator names the one that is meant ---------------------------------------------------------


def _refuse_test_payments(s: Settings) -> Iterator[str]:
    if s.allow_test_payments:
        return
    if s.payment_provider == "offline":
        yield (
            "CPD_PAYMENT_PROVIDER=offline confirms paid seats with test cards: use "
            "stripe, or set CPD_ALLOW_TEST_PAYMENTS=true."
        )
    elif (s.stripe_api_key or "").startswith(("sk_test_", "rk_test_")):
        yield (
            "CPD_STRIPE_API_KEY is a test-mode key, which takes no money: use a live "
            "key, or set CPD_ALLOW_TEST_PAYMENTS=true."
        )


# (setting, the stand-in's value, the setting that allows it, why production refuses it)
_OPT_IN_STAND_INS = (
    (
        "video_provider",
        "fake",
        "allow_fake_video",
        "CPD_VIDEO_PROVIDER=fake sends meeting links that lead nowhere: use zoom, or set "
        "CPD_ALLOW_FAKE_VIDEO=true.",
    ),
    (
        "mail_backend",
        "file",
        "allow_file_mail",
        "CPD_MAIL_BACKEND=file writes emails to CPD_MAIL_OUTBOX_DIR and sends none: use smtp, "
        "or set CPD_ALLOW_FILE_MAIL=true.",
    ),
    (
        "certificate_renderer",
        "fake",
        "allow_fake_certificates",
        "CPD_CERTIFICATE_RENDERER=fake issues placeholder PDFs, not the templates': use typst, "
        "or set CPD_ALLOW_FAKE_CERTIFICATES=true.",
    ),
)


def _refuse_fakes(s: Settings) -> Iterator[str]:
    for name, stand_in, allowed_by, refusal in _OPT_IN_STAND_INS:
        if getattr(s, name) == stand_in and not getattr(s, allowed_by):
            yield refusal


def _refuse_memory_backends(s: Settings) -> Iterator[str]:
    if s.allow_memory_backends:
        return
    for name, variable in (
        ("persistence", "CPD_PERSISTENCE"),
        ("mail_backend", "CPD_MAIL_BACKEND"),
        ("file_storage", "CPD_FILE_STORAGE"),
    ):
        if getattr(s, name) == "memory":
            yield (
                f"{variable}=memory loses everything at each restart: choose another, "
                "or set CPD_ALLOW_MEMORY_BACKENDS=true."
            )


def _refuse_http_public_url(s: Settings) -> Iterator[str]:
    if s.public_base_url.startswith("https://") or s.allow_http_public_url:
        return
    what = (
        "is the development default"
        if s.public_base_url == DEFAULT_PUBLIC_BASE_URL
        else "is not https"
    )
    yield (
        f"CPD_PUBLIC_BASE_URL {what} ({s.public_base_url}): set the https address "
        "people reach this service at, or CPD_ALLOW_HTTP_PUBLIC_URL=true."
    )


def _refuse_smtp_password_in_clear(s: Settings) -> Iterator[str]:
    if (
        s.mail_backend == "smtp"
        and s.smtp_password
        and s.smtp_security == "none"
        and s.smtp_host not in ("localhost", "127.0.0.1", "::1")
    ):
        yield (
            "CPD_SMTP_SECURITY=none would send CPD_SMTP_PASSWORD in clear to "
            f"{s.smtp_host}: use starttls or tls."
        )


STAND_IN_REFUSALS: tuple[Check, ...] = (
    _refuse_test_payments,
    _refuse_fakes,
    _refuse_memory_backends,
    _refuse_http_public_url,
    _refuse_smtp_password_in_clear,
)
