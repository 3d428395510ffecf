import { describe, expect, it } from "vitest";
import { renderKnockLog } from "./log-line.ts";

// 2004-11-09 08:23:27 in local time, so the expected date does not depend on the zone.
const NOW = new Date(2004, 10, 9, 8, 23, 27).getTime();
const base = {
  nowMs: NOW,
  host: "gw",
  protocol: "tcp",
  sourcePort: (): number => 40211,
} as const;

describe("renderKnockLog", () => {
  it("renders one netfilter LOG line per port, in order", () => {
    const r = renderKnockLog([2560, 1024], { ...base, ipclient: "10.3.2.1" });
    expect(r).toEqual({
      ok: true,
      lines: [2560, 1024].map(
        (port) =>
          `Nov  9 08:23:27 gw kernel: portknock IN=lo OUT= MAC= SRC=10.3.2.1 DST=127.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=40211 DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0`,
      ),
    });
  });

  it("follows the client's family; ipserver is the remote only in that family", () => {
    const v6 = renderKnockLog([1], {
      ...base,
      protocol: "udp",
      ipclient: "2001:db8::1",
      remote: { address: "192.0.2.1", family: 4 },
      fileformat: "{ipclient} {ipserver} {protocol}",
    });
    expect(v6).toEqual({ ok: true, lines: ["2001:db8::1 ::1 udp"] });
    const v4 = renderKnockLog([1], {
      ...base,
      ipclient: "10.0.0.1",
      remote: { address: "192.0.2.1", family: 4 },
      fileformat: "{ipserver}",
    });
    expect(v4).toEqual({ ok: true, lines: ["192.0.2.1"] });
  });

  it("uses the IPv6 LOG layout for an IPv6 client", () => {
    const r = renderKnockLog([7], { ...base, ipclient: "::1" });
    expect(r.ok && r.lines[0]).toContain("HOPLIMIT=64");
  });

  it("refuses an unknown placeholder with a diagnostic naming -fileformat", () => {
    const r = renderKnockLog([1], {
      ...base,
      ipclient: "10.0.0.1",
      fileformat: "{port} {nope}",
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.diagnostic.code).toBe("ARGV_BAD_VALUE");
      expect(r.diagnostic.where).toEqual({ kind: "argv", flag: "-fileformat" });
    }
  });
});
