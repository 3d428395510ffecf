// Deterministic mutations for the fuzz targets: case i of a run with seed s is a pure function of
// (s, i), so a hang found in a worker thread is rebuilt in the main thread and saved.

/** mulberry32: a small, fast, seedable PRNG returning [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The PRNG of case `i` of run `seed`. */
export function caseRandom(seed, i) {
  return prng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
}

const int = (r, n) => Math.floor(r() * n);
const pick = (r, list) => list[int(r, list.length)];

// Values that break parsers: boundaries, separators, escapes, long runs, odd Unicode.
const INTERESTING_BYTES = [
  0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x20, 0x40, 0x06, 0x11, 0x2c, 0x3a, 0x3b,
];
const INTERESTING_U16 = [
  0, 1, 0x7fff, 0x8000, 0xffff, 0x0800, 0x86dd, 0x8100, 0x88a8, 0x9100, 20, 40,
  54, 1500, 65535,
];
const INTERESTING_U32 = [
  0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d,
  65535, 262144, 262145,
];

/** A copy of `bytes` with 1–8 mutations (flips, interesting values, splices, cuts). */
export function mutateBytes(r, bytes, others = []) {
  let b = Uint8Array.from(bytes);
  const n = 1 + int(r, 8);
  for (let k = 0; k < n; k++) {
    const at = b.length === 0 ? 0 : int(r, b.length);
    switch (int(r, 9)) {
      case 0:
        if (b.length) b[at] ^= 1 << int(r, 8);
        break;
      case 1:
        if (b.length) b[at] = pick(r, INTERESTING_BYTES);
        break;
      case 2:
        if (b.length > 1) {
          const v = pick(r, INTERESTING_U16);
          b[at] = v >> 8;
          if (at + 1 < b.length) b[at + 1] = v & 0xff;
        }
        break;
      case 3:
        if (b.length > 3) {
          const v = pick(r, INTERESTING_U32);
          const le = r() < 0.5;
          for (let j = 0; j < 4 && at + j < b.length; j++)
            b[at + j] = le
              ? (v >>> (8 * j)) & 0xff
              : (v >>> (24 - 8 * j)) & 0xff;
        }
        break;
      case 4:
        b = b.subarray(0, at); // cut
        break;
      case 5: {
        const len = 1 + int(r, 16);
        const ins = Uint8Array.from({ length: len }, () => int(r, 256));
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 6: {
        // duplicate a chunk
        const len = 1 + int(r, Math.max(1, Math.min(64, b.length - at)));
        b = concat(
          b.subarray(0, at + len),
          b.subarray(at, at + len),
          b.subarray(at + len),
        );
        break;
      }
      case 7:
        if (others.length) {
          const o = pick(r, others);
          const from = int(r, o.length + 1);
          b = concat(b.subarray(0, at), o.subarray(from));
        }
        break;
      default: {
        const len = int(r, Math.max(1, b.length - at));
        b = concat(b.subarray(0, at), b.subarray(at + len));
      }
    }
  }
  return b;
}

const TOKENS = [
  "\n",
  "\r\n",
  "\\\n",
  "\\",
  '"',
  "'",
  "=",
  " = ",
  "#",
  "<",
  ">",
  "</",
  "<<include ",
  "<<EOF\n",
  "EOF\n",
  "<action>",
  "</action>",
  "<template t>",
  "</template>",
  "<ethfilter f>",
  "</ethfilter>",
  "<logformat l>",
  "</logformat>",
  "$",
  "${",
  "}",
  "%",
  "|",
  "(",
  ")",
  "*",
  "+",
  "?",
  "{1000}",
  "(?=",
  "\\1",
  "[",
  "]",
  "\u0000",
  "\u00e9",
  "\u{1f600}",
  "\ufeff",
  " ",
  "\t",
  "0",
  "-1",
  "65536",
  "4294967296",
  "1e9",
  "0x10",
  "NaN",
  "::",
  "::ffff:1.2.3.4",
  "255.255.255.255",
  "SRC=",
  "DST=",
  "SPT=",
  "DPT=",
  "PROTO=TCP",
  "PROTO=UDP",
  "IN=",
  "OUT=",
  "MAC=",
  "LEN=",
  "SYN",
  "a".repeat(300),
  "9".repeat(40),
  ",".repeat(50),
  ".*",
  "(.*)*",
];

/** A mutated copy of `text`: tokens inserted, lines dropped, duplicated or swapped, chars changed. */
export function mutateText(r, text, others = []) {
  let t = text;
  const n = 1 + int(r, 6);
  for (let k = 0; k < n; k++) {
    const at = int(r, t.length + 1);
    switch (int(r, 8)) {
      case 0:
      case 1:
        t = t.slice(0, at) + pick(r, TOKENS) + t.slice(at);
        break;
      case 2: {
        const lines = t.split("\n");
        lines.splice(int(r, lines.length), 1);
        t = lines.join("\n");
        break;
      }
      case 3: {
        const lines = t.split("\n");
        const i = int(r, lines.length);
        lines.splice(i, 0, lines[int(r, lines.length)] ?? "");
        t = lines.join("\n");
        break;
      }
      case 4: {
        const lines = t.split("\n");
        const i = int(r, lines.length);
        const j = int(r, lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
        t = lines.join("\n");
        break;
      }
      case 5:
        t =
          t.slice(0, at) +
          String.fromCharCode(int(r, 0x3000)) +
          t.slice(at + 1);
        break;
      case 6:
        if (others.length) {
          const o = pick(r, others);
          t = t.slice(0, at) + o.slice(int(r, o.length + 1));
        }
        break;
      default:
        t = t.slice(0, at) + t.slice(at + int(r, 20));
    }
  }
  return t;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
