/**
 * The port span (spec: knock-format.md §3): `a-b,c,d-e`, ascending, non-overlapping, each port
 * 1–65535, a power-of-two total 2–32768.
 */
import type { CodecIssue } from "./errors.ts";
import { quoteValue as quote } from "@portknock/core";

/** A parsed port span: its ports in order and the reverse index. */
export interface PortSpan {
  /** The span as written, normalised (`1000-1255`). */
  readonly text: string;
  /** The span's ports, ascending. `ports[v]` is the port for chunk value v. */
  readonly ports: Uint16Array;
  /** port → index in `ports`, or -1 when the port is not in the span. 65536 entries. */
  readonly indexOf: Int16Array;
  /** Bits per port: log2 of the span size. */
  readonly bitsPerPort: number;
  /** The contiguous ranges, for building firewall rules and BPF filters. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
}

/** Result of `parsePortSpan`: the span, or the issues that prevent it. */
export type PortSpanResult =
  { ok: true; span: PortSpan } | { ok: false; issues: CodecIssue[] };

const PIECE = /^(\d{1,5})(?:-(\d{1,5}))?$/;

/**
 * Parses a `portspan` value. Whitespace is ignored. Every problem is reported (a piece that is
 * not a number or range, a port outside 1–65535, a descending range, an overlap with the previous
 * piece, a size that is not a power of two between 2 and 32768), each naming the piece.
 */
export function parsePortSpan(text: string): PortSpanResult {
  const issues: CodecIssue[] = [];
  const err = (code: CodecIssue["code"], message: string): void => {
    issues.push({ code, severity: "error", key: "portspan", message });
  };
  const compact = text.replace(/\s+/g, "");
  const ranges: Array<[number, number]> = [];
  if (compact === "") {
    err("SPAN_SYNTAX", "portspan is empty; expected ranges like 1000-1255");
    return { ok: false, issues };
  }
  let last = 0;
  for (const piece of compact.split(",")) {
    const m = PIECE.exec(piece);
    if (m == null) {
      err(
        "SPAN_SYNTAX",
        `portspan: ${quote(piece)} is not a port or a range like 1000-1255`,
      );
      continue;
    }
    const lo = Number(m[1]);
    const hi = m[2] == null ? lo : Number(m[2]);
    if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) {
      err("SPAN_PORT_RANGE", `portspan: ${piece}: ports must be 1–65535`);
      continue;
    }
    if (hi < lo) {
      err("SPAN_DESCENDING", `portspan: range ${piece} is descending`);
      continue;
    }
    if (lo <= last) {
      err(
        "SPAN_OVERLAP",
        `portspan: ${piece} overlaps or precedes the previous piece (ending at ${last}); pieces must ascend`,
      );
      continue;
    }
    ranges.push([lo, hi]);
    last = hi;
  }
  if (issues.length > 0) return { ok: false, issues };
  const size = ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
  if (size < 2 || size > 32768 || (size & (size - 1)) !== 0) {
    err(
      "SPAN_SIZE",
      `portspan has ${size} ports; the total must be a power of two from 2 to 32768`,
    );
    return { ok: false, issues };
  }
  const ports = new Uint16Array(size);
  const indexOf = new Int16Array(65536).fill(-1);
  let i = 0;
  for (const [lo, hi] of ranges) {
    for (let p = lo; p <= hi; p++) {
      ports[i] = p;
      indexOf[p] = i;
      i++;
    }
  }
  return {
    ok: true,
    span: {
      text: ranges
        .map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`))
        .join(","),
      ports,
      indexOf,
      bitsPerPort: Math.log2(size),
      ranges,
    },
  };
}
