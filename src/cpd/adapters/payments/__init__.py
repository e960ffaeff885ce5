"""Adapters of the PaymentGateway port: Stripe, and an offline gateway for the embedded mode."""
