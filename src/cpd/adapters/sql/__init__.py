"""SQL persistence with SQLAlchemy Core and advanced-alchemy types, on SQLite or PostgreSQL."""
