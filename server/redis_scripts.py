"""The Lua scripts that make each Redis write atomic (commands shared by Redis 7.0 and Valkey).

Keys of one session share the hash tag ``{sid}``. Credentials and the
session index are keyed on their own (a credential is looked up by its hash
alone), so a write that also touches them needs one Redis, a primary with
replicas or Sentinel; a Cluster would need them moved under the session's tag.

Every script answers an integer: 1 done, 0 the session moved on (another
relay wrote first, or it has a new epoch), -1 no such session, -2 the relay
holds its most sessions, -3 the session id is taken, -4 a credential is taken.
"""

from __future__ import annotations

#: KEYS: meta, log, grant set, index, then one key per grant.
#: ARGV: max sessions (0: no cap), session id, score, n meta pairs, pairs...,
#: n events, (seq, blob)..., then (role, member, digest) per grant key.
CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -3 end
for i = 5, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return -4 end
end
local max = tonumber(ARGV[1])
if max > 0 and redis.call('ZCARD', KEYS[4]) >= max then return -2 end
local at = 4
local n = tonumber(ARGV[at])
for i = 1, n do
  redis.call('HSET', KEYS[1], ARGV[at + 2 * i - 1], ARGV[at + 2 * i])
end
at = at + 2 * n + 1
n = tonumber(ARGV[at])
for i = 1, n do
  redis.call('XADD', KEYS[2], ARGV[at + 2 * i - 1] .. '-1', 'b', ARGV[at + 2 * i])
end
at = at + 2 * n
for i = 5, #KEYS do
  local j = at + 3 * (i - 5)
  redis.call('HSET', KEYS[i], 'sid', ARGV[2], 'role', ARGV[j + 1], 'member', ARGV[j + 2])
  redis.call('SADD', KEYS[3], ARGV[j + 3])
end
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
return 1
"""

#: KEYS: meta, log, grant set, index, snapshot, then one key per grant.
#: ARGV: expected seq, epoch, session id, score, n meta pairs, pairs..., n events,
#: (seq, blob)..., snapshot seq ("" for none), snapshot blob, channel, message,
#: compact below (0: keep every event), credential key prefix, revoke codes (1/0),
#: n revoked members, member ids..., then (role, member, digest) per grant key.
#: Revocations go before the new grants (a rotation revokes codes and adds new ones).
APPEND = """
local seq = redis.call('HGET', KEYS[1], 'seq')
if not seq then return -1 end
if seq ~= ARGV[1] or redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[2] then return 0 end
local at = 5
local n = tonumber(ARGV[at])
for i = 1, n do
  redis.call('HSET', KEYS[1], ARGV[at + 2 * i - 1], ARGV[at + 2 * i])
end
at = at + 2 * n + 1
n = tonumber(ARGV[at])
for i = 1, n do
  redis.call('XADD', KEYS[2], ARGV[at + 2 * i - 1] .. '-1', 'b', ARGV[at + 2 * i])
end
at = at + 2 * n + 1
if ARGV[at] ~= '' then
  redis.call('HSET', KEYS[5], 'seq', ARGV[at], 'blob', ARGV[at + 1])
end
local channel, message = ARGV[at + 2], ARGV[at + 3]
local below = tonumber(ARGV[at + 4])
if below > 0 then
  redis.call('XTRIM', KEYS[2], 'MINID', below .. '-0')
end
local prefix, codes = ARGV[at + 5], ARGV[at + 6] == '1'
n = tonumber(ARGV[at + 7])
local revoked = {}
for i = 1, n do revoked[ARGV[at + 7 + i]] = true end
if codes or n > 0 then
  for _, digest in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    local member = redis.call('HGET', prefix .. digest, 'member')
    if member == false or (codes and member == '') or revoked[member] then
      redis.call('DEL', prefix .. digest)
      redis.call('SREM', KEYS[3], digest)
    end
  end
end
at = at + 7 + n
for i = 6, #KEYS do
  local j = at + 3 * (i - 6)
  redis.call('HSET', KEYS[i], 'sid', ARGV[3], 'role', ARGV[j + 1], 'member', ARGV[j + 2])
  redis.call('SADD', KEYS[3], ARGV[j + 3])
end
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
redis.call('PUBLISH', channel, message)
return 1
"""

#: KEYS: meta, log, snapshot. ARGV: new epoch, seq, channel, message.
#: The log is rebuilt, because a stream never takes an id below its last one.
RESET = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local kept = redis.call('XRANGE', KEYS[2], '-', ARGV[2] .. '-1')
redis.call('DEL', KEYS[2])
for _, entry in ipairs(kept) do
  redis.call('XADD', KEYS[2], entry[1], unpack(entry[2]))
end
local snap = redis.call('HGET', KEYS[3], 'seq')
if snap and tonumber(snap) > tonumber(ARGV[2]) then redis.call('DEL', KEYS[3]) end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
"""

#: KEYS: meta, log, snapshot, grant set, index, tombstone.
#: ARGV: session id, key prefix of credentials, channel, message, tombstone seconds.
DELETE = """
local found = redis.call('EXISTS', KEYS[1])
for _, digest in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  redis.call('DEL', ARGV[2] .. digest)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[1])
if found == 1 then
  redis.call('SET', KEYS[6], '1', 'EX', ARGV[5])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return found
"""

#: KEYS: meta, log, snapshot, index. ARGV: session id, score, n meta pairs, pairs...,
#: snapshot seq, snapshot blob, channel, message. Writes a session back from a relay's
#: memory after Redis lost it (never over one that exists).
RESTORE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
local at = 3
local n = tonumber(ARGV[at])
for i = 1, n do
  redis.call('HSET', KEYS[1], ARGV[at + 2 * i - 1], ARGV[at + 2 * i])
end
at = at + 2 * n + 1
redis.call('HSET', KEYS[3], 'seq', ARGV[at], 'blob', ARGV[at + 1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('PUBLISH', ARGV[at + 2], ARGV[at + 3])
return 1
"""
