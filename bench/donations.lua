-- wrk script: POST /api/v1/donations with a different donor address on every request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local thread_id = 0
local counter = 0

setup = function(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"amount_minor":2500,"currency":"USD","frequency":"one_time","email":"reader-%s-%d@example.org",' ..
    '"name":"Bench Reader","campaign":"bench","source_url":"http://localhost/bench/article",' ..
    '"utm":{"source":"bench","medium":"load"}}',
    tostring(tid), counter)
  return wrk.format(nil, nil, nil, body)
end
