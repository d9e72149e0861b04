-- wrk script for POST /api/v1/feedback.
-- Each wrk thread votes as its own run of returning readers, spread over 500 articles; every
-- tenth request is the previous reader changing their vote (the 200 path), the rest are first
-- votes (the 201 path, an insert). Their fd_voter cookies have the form Frontdesk issues,
-- "<day>_<random>", from a day before the run ("20000_bench-tNN-<n>"): returning readers,
-- whose cookie-less vote of the day their cookie was set cannot be carried over any more.
--
-- The requests are built once, in init(), before the run starts (VOTES per thread, default
-- 400,000, cycled if the run outlasts them): building each request in Lua while the run
-- goes cost wrk about as much CPU as a request costs Frontdesk, on the same two cores.

local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local requests = {}
local n = 0
local i = 0

function init(args)
  local prefix = string.format("20000_bench-t%02d-", tid or 0)
  local count = tonumber(os.getenv("VOTES") or "400000")
  for counter = 1, count do
    local reader = counter
    local helpful = "true"
    if counter % 10 == 0 then
      reader = counter - 1
      helpful = "false"
    elseif counter % 4 == 0 then
      helpful = "false"
    end
    local voter = prefix .. string.format("%012d", reader)
    local body = '{"article_url":"http://localhost/news/article-' .. (reader % 500) ..
      '","helpful":' .. helpful .. '}'
    requests[counter] = wrk.format("POST", "/api/v1/feedback", {
      ["Content-Type"] = "application/json",
      ["Cookie"] = "fd_voter=" .. voter,
    }, body)
  end
  n = count
end

request = function()
  i = i + 1
  if i > n then
    i = 1
  end
  return requests[i]
end
