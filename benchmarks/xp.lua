-- wrk script: keyed XP awards to random players p0..p(N-1); prints p50/p95/p99 as JSON.
-- LUDEX_BENCH_DELAY_MS paces each connection (for latency at a given rate, not at saturation).
local players = tonumber(os.getenv("LUDEX_BENCH_PLAYERS") or "1000")
local prefix = os.getenv("LUDEX_BENCH_PREFIX") or "/v1/projects/demo/players/"
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
end
function request()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
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
