"""One router per domain of the game API."""
