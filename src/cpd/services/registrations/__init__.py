"""Registrations: seats, waitlist, payments, refunds, reminders."""
