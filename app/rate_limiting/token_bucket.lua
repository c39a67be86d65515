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
--       allowed(1|0) remaining retry_after_ms full_after_ms
-- (one bulk string is far cheaper for the client to parse than a nested array).
--
-- A bucket is one string "<tokens> <at_ms>", written with SET ... PX in the same step that reads
-- it: a key never outlives the moment its bucket would be full again (a missing key IS a full
-- bucket), and no caller can leave a key without expiry. Time is whole milliseconds throughout,
-- so no rounding accumulates between calls. Two commands per bucket (MGET, SET) keep the script
-- cheap: its server time is part of every check's latency. MGET answers nil for a key of another
-- type, so foreign data under our prefix is overwritten, never an error that fails a whole batch.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local out = {now}

for i = 1, #KEYS / 2 do
  local capacity = tonumber(ARGV[3 * i - 2])
  local window = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local rate = capacity / window
  local state = redis.call('MGET', KEYS[2 * i - 1], KEYS[2 * i])
  local tokens = capacity
  if state[1] then  -- anything but "<tokens> <at_ms>" (a foreign value) counts as a full bucket
    local sep = string.find(state[1], ' ', 1, true)
    local held = sep and tonumber(string.sub(state[1], 1, sep - 1))
    local at = sep and tonumber(string.sub(state[1], sep + 1))
    if held and at then
      local elapsed = now - at
      if elapsed < 0 then elapsed = 0 end
      tokens = math.min(capacity, held + elapsed * rate)
    end
  end
  local spare = tonumber(state[2]) or 0
  local allowed, retry = 0, 0
  if tokens >= cost then
    tokens = tokens - cost
    allowed = 1
    redis.call('SET', KEYS[2 * i - 1], string.format('%.17g %d', tokens, now),
      'PX', math.ceil((capacity - tokens) / rate) + 1)
  elseif spare >= cost then
    spare = redis.call('DECRBY', KEYS[2 * i], cost)
    allowed = 1
  elseif cost > capacity then
    retry = window
  else
    retry = math.ceil((cost - tokens) / rate)
  end
  out[#out + 1] = allowed
  out[#out + 1] = math.floor(tokens) + spare
  out[#out + 1] = retry
  out[#out + 1] = math.ceil((capacity - tokens) / rate)
end

return table.concat(out, ' ')
