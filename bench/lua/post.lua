-- POST /api/v1/blog as a signed-in author (BENCH_TOKEN, a JWT): a new published story of about
-- 1,000 words with 3 tags, from the JSON in BENCH_BODY whose "__TITLE__" becomes a title no
-- other request uses (run nonce, thread, counter), so each request creates a story.
local lib = dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
local body, nonce
local count = 0

setup = lib.setup
done = lib.done

function init(args)
  lib.seed()
  body = lib.read(os.getenv("BENCH_BODY"))
  nonce = os.getenv("BENCH_NONCE") or "0"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  count = count + 1
  local title = string.format("Bench write %s %d-%d", nonce, thread_id, count)
  local filled = body:gsub("__TITLE__", title, 1)
  return wrk.format("POST", "/api/v1/blog", nil, filled)
end
