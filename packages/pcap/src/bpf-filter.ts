/**
 * The kernel filter (spec: daemon.md §1): the port span, SYN-only for TCP, and what the
 * `<ethfilter>` can say exactly, as a libpcap filter expression, so that unrelated traffic never
 * wakes the process. Pure. Everything here is checked again in JavaScript
 * (`createSpanMatcher`, `matchEthFilter`): the expression only has to let through a superset.
 *
 * Why the IPv6 branch: in libpcap 1.10, `tcp[tcpflags]` (and any `tcp[…]` load) matches IPv4
 * packets only, so a SYN to `::1` would never pass a filter built on it alone. The IPv6 test
 * reads the flags byte at the fixed offset 40 + 13 (`ip6[53]`): right when no extension header
 * precedes TCP, which is the case for the SYNs a knock client sends (libpcap's own `tcp` and
 * `dst port` primitives make the same assumption for IPv6).
 */
import type { CompiledEthFilter } from "./ethfilter.ts";

/** An inclusive port range `[lo, hi]`. */
export type PortRange = readonly [number, number];

/** Options of `buildBpfFilter`. */
export interface BpfFilterOptions {
  /** The port span's contiguous ranges (any order; overlapping or adjacent ones are merged). */
  ranges: readonly PortRange[];
  protocol: "tcp" | "udp";
  ethfilter?: CompiledEthFilter;
  /**
   * Most separate ranges written out; beyond it the expression tests the span's bounding range
   * (`dst portrange MIN-MAX`) and the exact span is checked in JavaScript. Default 256: libpcap
   * 1.10 compiles 256 ranges into ~1,300 BPF instructions in 0.06 s and 33 MB; 1,024 ranges
   * need ~5,900 (over the kernel's 4,096, so libpcap would filter in user space) and 420 MB.
   */
  maxRanges?: number;
}

const DEFAULT_MAX_RANGES = 256;

/** The IPv6 extension headers `decodeFrame` follows: hop-by-hop, routing, fragment, dest-opts, AH. */
const EXTENSION_TYPES = [0, 43, 44, 60, 51];

/**
 * IPv6 unicast packets whose first next-header is an extension header `decodeFrame` follows,
 * and whose second (the first byte of every such header) is `protocol` or another of them.
 * So MLD reports and queries (hop-by-hop, then ICMPv6, to a multicast group: on every IPv6 link)
 * stay in the kernel, and ~19 BPF instructions are added.
 */
export function ipv6ExtensionBranch(protocol: "tcp" | "udp"): string {
  const first = EXTENSION_TYPES.map((t) => `ip6[6] = ${t}`).join(" or ");
  const second = [protocol === "tcp" ? 6 : 17, ...EXTENSION_TYPES]
    .map((t) => `ip6[40] = ${t}`)
    .join(" or ");
  return `(ip6 and not ip6 multicast and (${first}) and (${second}))`;
}

/**
 * The ranges sorted, with overlapping and adjacent ones merged. Throws `RangeError` when there is
 * none or one is not `0 ≤ lo ≤ hi ≤ 65535` integers.
 */
export function mergePortRanges(ranges: readonly PortRange[]): PortRange[] {
  if (ranges.length === 0) {
    throw new RangeError("ranges must hold at least one port range, got none");
  }
  for (const r of ranges) {
    const [lo, hi] = r;
    if (
      !Number.isInteger(lo) ||
      !Number.isInteger(hi) ||
      lo < 0 ||
      hi > 65535 ||
      lo > hi
    ) {
      throw new RangeError(
        `a port range must be [lo, hi] with 0 <= lo <= hi <= 65535, got ${JSON.stringify(r)}`,
      );
    }
  }
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) {
      last[1] = Math.max(last[1], hi);
    } else {
      out.push([lo, hi]);
    }
  }
  return out;
}

function portTest(direction: "dst" | "src", [lo, hi]: PortRange): string {
  return lo === hi
    ? `${direction} port ${lo}`
    : `${direction} portrange ${lo}-${hi}`;
}

function anyOf(terms: readonly string[]): string {
  return terms.length === 1 ? (terms[0] ?? "") : `(${terms.join(" or ")})`;
}

/** The ethfilter's exact values BPF can test: addresses and ports (see the module comment). */
function ethfilterTerms(filter: CompiledEthFilter): string[] {
  const terms: string[] = [];
  for (const t of filter.tests) {
    if (t.exact === undefined) continue;
    const values = [...t.exact];
    switch (t.property) {
      case "src_ip":
      case "dest_ip": {
        // Only texts that are addresses can match; libpcap would reject the others.
        const hosts = values.filter((v) => v.includes(":") || v.includes("."));
        const dir = t.property === "src_ip" ? "src" : "dst";
        if (hosts.length > 0 && hosts.length === values.length) {
          terms.push(anyOf(hosts.map((h) => `${dir} host ${h}`)));
        }
        break;
      }
      case "src_port":
      case "dest_port": {
        // A port's text is its decimal number without leading zeros; other texts never match.
        const ports = values.filter(
          (v) => /^(?:0|[1-9]\d{0,4})$/.test(v) && Number(v) <= 65535,
        );
        const dir = t.property === "src_port" ? "src" : "dst";
        if (ports.length > 0) {
          terms.push(anyOf(ports.map((p) => `${dir} port ${p}`)));
        }
        break;
      }
      default:
        break;
    }
  }
  return terms;
}

/**
 * A libpcap filter expression for knock packets: protocol `tcp` or `udp`, destination port in
 * `ranges`; for TCP, SYN set and ACK clear (a connection attempt) for IPv4 and IPv6; and the
 * `ethfilter`'s exact addresses (`dest_ip`, `src_ip`) and ports (`dest_port`, `src_port`).
 * Example for `[[1000, 2000], [3000, 3000]]`, TCP:
 * `tcp and (dst portrange 1000-2000 or dst port 3000) and (tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn or (ip6 and ip6[53] & 0x12 = 0x02))`.
 * libpcap's `tcp`, `udp` and port tests read an IPv6 packet's first next-header only, so an
 * IPv6 packet whose first header is an extension (hop-by-hop, routing, fragment, destination
 * options, AH) is passed as a whole (`… or ipv6ExtensionBranch(protocol)`): `decodeFrame` follows the chain
 * and the span and ethfilter are matched in JavaScript, as a replay does (issue #16).
 * Throws `RangeError` for bad ranges (see `mergePortRanges`) or `maxRanges`.
 */
export function buildBpfFilter(options: BpfFilterOptions): string {
  const maxRanges = options.maxRanges ?? DEFAULT_MAX_RANGES;
  if (!Number.isInteger(maxRanges) || maxRanges < 1) {
    throw new RangeError(
      `maxRanges must be a positive integer, got ${maxRanges}`,
    );
  }
  const ranges = mergePortRanges(options.ranges);
  const first = ranges[0] as PortRange;
  const last = ranges[ranges.length - 1] as PortRange;
  const span =
    ranges.length > maxRanges
      ? portTest("dst", [first[0], last[1]])
      : anyOf(ranges.map((r) => portTest("dst", r)));
  const parts: string[] = [options.protocol, span];
  if (options.protocol === "tcp") {
    parts.push(
      "(tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn or (ip6 and ip6[53] & 0x12 = 0x02))",
    );
  }
  if (options.ethfilter !== undefined)
    parts.push(...ethfilterTerms(options.ethfilter));
  return `(${parts.join(" and ")}) or ${ipv6ExtensionBranch(options.protocol)}`;
}
