import { compileKnockConfigOrThrow, encodeKnock } from "@portknock/codec";
import type { HitColumns, KnockHit, Logger } from "@portknock/core";
import { ipv4ToNumber, parseIpv6 } from "@portknock/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DetectedKnock, DetectorOptions } from "./detector.ts";
import { createDetector } from "./detector.ts";

const compat = compileKnockConfigOrThrow({
  knock: "CLIENT,PORT,FLAG0,CHECKSUM",
  portspan: "1000-1255",
  encrypt: true,
  key: "password",
  cipher: "Blowfish",
  iv: true,
  padding: "right",
});
const KEY = "base64:" + Buffer.alloc(32, 0xa1).toString("base64");
const sealed = compileKnockConfigOrThrow({
  format: "sealed",
  knock: "CLIENT,PORT,FLAG0",
  portspan: "1024-33791",
  key: KEY,
  encrypt: true,
  cipher: "Blowfish",
  iv: false,
  padding: "right",
});
const values = { CLIENT: "10.3.2.1", PORT: 22, FLAG0: 1 };
const NOW_S = 1_700_000_000;

function hits(
  ports: readonly number[],
  srcIp = "10.3.2.1",
  t0 = 0,
): KnockHit[] {
  return ports.map((dstPort, i) => ({
    srcIp,
    dstPort,
    srcPort: 40000 + (t0 % 20000) + i,
    timeMs: t0 + i,
    origin: `test:${i + 1}`,
  }));
}

interface Logged {
  level: string;
  fields: Record<string, unknown>;
}

function recorder(): { logger: Logger; lines: Logged[] } {
  const lines: Logged[] = [];
  const logger: Logger = {
    debug: (fields) => lines.push({ level: "debug", fields: { ...fields } }),
    info: (fields) => lines.push({ level: "info", fields: { ...fields } }),
    warn: (fields) => lines.push({ level: "warn", fields: { ...fields } }),
    error: (fields) => lines.push({ level: "error", fields: { ...fields } }),
    child: () => logger,
  };
  return { logger, lines };
}

function detector(extra: Partial<DetectorOptions> = {}): {
  found: DetectedKnock[];
  d: ReturnType<typeof createDetector>;
} {
  const found: DetectedKnock[] = [];
  const d = createDetector({
    knock: compat,
    knockTimeoutMs: 30_000,
    maxSources: 100,
    onKnock: (k) => found.push(k),
    ...extra,
  });
  return { found, d };
}

/** Hits as a column batch, the way logsource's `nextColumns` gives them. */
function columnsOf(batch: readonly KnockHit[], timeMs: number): HitColumns {
  const v4 = new Float64Array(batch.length);
  const dstPort = new Int32Array(batch.length);
  const srcPort = new Int32Array(batch.length);
  // IPv6 sources as the capture's lane gives them (#20): v4 -2, four words in v6.
  const v6 = new Int32Array(4 * batch.length);
  batch.forEach((h, i) => {
    v4[i] = ipv4ToNumber(h.srcIp);
    const bytes = parseIpv6(h.srcIp);
    if (bytes !== undefined) {
      v4[i] = -2;
      const view = new DataView(bytes.buffer);
      for (let w = 0; w < 4; w++) v6[4 * i + w] = view.getInt32(4 * w);
    }
    dstPort[i] = h.dstPort;
    srcPort[i] = h.srcPort ?? -1;
  });
  return {
    length: batch.length,
    v4,
    v6,
    dstPort,
    srcPort,
    timeMs,
    hit: (i) => ({ ...batch[i]!, timeMs }),
  };
}

describe("createDetector (#14: detection without the daemon)", () => {
  it("turns a compat knock's hits into one knock with its variables", () => {
    const { found, d } = detector();
    const { ports } = encodeKnock(compat, values);
    const outcomes = hits(ports).map((h) => d.push(h));
    expect(outcomes.slice(0, -1).every((o) => o.kind === "queued")).toBe(true);
    expect(outcomes.at(-1)?.kind).toBe("accepted");
    expect(found).toHaveLength(1);
    expect(found[0]?.variables).toEqual({ ...values, SOURCE: "10.3.2.1" });
    expect(found[0]?.hit.origin).toBe(`test:${ports.length}`);
    expect(d.counters()).toMatchObject({
      hits: ports.length,
      queue: { knocksAccepted: 1 },
    });
    expect(d.sources).toBe(1);
  });

  it("a second copy of the same knock is a replay: logged, not delivered", () => {
    const { logger, lines } = recorder();
    const { found, d } = detector({ logger });
    const { ports } = encodeKnock(compat, values);
    for (const h of hits(ports)) d.push(h);
    for (const h of hits(ports, "10.3.2.1", 100)) d.push(h);
    expect(found).toHaveLength(1);
    expect(lines).toContainEqual({
      level: "warn",
      fields: expect.objectContaining({
        event: "knock.rejected",
        code: "KNOCK_REPLAY",
        ip: "10.3.2.1",
      }) as Record<string, unknown>,
    });
  });

  it("replays are counted each time but logged once per minute, with the number suppressed", () => {
    const { logger, lines } = recorder();
    let nowMs = 0;
    const { found, d } = detector({ logger, clock: { now: () => nowMs } });
    const { ports } = encodeKnock(compat, values);
    for (let copy = 0; copy < 4; copy++) {
      for (const h of hits(ports, "10.3.2.1", copy * 100)) d.push(h);
    }
    expect(found).toHaveLength(1);
    expect(d.counters().queue.replaysDropped).toBe(3);
    const warned = (): Record<string, unknown>[] =>
      lines.filter((l) => l.level === "warn").map((l) => l.fields);
    expect(warned()).toHaveLength(1);
    nowMs = 60_000;
    for (const h of hits(ports, "10.3.2.1", 400)) d.push(h);
    expect(warned()).toHaveLength(2);
    expect(warned()[1]).toMatchObject({ code: "KNOCK_REPLAY", suppressed: 2 });
  });

  it("a knock-length sequence that does not decode (another key) is a warning naming source and reason (#15)", () => {
    const { logger, lines } = recorder();
    const { found, d } = detector({ logger });
    const other = compileKnockConfigOrThrow({
      knock: "CLIENT,PORT,FLAG0,CHECKSUM",
      portspan: "1000-1255",
      encrypt: true,
      key: "not the daemon's key",
      cipher: "Blowfish",
      iv: true,
      padding: "right",
    });
    const ports = encodeKnock(other, values).ports;
    const outcomes = hits(ports, "10.9.9.9").map((h) => d.push(h));
    expect(found).toHaveLength(0);
    // Fewer ports than a knock: queued, nothing said.
    expect(outcomes.slice(0, -1).every((o) => o.kind === "queued")).toBe(true);
    const warned = lines.filter((l) => l.level === "warn").map((l) => l.fields);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({
      event: "knock.rejected",
      ip: "10.9.9.9",
      source: `test:${ports.length}`,
    });
    expect(String(warned[0]?.code)).toMatch(/^KNOCK_BAD_/);
    expect(d.counters().queue.decodeFailures).toEqual({
      [String(warned[0]?.code)]: 1,
    });
  });

  it("sealed with CLIENT: an IPv6 knock in progress is not reported when its IPv4 length fails", () => {
    const { logger, lines } = recorder();
    const clock = { now: (): number => NOW_S * 1000 };
    const { found, d } = detector({
      knock: sealed,
      clock,
      logger,
      sealed: { windowMs: 60_000, requireSource: true },
    });
    const v6 = { ...values, CLIENT: "2001:db8::7" };
    const { ports } = encodeKnock(sealed, v6, {
      timeSeconds: NOW_S,
      random: new Uint8Array(6).fill(8),
    });
    for (const h of hits(ports, "2001:db8::7")) d.push(h);
    expect(found.map((k) => k.variables.CLIENT)).toEqual(["2001:db8::7"]);
    expect(lines.filter((l) => l.level === "warn")).toEqual([]);
    // The 14-port (IPv4) tries failed on the way, and are counted.
    expect(
      Object.values(d.counters().queue.decodeFailures).reduce(
        (a, b) => a + (b ?? 0),
        0,
      ),
    ).toBeGreaterThan(0);
  });

  it("pushColumns gives the same outcomes and counters as push, hit by hit", () => {
    const knockHits = (seed: number): KnockHit[] =>
      hits(
        encodeKnock(compat, { ...values, FLAG0: seed & 0xff }).ports,
        `10.0.0.${seed & 7}`,
      );
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              srcIp: fc.constantFrom("10.0.0.1", "10.0.0.2", "2001:db8::1"),
              dstPort: fc.integer({ min: 990, max: 1265 }),
              srcPort: fc.integer({ min: 1, max: 3 }),
              timeMs: fc.constant(0),
              origin: fc.constant("noise"),
            }),
            fc.integer({ min: 0, max: 255 }).map((s) => knockHits(s)),
          ),
          { maxLength: 30 },
        ),
        (items) => {
          const batch = items.flat();
          const a = detector();
          const b = detector();
          let t = 0;
          for (const h of batch) a.d.push({ ...h, timeMs: (t += 10) });
          t = 0;
          for (const h of batch) {
            b.d.pushColumns(columnsOf([h], (t += 10)));
          }
          expect(b.d.counters()).toEqual(a.d.counters());
          expect(b.found.map((k) => k.variables)).toEqual(
            a.found.map((k) => k.variables),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it("pushColumns keys an IPv6 source's words as push keys its text: one queue (#20)", () => {
    let nowMs = NOW_S * 1000;
    const { found, d } = detector({
      knock: sealed,
      sealed: { windowMs: 60_000, requireSource: true },
      clock: { now: () => nowMs },
    });
    const { ports } = encodeKnock(
      sealed,
      { ...values, CLIENT: "2001:db8::7" },
      { timeSeconds: NOW_S, random: new Uint8Array(6).fill(3) },
    );
    // Text written otherwise than a capture formats it: the same address, the same queue.
    const batch = hits(ports, "2001:db8::7");
    batch.forEach((h, i) => {
      nowMs = NOW_S * 1000 + i;
      if (i % 3 === 0) d.push({ ...h, srcIp: "2001:0DB8:0:0::7" });
      else d.pushColumns(columnsOf([h], h.timeMs));
    });
    expect(found.map((k) => k.variables.SOURCE)).toEqual(["2001:db8::7"]);
    expect(d.sources).toBe(1);
    // Another address's words are another queue.
    d.pushColumns(columnsOf(hits([ports[0]!], "2001:db8::8"), 100));
    expect(d.sources).toBe(2);
  });

  it("pushColumns times each hit by timesMs when the columns have it (#20: a live capture's)", () => {
    const { ports } = encodeKnock(compat, values);
    const batch = hits(ports);
    // One batch whose hits are 40 s apart by their own times: each one finds the source's
    // queue past knocktimeout (30 s), so no knock, whatever the batch's single time says.
    const spread = { ...columnsOf(batch, 0) };
    const own = detector();
    own.d.pushColumns({
      ...spread,
      timesMs: Float64Array.from(batch, (_, i) => i * 40_000),
    });
    expect(own.found).toHaveLength(0);
    expect(own.d.counters().queue.sourcesExpired).toBeGreaterThan(0);
    const single = detector();
    single.d.pushColumns(spread);
    expect(single.found).toHaveLength(1);
  });

  it("pushColumns hands each hit's seq to the retransmit rule as push does (#20 with #16)", () => {
    const port = encodeKnock(compat, values).ports[0]!;
    // Two copies 1.5 s apart from one (source, source port) to one port: a kernel retransmit
    // when the sequence numbers agree, two hits when they differ; -1 is "unknown" (the port
    // alone decides, as without seq).
    for (const [seq2, dropped] of [
      [7, 1],
      [8, 0],
    ] as const) {
      const batch: KnockHit[] = [0, 1500].map((timeMs, i) => ({
        srcIp: "10.0.0.1",
        dstPort: port,
        srcPort: 40000,
        seq: i === 0 ? 7 : seq2,
        timeMs,
        origin: `t:${i}`,
      }));
      const a = detector({ retransmitMinGapMs: 900 });
      for (const h of batch) a.d.push(h);
      const b = detector({ retransmitMinGapMs: 900 });
      b.d.pushColumns({
        ...columnsOf(batch, 0),
        timesMs: Float64Array.from(batch, (h) => h.timeMs),
        seq: Float64Array.from(batch, (h) => h.seq!),
      });
      expect(b.d.counters()).toEqual(a.d.counters());
      expect(b.d.counters().queue.retransmitsDropped, `seq ${seq2}`).toBe(
        dropped,
      );
    }
    const unknown = detector({ retransmitMinGapMs: 900 });
    unknown.d.pushColumns({
      ...columnsOf(hits([port, port]), 0),
      srcPort: Int32Array.of(40000, 40000),
      timesMs: Float64Array.of(0, 1500),
      seq: Float64Array.of(-1, -1),
    });
    expect(unknown.d.counters().queue.retransmitsDropped).toBe(1);
  });

  it("sealed: a valid knock is checked for its window, replay and source", () => {
    const { logger, lines } = recorder();
    let nowMs = NOW_S * 1000;
    const clock = { now: (): number => nowMs };
    const { found, d } = detector({
      knock: sealed,
      clock,
      logger,
      sealed: { windowMs: 60_000, requireSource: true },
    });
    const at = { timeSeconds: NOW_S, random: new Uint8Array(6).fill(3) };
    const { ports } = encodeKnock(sealed, values, at);
    for (const h of hits(ports)) d.push(h);
    expect(found.map((k) => k.variables)).toEqual([
      { ...values, SOURCE: "10.3.2.1", TIME: NOW_S },
    ]);
    // The same sealed knock again (after the queue's own replay memory): the guard refuses it.
    const late = createDetector({
      knock: sealed,
      knockTimeoutMs: 30_000,
      maxSources: 10,
      clock,
      sealed: { windowMs: 60_000, requireSource: true },
      onKnock: () => {
        throw new Error("not a knock");
      },
    });
    nowMs += 120_000;
    expect(late.push(hits(ports)[0]!).kind).toBe("queued");
    const last = hits(ports)
      .map((h) => late.push(h))
      .at(-1);
    expect(last).toEqual({ kind: "rejected", code: "KNOCK_TIME_PAST" });
    // From another address: CLIENT does not match the source.
    nowMs = NOW_S * 1000;
    const other = encodeKnock(sealed, values, {
      timeSeconds: NOW_S,
      random: new Uint8Array(6).fill(4),
    });
    const outcome = hits(other.ports, "10.9.9.9")
      .map((h) => d.push(h))
      .at(-1);
    expect(outcome).toEqual({
      kind: "rejected",
      code: "KNOCK_SOURCE_MISMATCH",
    });
    expect(d.counters().refusals).toEqual({ KNOCK_SOURCE_MISMATCH: 1 });
    expect(lines.map((l) => l.fields.code)).toContain("KNOCK_SOURCE_MISMATCH");
  });

  it("sealed: the replay cache persists through the store across a restart", () => {
    const saved = new Map<string, unknown>();
    const store = {
      getExtra: (ns: string): unknown => saved.get(ns),
      setExtra: (ns: string, entries: [string, number][]): void => {
        saved.set(ns, JSON.parse(JSON.stringify(entries)));
      },
    };
    const clock = { now: (): number => NOW_S * 1000 };
    const options = {
      knock: sealed,
      clock,
      sealed: { windowMs: 60_000, requireSource: false, store },
    };
    const first = detector(options);
    const at = { timeSeconds: NOW_S, random: new Uint8Array(6).fill(5) };
    const { ports } = encodeKnock(sealed, values, at);
    for (const h of hits(ports)) first.d.push(h);
    expect(first.found).toHaveLength(1);
    expect(saved.get("sealed.replay")).toHaveLength(1);
    const restarted = detector(options);
    const last = hits(ports)
      .map((h) => restarted.d.push(h))
      .at(-1);
    expect(last).toEqual({ kind: "rejected", code: "KNOCK_REPLAY" });
    expect(restarted.found).toHaveLength(0);
  });

  it("refuses a sealed configuration without sealed options, and a missing onKnock", () => {
    expect(() =>
      createDetector({
        knock: sealed,
        knockTimeoutMs: 1000,
        maxSources: 1,
        onKnock: () => {},
      }),
    ).toThrow(TypeError);
    expect(() =>
      createDetector({
        knock: compat,
        knockTimeoutMs: 1000,
        maxSources: 1,
        onKnock: undefined as unknown as () => void,
      }),
    ).toThrow(TypeError);
  });
});
