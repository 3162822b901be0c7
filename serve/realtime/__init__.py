"""The realtime WebSocket (`route.py`): the hub's sockets, the command stream, revocations and
the leaderboard watch."""
