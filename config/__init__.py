"""Settings, the demo economy and logging setup."""
