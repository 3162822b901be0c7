"""Secrets at rest: TOTP secrets and the token signing key are kept sealed (Fernet: AES-128-CBC
with an HMAC-SHA256), so a copy of the store — a backup, a dump, a stolen disk — holds no
usable secret without the key, which lives elsewhere.

The key is `LUDEX_SECRET_KEY` (a Fernet key: 32 bytes, url-safe base64; a cluster sets it from
a Kubernetes Secret), else `<data dir>/secret.key`, generated on first use with mode 0600 for the
embedded default. Values Ludex 0.1.0 kept in the clear are read as they are and sealed on
their first use (the signing key when a process first reads it, a user's TOTP secret at their
next sign-in)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from config.settings import Settings

SEALED = "sealed:v1:"
KEY_FILE = "secret.key"


class SecretKeyError(RuntimeError):
    """The sealing key is missing, malformed, or not the one these secrets were sealed with."""


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as error:
            raise SecretKeyError("LUDEX_SECRET_KEY must be a Fernet key (32 url-safe base64 bytes)") from error

    def __reduce__(self) -> tuple[object, ...]:
        """Never pickled: a process that needs a box builds it from `Settings`, so key material
        never travels as a live object (cryptography 51's Fernet cannot be pickled at all)."""
        raise TypeError("a SecretBox holds key material and is not pickled: build it from Settings where it is used")

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.secret_key:
            return cls(settings.secret_key)
        return cls(_key_file(settings.data_dir / KEY_FILE))

    def seal(self, plaintext: str) -> str:
        return SEALED + self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, stored: str) -> str:
        """The plaintext of a sealed value; a value from before sealing is answered as it is."""
        if not is_sealed(stored):
            return stored
        try:
            return self._fernet.decrypt(stored[len(SEALED) :].encode()).decode()
        except InvalidToken as error:
            raise SecretKeyError("a stored secret does not open with this LUDEX_SECRET_KEY / secret.key") from error


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED)


def _key_file(path: Path) -> bytes:
    """The key kept in `path`, created once, readable by its owner only from its first byte."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile: use theirs
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as file:
        file.write(Fernet.generate_key())
    return path.read_bytes().strip()
