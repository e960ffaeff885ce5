"""Use cases: each opens one unit of work, applies domain rules, records outgoing work, commits once."""
