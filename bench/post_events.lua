-- wrk script: POST generated events to /v1/events, cycling through a file of NDJSON events.
-- wrk -t2 -c64 -d20s -s bench/post_events.lua http://127.0.0.1:7878/v1/events -- /tmp/load.ndjson
local events = {}
local n = 0
local i = 0

function init(args)
  local path = args[1] or "/tmp/load.ndjson"
  for line in io.lines(path) do
    n = n + 1
    events[n] = line
  end
  -- Each wrk thread starts at a different offset.
  i = math.random(n)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  i = i + 1
  if i > n then i = 1 end
  return wrk.format(nil, nil, nil, events[i])
end

local non200 = 0
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("p50=%.0fus p90=%.0fus p99=%.0fus p999=%.0fus non2xx_errors=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    summary.errors.status))
end
