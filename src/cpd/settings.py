"""Typed settings read from ``CPD_*`` environment variables, with safe defaults.

Nothing reads the environment except ``Settings.from_env``; the result is passed explicitly to
the composition root, so tests build settings directly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Literal

import msgspec

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production"  # noqa: S105
PREFIX = "CPD_"
MIN_RENDER_MEMORY_MIB = 512
_S3_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")


class SettingsError(ValueError):
    pass


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
    public_base_url: str = "http://127.0.0.1:8000"
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

    def check(self) -> None:
        if self.is_production and self.uses_dev_secret and self.jwt_algorithm.startswith("HS"):
            raise SettingsError("CPD_SECRET_KEY must be set in production (the default is public).")
        if self.jwt_algorithm.startswith("HS") and len(self.secret_key) < 32:
            raise SettingsError("CPD_SECRET_KEY must be at least 32 characters.")
        if self.is_production and self.credential_signing_secret == DEV_SECRET_KEY:
            raise SettingsError(
                "CPD_CREDENTIAL_KEY_SECRET (or CPD_SECRET_KEY) must be set in production: "
                "it protects the organizations' signing keys."
            )
        if len(self.credential_signing_secret) < 32:  # the signer refuses shorter ones
            raise SettingsError(
                "CPD_CREDENTIAL_KEY_SECRET (or CPD_SECRET_KEY, its fallback) must be at least "
                "32 characters."
            )
        if self.payment_provider == "stripe" and not (
            self.stripe_api_key and self.stripe_webhook_secret
        ):
            raise SettingsError(
                "CPD_PAYMENT_PROVIDER=stripe needs CPD_STRIPE_API_KEY and "
                "CPD_STRIPE_WEBHOOK_SECRET."
            )
        if self.task_queue == "saq" and not self.redis_url:
            raise SettingsError("CPD_TASK_QUEUE=saq needs CPD_REDIS_URL.")
        if min(self.task_attempts, self.task_timeout_seconds, self.task_heartbeat_seconds) < 1:
            raise SettingsError(
                "CPD_TASK_ATTEMPTS, CPD_TASK_TIMEOUT_SECONDS and CPD_TASK_HEARTBEAT_SECONDS "
                "must be at least 1."
            )
        if self.video_provider == "zoom" and not (
            self.zoom_account_id
            and self.zoom_client_id
            and self.zoom_client_secret
            and self.zoom_webhook_secret
        ):
            raise SettingsError(
                "CPD_VIDEO_PROVIDER=zoom needs CPD_ZOOM_ACCOUNT_ID, CPD_ZOOM_CLIENT_ID, "
                "CPD_ZOOM_CLIENT_SECRET and CPD_ZOOM_WEBHOOK_SECRET."
            )
        missing = [p for p in self.certificate_font_paths if not os.path.isdir(p)]
        if missing:
            raise SettingsError(f"CPD_CERTIFICATE_FONT_DIRS: not a folder: {', '.join(missing)}.")
        if self.file_storage == "s3" and not self.s3_bucket:
            raise SettingsError("CPD_FILE_STORAGE=s3 needs CPD_S3_BUCKET.")
        if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
            raise SettingsError(
                "CPD_S3_ACCESS_KEY_ID and CPD_S3_SECRET_ACCESS_KEY go together (or leave both "
                "unset for the default credential chain)."
            )
        if self.s3_prefix.strip("/") and not _S3_PREFIX.fullmatch(self.s3_prefix.strip("/")):
            raise SettingsError(
                "CPD_S3_PREFIX: a folder path of names made of letters, digits, '.', '_' and "
                "'-' (each starting with a letter or digit)."
            )
        if min(self.certificate_check_seconds, self.certificate_render_seconds) <= 0:
            raise SettingsError(
                "CPD_CERTIFICATE_CHECK_SECONDS and CPD_CERTIFICATE_RENDER_SECONDS must be above 0."
            )
        if self.certificate_render_memory_mib < MIN_RENDER_MEMORY_MIB:
            raise SettingsError(
                f"CPD_CERTIFICATE_RENDER_MEMORY_MIB must be at least {MIN_RENDER_MEMORY_MIB} "
                "(a compiling process needs about 300 MiB of address space)."
            )
        if (
            min(
                self.certificate_render_processes,
                self.certificate_checks_at_once,
                self.certificate_checks_per_organization,
            )
            < 1
        ):
            raise SettingsError(
                "CPD_CERTIFICATE_RENDER_PROCESSES, CPD_CERTIFICATE_CHECKS_AT_ONCE and "
                "CPD_CERTIFICATE_CHECKS_PER_ORGANIZATION must be at least 1."
            )
        if min(self.login_max_failures, self.login_address_max_failures) < 1:
            raise SettingsError(
                "CPD_LOGIN_MAX_FAILURES and CPD_LOGIN_ADDRESS_MAX_FAILURES must be at least 1."
            )
        if (
            min(
                self.account_mail_per_recipient,
                self.account_mail_per_address,
                self.invitations_per_organization,
            )
            < 1
        ):
            raise SettingsError(
                "CPD_ACCOUNT_MAIL_PER_RECIPIENT, CPD_ACCOUNT_MAIL_PER_ADDRESS and "
                "CPD_INVITATIONS_PER_ORGANIZATION must be at least 1."
            )
        if not 1 <= self.login_first_delay_seconds <= self.login_window_seconds:
            raise SettingsError(
                "CPD_LOGIN_FIRST_DELAY_SECONDS must be at least 1 and at most "
                "CPD_LOGIN_WINDOW_SECONDS."
            )
        try:
            self.trusted_proxy_networks  # noqa: B018 - parsed here to fail at start
        except ValueError as error:
            raise SettingsError(f"CPD_TRUSTED_PROXIES: {error}.") from None
        if self.password_hash_threads < 1:
            raise SettingsError("CPD_PASSWORD_HASH_THREADS must be at least 1.")
        if not self.jwt_algorithm.startswith("HS") and not (
            self.jwt_private_key_file and self.jwt_public_key_file
        ):
            raise SettingsError(
                f"CPD_JWT_ALGORITHM={self.jwt_algorithm} needs CPD_JWT_PRIVATE_KEY_FILE and "
                "CPD_JWT_PUBLIC_KEY_FILE."
            )


def _env_name_in(message: str) -> str:
    """msgspec says "... - at `$.smtp_port`"; operators know the variable as CPD_SMTP_PORT."""
    if "`$." in message:
        head, _, rest = message.partition("`$.")
        name = rest.split("`", 1)[0]
        return f"{PREFIX}{name.upper()}: {head.rstrip().removesuffix(' - at')}"
    return message
