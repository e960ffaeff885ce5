"""In-memory adapters: the whole platform without a database, for tests and demos."""
