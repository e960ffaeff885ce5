"""Use cases: each opens a unit of work, applies domain rules, records outgoing work, commits."""
