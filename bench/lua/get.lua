-- GET a path picked at random from BENCH_PATHS (a file, one path a line), with the cookie in
-- BENCH_COOKIE when there is one (a signed-in member's page).
local lib = dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
local paths

setup = lib.setup
done = lib.done

function init(args)
  lib.seed()
  paths = lib.lines(os.getenv("BENCH_PATHS"))
  local cookie = os.getenv("BENCH_COOKIE") or ""
  if cookie ~= "" then
    wrk.headers["Cookie"] = cookie
  end
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
