/**
 * Codes of `@portknock/pcap` (STYLE.md §5). A bad packet is a counted rejection
 * (`FrameRejectCode`, a return value), a bad `<ethfilter>` block is a `Diagnostic`
 * (`EthFilterCode`); exceptions (`PcapError`) are for misuse and environment failures only.
 */
import { PortknockError } from "@portknock/core";

/** Why a captured frame is not a TCP or UDP packet we can read (spec: daemon.md §1). */
export type FrameRejectCode =
  /** The frame ends before a header it needs (snap length, or a short/corrupt frame). */
  | "FRAME_TRUNCATED"
  /** A link type this package does not decode. */
  | "FRAME_UNSUPPORTED_LINK"
  /** The link header carries something other than IPv4/IPv6 (ARP, LLDP, …). */
  | "FRAME_NOT_IP"
  /** The IP header is malformed: wrong version, header length below 20 bytes, and so on. */
  | "FRAME_BAD_IP_HEADER"
  /** A non-first IP fragment: it has no transport header. */
  | "FRAME_FRAGMENT"
  /** Neither TCP nor UDP (ICMP, ESP, an unknown IPv6 extension header, …). */
  | "FRAME_UNSUPPORTED_PROTOCOL"
  /** The TCP header's data offset is below 5 words. */
  | "FRAME_BAD_TCP_HEADER"
  /** A cooked (SLL) frame this host sent, not one it received. */
  | "FRAME_OUTGOING"
  /** A source no knocker can have: unspecified, multicast, reserved, broadcast, IPv4-mapped, loopback from outside, this host's own address. */
  | "FRAME_MARTIAN_SOURCE"
  /** A packet addressed to another host (not one of the capture interface's addresses). */
  | "FRAME_NOT_FOR_US";

/** Every `FrameRejectCode`, for counters. */
export const FRAME_REJECT_CODES: readonly FrameRejectCode[] = [
  "FRAME_TRUNCATED",
  "FRAME_UNSUPPORTED_LINK",
  "FRAME_NOT_IP",
  "FRAME_BAD_IP_HEADER",
  "FRAME_FRAGMENT",
  "FRAME_UNSUPPORTED_PROTOCOL",
  "FRAME_BAD_TCP_HEADER",
  "FRAME_OUTGOING",
  "FRAME_MARTIAN_SOURCE",
  "FRAME_NOT_FOR_US",
];

/** Codes of `<ethfilter>` diagnostics produced by `compileEthFilter`. */
export type EthFilterCode =
  /** A property NetPacket does not have (or that this port does not support). */
  | "ETHFILTER_UNKNOWN_PROPERTY"
  /** `flags` names a flag other than FIN SYN RST PSH ACK URG ECE CWR, or is not a mask. */
  | "ETHFILTER_UNKNOWN_FLAG"
  /** `proto` names an `IP_PROTO_*` constant that does not exist. */
  | "ETHFILTER_UNKNOWN_CONSTANT"
  /**
   * The value is empty, not a regex JavaScript can compile, or uses what the linear-time engine
   * cannot run (a lookaround, a back-reference, a count over 1000).
   */
  | "ETHFILTER_BAD_REGEX"
  /** Warning: an address that is not in the canonical form packets are matched against. */
  | "ETHFILTER_ADDRESS_NOT_CANONICAL"
  /** Warning: with the capture's protocol, no packet can ever pass this filter. */
  | "ETHFILTER_NEVER_MATCHES";

/** Codes of `PcapError`. */
export type PcapErrorCode =
  /** This package's libpcap addon could not be loaded (not built, or libpcap missing). */
  | "PCAP_UNAVAILABLE"
  /** libpcap could not open the interface or compile the filter (permissions, bad name, …). */
  | "PCAP_OPEN_FAILED"
  /** The file could not be read. */
  | "PCAP_READ_FAILED"
  /** The file is not a classic pcap file (bad magic, pcapng, unsupported version). */
  | "PCAP_FILE_UNSUPPORTED"
  /** A record header in the file is impossible (length beyond limits): the file is corrupt. */
  | "PCAP_FILE_CORRUPT";

/** Thrown by the capture and replay functions on misuse or environment failure. */
export class PcapError extends PortknockError<PcapErrorCode> {
  override name = "PcapError";
}
