"""Controllers, one module per bounded context."""
