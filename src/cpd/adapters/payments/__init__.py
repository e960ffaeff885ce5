"""Adapters of the PaymentGateway port: Stripe, and an offline gateway for the embedded mode."""

from __future__ import annotations


class PaymentProviderUnavailable(Exception):
    """The provider could not be reached or failed on its side (network, 5xx, rate limit,
    rejected credentials). Not a domain error: the caller (the outbox) retries the call with
    the same idempotency key, which is safe."""


__all__ = ["PaymentProviderUnavailable"]
