-- wrk script: the chat API's load (as chat.lua: both fixture tenants, varying users and questions,
-- from loopback without a key) with an operator request mix: every 10th request is a keyed API
-- call from a "remote" client (X-Forwarded-For: 203.0.113.7 behind --trusted-proxy 127.0.0.1),
-- alternately GET /v1/tenants/{tenant}/audit?limit=20 and a keyed chat turn.
-- Arguments: the gece-butik key, the nefes-studyo key (each with chat:write and tenant:admin).
local questions = {
  ["gece-butik"] = {
    "saten gecelik ne kadar, stokta var mı?", "peki bordo olanı?", "kargo ücreti ne kadar?",
    "iade koşulları neler", "pijamalarınız neler", "kadife sabahlık fiyatı", "How much is the velvet robe?",
    "kaçta açıksınız", "çocuk pijama stokta var mı", "merhaba",
  },
  ["nefes-studyo"] = {
    "reformer pilates ne kadar?", "hangi yoga dersleri var", "otopark var mı", "iptal koşulları neler",
    "hamile yogası kaç dakika", "do you have parking?", "deneme dersi var mı", "merhaba",
  },
}
local tenants = { "gece-butik", "nefes-studyo" }
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  failures = 0
  keyed = 0
  users = 500
  keys = { ["gece-butik"] = args[1], ["nefes-studyo"] = args[2] }
end

function request()
  counter = counter + 1
  local tenant = tenants[(counter % #tenants) + 1]
  local list = questions[tenant]
  local text = list[(math.floor(counter / #tenants) % #list) + 1]
  local body = string.format('{"text":"%s","user_id":"bench-%d-%d"}', text, thread_id, counter % users)
  if counter % 10 ~= 0 then
    return wrk.format("POST", "/v1/tenants/" .. tenant .. "/chat", { ["Content-Type"] = "application/json" }, body)
  end
  keyed = keyed + 1
  local headers = { ["Authorization"] = "Bearer " .. keys[tenant], ["X-Forwarded-For"] = "203.0.113.7" }
  if counter % 20 == 0 then
    return wrk.format("GET", "/v1/tenants/" .. tenant .. "/audit?limit=20", headers)
  end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/v1/tenants/" .. tenant .. "/chat", headers, body)
end

function response(status, headers, body)
  -- Every request, keyed or not, must be answered 200 (a refused key would show here).
  if status ~= 200 then failures = failures + 1 end
end

function done(summary, latency, requests)
  local failed, keyed_total = 0, 0
  for _, t in ipairs(threads) do
    failed = failed + (t:get("failures") or 0)
    keyed_total = keyed_total + (t:get("keyed") or 0)
  end
  io.write(string.format(
    'RESULT {"requests": %d, "keyed_sent": %d, "non_2xx_or_errors": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, keyed_total,
    failed + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
