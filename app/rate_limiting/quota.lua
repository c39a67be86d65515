-- Consume ARGV[1] units from every quota counter in KEYS, or from none.
--
-- ARGV: amount, then per key: limit_i, ttl_ms_i (until the end of the key's UTC period, plus grace).
-- The TTL is relative on purpose: an absolute PEXPIREAT from an app clock that lags Redis by more
-- than the grace would delete the counter at once and silently stop enforcing the quota.
-- A deploy quota of "10 a day and 100 a month" must charge both periods or neither, so the check
-- and the increments are one atomic step; the expiry is set in the same step (no key without TTL).
-- Returns {allowed(1|0), used_1, used_2, ...}: the usage after the call.
local amount = tonumber(ARGV[1])
local used = {}
local allowed = 1
for i = 1, #KEYS do
  used[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  if used[i] + amount > tonumber(ARGV[2 * i]) then allowed = 0 end
end
if allowed == 1 and amount > 0 then
  for i = 1, #KEYS do
    used[i] = redis.call('INCRBY', KEYS[i], amount)
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i + 1])
  end
end
local out = {allowed}
for i = 1, #KEYS do out[#out + 1] = used[i] end
return out
