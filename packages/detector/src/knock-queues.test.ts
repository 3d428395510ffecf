import { describe, expect, it } from "vitest";
import { compileKnockConfigOrThrow, encodeKnock } from "@portknock/codec";
import { createKnockQueues } from "./knock-queues.ts";

const config = compileKnockConfigOrThrow({
  knock: "CLIENT,PORT,FLAG0,CHECKSUM",
  portspan: "1000-1255",
  encrypt: true,
  key: "password",
  cipher: "Blowfish",
  iv: true,
  padding: "right",
});
const values = { CLIENT: "10.3.2.1", PORT: 22, FLAG0: 1 };
const knock = (iv = 7): number[] =>
  encodeKnock(config, values, { iv: new Uint8Array(8).fill(iv) }).ports;

function queues(maxSources = 100): ReturnType<typeof createKnockQueues> {
  return createKnockQueues({ config, knockTimeoutMs: 30_000, maxSources });
}

describe("per-source queues (daemon.md §2)", () => {
  it("accepts a knock once its last port arrives", () => {
    const q = queues();
    const ports = knock();
    const outcomes = ports.map((p, i) => q.push("192.0.2.1", p, 1000 + i));
    expect(outcomes.slice(0, -1).every((o) => o.kind === "queued")).toBe(true);
    expect(outcomes.at(-1)).toMatchObject({
      kind: "accepted",
      knock: { values },
    });
    expect(q.counters.knocksAccepted).toBe(1);
    // The queue starts over: the knock's ports are not decoded again with new ones.
    expect(q.push("192.0.2.1", ports[0]!, 2000)).toEqual({
      kind: "queued",
      queued: 1,
    });
  });

  it("slides past leading noise from the same source", () => {
    const q = queues();
    for (const p of [1001, 1002, 1003, 1200, 1100]) q.push("192.0.2.1", p, 0);
    const last = knock()
      .map((p) => q.push("192.0.2.1", p, 10))
      .at(-1);
    expect(last?.kind).toBe("accepted");
    expect(
      Object.values(q.counters.decodeFailures).reduce((a, b) => a + b, 0),
    ).toBe(5);
  });

  it("ignores ports outside the span without disturbing the queue", () => {
    const q = queues();
    const ports = knock();
    const out = ports.flatMap((p) => [
      q.push("192.0.2.1", p, 0),
      q.push("192.0.2.1", 80, 0),
    ]);
    expect(out.filter((o) => o.kind === "outside-span")).toHaveLength(
      ports.length,
    );
    expect(out.some((o) => o.kind === "accepted")).toBe(true);
  });

  it("keeps sources apart when their knocks interleave", () => {
    const q = queues();
    const a = knock(1);
    const b = knock(2);
    const results = a.flatMap((p, i) => [
      q.push("192.0.2.1", p, i),
      q.push("192.0.2.2", b[i]!, i),
    ]);
    expect(results.filter((r) => r.kind === "accepted")).toHaveLength(2);
  });

  it("drops a queue idle for knocktimeout", () => {
    const q = queues();
    const ports = knock();
    ports.slice(0, 10).forEach((p) => q.push("192.0.2.1", p, 0));
    // The rest arrives 31 s later: the first 10 ports are gone, no knock.
    const late = ports.slice(10).map((p) => q.push("192.0.2.1", p, 31_000));
    expect(late.some((o) => o.kind === "accepted")).toBe(false);
    expect(q.counters.sourcesExpired).toBe(1);
  });

  it("drops a queue idle for knocktimeout also between two sweeps", () => {
    const q = queues();
    const ports = knock();
    ports.slice(0, 10).forEach((p) => q.push("192.0.2.1", p, 0));
    q.push("192.0.2.9", 1000, 29_500); // a sweep runs now: .1 is not idle long enough yet
    expect(q.counters.sourcesExpired).toBe(0);
    // 600 ms later (no sweep yet), .1 has been idle for 30.1 s: its ports are gone.
    const late = ports.slice(10).map((p) => q.push("192.0.2.1", p, 30_100));
    expect(late.some((o) => o.kind === "accepted")).toBe(false);
    expect(q.counters.sourcesExpired).toBe(1);
    expect(late[0]).toEqual({ kind: "queued", queued: 1 });
  });

  it("drops the same wire bytes a second time within the timeout (replay)", () => {
    const q = queues();
    const ports = knock();
    ports.forEach((p) => q.push("192.0.2.1", p, 0));
    const again = ports.map((p) => q.push("198.51.100.7", p, 5_000)).at(-1);
    expect(again).toEqual({ kind: "replay" });
    expect(q.counters.replaysDropped).toBe(1);
    // After the timeout the same wire is a knock again (compat cannot tell; sealed can).
    const later = ports.map((p) => q.push("192.0.2.1", p, 40_000)).at(-1);
    expect(later?.kind).toBe("accepted");
  });

  it("keeps one-hit sources in probation: they evict only each other, oldest first", () => {
    const q = createKnockQueues({
      config,
      knockTimeoutMs: 30_000,
      maxSources: 2,
      probationSources: 3,
    });
    q.push("192.0.2.1", 1000, 0);
    q.push("192.0.2.1", 1001, 1); // two hits: protected
    q.push("192.0.2.2", 1000, 2);
    q.push("192.0.2.2", 1001, 3); // protected too (the segment is full now)
    for (let i = 0; i < 100; i++) q.push(`198.51.100.${i}`, 1002, 4 + i);
    // 100 one-hit sources: 3 kept in probation, 97 overwritten, none of the protected evicted.
    expect(q.size).toBe(5);
    expect(q.counters).toMatchObject({
      sourcesEvicted: 97,
      evictedProbation: 97,
      evictedProtected: 0,
    });
    // The newest one-hit sources survived: their second hit finds their first.
    expect(q.push("198.51.100.99", 1003, 200)).toEqual({
      kind: "queued",
      queued: 2,
    });
    // ... and is promoted, evicting the least recently used protected source (.1).
    expect(q.counters.evictedProtected).toBe(1);
    expect(q.push("192.0.2.2", 1002, 201)).toEqual({
      kind: "queued",
      queued: 3,
    });
    expect(q.push("192.0.2.1", 1002, 202)).toEqual({
      kind: "queued",
      queued: 1,
    });
    // The oldest one-hit sources were overwritten: a second hit starts over.
    expect(q.push("198.51.100.0", 1003, 203)).toEqual({
      kind: "queued",
      queued: 1,
    });
  });

  it("moves a source to the protected segment with its first hit, for any address", () => {
    const q = queues(3);
    const ports = knock();
    // A second hit is not a retransmit of the first ...
    expect(q.push("2001:db8::7", ports[0]!, 0, 40000).kind).toBe("queued");
    expect(q.push("2001:db8::7", ports[0]!, 500, 40000).kind).toBe(
      "retransmit",
    );
    expect(q.push("2001:db8::7", ports[0]!, 3000, 40000)).toEqual({
      kind: "queued",
      queued: 2,
    });
    // ... and the knock completes through both segments, the IPv6 source's hash included.
    const v6 = createKnockQueues({
      config,
      knockTimeoutMs: 30_000,
      maxSources: 1,
      probationSources: 50,
    });
    const out = ports.flatMap((p, i) => [
      v6.push("2001:db8::1", p, i * 1000),
      ...Array.from({ length: 20 }, (_, k) =>
        // (not 2001:db8:0::1: that is the knocker's address, and its queue)
        v6.push(`2001:db8:${i + 1}::${k}`, 1000 + k, i * 1000 + k),
      ),
    ]);
    expect(out.filter((o) => o.kind === "accepted")).toHaveLength(1);
    expect(v6.counters.evictedProtected).toBe(0);
    // Every first hit but the last 50 and the knocker's (promoted before its turn) overwritten.
    expect(v6.counters.evictedProbation).toBe(20 * ports.length + 1 - 50 - 1);
  });

  it("expires one-hit sources after knocktimeout, swept or looked up", () => {
    const q = queues();
    q.push("192.0.2.1", 1000, 0);
    q.push("192.0.2.2", 1000, 10_000);
    expect(q.push("192.0.2.1", 1001, 30_000)).toEqual({
      kind: "queued",
      queued: 1,
    });
    expect(q.counters.sourcesExpired).toBe(1);
    q.expire(40_000);
    expect(q.counters.sourcesExpired).toBe(2);
    expect(q.size).toBe(1);
    q.expire(60_000);
    expect(q.size).toBe(0);
  });

  it("stays bounded under a flood of distinct sources, one or two hits each", () => {
    const q = queues(1000); // probation: 4 × 1000
    for (let i = 0; i < 50_000; i++)
      q.push(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 1000 + (i % 256), i);
    expect(q.size).toBe(4000);
    expect(q.counters.evictedProbation).toBe(46_000);
    expect(q.counters.evictedProtected).toBe(0);
    const two = queues(1000);
    for (let i = 0; i < 50_000; i++) {
      const ip = 0x0a000000 + i;
      two.pushV4(ip, 1000 + (i % 256), i);
      two.pushV4(ip, 1001 + (i % 255), i);
    }
    expect(two.size).toBe(1000);
    expect(two.counters.evictedProtected).toBe(49_000);
    expect(two.counters.evictedProbation).toBe(0);
  });

  it("refuses nonsense options", () => {
    expect(() =>
      createKnockQueues({ config, knockTimeoutMs: 0, maxSources: 1 }),
    ).toThrow(RangeError);
    expect(() =>
      createKnockQueues({ config, knockTimeoutMs: 1, maxSources: 0 }),
    ).toThrow(RangeError);
    expect(() =>
      createKnockQueues({
        config,
        knockTimeoutMs: 1,
        maxSources: 1,
        probationSources: 0.5,
      }),
    ).toThrow(RangeError);
  });

  describe("kernel retransmits (daemon.md §1)", () => {
    it("drops a hit equal in (source, source port, port) within 3 s", () => {
      const q = queues();
      expect(q.push("192.0.2.1", 1000, 0, 40000).kind).toBe("queued");
      expect(q.push("192.0.2.1", 1000, 2999, 40000).kind).toBe("retransmit");
      expect(q.counters.retransmitsDropped).toBe(1);
      // Not equal: another source port, another port, another source.
      expect(q.push("192.0.2.1", 1000, 1000, 40001)).toEqual({
        kind: "queued",
        queued: 2,
      });
      expect(q.push("192.0.2.1", 1001, 1000, 40000).kind).toBe("queued");
      expect(q.push("192.0.2.2", 1000, 1000, 40000).kind).toBe("queued");
      expect(q.counters.retransmitsDropped).toBe(1);
      expect(q.counters.hitsQueued).toBe(4);
    });

    it("counts the same hit again once 3 s have passed, or when the clock went back", () => {
      const q = queues();
      q.push("192.0.2.1", 1000, 10_000, 40000);
      expect(q.push("192.0.2.1", 1000, 13_000, 40000).kind).toBe("queued");
      const back = queues();
      back.push("192.0.2.1", 1000, 10_000, 40000);
      expect(back.push("192.0.2.1", 1000, 9_000, 40000).kind).toBe("queued");
    });

    it("never drops hits without a source port, nor with the window off", () => {
      const q = queues();
      q.push("192.0.2.1", 1000, 0);
      expect(q.push("192.0.2.1", 1000, 1).kind).toBe("queued");
      const off = createKnockQueues({
        config,
        knockTimeoutMs: 30_000,
        maxSources: 10,
        retransmitWindowMs: 0,
      });
      off.push("192.0.2.1", 1000, 0, 40000);
      expect(off.push("192.0.2.1", 1000, 1, 40000).kind).toBe("queued");
      expect(() =>
        createKnockQueues({
          config,
          knockTimeoutMs: 1,
          maxSources: 1,
          retransmitWindowMs: -1,
        }),
      ).toThrow(RangeError);
    });

    it("packs port and source port exactly: edge ports, unknown and non-port source ports", () => {
      const q = queues();
      q.push("192.0.2.1", 1000, 0, 65535);
      expect(q.push("192.0.2.1", 1000, 1, 65535).kind).toBe("retransmit");
      expect(q.push("192.0.2.1", 1000, 1, 0).kind).toBe("queued");
      expect(q.push("192.0.2.1", 1000, 2, 0).kind).toBe("retransmit");
      // Not a port: unknown, never a retransmit.
      for (const bad of [65536, 70000, -2, 1.5, Number.NaN]) {
        q.push("192.0.2.9", 1001, 0, bad);
        expect(q.push("192.0.2.9", 1001, 1, bad).kind).toBe("queued");
      }
      // Nor is a port that is not an integer in the span.
      expect(q.push("192.0.2.9", 1000.5, 1).kind).toBe("outside-span");
      // Times ~2^31 ms apart and more still compare by difference.
      const t = 2 ** 31 - 1000;
      q.push("192.0.2.3", 1002, t, 1);
      expect(q.push("192.0.2.3", 1002, t + 2000, 1).kind).toBe("retransmit");
      expect(q.push("192.0.2.3", 1002, t + 4000, 1).kind).toBe("queued");
    });

    it("pushV4 is push with the dotted quad's number", () => {
      const q = queues();
      const ports = knock();
      const ip = 192 * 2 ** 24 + 2 * 256 + 1; // 192.0.2.1
      ports.slice(0, -1).forEach((p, i) => q.pushV4(ip, p, i, 100 + i));
      expect(q.push("192.0.2.1", ports.at(-1)!, 99, 99)).toMatchObject({
        kind: "accepted",
        knock: { values },
      });
      expect(q.pushV4(ip, ports[0]!, 100, 100).kind).toBe("retransmit");
      expect(q.size).toBe(1);
      expect(() => q.pushV4(2 ** 32, 1000, 0)).toThrow(RangeError);
      expect(() => q.pushV4(-1, 1000, 0)).toThrow(RangeError);
    });

    it("accepts a knock whose every SYN was logged twice, late copies included", () => {
      const q = queues();
      const ports = knock();
      const outcomes = [];
      for (let i = 0; i < ports.length; i++) {
        outcomes.push(q.push("192.0.2.1", ports[i]!, i, 50000 + i));
        // the retransmit of the port before this one arrives after it
        if (i > 0)
          outcomes.push(q.push("192.0.2.1", ports[i - 1]!, i, 50000 + i - 1));
      }
      // The last copy comes after the knock was accepted and its queue cleared: still caught.
      expect(outcomes.filter((o) => o.kind === "retransmit")).toHaveLength(
        ports.length - 1,
      );
      expect(outcomes.at(-2)).toMatchObject({
        kind: "accepted",
        knock: { values },
      });
    });
  });
});
