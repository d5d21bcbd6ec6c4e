"""The Lua scripts the Redis store runs: the one-command read, and the writes that must not
move a fact backwards whatever order copies land in."""

from __future__ import annotations

import hashlib

# The whole check in one command: whether the mirror is warm, whether the device is live and
# this user's (KEYS[1] == ARGV[2], "+" and the owner's id), the user's generation, and whether
# the token's bucket holds its jti. Every key is passed in KEYS, never built inside the
# script, so that a later Redis Cluster layout can give them one hash tag per user.
# Integers only in the reply: cheaper to parse than the values themselves.
READ_STATE = """
local warm = redis.call('EXISTS', KEYS[3])
local device = redis.call('GET', KEYS[1])
local generation = tonumber(redis.call('GET', KEYS[2]) or '0')
local revoked = redis.call('HEXISTS', KEYS[4], ARGV[1])
return {warm, device == ARGV[2] and 0 or 1, generation, revoked}
"""
# The same check for a deployment with replicas (REDIS_MIN_REPLICAS = ARGV[3]): the mirror
# counts as warm only on a master that has that many replicas connected now. A master deposed
# by a failover but still up (a partition, SENTINEL FAILOVER) has lost its replica, so it stops
# being trusted at once, as Redis's own min-replicas-to-write stops its writes. -1 says so:
# the database answers, and no rebuild is started (the mirror itself is fine).
READ_STATE_REPLICATED = """
local info = redis.call('INFO', 'replication')
local replicas = tonumber(string.match(info, 'connected_slaves:(%d+)') or '0')
local warm = replicas >= tonumber(ARGV[3]) and redis.call('EXISTS', KEYS[3]) or -1
local device = redis.call('GET', KEYS[1])
local generation = tonumber(redis.call('GET', KEYS[2]) or '0')
local revoked = redis.call('HEXISTS', KEYS[4], ARGV[1])
return {warm, device == ARGV[2] and 0 or 1, generation, revoked}
"""
READ_STATE_REPLICATED_SHA = hashlib.sha1(READ_STATE_REPLICATED.encode()).hexdigest()  # noqa: S324
# Redis keeps scripts only in memory: a restart, even from a snapshot that holds the warm
# marker, a promoted replica, or SCRIPT FLUSH forgets them. Every read runs READ_STATE by its
# sha alone (EVALSHA, never a fallback to EVAL), so such an instance answers NOSCRIPT, and
# only a process that has first deleted the warm marker loads the script again
# (RedisStore.reload_scripts): a warm marker is trusted only beside a script loaded after it
# was last checked.
READ_STATE_SHA = hashlib.sha1(READ_STATE.encode()).hexdigest()  # noqa: S324  an id, not a MAC

# Generations only move forward, whatever order two mirror writes or a rebuild land in.
SET_MAX = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""
# A live device never overwrites a revoked one, whichever copy lands last, and its TTL only
# grows (two mints may land out of order). ARGV[2]: a TTL in milliseconds, 0 for none.
SET_LIVE = """
local current = redis.call('GET', KEYS[1])
if current == '-' then return 0 end
local ttl = tonumber(ARGV[2])
if ttl > 0 and current then
  local left = redis.call('PTTL', KEYS[1])
  if left == -1 then ttl = 0 elseif left > ttl then ttl = left end
end
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""
# Mark the mirror warm only if our rebuild lock survived: a flush, or a process whose copy
# failed, drops the lock, and the mirror then stays cold.
FINISH_REBUILD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""
EXTEND_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""
