/**
 * How state looks in Redis (issue #19), and the Lua scripts that change it: `P:state:<root>` is a
 * hash per first key of a state path; its field is `JSON.stringify(rest of the path)` (`[]` for
 * the root's own value) and its value `JSON.stringify(value)`. Each script applies one op
 * atomically, publishes `{from, root}` on `P:state-changes`, and returns the root's hash (HGETALL)
 * so the sender can refresh its mirror. Ops carry a per-gateway sequence number kept in
 * `P:applied:<name>`: an op sent again after a timeout (it may have run) is not applied twice.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { StateValue } from "@portknock/engine";

// KEYS[1] = P:state:<root>, KEYS[2] = P:applied:<name>; ARGV[1] = seq, ARGV[2] = channel,
// ARGV[3] = message. Returns true when the op is new (and records its seq).
const FRESH = `
local function fresh()
  local last = redis.call('GET', KEYS[2])
  if last and tonumber(last) >= tonumber(ARGV[1]) then return false end
  redis.call('SET', KEYS[2], ARGV[1])
  return true
end
`;

/** ARGV[4] = field, ARGV[5] = value (JSON). */
const SET_SCRIPT = `${FRESH}
if fresh() then
  redis.call('HSET', KEYS[1], ARGV[4], ARGV[5])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return redis.call('HGETALL', KEYS[1])
`;

/**
 * ARGV[4] = field, ARGV[5] = delta, ARGV[6] = the value the gateway computed (JSON). Missing →
 * delta; a number, or a string that is a plain decimal number → number + delta; any other string
 * (or a result that is not finite) → the given value (compat: Perl's magic string increment).
 */
const ADD_SCRIPT = `${FRESH}
local function fmt(n)
  if n == math.floor(n) and math.abs(n) < 1e15 then
    return string.format('%d', n)
  end
  return string.format('%.17g', n)
end
if fresh() then
  local delta = tonumber(ARGV[5])
  local cur = redis.call('HGET', KEYS[1], ARGV[4])
  local out = ARGV[6]
  if not cur then
    out = fmt(delta)
  else
    local n = nil
    if string.sub(cur, 1, 1) == '"' then
      local ok, s = pcall(cjson.decode, cur)
      if ok and type(s) == 'string' and
          (string.match(s, '^-?%d+$') or string.match(s, '^-?%d+%.%d+$')) then
        n = tonumber(s)
      end
    else
      n = tonumber(cur)
    end
    if n then
      local r = n + delta
      if r == r and r ~= math.huge and r ~= -math.huge then out = fmt(r) end
    end
  end
  redis.call('HSET', KEYS[1], ARGV[4], out)
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return redis.call('HGETALL', KEYS[1])
`;

/** ARGV[4] = the field of the path ('' for the whole root), ARGV[5] = the prefix of deeper fields. */
const DELETE_SCRIPT = `${FRESH}
if fresh() then
  if ARGV[4] == '' then
    redis.call('DEL', KEYS[1])
  else
    for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
      if f == ARGV[4] or string.sub(f, 1, #ARGV[5]) == ARGV[5] then
        redis.call('HDEL', KEYS[1], f)
      end
    end
  end
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return redis.call('HGETALL', KEYS[1])
`;

/** A Lua script with its SHA1 (EVALSHA first, EVAL when Redis does not have it yet). */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/** The state scripts. */
export const STATE_SCRIPTS: {
  readonly set: Script;
  readonly add: Script;
  readonly delete: Script;
} = {
  set: script(SET_SCRIPT),
  add: script(ADD_SCRIPT),
  delete: script(DELETE_SCRIPT),
};

/** Runs `s` with `keys` and `args`: EVALSHA, or EVAL once Redis says NOSCRIPT. */
export async function runScript(
  redis: Redis,
  s: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (e) {
    if (!/NOSCRIPT/.test((e as Error).message)) throw e;
    return redis.eval(s.source, keys.length, ...keys, ...args);
  }
}

/** The hash field of `path` below its root. */
export function fieldOf(path: readonly string[]): string {
  return JSON.stringify(path.slice(1));
}

/** The field and the prefix of deeper fields that deleting `path` removes ('' for a root). */
export function deleteFieldsOf(path: readonly string[]): [string, string] {
  if (path.length <= 1) return ["", ""];
  const field = fieldOf(path);
  return [field, `${field.slice(0, -1)},`];
}

/** A state value as stored in Redis. */
export function encodeValue(value: StateValue): string {
  return JSON.stringify(value);
}

/** One decoded hash entry, or why it is not one. */
export type DecodedEntry =
  | { ok: true; path: string[]; value: StateValue }
  | { ok: false; problem: string };

/** Decodes a field and value of `P:state:<root>`; never throws. */
export function decodeEntry(
  root: string,
  field: string,
  value: string,
): DecodedEntry {
  let rest: unknown;
  let v: unknown;
  try {
    rest = JSON.parse(field);
    v = JSON.parse(value);
  } catch {
    return { ok: false, problem: "not JSON" };
  }
  if (!Array.isArray(rest) || !rest.every((k) => typeof k === "string")) {
    return { ok: false, problem: "the field is not a JSON list of keys" };
  }
  if (!(typeof v === "string" || (typeof v === "number" && isFinite(v)))) {
    return { ok: false, problem: "the value is not a number or a string" };
  }
  return { ok: true, path: [root, ...rest], value: v };
}

/** `[f1, v1, f2, v2, …]` (HGETALL as a script returns it) as pairs; [] for anything else. */
export function pairsOf(flat: unknown): Array<[string, string]> {
  if (!Array.isArray(flat)) return [];
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const f: unknown = flat[i];
    const v: unknown = flat[i + 1];
    if (typeof f === "string" && typeof v === "string") out.push([f, v]);
  }
  return out;
}
