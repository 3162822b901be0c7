"""While `ludex serve` starts, a client that calls too early is told to come back: every answer
on the port, from the placeholder's first one until the app is ready, is either its 503 problem
`starting` with `Retry-After` or the real app's own answer, never Serve's bare 404 (which no SDK
retries)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.helpers import PROBLEM_BASE, PROBLEM_JSON
from tests.e2e.test_cli import start, stop
from tests.support.services import free_port

GAME_ROUTE = "/v1/projects/demo/players/p1/wallet"


def test_a_game_route_answers_503_starting_until_the_app_is_ready_and_never_a_bare_404(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = start(data_dir, port)
    answers: list[tuple[int, str, dict[str, str]]] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert process.poll() is None, f"ludex serve exited early: {process.communicate()[0][-3000:]}"
            try:
                answer = httpx.get(base_url + GAME_ROUTE, timeout=5)  # no tenant: the real app says 400
            except httpx.TransportError:
                time.sleep(0.05)  # not listening yet: every client retries a refused connection
                continue
            answers.append((answer.status_code, answer.text, dict(answer.headers)))
            if answer.status_code not in (503, 404) and httpx.get(base_url + "/v1/health/ready").status_code == 200:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"not ready in time: {answers[-3:]}")
    finally:
        if process.poll() is None:  # else the assertion above carries the server's output
            output, alive = stop(process)
            assert alive == [], output
    starting = [a for a in answers if a[0] == 503]
    assert starting, "the placeholder never answered: the probe started after the app was up"
    # Before the placeholder is deployed HAProxy answers its own 404 (Ray's template has no hook
    # for it; docs/TROUBLESHOOTING.md): from the placeholder's first answer on, never again.
    since_placeholder = answers[answers.index(starting[0]) :]
    for status, text, headers in since_placeholder:
        assert status != 404, f"a bare 404 while starting: {text[:200]}"
        assert headers.get("content-type", "").startswith(PROBLEM_JSON), (status, text[:200])
    for _, _, headers in starting:
        assert int(headers["retry-after"]) >= 1
    assert any(f'"type":"{PROBLEM_BASE}starting"' in text.replace(" ", "") for _, text, _ in starting), starting
    assert answers[-1][0] == 400 and "missing-tenant" in answers[-1][1]  # the real app's own answer
