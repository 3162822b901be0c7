"""Leaderboards' storage: the board store protocol and its SQLite and Redis backends, the
feed that keeps them current, rebuilds, resets and the counts they read."""
