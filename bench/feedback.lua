-- wrk script for POST /api/v1/feedback.
-- Each wrk thread votes as its own run of readers (fd_voter cookies "bench-tNN-<n>"), spread
-- over 500 articles; every tenth request is the previous reader changing their vote (the
-- 200 path), the rest are first votes (the 201 path, an insert).

local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
local prefix

function init(args)
  prefix = string.format("bench-t%02d-", tid or 0)
end

request = function()
  counter = counter + 1
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
  return wrk.format("POST", "/api/v1/feedback", {
    ["Content-Type"] = "application/json",
    ["Cookie"] = "fd_voter=" .. voter,
  }, body)
end
