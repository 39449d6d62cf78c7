"""Alembic migrations of the store; run them with `optimizer.store.engine.upgrade`."""
