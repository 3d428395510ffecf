import { describe, expect, it } from "vitest";
import { parseExposition } from "../test/exposition.ts";
import type { DaemonCounters } from "./counters.ts";
import { addCounts, createCounterBook } from "./counters.ts";
import type { MetricsSnapshot } from "./metrics.ts";
import {
  METRICS_LABEL_VALUES,
  escapeLabelValue,
  formatMetrics,
} from "./metrics.ts";

const COUNTERS: DaemonCounters = {
  linesSeen: 1000,
  hits: 400,
  rejections: { LOG_BAD_IP: 2, KNOCK_REPLAY: 1 },
  queue: {
    hitsOutsideSpan: 7,
    hitsQueued: 393,
    decodeFailures: { KNOCK_BAD_TAG: 3, KNOCK_BAD_PADDING: 1 },
    knocksAccepted: 20,
    replaysDropped: 1,
    retransmitsDropped: 5,
    sourcesEvicted: 9,
    evictedProbation: 6,
    evictedProtected: 3,
    sourcesExpired: 4,
  },
  knocksAccepted: 20,
  retransmitsDropped: 5,
  actionsRun: 30,
  actionsFailed: 2,
  actionsRefused: 1,
  actionsScheduled: 10,
  knocksNotDurable: 11,
  actionsInterrupted: 12,
  grantsRun: 13,
  grantsFailed: 1,
};

const SNAPSHOT: MetricsSnapshot = {
  counters: COUNTERS,
  capture: {
    seen: 1000,
    droppedInQueue: 6,
    pcap: {
      received: 1100,
      dropped: 90,
      ifDropped: 4,
      interfaces: { lo: { received: 1100, dropped: 90, ifDropped: 4 } },
    },
  },
  sourcesQueued: 12,
  pendingActions: 3,
  version: "1.2.3",
  process: {
    cpuUserSeconds: 1.5,
    cpuSystemSeconds: 0.25,
    residentMemoryBytes: 50_000_000,
    heapUsedBytes: 9_000_000,
    startTimeSeconds: 1_700_000_000,
    openFds: 21,
  },
};

describe("formatMetrics (#15)", () => {
  it("writes a page a strict reader of format 0.0.4 accepts, HELP and TYPE for each metric", () => {
    const page = parseExposition(formatMetrics(SNAPSHOT));
    expect(page.types.size).toBeGreaterThan(20);
    for (const [name, type] of page.types) {
      expect(page.help.get(name), name).toBeTruthy();
      expect(name).toMatch(/^(portknock|process|nodejs)_/);
      if (type === "counter") expect(name).toMatch(/_total$/);
    }
  });

  it("shows the numbers of the counters, by code", () => {
    const page = parseExposition(formatMetrics(SNAPSHOT));
    expect(page.value("portknock_lines_read_total")).toBe(1000);
    expect(page.value("portknock_hits_total")).toBe(400);
    expect(page.value("portknock_hits_queued_total")).toBe(393);
    expect(page.value("portknock_hits_outside_span_total")).toBe(7);
    expect(page.value("portknock_knocks_accepted_total")).toBe(20);
    expect(page.value("portknock_replays_dropped_total")).toBe(1);
    expect(page.value("portknock_retransmits_dropped_total")).toBe(5);
    expect(page.value("portknock_sources_expired_total")).toBe(4);
    expect(page.value("portknock_actions_run_total")).toBe(30);
    expect(page.value("portknock_actions_failed_total")).toBe(2);
    expect(page.value("portknock_actions_refused_total")).toBe(1);
    expect(page.value("portknock_actions_scheduled_total")).toBe(10);
    expect(page.value("portknock_knocks_not_durable_total")).toBe(11);
    expect(page.value("portknock_actions_interrupted_total")).toBe(12);
    expect(
      page.value("portknock_decode_failures_total", {
        reason: "KNOCK_BAD_TAG",
      }),
    ).toBe(3);
    // Every reason is there from the start, so rate() works from the first failure.
    expect(
      page.value("portknock_decode_failures_total", {
        reason: "KNOCK_BAD_CHECKSUM",
      }),
    ).toBe(0);
    expect(
      page.value("portknock_rejections_total", { code: "LOG_BAD_IP" }),
    ).toBe(2);
    expect(
      page.value("portknock_rejections_total", { code: "KNOCK_REPLAY" }),
    ).toBe(1);
    expect(page.value("portknock_capture_received_total")).toBe(1100);
    expect(
      page.value("portknock_sources_evicted_total", { segment: "probation" }),
    ).toBe(6);
    expect(
      page.value("portknock_sources_evicted_total", { segment: "protected" }),
    ).toBe(3);
    expect(
      page.value("portknock_capture_dropped_total", { stage: "queue" }),
    ).toBe(6);
    expect(
      page.value("portknock_capture_dropped_total", { stage: "kernel" }),
    ).toBe(90);
    expect(
      page.value("portknock_capture_dropped_total", { stage: "interface" }),
    ).toBe(4);
    expect(page.types.get("portknock_sources_queued")).toBe("gauge");
    expect(page.value("portknock_sources_queued")).toBe(12);
    expect(page.value("portknock_pending_actions")).toBe(3);
    expect(page.value("portknock_build_info", { version: "1.2.3" })).toBe(1);
    expect(page.value("process_cpu_seconds_total")).toBe(1.75);
    expect(page.value("process_open_fds")).toBe(21);
    expect(page.value("process_resident_memory_bytes")).toBe(50_000_000);
  });

  it("label values come from the code tables only: a fixed set of series whatever the counters hold", () => {
    const odd = {
      ...SNAPSHOT,
      counters: {
        ...COUNTERS,
        rejections: { 'x"} 1\nevil_total{a="': 5, LOG_NO_MATCH: 1 },
        queue: {
          ...COUNTERS.queue,
          decodeFailures: { ["attacker " + "text"]: 9 } as never,
        },
      },
    };
    const page = parseExposition(formatMetrics(odd));
    expect(page.samples.size).toBe(
      parseExposition(formatMetrics(SNAPSHOT)).samples.size,
    );
    for (const [label, allowed] of Object.entries(METRICS_LABEL_VALUES)) {
      for (const name of page.types.keys()) {
        for (const v of page.labelValues(name, label))
          expect(allowed).toContain(v);
      }
    }
    expect(
      page.value("portknock_rejections_total", { code: "LOG_NO_MATCH" }),
    ).toBe(1);
    expect(formatMetrics(odd)).not.toContain("evil");
  });

  it("the managed firewall's counters (#17): grants, installs and errors by code; no series without <firewall>", () => {
    const page = parseExposition(
      formatMetrics({
        ...SNAPSHOT,
        firewall: {
          installs: 2,
          grants: 12,
          revokes: 0,
          expired: 3,
          reinstalls: 1,
          removes: 0,
          rejections: { FIREWALL_NOT_PROTECTED: 4, 'x"}\n': 7 },
          failures: { FIREWALL_COMMAND_FAILED: 1 },
        },
      }),
    );
    expect(page.value("portknock_grants_total")).toBe(13);
    expect(page.value("portknock_grants_failed_total")).toBe(1);
    expect(page.value("portknock_firewall_installs_total")).toBe(2);
    expect(page.value("portknock_firewall_reinstalls_total")).toBe(1);
    expect(page.value("portknock_firewall_expired_total")).toBe(3);
    expect(
      page.value("portknock_firewall_errors_total", {
        firewall_code: "FIREWALL_NOT_PROTECTED",
      }),
    ).toBe(4);
    expect(
      page.value("portknock_firewall_errors_total", {
        firewall_code: "FIREWALL_COMMAND_FAILED",
      }),
    ).toBe(1);
    for (const v of page.labelValues(
      "portknock_firewall_errors_total",
      "firewall_code",
    ))
      expect(METRICS_LABEL_VALUES.firewall_code).toContain(v);
    expect(formatMetrics(SNAPSHOT)).not.toContain("portknock_firewall");
  });

  it("the cluster's counters (#19): link, replay claims by result, state outbox, grants; no series without <cluster>", () => {
    const page = parseExposition(
      formatMetrics({
        ...SNAPSHOT,
        counters: {
          ...COUNTERS,
          clusterClaims: { fresh: 7, replay: 2, local: 3 },
        },
        cluster: {
          link: { up: 0, outages: 2, commands: 40, timeouts: 1, failures: 5 },
          lease: { held: 1, conflicts: 3 },
          replay: {
            claims: 12,
            fresh: 7,
            replays: 2,
            local: 3,
            merged: 2,
            conflicts: 1,
            dropped: 0,
            remembered: 1,
          },
          store: {
            sent: 9,
            queued: 11,
            outbox: 2,
            dropped: 0,
            forged: 1,
            reloads: 4,
            fullReloads: 2,
            rejected: 0,
          },
          grants: {
            published: 3,
            queued: 1,
            queueDropped: 0,
            queueExpired: 0,
            received: 6,
            applied: 4,
            skippedOwn: 1,
            skippedExpired: 1,
            skippedTrimmed: 0,
            malformed: 0,
            failed: { FIREWALL_NOT_PROTECTED: 1, 'x"}\n': 1 },
            groupsCreated: 1,
            readErrors: 0,
          },
        },
      }),
    );
    expect(page.value("portknock_cluster_up")).toBe(0);
    expect(page.value("portknock_cluster_outages_total")).toBe(2);
    expect(page.value("portknock_cluster_timeouts_total")).toBe(1);
    expect(page.value("portknock_cluster_name_held")).toBe(1);
    expect(page.value("portknock_cluster_name_conflicts_total")).toBe(3);
    for (const [result, n] of [
      ["fresh", 7],
      ["replay", 2],
      ["local", 3],
    ] as const) {
      expect(
        page.value("portknock_cluster_replay_claims_total", { result }),
      ).toBe(n);
    }
    expect(page.value("portknock_cluster_replay_conflicts_total")).toBe(1);
    expect(page.value("portknock_cluster_state_outbox")).toBe(2);
    expect(page.value("portknock_cluster_state_ops_total")).toBe(9);
    expect(page.value("portknock_cluster_pending_forged_total")).toBe(1);
    expect(page.value("portknock_cluster_grants_published_total")).toBe(3);
    expect(page.value("portknock_cluster_grants_applied_total")).toBe(4);
    expect(page.value("portknock_cluster_grants_failed_total")).toBe(2);
    for (const v of page.labelValues(
      "portknock_cluster_replay_claims_total",
      "result",
    ))
      expect(METRICS_LABEL_VALUES.result).toContain(v);
    expect(formatMetrics(SNAPSHOT)).not.toContain("portknock_cluster");
  });

  it("file mode (no capture yet) and no process figures: capture counters at 0, no process_*", () => {
    const page = parseExposition(
      formatMetrics({
        counters: COUNTERS,
        capture: undefined,
        sourcesQueued: 0,
        pendingActions: 0,
        version: "0.0.0",
      }),
    );
    expect(page.value("portknock_capture_received_total")).toBe(0);
    expect(
      page.value("portknock_capture_dropped_total", { stage: "kernel" }),
    ).toBe(0);
    expect([...page.types.keys()].some((n) => n.startsWith("process_"))).toBe(
      false,
    );
  });

  it("escapes label values as the format wants", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const page = parseExposition(
      formatMetrics({ ...SNAPSHOT, version: 'v"1\\2\n' }),
    );
    expect(page.labelValues("portknock_build_info", "version")).toEqual([
      'v"1\\2\n',
    ]);
  });
});

describe("the counter book and captures (#15)", () => {
  it("adds up the capture counters of closed captures, per interface too", () => {
    const book = createCounterBook();
    expect(book.capture(undefined)).toBeUndefined();
    const one = SNAPSHOT.capture!;
    book.retireSource({ seen: 1000, rejections: {} }, one);
    expect(book.capture(undefined)).toEqual(one);
    const sum = book.capture(one)!;
    expect(sum).toEqual(addCounts(one, one));
    expect(sum.pcap.dropped).toBe(180);
    expect(sum.pcap.interfaces.lo?.received).toBe(2200);
  });
});

describe("the tests' strict reader of the format", () => {
  it("refuses what format 0.0.4 does not allow", () => {
    for (const bad of [
      "x_total 1",
      "x total 1\n",
      'x{a="b} 1\n',
      'x{a="b\\q"} 1\n',
      "x{a=b} 1\n",
      "x one\n",
      "x 1\n# TYPE x counter\n",
      'x{a="1"} 1\ny 1\nx{a="2"} 1\n',
      "x 1\nx 1\n",
      "# TYPE x counter\n# TYPE x gauge\n",
      "# TYPE x meter\n",
      "9x 1\n",
    ]) {
      expect(() => parseExposition(bad), JSON.stringify(bad)).toThrow();
    }
  });

  it("reads what it allows, escapes included", () => {
    const page = parseExposition(
      '# HELP x_total An \\\\ x.\n# TYPE x_total counter\nx_total{a="q\\"\\\\\\n",b="2"} 1.5e3\n\ny +Inf\n',
    );
    expect(page.value("x_total", { b: "2", a: 'q"\\\n' })).toBe(1500);
    expect(page.value("y")).toBe(Infinity);
  });
});
