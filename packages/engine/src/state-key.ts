/**
 * State key sanity (spec: daemon.md §6). State is a nested map, never files, but a key still
 * comes from a knock and must be boring: 1–128 characters, no `..`, `/`, `\`, NUL or other control
 * characters. `__proto__` and friends are harmless (stores use `Map`).
 */

/** Longest state key, in characters. */
export const MAX_STATE_KEY_LENGTH = 128;
/** Most keys in one state path. */
export const MAX_STATE_PATH_LENGTH = 16;

/** Why `key` is not a sane state key (a phrase to follow the key in a message), or undefined. */
export function checkStateKey(key: string): string | undefined {
  if (key.length === 0) return "is empty";
  if (key.length > MAX_STATE_KEY_LENGTH) {
    return `is longer than ${MAX_STATE_KEY_LENGTH} characters`;
  }
  // eslint-disable-next-line no-control-regex -- control characters are what we refuse
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(key)) {
    return "contains a control character";
  }
  if (key.includes("..")) return 'contains ".."';
  if (key.includes("/") || key.includes("\\")) return "contains a slash";
  return undefined;
}

/** Why `path` is not a sane state path, or undefined. */
export function checkStatePath(path: readonly string[]): string | undefined {
  if (path.length === 0) return "state path is empty";
  if (path.length > MAX_STATE_PATH_LENGTH) {
    return `state path has more than ${MAX_STATE_PATH_LENGTH} keys`;
  }
  for (const key of path) {
    if (typeof key !== "string") return "state key is not a string";
    const problem = checkStateKey(key);
    if (problem != null) return `state key ${JSON.stringify(key)} ${problem}`;
  }
  return undefined;
}
