"""Helpers shared by the test suite: starting real services, or failing loudly in CI."""
