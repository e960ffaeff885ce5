"""Security: access tokens, password hashing and the credentials' signer, from settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cpd.bootstrap.container import Resources

if TYPE_CHECKING:
    from cpd.ports.accounts import PasswordHasher, TokenIssuer
    from cpd.ports.certificates import CredentialSigner
    from cpd.settings import Settings


def build_token_issuer(settings: Settings) -> TokenIssuer:
    from cpd.adapters.security.jose_tokens import JoseTokenIssuer

    if settings.jwt_algorithm.startswith("HS"):
        signing_key, verifying_key = settings.secret_key, settings.secret_key
    else:
        assert settings.jwt_private_key_file  # Settings.check ensured both files
        assert settings.jwt_public_key_file
        signing_key = Path(settings.jwt_private_key_file).read_text()
        verifying_key = Path(settings.jwt_public_key_file).read_text()
    return JoseTokenIssuer(
        algorithm=settings.jwt_algorithm,
        signing_key=signing_key,
        verifying_key=verifying_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
    )


def build_password_hasher(settings: Settings, resources: Resources) -> PasswordHasher:
    from cpd.adapters.system import Argon2Hasher

    hasher = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        threads=settings.password_hash_threads,
    )
    resources.on_close(hasher.close)
    return hasher


def build_credential_signer(settings: Settings) -> CredentialSigner:
    from cpd.adapters.security.credential_signing import JwsCredentialSigner

    return JwsCredentialSigner(settings.credential_signing_secret, settings.credential_algorithm)
