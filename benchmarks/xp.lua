-- wrk script: keyed XP awards to random players p0..p(N-1); prints p50/p95/p99 as JSON.
-- LUDEX_BENCH_DELAY_MS paces each connection (for latency at a given rate, not at saturation).
-- LUDEX_BENCH_BATCH=N (N > 0): each request is one POST .../commands of N keyed XP awards over N
-- distinct players (consecutive ids from a random start), to LUDEX_BENCH_BATCH_PATH.
-- LUDEX_BENCH_GET=PATH: a plain GET of PATH instead (the no-op floor: /v1/health).
-- LUDEX_BENCH_SIGNIN=PATH: device sign-ins at PATH, each with a new device id (a new player).
-- LUDEX_BENCH_TOKENS=FILE: awards sent with player sessions instead of the key: each request
-- takes a random access token of FILE (one a line) and awards XP to `me`.
local players = tonumber(os.getenv("LUDEX_BENCH_PLAYERS") or "1000")
local prefix = os.getenv("LUDEX_BENCH_PREFIX") or "/v1/projects/demo/players/"
local batch = tonumber(os.getenv("LUDEX_BENCH_BATCH") or "0")
local batch_path = os.getenv("LUDEX_BENCH_BATCH_PATH") or "/v1/projects/demo/commands"
local get_path = os.getenv("LUDEX_BENCH_GET")
local signin_path = os.getenv("LUDEX_BENCH_SIGNIN")
local tokens_file = os.getenv("LUDEX_BENCH_TOKENS")
local tokens = {}
wrk.method = "POST"
wrk.body = '{"amount": 10}'
wrk.headers["content-type"] = "application/json"
wrk.headers["x-tenant-id"] = os.getenv("LUDEX_BENCH_TENANT") or "demo"
wrk.headers["x-api-key"] = os.getenv("LUDEX_BENCH_KEY") or ""
local delay_ms = tonumber(os.getenv("LUDEX_BENCH_DELAY_MS") or "0")
local counter = 0
local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end
function init(args)
  math.randomseed(os.time() + id * 7919)
  if tokens_file then
    for line in io.lines(tokens_file) do tokens[#tokens + 1] = line end
  end
end
local function batch_body()
  local start = math.random(0, players - 1)
  local ops = {}
  for i = 0, batch - 1 do
    ops[#ops + 1] = string.format(
      '{"op":"xp","playerId":"p%d","idempotencyKey":"k-%d-%d-%d-%d","amount":10}',
      (start + i) % players, id, counter, i, math.random(1, 2147483647))
  end
  return '{"commands":[' .. table.concat(ops, ",") .. ']}'
end
function request()
  counter = counter + 1
  if get_path then
    return wrk.format("GET", get_path, {})
  end
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  if signin_path then
    headers["x-api-key"] = nil
    local device = string.format("bench-device-%d-%d-%d", id, counter, math.random(1, 2147483647))
    return wrk.format("POST", signin_path, headers, '{"deviceId":"' .. device .. '"}')
  end
  if #tokens > 0 then
    headers["x-api-key"] = nil
    headers["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)]
    headers["Idempotency-Key"] = string.format("s-%d-%d-%d", id, counter, math.random(1, 2147483647))
    return wrk.format(nil, prefix .. "me/xp", headers)
  end
  if batch > 0 then
    return wrk.format("POST", batch_path, headers, batch_body())
  end
  headers["Idempotency-Key"] = string.format("b-%d-%d-%d", id, counter, math.random(1, 2147483647))
  return wrk.format(nil, prefix .. "p" .. math.random(0, players - 1) .. "/xp", headers)
end
function delay()
  return delay_ms
end
function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "errors": %d, "non2xx": %d, "seconds": %.3f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
