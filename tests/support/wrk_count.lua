-- wrk -s tests/support/wrk_count.lua: count non-2xx responses in every
-- thread, and print them with wrk's own error counts in one line that the
-- test scripts parse:
-- RESULT requests=N connect=N read=N write=N status=N timeout=N non2xx=N
local threads = {}
function setup(thread)
    table.insert(threads, thread)
end
function init(args)
    non2xx = 0
end
function response(status, headers, body)
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
    end
end
function done(summary, latency, requests)
    local non2xx = 0
    for _, thread in ipairs(threads) do
        non2xx = non2xx + thread:get("non2xx")
    end
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d connect=%d read=%d write=%d status=%d timeout=%d non2xx=%d\n",
        summary.requests, e.connect, e.read, e.write, e.status, e.timeout, non2xx))
end
