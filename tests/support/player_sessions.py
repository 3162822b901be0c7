"""Signing a player in by device and sending its access token: shared by the route seam's and
the end-to-end tests of player sessions (any client with `post(path, json)` will do)."""

from __future__ import annotations

import uuid
from typing import Any, Protocol


class Poster(Protocol):
    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any: ...


def device_sign_in(anonymous: Poster, device: str | None = None) -> dict[str, Any]:
    """A new session of the device's player (a fresh device, hence player, when None)."""
    response = anonymous.post("/auth/device", {"deviceId": device or uuid.uuid4().hex})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['accessToken']}"}
