-- wrk script for scripts/bench --only noisy: chat messages to one tenant, counting 429s apart.
-- Arguments: TENANT [DELAY_MS [USERS]]. DELAY_MS > 0 paces each connection (wrk's delay()): a
-- steady rate of connections * 1000 / DELAY_MS requests a second, the measured tenant; 0 sends as
-- fast as answers come, the flooding tenant.
local questions = {
  "saten gecelik ne kadar, stokta var mı?", "kargo ücreti ne kadar?", "iade koşulları neler",
  "kadife sabahlık fiyatı", "kaçta açıksınız", "reformer pilates ne kadar?", "otopark var mı", "merhaba",
}
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  tenant = args[1] or "gece-butik"
  pause = tonumber(args[2]) or 0
  users = tonumber(args[3]) or 500
  counter = 0
  ok = 0
  limited = 0
  failures = 0
end

function delay()
  return pause
end

function request()
  counter = counter + 1
  local text = questions[(counter % #questions) + 1]
  local body = string.format('{"text":"%s","user_id":"noisy-%d-%d"}', text, thread_id, counter % users)
  return wrk.format("POST", "/v1/tenants/" .. tenant .. "/chat", { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 429 then
    limited = limited + 1
  else
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local answered, refused, failed = 0, 0, 0
  for _, t in ipairs(threads) do
    answered = answered + (t:get("ok") or 0)
    refused = refused + (t:get("limited") or 0)
    failed = failed + (t:get("failures") or 0)
  end
  io.write(string.format(
    'RESULT {"requests": %d, "ok": %d, "rate_limited": %d, "other_failures": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, answered, refused,
    failed + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
