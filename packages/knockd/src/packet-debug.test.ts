import { describe, expect, it } from "vitest";
import type { Logger } from "@portknock/core";
import type { DecodedPacket } from "@portknock/pcap";
import { createPacketDebugLog } from "./packet-debug.ts";

function recorder(): {
  logger: Logger;
  lines: { fields: Record<string, unknown>; msg?: string }[];
} {
  const lines: { fields: Record<string, unknown>; msg?: string }[] = [];
  const logger: Logger = {
    debug: (fields, msg) =>
      lines.push({ fields: fields as Record<string, unknown>, msg }),
    info: () => {},
    warn: () => {},
    error: () => {},
    child: () => logger,
  };
  return { logger, lines };
}

const packet = {
  srcIp: "192.0.2.1",
  dstIp: "192.0.2.2",
  dstPort: 1500,
  srcPort: 4000,
  protocol: 6,
  origin: "pcap eth0 #7",
} as DecodedPacket;

describe("knockd -debug packet decisions (#16)", () => {
  it("logs each decision with its reason and origin, at most perSecond a second, then the number suppressed", () => {
    let now = 1_000_000;
    const { logger, lines } = recorder();
    const log = createPacketDebugLog({
      logger,
      clock: { now: () => now },
      perSecond: 3,
    });
    log.onDecision("hit", packet);
    log.onDecision("outside-span", packet);
    log.onReject(
      {
        code: "FRAME_NOT_FOR_US",
        severity: "warning",
        message: "addressed to another host",
        where: { kind: "packet", iface: "eth0", srcIp: "192.0.2.1" },
      },
      new Uint8Array(0),
      "pcap eth0 #8",
    );
    for (let i = 0; i < 5; i++) log.onDecision("filtered", packet);
    expect(lines.map((l) => l.fields.event)).toEqual([
      "packet.hit",
      "packet.outside-span",
      "packet.rejected",
    ]);
    expect(lines[0]?.fields).toMatchObject({
      source: "pcap eth0 #7",
      ip: "192.0.2.1",
      port: 1500,
    });
    expect(lines[2]?.fields).toMatchObject({
      code: "FRAME_NOT_FOR_US",
      source: "pcap eth0 #8",
    });
    now += 1000;
    log.onDecision("filtered", packet);
    expect(lines.slice(3).map((l) => l.fields)).toEqual([
      { event: "packet.suppressed", suppressed: 5 },
      expect.objectContaining({ event: "packet.filtered" }),
    ]);
    expect(lines.every((l) => (l.msg ?? "").length > 0)).toBe(true);
  });
});
