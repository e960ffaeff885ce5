"""Alembic environment: runs on the connection that ``cpd.adapters.sql.migrate`` passes in."""

from alembic import context

from cpd.adapters.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations with `cpd migrate`, which supplies the connection.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
