// The replay's line scanner, in AssemblyScript (compiled to dist/scan.wasm by `pnpm build`).
//
// It does over bytes what `parseRange` (src/read-block.ts) does over text, for the built-in
// `iptables` format: counts the lines of a block and lists those with an `IN=` (the only lines
// the built-in format can take), each with the fast lane's hit when the line is the usual IPv4
// netfilter record (the very decision of `readIptablesV4` in src/hit-columns.ts, on a line of
// printable ASCII). Every other listed line is left to `decodeLogLine` in JavaScript. A test
// holds the two lanes to the same block results on generated and real lines.
//
// Memory: [input, padded by 64 bytes][seven columns of `capacity` ints]. The input is written
// by the caller (a file read straight into it); the padding lets 16-byte loads run past the end
// of a line (what they see there is never used).

/** The line's fast-lane hit is in the columns. */
const FAST: i32 = 0;
/** Decode the line's bytes as ASCII (latin1) in JavaScript. */
const SLOW_ASCII: i32 = 1;
/** Decode the line's bytes as UTF-8 in JavaScript (a byte outside 0x20-0x7f). */
const SLOW_UTF8: i32 = 2;

const MAX_RECORD_CHARS: usize = 4096; // src/parse-log-line.ts

let input: usize = 0;
let capacity: i32 = 0;
let kinds: usize = 0;
let ips: usize = 0;
let ports: usize = 0;
let lineNos: usize = 0;
let offsets: usize = 0;
let lengths: usize = 0;
let firstIns: usize = 0;
let count: i32 = 0;
let lines: i32 = 0;

/**
 * Lays memory out for an input of `bytes` bytes (growing it when needed) and returns where the
 * input starts. The column pointers change with it.
 */
export function layout(bytes: i32): usize {
  // A listed line holds at least `IN=` and its end: at most one entry per 4 bytes, and one more.
  const cap = (bytes >> 2) + 2;
  const start: usize = (__heap_base + 15) & ~15;
  const columns: usize = (start + <usize>bytes + 64 + 15) & ~15;
  const end: usize = columns + <usize>cap * 28;
  const have: usize = (<usize>memory.size()) << 16;
  if (end > have && memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0) {
    return 0;
  }
  input = start;
  capacity = cap;
  const size = <usize>cap << 2;
  kinds = columns;
  ips = kinds + size;
  ports = ips + size;
  lineNos = ports + size;
  offsets = lineNos + size;
  lengths = offsets + size;
  firstIns = lengths + size;
  return input;
}

/** Column pointers: FAST/SLOW_ASCII/SLOW_UTF8; IPv4 source; dport | sport << 16. */
export function kindsAt(): usize {
  return kinds;
}
export function ipsAt(): usize {
  return ips;
}
export function portsAt(): usize {
  return ports;
}
/** The line's number in the scan (from 1), its offset in the input, its bytes, its `IN=`. */
export function lineNosAt(): usize {
  return lineNos;
}
export function offsetsAt(): usize {
  return offsets;
}
export function lengthsAt(): usize {
  return lengths;
}
export function firstInsAt(): usize {
  return firstIns;
}
/** Lines of the last scan. */
export function lineCount(): i32 {
  return lines;
}

// Literals as little-endian words.
const W_IN: u64 = 0x3d4e49; // "IN="
const W_OUT: u64 = 0x3d54554f; // "OUT="
const W_PHYSIN: u64 = 0x3d4e4953594850; // "PHYSIN="
const W_PHYSOUT: u64 = 0x3d54554f53594850; // "PHYSOUT="
const W_MAC: u64 = 0x3d43414d; // "MAC="
const W_MACSRC: u64 = 0x3d43525343414d; // "MACSRC="
const W_MACDST: u64 = 0x3d54534443414d; // "MACDST="
const W_MACPROTO: u64 = 0x4f544f525043414d; // "MACPROTO" (then "=")
const W_TUNNEL: u64 = 0x3d4c454e4e5554; // "TUNNEL="
const W_SRC: u64 = 0x3d435253; // "SRC="
const W_DST: u64 = 0x3d545344; // "DST="
const W_PROTO: u64 = 0x3d4f544f5250; // "PROTO="
const W_TCP: u64 = 0x3d54505320504354; // "TCP SPT="
const W_UDP: u64 = 0x3d54505320504455; // "UDP SPT="
const W_DPT: u64 = 0x3d54504420; // " DPT="
const W_KERNEL: u64 = 0x6c656e72656b; // "kernel"

/** Whether the `n` (1-8) bytes at `p`, before `e`, are `word`. */
@inline
function at(p: usize, e: usize, word: u64, n: u32): bool {
  if (e - p < <usize>n) return false;
  const mask: u64 = n == 8 ? <u64>-1 : (<u64>1 << ((<u64>n) << 3)) - 1;
  return (load<u64>(p) & mask) == word;
}

/** The first space in [p, e), or e. (A fast-lane line has no other whitespace.) */
@inline
function spaceFrom(p: usize, e: usize): usize {
  const SP = i8x16.splat(32);
  for (; p < e; p += 16) {
    const m = <u32>i8x16.bitmask(i8x16.eq(v128.load(p), SP));
    if (m != 0) {
      const q = p + <usize>ctz(m);
      return q < e ? q : e;
    }
  }
  return e;
}

@inline
function digitsFrom(p: usize, e: usize): usize {
  while (p < e && <u32>load<u8>(p) - 48 <= 9) p++;
  return p;
}

/** `KEY=\S* ` at p (`word`: the n bytes of `KEY=`): where the next field starts, or 0. */
@inline
function field(p: usize, e: usize, word: u64, n: u32): usize {
  if (!at(p, e, word, n)) return 0;
  p = spaceFrom(p + n, e);
  return p < e ? p + 1 : 0;
}

/** A strict dotted quad (0-255, no leading zero) filling [p, q): its value, or -1. */
function quad(p: usize, q: usize): i64 {
  let value: u32 = 0;
  for (let part = 0; part < 4; part++) {
    if (p >= q) return -1;
    let c = <u32>load<u8>(p) - 48;
    if (c > 9) return -1;
    let octet = c;
    p++;
    if (p < q && (c = <u32>load<u8>(p) - 48) <= 9) {
      if (octet == 0) return -1;
      octet = octet * 10 + c;
      p++;
      if (p < q && (c = <u32>load<u8>(p) - 48) <= 9) {
        octet = octet * 10 + c;
        if (octet > 255) return -1;
        p++;
      }
    }
    value = (value << 8) | octet;
    if (part < 3) {
      if (p >= q || load<u8>(p) != 46) return -1;
      p++;
    }
  }
  return p == q ? <i64>value : -1;
}

/** The digits [p, q) as a port (1-5 digits, at most 65535), or -1. */
@inline
function port(p: usize, q: usize): i32 {
  if (q == p || q - p > 5) return -1;
  let v: i32 = 0;
  for (; p < q; p++) v = v * 10 + <i32>load<u8>(p) - 48;
  return v <= 65535 ? v : -1;
}

let hitIp: u32 = 0;
let hitPorts: i32 = 0;

/**
 * The fast lane on the printable-ASCII line [s, e) whose first `IN=` is at `fin`: true, with
 * the hit in hitIp/hitPorts, when the built-in format's whole-record regex matches at `fin`
 * (`FULL_RECORD_SOURCE`, src/builtin-iptables.ts), the record may start there (no syslog tag
 * but `kernel` before it), and source, destination and ports are valid.
 */
function fast(s: usize, e: usize, fin: usize): bool {
  // An RFC 5424 line (`<PRI>1 …`) and a line with another `IN=` (the record is the last one
  // that starts where one may) are left to JavaScript.
  if (load<u8>(s) == 60 || hasIn(fin + 1, e)) return false;
  // The line's first ": ", when it comes before IN=, must close the tag `kernel`.
  for (let p = s; p + 1 < fin; p++) {
    if (load<u8>(p) == 58 && load<u8>(p + 1) == 32) {
      if (p < s + 6 || !at(p - 6, e, W_KERNEL, 6)) return false;
      if (p - 6 != s && load<u8>(p - 7) != 32) return false;
      break;
    }
  }
  // IN=\S* OUT=\S* (?:PHYSIN=\S* )?(?:PHYSOUT=\S* )?
  // (?:MAC=\S* |MACSRC=\S* MACDST=\S* MACPROTO=\S* )?(?:TUNNEL=\S* )?: each optional field is
  // present exactly when its key is there (no two keys start alike where the regex could try
  // another branch).
  let p = field(fin, e, W_IN, 3);
  if (p == 0) return false;
  p = field(p, e, W_OUT, 4);
  if (p == 0) return false;
  let q = field(p, e, W_PHYSIN, 7);
  if (q != 0) p = q;
  q = field(p, e, W_PHYSOUT, 8);
  if (q != 0) p = q;
  q = field(p, e, W_MAC, 4);
  if (q != 0) p = q;
  else if (at(p, e, W_MACSRC, 7)) {
    p = field(p, e, W_MACSRC, 7);
    if (p == 0) return false;
    p = field(p, e, W_MACDST, 7);
    if (p == 0 || !at(p, e, W_MACPROTO, 8)) return false;
    if (e - p < 9 || load<u8>(p + 8) != 61) return false;
    p = spaceFrom(p + 9, e);
    if (p >= e) return false;
    p++;
  }
  q = field(p, e, W_TUNNEL, 7);
  if (q != 0) p = q;
  // SRC=\S+ DST=\S+ , both dotted quads.
  if (!at(p, e, W_SRC, 4)) return false;
  const src = p + 4;
  p = spaceFrom(src, e);
  if (p == src || p >= e) return false;
  const ip = quad(src, p);
  p++;
  if (!at(p, e, W_DST, 4)) return false;
  const dst = p + 4;
  p = spaceFrom(dst, e);
  if (p == dst || p >= e) return false;
  if (ip < 0 || quad(dst, p) < 0) return false;
  p++;
  // (?:(?!PROTO=)\S+ )*?PROTO=(?:TCP|UDP) SPT=\d+ DPT=\d+(?![^ ])
  while (!at(p, e, W_PROTO, 6)) {
    q = spaceFrom(p, e);
    if (q == p || q >= e) return false;
    p = q + 1;
  }
  p += 6;
  if (!at(p, e, W_TCP, 8) && !at(p, e, W_UDP, 8)) return false;
  const sp = p + 8;
  const spEnd = digitsFrom(sp, e);
  if (spEnd == sp || !at(spEnd, e, W_DPT, 5)) return false;
  const dp = spEnd + 5;
  p = digitsFrom(dp, e);
  if (p == dp || (p < e && load<u8>(p) != 32)) return false;
  const dport = port(dp, p);
  const sport = port(sp, spEnd);
  if (dport < 0 || sport < 0) return false;
  hitIp = <u32>ip;
  hitPorts = dport | (sport << 16);
  return true;
}

/** Whether `IN=` starts in [p, e). */
function hasIn(p: usize, e: usize): bool {
  const I = i8x16.splat(73);
  for (; p < e; p += 16) {
    let m = <u32>i8x16.bitmask(i8x16.eq(v128.load(p), I));
    for (; m != 0; m &= m - 1) {
      const q = p + <usize>ctz(m);
      if (q + 2 < e && load<u8>(q + 1) == 78 && load<u8>(q + 2) == 61) {
        return true;
      }
    }
  }
  return false;
}

/** Whether [s, e) is printable ASCII (0x20-0x7f): its only whitespace is then the space. */
function printable(s: usize, e: usize): bool {
  const LOW = i8x16.splat(32);
  let p = s;
  for (; p + 16 <= e; p += 16) {
    // Signed: bytes from 0x80 are negative.
    if (i8x16.bitmask(i8x16.lt_s(v128.load(p), LOW)) != 0) return false;
  }
  for (; p < e; p++) if (<u32>load<u8>(p) - 32 > 95) return false;
  return true;
}

/** Lists the line [s, e) with its first `IN=` at `fin`. */
@inline
function list(s: usize, e: usize, fin: usize, lineNo: i32): void {
  const k = (<usize>count) << 2;
  store<i32>(lineNos + k, lineNo);
  store<i32>(offsets + k, <i32>(s - input));
  store<i32>(lengths + k, <i32>(e - s));
  store<i32>(firstIns + k, <i32>(fin - s));
  if (!printable(s, e)) store<i32>(kinds + k, SLOW_UTF8);
  else if (e - s > MAX_RECORD_CHARS || !fast(s, e, fin)) {
    store<i32>(kinds + k, SLOW_ASCII);
  } else {
    store<i32>(kinds + k, FAST);
    store<u32>(ips + k, hitIp);
    store<i32>(ports + k, hitPorts);
  }
  count++;
}

/**
 * Scans the lines of input[first, end) (`end`: the last line's newline, or its end): counts
 * them (`lineCount`) and lists those with an `IN=`; returns how many are listed (-1: `layout`
 * was not called for this size).
 */
export function scan(first: i32, end: i32): i32 {
  if (first < 0 || end < first || (end >> 2) + 2 > capacity) return -1;
  const stop = input + <usize>end;
  count = 0;
  let lineNo = 1;
  let lineStart = input + <usize>first;
  let fin: usize = 0; // the line's first `IN=` (0: none yet)
  const NL = i8x16.splat(10);
  const I = i8x16.splat(73);
  for (let i = lineStart; i < stop; i += 16) {
    const v = v128.load(i);
    let newlines = <u32>i8x16.bitmask(i8x16.eq(v, NL));
    let eyes = <u32>i8x16.bitmask(i8x16.eq(v, I));
    if (stop - i < 16) {
      const keep = (<u32>1 << <u32>(stop - i)) - 1;
      newlines &= keep;
      eyes &= keep;
    }
    for (;;) {
      const nl = newlines != 0 ? ctz(newlines) : 16;
      if (fin == 0) {
        // An `I` of this line, in this chunk, that starts `IN=`.
        for (let c = eyes & ((<u32>1 << nl) - 1); c != 0; c &= c - 1) {
          const q = i + <usize>ctz(c);
          if (q + 2 < stop && load<u8>(q + 1) == 78 && load<u8>(q + 2) == 61) {
            fin = q;
            break;
          }
        }
      }
      if (nl == 16) break;
      const e = i + <usize>nl;
      if (fin != 0) {
        list(lineStart, e, fin, lineNo);
        fin = 0;
      }
      lineNo++;
      lineStart = e + 1;
      newlines &= newlines - 1;
      eyes &= ~((<u32>2 << nl) - 1);
    }
  }
  if (fin != 0) list(lineStart, stop, fin, lineNo);
  lines = lineNo;
  return count;
}
