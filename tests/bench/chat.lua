-- wrk script: chat messages to both fixture tenants, varying users and questions.
-- Each wrk thread has its own users; a user keeps its conversation across requests.
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
  fallbacks = 0
  users = tonumber(args[1]) or 500
end

function request()
  counter = counter + 1
  local tenant = tenants[(counter % #tenants) + 1]
  local list = questions[tenant]
  local text = list[(math.floor(counter / #tenants) % #list) + 1]
  local body = string.format('{"text":"%s","user_id":"bench-%d-%d"}', text, thread_id, counter % users)
  return wrk.format("POST", "/v1/tenants/" .. tenant .. "/chat", { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
  -- Answered by the tenant's model (llm), or by a fallback (its model failed or was skipped).
  if body and body:find('"method":"fallback"', 1, true) then fallbacks = fallbacks + 1 end
end

function done(summary, latency, requests)
  local failed = 0
  local fell_back = 0
  for _, t in ipairs(threads) do
    failed = failed + (t:get("failures") or 0)
    fell_back = fell_back + (t:get("fallbacks") or 0)
  end
  io.write(string.format(
    'RESULT {"requests": %d, "non_2xx_or_errors": %d, "fallbacks": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, failed + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status,
    fell_back,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
