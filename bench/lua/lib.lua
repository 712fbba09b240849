-- Shared by the scenario scripts (each loads it with dofile): numbering threads, reading data
-- files, and the result line bench/run.py reads. wrk runs setup() and done() in its main Lua
-- state and init() / request() in one state per thread.
local lib = {}
local threads = {}

-- Each thread gets a number (its `thread_id` global) for a seed and for unique titles.
function lib.setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function lib.seed()
  math.randomseed(tonumber(os.getenv("BENCH_SEED") or "1") * 1000 + thread_id)
end

-- The non-empty lines of a file.
function lib.lines(path)
  local found = {}
  for line in io.lines(path) do
    if line ~= "" then
      found[#found + 1] = line
    end
  end
  assert(#found > 0, "no lines in " .. path)
  return found
end

function lib.read(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

-- One line of JSON on stdout: what bench/run.py records.
function lib.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

return lib
