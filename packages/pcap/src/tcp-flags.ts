/**
 * TCP flag bits by NetPacket::TCP name (spec: daemon.md §1), and IP protocol numbers by
 * NetPacket::IP constant name.
 */

/** TCP flag bits of the 13th header byte. */
export const TCP_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
});

/** NetPacket::IP's `IP_PROTO_*` constants (and ICMPv6, for IPv6 users). */
export const IP_PROTOCOLS: Readonly<Record<string, number>> = Object.freeze({
  IP_PROTO_IP: 0,
  IP_PROTO_ICMP: 1,
  IP_PROTO_IGMP: 2,
  IP_PROTO_IPIP: 4,
  IP_PROTO_TCP: 6,
  IP_PROTO_UDP: 17,
  IP_PROTO_ICMPV6: 58,
});
