/**
 * `@portknock/pcap`: network mode's packet source (spec: daemon.md §1): libpcap capture through
 * this package's own Node-API addon, frame decoding, BPF span filters, `<ethfilter>` blocks and
 * classic pcap file replay. The pure half (`decodeFrame`,
 * `compileEthFilter`, `buildBpfFilter`, `readPcapRecords`, …) needs no native module.
 * Documentation is at each definition.
 */
export type {
  FrameRejectCode,
  EthFilterCode,
  PcapErrorCode,
} from "./errors.ts";
export { PcapError } from "./errors.ts";
export type { LinkType } from "./link-type.ts";
export type {
  FrameMeta,
  DecodedPacket,
  DecodeFrameResult,
} from "./decode-frame.ts";
export { decodeFrame } from "./decode-frame.ts";
export type {
  CompiledEthFilter,
  CompileEthFilterOptions,
  CompileEthFilterResult,
} from "./ethfilter.ts";
export { compileEthFilter } from "./ethfilter.ts";
export { matchEthFilter } from "./match-ethfilter.ts";
export type { PortRange, BpfFilterOptions } from "./bpf-filter.ts";
export { buildBpfFilter } from "./bpf-filter.ts";
export type { SpanMatcher } from "./span-match.ts";
export { createSpanMatcher } from "./span-match.ts";
export type { CaptureStats, FrameRejectHandler } from "./frame-counter.ts";
export type { OpenCaptureOptions, Capture } from "./open-capture.ts";
export type { Ipv4HitSink } from "./ipv4-hit-batch.ts";
export type { PcapStats, PcapInterfaceStats } from "./pcap-stats.ts";
export { openCapture } from "./open-capture.ts";
export type {
  PcapFileHeader,
  PcapHeaderResult,
  PcapRecord,
} from "./parse-pcap-file.ts";
export { parsePcapHeader, readPcapRecords } from "./parse-pcap-file.ts";
export type { ReplayPcapOptions } from "./replay-pcap.ts";
export { replayPcap } from "./replay-pcap.ts";
export type {
  PacketInput,
  PacketDecision,
  PacketHitSourceOptions,
  PacketSourceStats,
  PacketHitSource,
} from "./packet-hit-source.ts";
export { createPacketHitSource, packetToHit } from "./packet-hit-source.ts";
