"""The ceiling for `bench_http`: the engine's XP rule behind plain uvicorn — no Ray, no store,
no durability, no auth. Ludex end to end is compared with this in the same run: single awards
over HTTP, and the command stream's messages (`{"action": "command", "id", "op": "xp",
"playerId", "amount", ...}` → `{"type": "result", "id", "ok", "status", "body", "replayed"}`)
over a WebSocket at `/v1/realtime`, each applied in memory as it arrives.

    python -m benchmarks.ceiling_app PORT
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import uvicorn
import yaml
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from config.settings import DEMO_ECONOMY_PATH
from engine.commands import AwardXp
from engine.definitions import parse_economy
from engine.rules import Accepted, Context, apply_record, decide
from engine.state import PlayerState

ECONOMY = parse_economy(yaml.safe_load(DEMO_ECONOMY_PATH.read_text()))
app = FastAPI()
players: dict[str, PlayerState] = {}


@app.post("/v1/projects/{project}/players/{player}/xp")
async def award(project: str, player: str, request: Request) -> JSONResponse:
    body = await request.json()
    state = players.get(player) or PlayerState(player_id=player, exists=True, username=player)
    context = Context(now=datetime.now(UTC), economy=ECONOMY, entity=f"player:{project}/{player}")
    decision = decide(state, AwardXp(int(body["amount"])), context)
    if not isinstance(decision, Accepted):
        return JSONResponse({"error": decision.slug}, status_code=409)
    players[player] = apply_record(state, state.seq + 1, list(decision.events), context.occurred_at)
    return JSONResponse(decision.body)


def award_message(project: str, message: dict[str, Any]) -> dict[str, Any]:
    player = str(message["playerId"])
    state = players.get(player) or PlayerState(player_id=player, exists=True, username=player)
    context = Context(now=datetime.now(UTC), economy=ECONOMY, entity=f"player:{project}/{player}")
    decision = decide(state, AwardXp(int(message["amount"])), context)
    if not isinstance(decision, Accepted):
        return {"type": "result", "id": message["id"], "ok": False, "status": 409, "problem": {"slug": decision.slug}}
    players[player] = apply_record(state, state.seq + 1, list(decision.events), context.occurred_at)
    return {"type": "result", "id": message["id"], "ok": True, "status": 200, "body": decision.body, "replayed": False}


@app.websocket("/v1/realtime")
async def stream(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(json.dumps({"type": "hello", "tenantId": "demo", "projectId": "demo"}))
    try:
        while True:
            message = json.loads(await websocket.receive_text())
            await websocket.send_text(json.dumps(award_message("demo", message)))
    except WebSocketDisconnect:
        return


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
