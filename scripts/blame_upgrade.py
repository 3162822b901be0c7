"""Which upgraded package broke which test: run by the scheduled relock job after a red suite.

`python scripts/blame_upgrade.py OLD_LOCK` takes each package the relock changed, alone: from the
old lock it upgrades only that package (`uv lock --upgrade-package`), installs it, and reruns the
tests that failed in the full run (`pytest --last-failed`). It prints, per package, the tests it
breaks on its own, then restores the relocked uv.lock. A failure that needs two upgrades together
shows as "no single package"."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lock_diff import changes, versions  # noqa: E402

UV = ".tools/bin/uv"


def failing_tests() -> list[str]:
    run = subprocess.run(
        [".venv/bin/pytest", "--last-failed", "--last-failed-no-failures", "none", "-q", "-rf", "-p", "no:randomly"],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line.split()[1] for line in run.stdout.splitlines() if line.startswith("FAILED ")]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/blame_upgrade.py OLD_LOCK", file=sys.stderr)
        return 2
    old_lock, lock = Path(argv[0]), Path("uv.lock")
    relocked = Path(tempfile.mkdtemp()) / "uv.lock"
    shutil.copy(lock, relocked)
    culprits: dict[str, list[str]] = {}
    try:
        for name, was, now in changes(versions(old_lock), versions(relocked)):
            if not was or not now:
                continue
            shutil.copy(old_lock, lock)
            subprocess.run([UV, "lock", "--quiet", "--upgrade-package", name], check=True)
            subprocess.run([UV, "sync", "--quiet", "--locked", "--extra", "dev"], check=True)
            broken = failing_tests()
            print(f"{name} {was} -> {now}: {len(broken)} failing", flush=True)
            if broken:
                culprits[name] = broken
    finally:
        shutil.copy(relocked, lock)
    print("\n## Which upgrade breaks what\n")
    if not culprits:
        print("No single package: the failure needs several upgrades together (or is in a non-Python step).")
    for name, tests in culprits.items():
        print(f"- **{name}**: " + ", ".join(f"`{t}`" for t in tests[:20]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
