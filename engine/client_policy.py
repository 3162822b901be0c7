"""The client policy of an economy (`clientPolicy: {allow: [op, ...]}`): the batch ops
(`Command.op`) a player session may send; by default `purchase` and `consume`, so XP, credits,
debits and grants stay server-only unless the project says otherwise. Checked once, on the one
command path that HTTP, batches and the command stream share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.commands import COMMAND_TYPES
from engine.domain_error import DomainError

DEFAULT_CLIENT_ALLOW: tuple[str, ...] = ("purchase", "consume")
CLIENT_OPS = frozenset(COMMAND_TYPES)  # every command's op may be named


class NotClientCallableError(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)

    @property
    def slug(self) -> str:
        return "not-client-callable"

    @property
    def detail(self) -> str:
        return str(self.args[0])


def parse_client_policy(value: object, path: str, report: Callable[[str, str], None]) -> frozenset[str]:
    """The ops an economy's `clientPolicy` allows, reporting what is wrong (unknown ops, fields)."""
    if not isinstance(value, Mapping):
        report(path, "must be a mapping")
        return frozenset(DEFAULT_CLIENT_ALLOW)
    for key in value:
        if key != "allow":
            report(f"{path}.{key}", "unknown field")
    allow = value.get("allow", list(DEFAULT_CLIENT_ALLOW))
    if not isinstance(allow, list):
        report(f"{path}.allow", "must be a list of op names")
        return frozenset(DEFAULT_CLIENT_ALLOW)
    ops: set[str] = set()
    for index, op in enumerate(allow):
        if op not in CLIENT_OPS:
            report(f"{path}.allow[{index}]", f"unknown op {op!r}; one of {sorted(CLIENT_OPS)}")
        else:
            ops.add(op)
    return frozenset(ops)


def client_allow(economy: Mapping[str, Any] | None) -> frozenset[str]:
    """The ops an installed (valid) economy lets sessions send; the default without a policy."""
    policy = (economy or {}).get("clientPolicy")
    if not isinstance(policy, Mapping):
        return frozenset(DEFAULT_CLIENT_ALLOW)
    return frozenset(str(op) for op in policy.get("allow", DEFAULT_CLIENT_ALLOW))


def check_client_callable(allow: frozenset[str], op: str) -> None:
    if op not in allow:
        raise NotClientCallableError(f"a player session may not send '{op}' in this project (clientPolicy.allow)")
