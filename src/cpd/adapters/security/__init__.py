"""Tokens and signatures: JWTs with python-jose, Open Badges credential signing."""
