"""Leaderboards in Redis sorted sets (`LUDEX_REDIS_URL`).

Layout 2 (`ludex:lb:layout`), per board and period, split over `shards` keys by a hash of the
player id so that no single key takes every write of a hot board:
- `ludex:lb:{<tenant>/<project>:<board>:<period>:<shard>}` — sorted set, every score 0. Member
  `<sort key, 17 chars>:<reachedMs, 13 digits>:<playerId>`: the sort key (`-score` on `desc`
  boards, `score` on `asc` ones) encoded so that its bytes order like the number. Redis orders
  equal scores by member bytes, so a shard is in the board's order, ties and all: best first,
  then reached first, then player id. A rank is `ZLEXCOUNT` below the member: O(log N), never a
  walk over the tied entries (layout 1 scored by sort key and walked every tie).
- the same key + `:m` — hash `playerId -> "<score>:<reachedMs>:<seq>"`: the entry as the
  operators need it, and the last journal seq applied (a record applied twice changes nothing).
- `ludex:lb:names:{<tenant>/<project>}` — hash `playerId -> username`;
  `ludex:lb:keys:{<tenant>/<project>}` — set of the project's shard keys (rebuild, deletion).

Scores are integers within ±(2**53 - 1): every such integer is exactly a double, so Lua
arithmetic keeps them exact. A rank is 1 + the entries before the player in each shard. The
zset and the hash of a shard share a hash tag, so each script touches one cluster slot.
"""

from __future__ import annotations

import asyncio
import heapq
import zlib
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from actors.boards.store import BoardKey, PlayerEntry, Position, Ranked, position_of
from engine.leaderboards import MAX_SCORE, BoardChange, Entry, Leaderboard

# A member is `<sort key, 17 chars>:<reachedMs, 13 digits>:<playerId>` and every score is 0, so
# Redis orders a shard by member bytes alone: the sort key (encoded so that bytes order like the
# numbers), then who reached it first, then the player id -- the whole tie rule. A rank is then
# ZLEXCOUNT below the member (O(log N)) in each shard, never a walk over the tied entries.
_ENCODE = """
local function sortpart(sort)
  if sort < 0 then return '0' .. string.format('%016.0f', 9007199254740992 + sort) end
  return '1' .. string.format('%016.0f', sort)
end
local function member(sort, reached, player)
  return sortpart(sort) .. ':' .. string.format('%013.0f', reached) .. ':' .. player
end
"""

# KEYS: zset, meta. ARGV: player, operator, order, value, atMs, seq, maxScore.
_APPLY = (
    _ENCODE
    + """
local player, op, order = ARGV[1], ARGV[2], ARGV[3]
local value, at, seq, max = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local function sortof(score) if order == 'desc' then return -score end return score end
local score, reached = value, at
local current = redis.call('HGET', KEYS[2], player)
if current then
  local s, r, q = string.match(current, '^(-?%d+):(%d+):(%d+)$')
  s, r, q = tonumber(s), tonumber(r), tonumber(q)
  if seq <= q then return 0 end
  if op == 'incr' then
    score = math.max(-max, math.min(max, s + value))
  elseif op == 'best' then
    if (order == 'desc' and value > s) or (order == 'asc' and value < s) then score = value else score = s end
  end
  if score == s then reached = r end
  redis.call('ZREM', KEYS[1], member(sortof(s), r, player))
end
redis.call('ZADD', KEYS[1], 0, member(sortof(score), reached, player))
redis.call('HSET', KEYS[2], player, string.format('%.0f', score) .. ':' .. string.format('%.0f', reached) .. ':' .. seq)
return 1
"""
)

# KEYS: zset, meta. ARGV: player. The board's order is not known here: the member sorts by the
# score (`asc`) or its negation (`desc`), and removing both removes the one there is.
_REMOVE = (
    _ENCODE
    + """
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current then return 0 end
local s, r = string.match(current, '^(-?%d+):(%d+):')
s, r = tonumber(s), tonumber(r)
redis.call('ZREM', KEYS[1], member(s, r, ARGV[1]), member(-s, r, ARGV[1]))
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""
)

# KEYS: zset. ARGV: member, above, below. For the position `member` in this shard: how many
# entries sort before it, where the entries after it start, and up to `above` entries just before
# it and `below` just after it. ZLEXCOUNT and ZRANGE by index: O(log N) plus what is returned.
_WINDOW = """
local n = redis.call('ZLEXCOUNT', KEYS[1], '-', '(' .. ARGV[1])
local start = n
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then start = n + 1 end
local above, below = tonumber(ARGV[2]), tonumber(ARGV[3])
local before, after = {}, {}
if above > 0 and n > 0 then
  before = redis.call('ZRANGE', KEYS[1], math.max(0, n - above), n - 1)
end
if below > 0 then
  after = redis.call('ZRANGE', KEYS[1], start, start + below - 1)
end
return {n, start, before, after}
"""

# KEYS: zset. Rewrites a shard of layout 1 (member `<reachedMs>:<playerId>`, score the sort key)
# as layout 2, in place; members already rewritten are left alone, so a rerun changes nothing.
_UPGRADE = (
    _ENCODE
    + """
local rows = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local moved = 0
for i = 1, #rows, 2 do
  local reached, player = string.match(rows[i], '^(%d%d%d%d%d%d%d%d%d%d%d%d%d):(.*)$')
  if reached then
    redis.call('ZREM', KEYS[1], rows[i])
    redis.call('ZADD', KEYS[1], 0, member(tonumber(rows[i + 1]), tonumber(reached), player))
    moved = moved + 1
  end
end
return moved
"""
)

LAYOUT_KEY = "ludex:lb:layout"
LAYOUT = "2"  # 1: score = sort key, member = reachedMs:player (ranks walked the ties); 2: lex members
_UPGRADE_LOCK = "ludex:lb:layout:upgrading"
SORT_OFFSET = 2**53


def _sort_part(sort_key: int) -> str:
    return f"0{SORT_OFFSET + sort_key:016d}" if sort_key < 0 else f"1{sort_key:016d}"


def _member(sort_key: int, reached_ms: int, player_id: str) -> str:
    return f"{_sort_part(sort_key)}:{reached_ms:013d}:{player_id}"


def _split_member(member: str) -> tuple[int, int, str]:
    """(sort key, reached ms, player id) of a member."""
    sort, reached, player = member.split(":", 2)
    value = int(sort[1:])
    return (value - SORT_OFFSET if sort[0] == "0" else value), int(reached), player


class RedisBoardStore:
    def __init__(self, url: str, *, shards: int = 4) -> None:
        self.url = url
        self.shards = max(1, shards)
        self._redis: Any = None
        self._apply: Any = None
        self._remove: Any = None
        self._window: Any = None

    async def open(self) -> None:
        client = aioredis.Redis.from_url(self.url, decode_responses=True)
        self._apply = client.register_script(_APPLY)
        self._remove = client.register_script(_REMOVE)
        self._window = client.register_script(_WINDOW)
        self._redis = client
        await self._upgrade_layout()

    async def _upgrade_layout(self) -> None:
        """Bring boards of layout 1 to layout 2 once, before anything reads or writes them: one
        process rewrites every shard key (in place, a Lua call per key), the others wait for it.
        `ludex leaderboards rebuild` gives the same result from the journal."""
        client = self._client()
        if await client.get(LAYOUT_KEY) == LAYOUT:
            return
        if not await client.set(_UPGRADE_LOCK, "1", nx=True, ex=600):
            for _ in range(6000):
                if await client.get(LAYOUT_KEY) == LAYOUT:
                    return
                await asyncio.sleep(0.1)
            raise RuntimeError("another process is upgrading the leaderboards' Redis layout; retry when it is done")
        upgrade = client.register_script(_UPGRADE)
        async for index in client.scan_iter(match="ludex:lb:keys:*", count=500):
            for zset in await client.smembers(index):
                await upgrade(keys=[zset])
        await client.set(LAYOUT_KEY, LAYOUT)
        await client.delete(_UPGRADE_LOCK)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
        self._redis = None

    # ------------------------------------------------------------------------------ keys

    def shard_of(self, player_id: str) -> int:
        return zlib.crc32(player_id.encode()) % self.shards

    def _key(self, tenant: str, project: str, board_id: str, period_id: str, shard: int) -> str:
        return f"ludex:lb:{{{tenant}/{project}:{board_id}:{period_id}:{shard}}}"

    def _keys(self, key: BoardKey) -> list[str]:
        return [self._key(key.tenant, key.project, key.board.id, key.period_id, s) for s in range(self.shards)]

    @staticmethod
    def _names(tenant: str, project: str) -> str:
        return f"ludex:lb:names:{{{tenant}/{project}}}"

    @staticmethod
    def _index(tenant: str, project: str) -> str:
        return f"ludex:lb:keys:{{{tenant}/{project}}}"

    def _client(self) -> Any:
        assert self._redis is not None, "board store is not open"
        return self._redis

    # ------------------------------------------------------------------------------ writes

    async def apply(self, changes: Sequence[BoardChange]) -> None:
        if not changes:
            return
        client = self._client()
        removals = [change for change in changes if change.removed]
        pipe = client.pipeline(transaction=False)
        for change in changes:
            if change.removed:
                continue
            if change.username is not None:
                pipe.hset(self._names(change.tenant, change.project), change.player_id, change.username)
            shard = self.shard_of(change.player_id)
            for observation in change.observations:
                board = observation.board
                zset = self._key(change.tenant, change.project, board.id, observation.period_id, shard)
                pipe.sadd(self._index(change.tenant, change.project), zset)
                args = _apply_args(board, change, observation.value)
                await self._apply(keys=[zset, zset + ":m"], args=args, client=pipe)
        await pipe.execute()
        for change in removals:  # rare: after the writes before it, in journal order
            await self._remove_player(change.tenant, change.project, change.player_id)

    async def _remove_player(self, tenant: str, project: str, player_id: str) -> int:
        client = self._client()
        pipe = client.pipeline(transaction=False)
        for zset in await self._own_zsets(tenant, project, player_id):
            await self._remove(keys=[zset, zset + ":m"], args=[player_id], client=pipe)
        pipe.hdel(self._names(tenant, project), player_id)
        return sum(int(removed) for removed in (await pipe.execute())[:-1])

    async def _own_zsets(self, tenant: str, project: str, player_id: str) -> list[str]:
        """The project's shard keys that can hold the player (those of its shard)."""
        suffix = f":{self.shard_of(player_id)}}}"
        return sorted(
            key for key in await self._client().smembers(self._index(tenant, project)) if key.endswith(suffix)
        )

    async def forget_player(self, tenant: str, project: str, player_id: str) -> int:
        return await self._remove_player(tenant, project, player_id)

    async def entries_of(self, tenant: str, project: str, player_id: str) -> list[PlayerEntry]:
        zsets = await self._own_zsets(tenant, project, player_id)
        pipe = self._client().pipeline(transaction=False)
        for zset in zsets:
            pipe.hget(zset + ":m", player_id)
        metas = await pipe.execute()
        entries = []
        prefix = self._key(tenant, project, "", "", 0).partition("{")[0] + "{" + f"{tenant}/{project}:"
        for zset, meta in zip(zsets, metas, strict=True):
            if meta is None:
                continue
            score, reached, _ = (int(part) for part in meta.split(":"))
            board_period = zset.removeprefix(prefix).rpartition(":")[0]
            board_id, _, period_id = board_period.partition(":")
            # The member sorts by the score (`asc`) or its negation (`desc`): the one held is it.
            candidates = [_member(sort, reached, player_id) for sort in {score, -score}]
            held = [m for m in candidates if await self._client().zscore(zset, m) is not None]
            if not held:  # removed between the two reads
                continue
            shard_keys = [zset.rpartition(":")[0] + f":{shard}}}" for shard in range(self.shards)]
            ranks = self._client().pipeline(transaction=False)
            for shard_key in shard_keys:
                await self._window(keys=[shard_key], args=[held[0], "0", "0"], client=ranks)
            better = sum(int(window[0]) for window in await ranks.execute())
            entries.append(PlayerEntry(board_id, period_id, better + 1, score, reached))
        return entries

    async def clear(self, tenant: str, project: str) -> None:
        client = self._client()
        zsets = list(await client.smembers(self._index(tenant, project)))
        keys = [*zsets, *(zset + ":m" for zset in zsets), self._names(tenant, project), self._index(tenant, project)]
        for start in range(0, len(keys), 500):
            await client.delete(*keys[start : start + 500])

    async def load(self, key: BoardKey, entries: Sequence[tuple[str, Entry]], usernames: dict[str, str]) -> None:
        client = self._client()
        zsets = self._keys(key)
        await client.sadd(self._index(key.tenant, key.project), *zsets)
        for start in range(0, len(entries), 10_000):
            pipe = client.pipeline(transaction=False)
            by_shard: dict[int, dict[str, float]] = {}
            metas: dict[int, dict[str, str]] = {}
            for player, entry in entries[start : start + 10_000]:
                shard = self.shard_of(player)
                by_shard.setdefault(shard, {})[_member(key.board.sort_key(entry.score), entry.reached_ms, player)] = 0
                metas.setdefault(shard, {})[player] = f"{entry.score}:{entry.reached_ms}:{entry.seq}"
            for shard, members in by_shard.items():
                pipe.zadd(zsets[shard], members)
                pipe.hset(zsets[shard] + ":m", mapping=metas[shard])
            await pipe.execute()
        names = list(usernames.items())
        for start in range(0, len(names), 10_000):
            await client.hset(self._names(key.tenant, key.project), mapping=dict(names[start : start + 10_000]))

    # ------------------------------------------------------------------------------ reads

    async def page(
        self,
        key: BoardKey,
        *,
        limit: int,
        offset: int = 0,
        after: Position | None = None,
        after_rank: int | None = None,
    ) -> list[Ranked]:
        client = self._client()
        if after is not None:
            windows = await self._windows(key, after, 0, limit)
            first = sum(int(window[1]) for window in windows) if after_rank is None else after_rank
            chosen = list(heapq.merge(*[window[3] for window in windows]))[:limit]
            return await self._ranked(key, chosen, first + 1)
        pipe = client.pipeline(transaction=False)
        for zset in self._keys(key):
            pipe.zrange(zset, 0, offset + limit - 1)
        merged = list(heapq.merge(*await pipe.execute()))
        return await self._ranked(key, merged[offset : offset + limit], offset + 1)

    async def around(self, key: BoardKey, entry: Ranked, *, above: int, below: int) -> list[Ranked]:
        at = position_of(key.board, entry)
        windows = await self._windows(key, at, above, below)
        before = list(heapq.merge(*[window[2] for window in windows]))[-above:] if above else []
        after = list(heapq.merge(*[window[3] for window in windows]))[:below]
        own = _member(at.sort_key, at.reached_ms, at.player_id)
        return await self._ranked(key, [*before, own, *after], entry.rank - len(before))

    async def standing(self, key: BoardKey, player_id: str) -> Ranked | None:
        client = self._client()
        own = self._keys(key)[self.shard_of(player_id)]
        pipe = client.pipeline(transaction=False)
        pipe.hget(own + ":m", player_id)
        pipe.hget(self._names(key.tenant, key.project), player_id)
        meta, name = await pipe.execute()
        if meta is None:
            return None
        score_text, reached_text, _ = meta.split(":")
        score, reached = int(score_text), int(reached_text)
        windows = await self._windows(key, Position(key.board.sort_key(score), reached, player_id), 0, 0)
        return Ranked(1 + sum(int(window[0]) for window in windows), player_id, name or "", score, reached)

    async def _windows(self, key: BoardKey, at: Position, above: int, below: int) -> list[Any]:
        pipe = self._client().pipeline(transaction=False)
        member = _member(at.sort_key, at.reached_ms, at.player_id)
        for zset in self._keys(key):
            await self._window(keys=[zset], args=[member, str(above), str(below)], client=pipe)
        return list(await pipe.execute())

    async def _ranked(self, key: BoardKey, chosen: list[str], first_rank: int) -> list[Ranked]:
        if not chosen:
            return []
        parts = [_split_member(member) for member in chosen]
        names = await self._client().hmget(self._names(key.tenant, key.project), [player for _, _, player in parts])
        return [
            Ranked(first_rank + i, player, name or "", _score(key.board, sort), reached)
            for i, ((sort, reached, player), name) in enumerate(zip(parts, names, strict=True))
        ]

    async def count(self, key: BoardKey) -> int:
        pipe = self._client().pipeline(transaction=False)
        for zset in self._keys(key):
            pipe.zcard(zset)
        return sum(await pipe.execute())


def _score(board: Leaderboard, sort: int) -> int:
    return -sort if board.order == "desc" else sort


def _apply_args(board: Leaderboard, change: BoardChange, value: int) -> list[str]:
    return [
        change.player_id,
        board.operator,
        board.order,
        str(value),
        str(change.at_ms),
        str(change.seq),
        str(MAX_SCORE),
    ]
