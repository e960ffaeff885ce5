"""Registrations over HTTP: booking, payment, cancellation, refund policies."""
