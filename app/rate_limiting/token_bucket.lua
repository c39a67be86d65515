-- Token buckets: take `cost` tokens from one or more buckets in one atomic call.
--
-- Why one script: reading, refilling and writing a bucket must be one step, or concurrent
-- instances over-admit (GET-then-SET races). Time comes from Redis TIME, so the clocks of the
-- app instances never matter. Many buckets per call let the app coalesce concurrent checks
-- into one round trip.
--
-- KEYS: bucket_1, extra_1, bucket_2, extra_2, ...   (extra_i: burst tokens granted to client i)
-- ARGV: capacity_1, window_ms_1, cost_1, capacity_2, ...
--       a bucket holds `capacity` tokens and refills `capacity` tokens per `window_ms`.
-- Returns one string: "now_ms" followed by four integers per bucket:
--       allowed(1|0|-1 on a wrong-typed key) remaining retry_after_ms full_after_ms
-- (one bulk string is far cheaper for the client to parse than a nested array).
--
-- Every write sets a TTL in the same script: a key never outlives the moment its bucket would be
-- full again (a missing key IS a full bucket), and no caller can leave a key without expiry.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local out = {string.format('%d', now)}

for i = 1, #KEYS / 2 do
  local bucket, extra_key = KEYS[2 * i - 1], KEYS[2 * i]
  local capacity = tonumber(ARGV[3 * i - 2])
  local window = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local rate = capacity / window
  local state = redis.pcall('HMGET', bucket, 't', 'at')
  local spare = redis.pcall('GET', extra_key)
  if (type(state) == 'table' and state.err) or (type(spare) == 'table' and spare.err) then
    out[#out + 1] = '-1 0 0 0'
  else
    local tokens = capacity
    if state[1] then
      local elapsed = now - tonumber(state[2])
      if elapsed < 0 then elapsed = 0 end
      tokens = math.min(capacity, tonumber(state[1]) + elapsed * rate)
    end
    spare = tonumber(spare) or 0
    local allowed, retry = 0, 0
    if tokens >= cost then
      tokens = tokens - cost
      allowed = 1
      redis.call('HSET', bucket, 't', tokens, 'at', now)
      redis.call('PEXPIRE', bucket, math.ceil((capacity - tokens) / rate) + 1)
    elseif spare >= cost then
      spare = redis.call('DECRBY', extra_key, cost)
      allowed = 1
    elseif cost > capacity then
      retry = window
    else
      retry = math.ceil((cost - tokens) / rate)
    end
    out[#out + 1] = string.format('%d %d %d %d', allowed, math.floor(tokens) + spare, retry,
      math.ceil((capacity - tokens) / rate))
  end
end

return table.concat(out, ' ')
