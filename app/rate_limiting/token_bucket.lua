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
-- full_after_ms is 0 for a full bucket, else ceil(deficit / rate) + 1: the + 1 covers `now` being
-- whole milliseconds, and for a written bucket it is exactly the key's expiry.
--
-- A bucket is one string "<tokens> <at_ms>", written with SET ... PX in the same step that reads
-- it: a key never outlives the moment its bucket would be full again (a missing key IS a full
-- bucket), and no caller can leave a key without expiry. Time is whole milliseconds throughout,
-- so no rounding accumulates between calls. MGET answers nil for a key of another type, so
-- foreign data under our prefix is overwritten, never an error that fails a whole batch.
--
-- Cost: the script's server time is part of every check's latency, so it does little. Two
-- commands per bucket (MGET, SET); library functions held in locals; and numbers are turned into
-- text (printf, the dearest step) once each: `now` once per call, and an admitted bucket's expiry
-- serves both as the SET's PX and as the reply's full_after_ms.
local call, tonumber, tostring, floor, ceil, min, find, sub, format =
  redis.call, tonumber, tostring, math.floor, math.ceil, math.min, string.find, string.sub,
  string.format
local clock = call('TIME')
local now = tonumber(clock[1]) * 1000 + floor(tonumber(clock[2]) / 1000)
local now_text = format('%d', now)
local out = {now_text}
local n = 1

for i = 1, #KEYS / 2 do
  local bucket, extra = KEYS[2 * i - 1], KEYS[2 * i]
  local capacity = tonumber(ARGV[3 * i - 2])
  local window = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local rate = capacity / window
  local state = call('MGET', bucket, extra)
  local tokens = capacity
  local value = state[1]
  if value then  -- anything but "<tokens> <at_ms>" (a foreign value) counts as a full bucket
    local sep = find(value, ' ', 1, true)
    local held = sep and tonumber(sub(value, 1, sep - 1))
    local at = sep and tonumber(sub(value, sep + 1))
    if held and at then
      local elapsed = now - at
      if elapsed < 0 then elapsed = 0 end
      tokens = min(capacity, held + elapsed * rate)
    end
  end
  local spare = tonumber(state[2]) or 0
  if tokens >= cost then  -- the hot path: admitted from the bucket
    tokens = tokens - cost
    local full = tostring(ceil((capacity - tokens) / rate) + 1)
    call('SET', bucket, format('%.17g ', tokens) .. now_text, 'PX', full)
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = '1', floor(tokens) + spare, '0', full
  else
    local allowed, retry = 0, 0
    if spare >= cost then
      spare = call('DECRBY', extra, cost)
      allowed = 1
    elseif cost > capacity then
      retry = window
    else
      retry = ceil((cost - tokens) / rate)
    end
    local full = ceil((capacity - tokens) / rate)
    if full > 0 then full = full + 1 end
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = allowed, floor(tokens) + spare, retry, full
  end
  n = n + 4
end

return table.concat(out, ' ')
