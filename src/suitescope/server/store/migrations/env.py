"""Alembic environment: runs the store's migrations on the connection `suitescope migrate` hands it."""

from __future__ import annotations

from alembic import context

from suitescope.server.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` run by hand (autogenerate a new revision): connect to the configured URL
    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "set sqlalchemy.url to autogenerate a revision"
    with create_engine(url).connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    # render_as_batch: SQLite alters a table by copying it, which Alembic's batch mode does for us.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
