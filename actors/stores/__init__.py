"""Durable stores behind one protocol (`base.Store`): SQLite by default, MongoDB in production."""
