-- wrk script for bench/peer: one workload against any Conduit (RealWorld) API.
--
--   wrk -t1 -c8 -d15s --latency -s workload.lua URL -- WORKLOAD DATA_DIR NONCE [SEED]
--
-- WORKLOAD: mix | mix-nologin | article | feed | tags | profile
-- DATA_DIR: holds users.txt ("username token" lines) and slugs.txt, written by seed.py
-- NONCE:    a short number making this run's new usernames and titles unique
-- SEED:     the PRNG seed (default 42); the same seed gives the same request
--           sequence on every server (only how far into it a run gets differs)
--
-- Run with -t1: one thread, one generator. The mix mirrors bench/src/load.rs.

local workload, users, slugs, nonce
local ops, total = {}, 0
local n = 0

local TAGS = { "rust", "dynamodb", "lambda", "serverless", "aws",
               "api", "web", "mobile", "cloud", "perf" }

-- Weights out of 100 (bench/src/load.rs MIX).
local MIX = {
  { "list", 22 }, { "by_tag", 6 }, { "feed", 8 }, { "article", 18 },
  { "comments", 12 }, { "tags", 10 }, { "profile", 8 }, { "register", 1 },
  { "login", 2 }, { "create", 3 }, { "comment", 5 }, { "favorite", 5 },
}

local function lines(path)
  local t = {}
  for line in io.lines(path) do
    if line ~= "" then t[#t + 1] = line end
  end
  return t
end

local function headers(token)
  local h = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
  if token then h["Authorization"] = "Token " .. token end
  return h
end

local function get(path, token)
  return wrk.format("GET", path, headers(token))
end

local function post(path, body, token)
  return wrk.format("POST", path, headers(token), body)
end

function init(args)
  workload = args[1] or "mix"
  local dir = args[2] or "."
  nonce = args[3] or "0"
  math.randomseed(tonumber(args[4] or "42"))
  users = {}
  for _, line in ipairs(lines(dir .. "/users.txt")) do
    local name, token = line:match("^(%S+) (%S+)$")
    users[#users + 1] = { name = name, token = token }
  end
  slugs = lines(dir .. "/slugs.txt")
  for _, op in ipairs(MIX) do
    local skip = workload == "mix-nologin" and (op[1] == "login" or op[1] == "register")
    if not skip then
      ops[#ops + 1] = op
      total = total + op[2]
    end
  end
end

local function pick_op()
  local r = math.random(0, total - 1)
  for _, op in ipairs(ops) do
    if r < op[2] then return op[1] end
    r = r - op[2]
  end
end

local function mix_request()
  local op = pick_op()
  n = n + 1
  -- Drawn for every request, in load.rs's order, used or not.
  local who = users[math.random(#users)]
  local me = users[math.random(#users)]
  local slug = slugs[math.random(#slugs)]
  local reader = (math.random(3) == 1) and me.token or nil
  if op == "list" then
    return get("/api/articles?limit=20", reader)
  elseif op == "by_tag" then
    return get("/api/articles?tag=" .. TAGS[math.random(#TAGS)] .. "&limit=20", reader)
  elseif op == "feed" then
    return get("/api/articles/feed?limit=20", me.token)
  elseif op == "article" then
    return get("/api/articles/" .. slug, reader)
  elseif op == "comments" then
    return get("/api/articles/" .. slug .. "/comments", reader)
  elseif op == "tags" then
    return get("/api/tags")
  elseif op == "profile" then
    return get("/api/profiles/" .. who.name, reader)
  elseif op == "register" then
    local name = "u" .. nonce .. "n" .. n
    return post("/api/users", string.format(
      '{"user":{"username":"%s","email":"%s@bench.example","password":"benchmark-password"}}',
      name, name))
  elseif op == "login" then
    return post("/api/users/login", string.format(
      '{"user":{"email":"%s@bench.example","password":"benchmark-password"}}', who.name))
  elseif op == "create" then
    return post("/api/articles", string.format(
      '{"article":{"title":"Bench %s %d","description":"d","body":"%s","tagList":["%s"]}}',
      nonce, n, string.rep("Lorem ipsum. ", 50), TAGS[math.random(#TAGS)]), me.token)
  elseif op == "comment" then
    return post("/api/articles/" .. slug .. "/comments", '{"comment":{"body":"Nice one"}}', me.token)
  else -- favorite
    return post("/api/articles/" .. slug .. "/favorite", "", me.token)
  end
end

function request()
  if workload == "mix" or workload == "mix-nologin" then
    return mix_request()
  elseif workload == "article" then
    return get("/api/articles/" .. slugs[1])
  elseif workload == "feed" then
    return get("/api/articles/feed?limit=20", users[math.random(#users)].token)
  elseif workload == "tags" then
    return get("/api/tags")
  elseif workload == "profile" then
    return get("/api/profiles/" .. users[2].name)
  end
  error("unknown workload " .. tostring(workload))
end

-- One machine-readable line for report.py, after wrk's own output.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
