"""Certificates over HTTP: issuing, design, credentials, the verification page."""
