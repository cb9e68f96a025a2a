-- approvals.lua - wrk script: GET /v1/approvals with a bearer token ($TOKEN),
-- paced so that C connections make about C * 1000 / (DELAY_MS + latency)
-- requests a second (wrk has no fixed rate; bench/serve/run.sh picks C).
local token = os.getenv("TOKEN")
local delay_ms = tonumber(os.getenv("DELAY_MS") or "10")
wrk.method = "GET"
wrk.path = "/v1/approvals"
wrk.headers["Authorization"] = "Bearer " .. token
function delay()
  return delay_ms
end
local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("non-200: %d\n", summary.errors.status))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%g_us %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("rps %.1f\n", summary.requests / (summary.duration / 1e6)))
end
