/**
 * Converters from config text to typed values (spec: config.md). Each returns `undefined` for text
 * it does not accept; the caller reports the diagnostic.
 */

const TRUE_WORDS = new Set(["yes", "on", "true", "1"]);
const FALSE_WORDS = new Set(["no", "off", "false", "0"]);

/**
 * Read a boolean: `yes/on/true/1` or `no/off/false/0`, case-insensitive (Config::General's
 * AutoTrue words). Anything else is `undefined`.
 */
export function parseBoolean(text: string): boolean | undefined {
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

/** Read a non-negative decimal integer (`+` and leading zeros allowed); else `undefined`. */
export function parseInteger(text: string): number | undefined {
  if (!/^\+?\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Read a duration in milliseconds: a bare non-negative number (fractions allowed) in `defaultUnit`,
 * or a number followed by `s`, `m` or `h` (`30s`, `5m`, `1.5h`). Anything else is `undefined`.
 */
export function parseDuration(
  text: string,
  defaultUnit: "s" | "m",
): number | undefined {
  const m = /^(\d{1,12}(?:\.\d*)?|\.\d+)\s*(s|m|h)?$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2]?.toLowerCase() ?? defaultUnit) as keyof typeof UNIT_MS;
  return Math.round(Number(m[1]) * UNIT_MS[unit]);
}

/** Find `text` among `choices` case-insensitively, returning the canonical spelling. */
export function matchChoice<T extends string>(
  text: string,
  choices: readonly T[],
): T | undefined {
  const lower = text.toLowerCase();
  return choices.find((c) => c.toLowerCase() === lower);
}
