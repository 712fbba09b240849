-- 90/10 read/write over random stories. BENCH_STORIES: lines "slug id author-line"; reads GET
-- /p/<slug>/ anonymously, writes (BENCH_WRITE_SHARE, 0.1) PATCH /api/v1/blog/<id> with new
-- Markdown (a line of BENCH_BODIES, JSON) as the story's author (line author-line of
-- BENCH_TOKENS, JWTs).
local lib = dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
local stories, tokens, bodies
local write_share

setup = lib.setup
done = lib.done

function init(args)
  lib.seed()
  write_share = tonumber(os.getenv("BENCH_WRITE_SHARE") or "0.1")
  tokens = lib.lines(os.getenv("BENCH_TOKENS"))
  bodies = lib.lines(os.getenv("BENCH_BODIES"))
  stories = {}
  for _, line in ipairs(lib.lines(os.getenv("BENCH_STORIES"))) do
    local slug, id, author = line:match("^(%S+) (%S+) (%d+)$")
    stories[#stories + 1] = {slug = slug, id = id, token = tokens[tonumber(author)]}
  end
end

function request()
  local story = stories[math.random(#stories)]
  if math.random() < write_share then
    local headers = {
      ["Authorization"] = "Bearer " .. story.token,
      ["Content-Type"] = "application/json",
    }
    return wrk.format("PATCH", "/api/v1/blog/" .. story.id, headers, bodies[math.random(#bodies)])
  end
  return wrk.format("GET", "/p/" .. story.slug .. "/")
end
