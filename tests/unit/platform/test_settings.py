"""Settings from CPD_* variables: conversions, and errors an operator can act on."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from cpd.bootstrap import build_container
from cpd.settings import DEV_SECRET_KEY, Settings, SettingsError

GOOD_SECRET = "k" * 40
# Production with the development stand-ins each opted into, for tests about something else.
STAND_INS = {
    "CPD_ALLOW_TEST_PAYMENTS": "true",
    "CPD_ALLOW_FAKE_VIDEO": "true",
    "CPD_ALLOW_FILE_MAIL": "true",
    "CPD_ALLOW_MEMORY_BACKENDS": "true",
    "CPD_ALLOW_HTTP_PUBLIC_URL": "true",
}
# Production on real services: what the README's checklist arrives at.
REAL_SERVICES = {
    "CPD_ENVIRONMENT": "production",
    "CPD_SECRET_KEY": GOOD_SECRET,
    "CPD_DATABASE_URL": "postgresql+asyncpg://cpd:pw@db/cpd",
    "CPD_PUBLIC_BASE_URL": "https://cpd.example.org",
    "CPD_PAYMENT_PROVIDER": "stripe",
    "CPD_STRIPE_API_KEY": "sk_live_abc",
    "CPD_STRIPE_WEBHOOK_SECRET": "whsec_abc",
    "CPD_VIDEO_PROVIDER": "zoom",
    "CPD_ZOOM_ACCOUNT_ID": "a",
    "CPD_ZOOM_CLIENT_ID": "c",
    "CPD_ZOOM_CLIENT_SECRET": "s",
    "CPD_ZOOM_WEBHOOK_SECRET": "w",
    "CPD_MAIL_BACKEND": "smtp",
    "CPD_SMTP_HOST": "smtp.example.org",
    "CPD_SMTP_SECURITY": "starttls",
    "CPD_SMTP_PASSWORD": "mail-password",
}


def test_defaults_are_safe_for_development() -> None:
    settings = Settings.from_env({})
    assert settings.environment == "development"
    assert settings.is_sqlite
    assert settings.should_auto_migrate
    assert settings.uses_dev_secret
    assert settings.mail_backend == "file"


def test_from_env_converts_strings_and_ignores_other_variables() -> None:
    settings = Settings.from_env(
        {
            "CPD_SMTP_PORT": "2525",
            "CPD_AUTO_MIGRATE": "false",
            "CPD_OUTBOX_POLL_SECONDS": "0.25",
            "CPD_ARGON2_TIME_COST": "3",
            "CPD_MAIL_BACKEND": "smtp",
            "CPD_SMTP_SECURITY": "starttls",
            "CPD_PERSISTENCE": "memory",
            "CPD_SMTP_USERNAME": "mailer",
            "HOME": "/root",
            "SMTP_PORT": "not a number",  # no prefix: not ours
        }
    )
    assert settings.smtp_port == 2525
    assert settings.auto_migrate is False
    assert not settings.should_auto_migrate
    assert settings.outbox_poll_seconds == 0.25
    assert settings.argon2_time_cost == 3
    assert (settings.mail_backend, settings.smtp_security) == ("smtp", "starttls")
    assert settings.smtp_username == "mailer"
    assert not settings.is_sqlite


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPD_JWT_ISSUER", "cpd-staging")
    assert Settings.from_env().jwt_issuer == "cpd-staging"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CPD_SMTP_PORT", "twenty-five"),
        ("CPD_MAIL_BACKEND", "carrier-pigeon"),
        ("CPD_AUTO_MIGRATE", "perhaps"),
        ("CPD_ENVIRONMENT", "staging"),
        ("CPD_JWT_ALGORITHM", "none"),
        ("CPD_OUTBOX_POLL_SECONDS", "soon"),
        ("CPD_ORGANIZATION_SIGNUP", "anyone"),
    ],
)
def test_invalid_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    assert variable in str(caught.value)


def test_organization_signup_needs_approval_in_production_unless_set() -> None:
    production = {"CPD_ENVIRONMENT": "production", "CPD_SECRET_KEY": GOOD_SECRET} | STAND_INS
    assert Settings.from_env(production).organization_signup_mode == "approval"
    assert Settings.from_env({}).organization_signup_mode == "open"
    assert Settings.from_env({"CPD_ENVIRONMENT": "test"}).organization_signup_mode == "open"
    chosen = Settings.from_env(production | {"CPD_ORGANIZATION_SIGNUP": "closed"})
    assert chosen.organization_signup_mode == "closed"


def test_production_refuses_the_public_development_secret() -> None:
    with pytest.raises(SettingsError, match="CPD_SECRET_KEY"):
        Settings.from_env({"CPD_ENVIRONMENT": "production"} | STAND_INS)
    with pytest.raises(SettingsError, match="CPD_SECRET_KEY"):
        Settings.from_env(
            {"CPD_ENVIRONMENT": "production", "CPD_SECRET_KEY": DEV_SECRET_KEY} | STAND_INS
        )
    ok = Settings.from_env(
        {"CPD_ENVIRONMENT": "production", "CPD_SECRET_KEY": GOOD_SECRET} | STAND_INS
    )
    assert ok.is_production
    assert not ok.uses_dev_secret


def test_a_short_hmac_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="CPD_SECRET_KEY"):
        Settings.from_env({"CPD_SECRET_KEY": "too-short"})


def test_rs256_needs_both_key_files() -> None:
    with pytest.raises(SettingsError, match="CPD_JWT_PRIVATE_KEY_FILE"):
        Settings.from_env({"CPD_JWT_ALGORITHM": "RS256"})
    with pytest.raises(SettingsError, match="CPD_JWT_PUBLIC_KEY_FILE"):
        Settings.from_env({"CPD_JWT_ALGORITHM": "RS256", "CPD_JWT_PRIVATE_KEY_FILE": "/k.pem"})


def test_rs256_with_key_files_wires_a_working_issuer(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = tmp_path / "jwt.pem", tmp_path / "jwt.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    settings = Settings.from_env(
        {
            "CPD_ENVIRONMENT": "production",  # the dev secret is irrelevant to RS256 tokens
            "CPD_CREDENTIAL_KEY_SECRET": "c" * 40,  # ...but not to credential signing keys
            "CPD_PERSISTENCE": "memory",
            "CPD_MAIL_BACKEND": "memory",
            "CPD_JWT_ALGORITHM": "RS256",
            "CPD_JWT_PRIVATE_KEY_FILE": str(private),
            "CPD_JWT_PUBLIC_KEY_FILE": str(public),
        }
        | STAND_INS
    )
    app = build_container(settings)
    from cpd.domain.ids import new_id

    user = new_id()
    token = app.tokens.issue_access(user, uuid4(), app.clock.now()).token
    assert app.tokens.decode_access(token).user_id == user


def test_credential_key_secret_falls_back_to_the_secret_key_and_has_a_minimum_length() -> None:
    fallback = Settings.from_env({"CPD_SECRET_KEY": GOOD_SECRET})
    assert fallback.credential_signing_secret == GOOD_SECRET
    own = "c" * 32
    settings = Settings.from_env({"CPD_SECRET_KEY": GOOD_SECRET, "CPD_CREDENTIAL_KEY_SECRET": own})
    assert settings.credential_signing_secret == own
    with pytest.raises(SettingsError, match="CPD_CREDENTIAL_KEY_SECRET"):
        Settings.from_env({"CPD_CREDENTIAL_KEY_SECRET": "too-short"})


def test_the_credential_algorithm_is_eddsa_unless_rs256_is_asked_for() -> None:
    assert Settings().credential_algorithm == "EdDSA"
    assert Settings.from_env({"CPD_CREDENTIAL_ALGORITHM": "RS256"}).credential_algorithm == "RS256"
    with pytest.raises(SettingsError, match="CPD_CREDENTIAL_ALGORITHM"):
        Settings.from_env({"CPD_CREDENTIAL_ALGORITHM": "HS256"})


def test_production_refuses_the_public_secret_for_credential_keys() -> None:
    with pytest.raises(SettingsError, match="CPD_CREDENTIAL_KEY_SECRET"):
        Settings.from_env(
            {
                "CPD_ENVIRONMENT": "production",
                "CPD_JWT_ALGORITHM": "RS256",
                "CPD_JWT_PRIVATE_KEY_FILE": "/k.pem",
                "CPD_JWT_PUBLIC_KEY_FILE": "/k.pub",
            }
        )


def test_a_short_secret_key_is_refused_where_credential_keys_fall_back_to_it() -> None:
    """With RS256 tokens CPD_SECRET_KEY is not checked for tokens, but it still wraps the
    credential signing keys when CPD_CREDENTIAL_KEY_SECRET is unset: too short is refused
    here rather than by the signer at start-up."""
    with pytest.raises(SettingsError, match="CPD_CREDENTIAL_KEY_SECRET"):
        Settings.from_env(
            {
                "CPD_SECRET_KEY": "short",
                "CPD_JWT_ALGORITHM": "RS256",
                "CPD_JWT_PRIVATE_KEY_FILE": "/k.pem",
                "CPD_JWT_PUBLIC_KEY_FILE": "/k.pub",
            }
        )


def test_the_openapi_docs_are_on_except_in_production_unless_set() -> None:
    production = {
        "CPD_ENVIRONMENT": "production",
        "CPD_SECRET_KEY": GOOD_SECRET,
        "CPD_CREDENTIAL_KEY_SECRET": GOOD_SECRET,
    } | STAND_INS
    assert Settings.from_env({}).serves_openapi_docs
    assert not Settings.from_env({"CPD_OPENAPI_DOCS": "false"}).serves_openapi_docs
    assert not Settings.from_env(production).serves_openapi_docs
    assert Settings.from_env(production | {"CPD_OPENAPI_DOCS": "true"}).serves_openapi_docs
    with pytest.raises(SettingsError, match="CPD_OPENAPI_DOCS"):
        Settings.from_env({"CPD_OPENAPI_DOCS": "sometimes"})


def test_production_refuses_every_development_stand_in_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"CPD_ENVIRONMENT": "production", "CPD_SECRET_KEY": GOOD_SECRET})
    assert [problem.split()[0] for problem in caught.value.problems] == [
        "CPD_PAYMENT_PROVIDER=offline",
        "CPD_VIDEO_PROVIDER=fake",
        "CPD_MAIL_BACKEND=file",
        "CPD_PUBLIC_BASE_URL",
    ]
    assert "development default (http://127.0.0.1:8000)" in caught.value.problems[-1]
    assert str(caught.value).count("\n") == 3  # one line each


@pytest.mark.parametrize(
    ("setting", "value", "refused", "opt_in"),
    [
        ("CPD_PAYMENT_PROVIDER", "offline", "CPD_PAYMENT_PROVIDER=offline", "TEST_PAYMENTS"),
        ("CPD_STRIPE_API_KEY", "sk_test_abc", "CPD_STRIPE_API_KEY", "TEST_PAYMENTS"),
        ("CPD_STRIPE_API_KEY", "rk_test_abc", "CPD_STRIPE_API_KEY", "TEST_PAYMENTS"),
        ("CPD_VIDEO_PROVIDER", "fake", "CPD_VIDEO_PROVIDER=fake", "FAKE_VIDEO"),
        ("CPD_MAIL_BACKEND", "file", "CPD_MAIL_BACKEND=file", "FILE_MAIL"),
        ("CPD_CERTIFICATE_RENDERER", "fake", "CPD_CERTIFICATE_RENDERER=fake", "FAKE_CERTIFICATES"),
        ("CPD_MAIL_BACKEND", "memory", "CPD_MAIL_BACKEND=memory", "MEMORY_BACKENDS"),
        ("CPD_PERSISTENCE", "memory", "CPD_PERSISTENCE=memory", "MEMORY_BACKENDS"),
        ("CPD_FILE_STORAGE", "memory", "CPD_FILE_STORAGE=memory", "MEMORY_BACKENDS"),
        ("CPD_PUBLIC_BASE_URL", "http://cpd.example.org", "CPD_PUBLIC_BASE_URL", "HTTP_PUBLIC_URL"),
    ],
)
def test_production_refuses_a_stand_in_unless_its_setting_allows_it(
    setting: str, value: str, refused: str, opt_in: str
) -> None:
    assert Settings.from_env(REAL_SERVICES).is_production
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(REAL_SERVICES | {setting: value})
    [problem] = caught.value.problems
    assert problem.startswith(refused)
    assert f"CPD_ALLOW_{opt_in}=true" in problem
    allowed = Settings.from_env(REAL_SERVICES | {setting: value, f"CPD_ALLOW_{opt_in}": "true"})
    assert allowed.is_production
    assert Settings.from_env({setting: value})  # only production refuses it


def test_production_refuses_an_smtp_password_sent_in_clear() -> None:
    clear = REAL_SERVICES | {"CPD_SMTP_SECURITY": "none"}
    with pytest.raises(SettingsError, match="CPD_SMTP_SECURITY=none"):
        Settings.from_env(clear)
    assert Settings.from_env(clear | {"CPD_SMTP_HOST": "localhost"})  # a relay on this host
    assert Settings.from_env(clear | {"CPD_SMTP_PASSWORD": ""})


@pytest.mark.parametrize(
    "url", ["cpd.example.org", "ftp://cpd.example.org", "https://", "https://x.org/?a=1"]
)
def test_the_public_base_url_must_be_an_http_address(url: str) -> None:
    with pytest.raises(SettingsError, match="CPD_PUBLIC_BASE_URL"):
        Settings.from_env({"CPD_PUBLIC_BASE_URL": url})


def test_the_log_level_must_be_one_logging_knows() -> None:
    assert Settings.from_env({"CPD_LOG_LEVEL": "debug"}).log_level == "debug"
    with pytest.raises(SettingsError, match="CPD_LOG_LEVEL"):
        Settings.from_env({"CPD_LOG_LEVEL": "chatty"})


def test_every_problem_is_reported_not_only_the_first() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {"CPD_TASK_QUEUE": "saq", "CPD_FILE_STORAGE": "s3", "CPD_PASSWORD_HASH_THREADS": "0"}
        )
    assert len(caught.value.problems) == 3


def test_state_kept_per_process_names_each_setting_that_keeps_it() -> None:
    """What `cpd serve --workers N` refuses: each reason names its setting."""
    defaults = Settings.from_mapping({}).state_kept_per_process
    assert [reason.split()[0] for reason in defaults] == ["CPD_VIDEO_PROVIDER=fake", "without"]
    assert "CPD_REDIS_URL" in defaults[1]
    memory = Settings.from_mapping({"persistence": "memory", "file_storage": "memory"})
    assert [r.split()[0] for r in memory.state_kept_per_process][:2] == [
        "CPD_PERSISTENCE=memory",
        "CPD_FILE_STORAGE=memory",
    ]
    shared = Settings.from_mapping(
        {
            "redis_url": "redis://cache:6379/0",
            "video_provider": "zoom",
            "zoom_account_id": "a",
            "zoom_client_id": "b",
            "zoom_client_secret": "c",
            "zoom_webhook_secret": "d",
        }
    )
    assert shared.state_kept_per_process == []  # offline payments are in the database
