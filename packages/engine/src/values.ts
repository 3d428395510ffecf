/**
 * Perl scalar semantics for conditions and state (spec: daemon.md §4, §6). A scalar is a number, a
 * string, or `undefined` (Perl's undef). Numeric operators read strings by their leading number
 * (`"10.3.2.1"` is 10.3, `"abc"` is 0); string operators print numbers the way Perl does.
 */

/** A Perl scalar: number, string, or undef. */
export type Scalar = number | string | undefined;

/** Perl's false as returned by comparisons: the empty string (numerically 0). */
export const FALSE = "";
/** Perl's true as returned by comparisons. */
export const TRUE = 1;

const NUMERIC_PREFIX =
  /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf(?:inity)?|nan))/i;

/** The numeric value of a scalar: undef and non-numeric strings are 0 (compat: Perl). */
export function toNumber(value: Scalar): number {
  if (value === undefined) return 0;
  if (typeof value === "number") return value;
  const m = NUMERIC_PREFIX.exec(value);
  if (m == null) return 0;
  const text = m[1] ?? "0";
  const lower = text.toLowerCase();
  if (lower.endsWith("nan")) return Number.NaN;
  if (lower.includes("inf")) {
    return text.startsWith("-") ? -Infinity : Infinity;
  }
  return Number(text);
}

/** Formats a number as Perl prints it (`%.15g`): `3`, `0.5`, `1e+21`, `Inf`, `NaN`. */
export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Inf" : "-Inf";
  if (Object.is(n, -0)) return "0";
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const g = n.toPrecision(15);
  // toPrecision gives "1.00000000000000e+21" or "0.100000000000000": trim zeros like %g.
  const [mantissa = g, exponent] = g.split("e");
  const trimmed = mantissa.includes(".")
    ? mantissa.replace(/0+$/, "").replace(/\.$/, "")
    : mantissa;
  if (exponent == null) return trimmed;
  const sign = exponent.startsWith("-") ? "-" : "+";
  const digits = exponent.replace(/^[+-]/, "").padStart(2, "0");
  return `${trimmed}e${sign}${digits}`;
}

/** The string value of a scalar: undef is `""`, numbers as Perl prints them. */
export function toStr(value: Scalar): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return formatNumber(value);
}

/** Perl truth: undef, `""`, `"0"` and 0 are false; everything else is true. */
export function isTrue(value: Scalar): boolean {
  if (value === undefined) return false;
  if (typeof value === "number") return value !== 0 && !Number.isNaN(value);
  return value !== "" && value !== "0";
}

/** A comparison result as Perl returns it: 1 or `""`. */
export function bool(value: boolean): Scalar {
  return value ? TRUE : FALSE;
}

const MAGIC_INCREMENT = /^[a-zA-Z]*[0-9]*$/;

/**
 * Perl's `++`: undef becomes 1, numbers and numeric strings add 1, and a non-empty string matching
 * `/^[a-zA-Z]*[0-9]*$/` that is not a number is incremented as a string (`"az"` → `"ba"`,
 * `"Zz"` → `"AAa"`, `"a9"` → `"b0"`). compat: Perl's "magic" auto-increment.
 */
export function increment(value: Scalar): Scalar {
  if (value === undefined) return 1;
  if (typeof value === "number") return value + 1;
  if (value !== "" && MAGIC_INCREMENT.test(value) && !/^\d+$/.test(value)) {
    return magicIncrement(value);
  }
  return toNumber(value) + 1;
}

function magicIncrement(text: string): string {
  const chars = [...text];
  for (let i = chars.length - 1; i >= 0; i--) {
    const c = chars[i] ?? "";
    if (c === "z" || c === "Z" || c === "9") {
      chars[i] = c === "z" ? "a" : c === "Z" ? "A" : "0";
      continue;
    }
    chars[i] = String.fromCharCode(c.charCodeAt(0) + 1);
    return chars.join("");
  }
  // Every character wrapped: prepend the "one" of the first character's class.
  const first = text[0] ?? "a";
  const one = first === "9" ? "1" : first === "Z" ? "A" : "a";
  return one + chars.join("");
}
