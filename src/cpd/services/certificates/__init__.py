"""Certificates: issuing, design (templates, badges), eligibility, Open Badges credentials."""
