"""What a relock changed: `python scripts/lock_diff.py OLD_LOCK NEW_LOCK` prints a Markdown table of
the packages whose locked version changed, appeared or went away (the scheduled relock job puts it
in its summary and in the pull request it opens)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def versions(lock: Path) -> dict[str, str]:
    packages = tomllib.loads(lock.read_text())["package"]
    return {p["name"]: str(p.get("version", "")) for p in packages if p.get("source", {}).get("editable") is None}


def changes(old: dict[str, str], new: dict[str, str]) -> list[tuple[str, str, str]]:
    """(package, old version or "", new version or "") for every package that differs, by name."""
    names = sorted(set(old) | set(new))
    return [(n, old.get(n, ""), new.get(n, "")) for n in names if old.get(n) != new.get(n)]


def table(rows: list[tuple[str, str, str]]) -> str:
    if not rows:
        return "The lock is already at the newest allowed versions.\n"
    lines = ["| package | was | now |", "| --- | --- | --- |"]
    lines += [f"| {name} | {was or '(new)'} | {now or '(removed)'} |" for name, was, now in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python scripts/lock_diff.py OLD_LOCK NEW_LOCK", file=sys.stderr)
        return 2
    print(table(changes(versions(Path(argv[0])), versions(Path(argv[1])))), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
