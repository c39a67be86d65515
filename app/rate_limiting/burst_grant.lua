-- Grant burst tokens: add ARGV[1] tokens to KEYS[1] and make it live at least ARGV[2] ms.
--
-- One script so the counter and its TTL are written together: a cancelled caller can never leave
-- a grant without expiry (which would make it permanent). A second grant adds tokens and extends
-- the expiry, never shortens it.
-- Returns {tokens, ttl_ms}.
local tokens = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
local wanted = tonumber(ARGV[2])
if ttl < wanted then
  redis.call('PEXPIRE', KEYS[1], wanted)
  ttl = wanted
end
return {tokens, ttl}
