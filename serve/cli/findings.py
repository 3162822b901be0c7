"""The economy verifier's findings as `ludex project apply` prints them: one line each, the
severity first so errors stand out, an arbitrage's loop indented under it."""

from __future__ import annotations

from engine.economy_verify import Finding


def finding_lines(findings: list[Finding]) -> list[str]:
    lines: list[str] = []
    for finding in findings:
        lines.append(f"  {finding.severity:<7} {finding.kind} at {finding.path}: {finding.message}")
        lines += [f"            {step}" for step in finding.cycle or ()]
    return lines


def findings_summary(findings: list[Finding]) -> str:
    counts = {severity: sum(f.severity == severity for f in findings) for severity in ("error", "warning", "info")}
    return ", ".join(f"{count} {severity}(s)" for severity, count in counts.items())
