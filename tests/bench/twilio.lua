-- wrk script: signed Twilio webhooks (tests/bench/twilio_requests.js wrote them) to gece-butik's
-- twilio channel, each request once; a 200 whose TwiML carries a <Message> counts as answered.
-- Usage: wrk ... -s tests/bench/twilio.lua URL -- REQUESTS_FILE THREADS
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  failures = 0
  empty = 0
  signed = {}
  local file = assert(io.open(args[1], "r"))
  local count = tonumber(args[2])
  local i = 0
  for line in file:lines() do
    if i % count == thread_id then
      local tab = line:find("\t", 1, true)
      table.insert(signed, { line:sub(1, tab - 1), line:sub(tab + 1) })
    end
    i = i + 1
  end
  file:close()
  counter = 0
end

function request()
  counter = counter + 1
  -- Past the end, messages are redelivered (answered from the stored turn): the file is sized to last.
  local r = signed[((counter - 1) % #signed) + 1]
  return wrk.format("POST", "/v1/tenants/gece-butik/channels/twilio",
    { ["Content-Type"] = "application/x-www-form-urlencoded", ["X-Twilio-Signature"] = r[1] }, r[2])
end

function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  elseif not body:find("<Message>", 1, true) then
    empty = empty + 1
  end
end

function done(summary, latency, requests)
  local failed, answered_empty = 0, 0
  for _, t in ipairs(threads) do
    failed = failed + (t:get("failures") or 0)
    answered_empty = answered_empty + (t:get("empty") or 0)
  end
  io.write(string.format(
    'RESULT {"requests": %d, "non_2xx_or_errors": %d, "empty_twiml": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, failed + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status,
    answered_empty, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
