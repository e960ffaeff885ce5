"""Accounts over HTTP: sign-in and tokens, users, organizations."""
