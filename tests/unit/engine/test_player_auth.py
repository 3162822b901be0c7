"""The rules of player sessions: rotation and reuse detection, bans, the client policy, access
tokens and custom sign-in tokens (HS256, EdDSA, RS256; `alg: none`, wrong keys, expiry, audience)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st

from engine import player_auth as pa
from engine.client_policy import (
    DEFAULT_CLIENT_ALLOW,
    NotClientCallableError,
    check_client_callable,
    client_allow,
    parse_client_policy,
)
from engine.definitions import DefinitionError, parse_economy
from engine.rules import rfc3339

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SECRET = "k" * 64


def _signed_in(*sids: str) -> pa.PlayerAuth:
    auth = pa.PlayerAuth()
    for sid in sids:
        auth = pa.open_session(auth, sid, f"h-{sid}-0", "device", NOW)
    return auth


@given(st.lists(st.sampled_from(["fresh", "current", "spent", "unknown"]), min_size=1, max_size=30))
def test_rotation_accepts_only_the_current_token_and_a_spent_one_ends_everything(steps: list[str]) -> None:
    """Model: one session; presenting the current hash rotates, a spent one ends all sessions
    for good, anything else is refused and changes nothing."""
    auth = _signed_in("a", "b")
    current, spent, n, ended = "h-a-0", [], 0, False
    for step in steps:
        presented = {"current": current, "spent": spent[-1] if spent else "never", "unknown": "nope"}.get(step, current)
        n += 1
        try:
            rotation = pa.rotate(auth, "a", presented, f"h-a-{n}", NOW)
        except pa.InvalidPlayerTokenError:
            assert ended or presented not in (current, *spent)
            continue
        if rotation.reused:
            assert presented in spent and rotation.auth.sessions == {}
            auth, ended = rotation.auth, True
            continue
        assert not ended and presented == current
        auth, spent, current = rotation.auth, [*spent, current], f"h-a-{n}"
        assert auth.sessions["a"].refresh_hash == current and "b" in auth.sessions


def test_sessions_past_the_cap_end_the_least_recently_refreshed() -> None:
    auth = pa.PlayerAuth()
    for index in range(pa.MAX_SESSIONS_PER_PLAYER + 2):
        auth = pa.open_session(auth, f"s{index:02d}", "h", "device", NOW + timedelta(seconds=index))
    assert len(auth.sessions) == pa.MAX_SESSIONS_PER_PLAYER
    assert "s00" not in auth.sessions and "s01" not in auth.sessions


def test_a_ban_ends_sessions_and_refuses_sign_in_until_it_ends() -> None:
    until = rfc3339(NOW + timedelta(hours=1))
    banned = pa.ban(_signed_in("a"), "cheating", until, NOW)
    assert banned.sessions == {}
    with pytest.raises(pa.PlayerBannedError):
        pa.open_session(banned, "b", "h", "device", NOW)
    with pytest.raises(pa.PlayerBannedError):
        pa.check_session(banned, "a", NOW)
    later = pa.open_session(banned, "b", "h", "device", NOW + timedelta(hours=2))
    assert "b" in later.sessions
    assert "c" in pa.open_session(pa.unban(banned), "c", "h", "device", NOW).sessions


def test_a_document_round_trip_keeps_everything() -> None:
    auth = pa.ban(_signed_in("a"), "r", None, NOW)
    auth = pa.open_session(pa.unban(auth), "b", "h", "custom", NOW)
    assert pa.PlayerAuth.from_document(auth.to_document()) == auth


def test_logout_ends_only_the_session_whose_current_token_it_is() -> None:
    auth = _signed_in("a", "b")
    assert pa.end_session(auth, "a", "wrong") is auth
    assert set(pa.end_session(auth, "a", "h-a-0").sessions) == {"b"}


OPS = ["xp", "credit", "debit", "grant", "consume", "purchase"]


@given(st.lists(st.sampled_from(OPS)))
def test_the_client_policy_allows_exactly_the_listed_ops(allow: list[str]) -> None:
    problems: list[tuple[str, str]] = []
    ops = parse_client_policy({"allow": allow}, "clientPolicy", lambda p, m: problems.append((p, m)))
    assert problems == [] and ops == frozenset(allow)
    for op in OPS:
        if op in allow:
            check_client_callable(ops, op)
        else:
            with pytest.raises(NotClientCallableError):
                check_client_callable(ops, op)


def test_the_default_policy_is_purchase_and_consume_and_unknown_ops_are_refused() -> None:
    assert client_allow(None) == frozenset(DEFAULT_CLIENT_ALLOW) == {"purchase", "consume"}
    assert client_allow({"clientPolicy": {"allow": ["xp"]}}) == {"xp"}
    economy = {"xpCurve": {"levels": [0, 100]}, "clientPolicy": {"allow": ["xp", "teleport"], "deny": []}}
    with pytest.raises(DefinitionError) as refused:
        parse_economy(economy)
    paths = {path for path, _ in refused.value.problems}
    assert paths == {"clientPolicy.allow[1]", "clientPolicy.deny"}
    assert parse_economy({"xpCurve": {"levels": [0, 100]}}).client_allow == {"purchase", "consume"}


def test_access_tokens_name_their_project_and_expire() -> None:
    token = pa.sign_access(pa.access_claims("t", "p", "ada", "sid1", NOW), SECRET)
    assert pa.verify_access(token, SECRET, "t", "p", NOW) == pa.AccessClaims("ada", "sid1")
    for tenant, project, key, now in (
        ("t", "other", SECRET, NOW),
        ("u", "p", SECRET, NOW),
        ("t", "p", "x" * 64, NOW),
        ("t", "p", SECRET, NOW + timedelta(seconds=pa.ACCESS_TTL_S)),
    ):
        with pytest.raises(pa.InvalidPlayerTokenError):
            pa.verify_access(token, key, tenant, project, now)


def _custom(claims: dict[str, object], key: object, alg: str, **headers: object) -> str:
    return jwt.encode(claims, key, algorithm=alg, headers=headers or None)  # type: ignore[arg-type]


def _pem(private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> str:
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode()


ED = ed25519.Ed25519PrivateKey.generate()
RS = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_ED = ed25519.Ed25519PrivateKey.generate()  # never registered
KEYS = [pa.PublicKey("ed", "EdDSA", _pem(ED)), pa.PublicKey("rs", "RS256", _pem(RS))]
EXP = int(NOW.timestamp()) + 300


def _verify(token: str, *, secret: str | None = SECRET) -> str:
    return pa.verify_custom_token(token, secret=secret, public_keys=KEYS, project="p", now=NOW)


def test_custom_tokens_verify_with_the_secret_or_a_registered_key() -> None:
    claims = {"sub": "ada", "exp": EXP}
    assert _verify(_custom({**claims, "aud": "p"}, SECRET, "HS256")) == "ada"
    assert _verify(_custom(claims, ED, "EdDSA", kid="ed")) == "ada"
    assert _verify(_custom(claims, RS, "RS256")) == "ada"


@pytest.mark.parametrize(
    ("claims", "key", "alg", "secret"),
    [
        pytest.param({"sub": "ada", "exp": EXP}, "w" * 64, "HS256", SECRET, id="wrong-secret"),
        pytest.param({"sub": "ada", "exp": EXP}, None, "none", SECRET, id="alg-none"),
        pytest.param({"sub": "ada", "exp": EXP}, SECRET, "HS256", None, id="no-secret-set"),
        pytest.param({"sub": "ada", "exp": EXP - 301}, SECRET, "HS256", SECRET, id="expired"),
        pytest.param({"sub": "ada"}, SECRET, "HS256", SECRET, id="no-exp"),
        pytest.param({"sub": "ada", "exp": EXP, "aud": "q"}, SECRET, "HS256", SECRET, id="other-project"),
        pytest.param({"sub": "ada", "exp": EXP + 86400}, SECRET, "HS256", SECRET, id="lives-too-long"),
        pytest.param({"sub": "a/b", "exp": EXP}, SECRET, "HS256", SECRET, id="bad-player-id"),
        pytest.param({"sub": "ada", "exp": EXP, "nbf": EXP - 1}, SECRET, "HS256", SECRET, id="not-yet"),
        pytest.param({"sub": "ada", "exp": EXP}, OTHER_ED, "EdDSA", SECRET, id="unknown-ed"),
    ],
)
def test_custom_tokens_that_do_not_verify_are_refused(
    claims: dict[str, object], key: object, alg: str, secret: str | None
) -> None:
    with pytest.raises(pa.InvalidPlayerTokenError):
        _verify(_custom(claims, key, alg), secret=secret)


def test_an_rs256_token_is_never_checked_as_hs256_with_the_public_key_text() -> None:
    """The classic confusion: HMAC keyed with the public key's PEM must not verify."""

    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    signing_input = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(json.dumps({"sub": "ada", "exp": EXP}).encode())
    mac = hmac.new(KEYS[1].pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{part(mac)}"
    with pytest.raises(pa.InvalidPlayerTokenError):
        _verify(forged, secret=None)


def test_public_keys_are_checked_when_registered() -> None:
    pa.check_public_key("EdDSA", KEYS[0].pem)
    for alg, pem in (("EdDSA", "nope"), ("HS256", KEYS[0].pem), ("RS256", KEYS[0].pem)):
        with pytest.raises(ValueError):
            pa.check_public_key(alg, pem)
