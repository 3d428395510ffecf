/**
 * The `/metrics` page (issue #15): the daemon's counters in Prometheus' text exposition format
 * 0.0.4, written by hand (the reasons and the measurement are in docs/decisions.md). The numbers
 * are the ones SIGUSR1 logs (`counters.ts`), read when the page is asked for; nothing is counted
 * twice. Label values come only from the code tables below, never from input, so the number of
 * series is fixed.
 */
import { readdirSync } from "node:fs";
import type { DecodeCode } from "@portknock/codec";
import type { SealedRefusal } from "@portknock/detector";
import type { RejectCode } from "@portknock/logsource";
import type { FrameRejectCode } from "@portknock/pcap";
import type { FirewallCounters } from "@portknock/firewall";
import { FIREWALL_CODES } from "@portknock/firewall";
import type { CaptureCounters, DaemonCounters } from "./counters.ts";
import type { ClusterCounters } from "./cluster.ts";

// The code tables of the libraries, as objects so that the compiler holds them complete
// (`satisfies`): a new code upstream fails the build until it is listed here.
const DECODE_REASONS = {
  KNOCK_PORT_OUTSIDE_SPAN: true,
  KNOCK_WRONG_LENGTH: true,
  KNOCK_BAD_BIT_PADDING: true,
  KNOCK_BAD_HEADER: true,
  KNOCK_BAD_PADDING: true,
  KNOCK_BAD_CHECKSUM: true,
  KNOCK_BAD_FIELD: true,
  KNOCK_BAD_TAG: true,
} as const satisfies Record<DecodeCode, true>;

const REJECTION_CODES = {
  // A log line (file mode).
  LOG_BAD_IP: true,
  LOG_BAD_PORT: true,
  LOG_NO_MATCH: true,
  LOG_LINE_BEFORE_START: true,
  LOG_LINE_TOO_LONG: true,
  LOG_NOT_REGULAR: true,
  // A captured frame (network mode).
  FRAME_TRUNCATED: true,
  FRAME_UNSUPPORTED_LINK: true,
  FRAME_NOT_IP: true,
  FRAME_BAD_IP_HEADER: true,
  FRAME_FRAGMENT: true,
  FRAME_UNSUPPORTED_PROTOCOL: true,
  FRAME_BAD_TCP_HEADER: true,
  FRAME_OUTGOING: true,
  FRAME_MARTIAN_SOURCE: true,
  FRAME_NOT_FOR_US: true,
  // A valid sealed knock refused by the daemon's checks.
  KNOCK_TIME_PAST: true,
  KNOCK_TIME_FUTURE: true,
  KNOCK_REPLAY: true,
  KNOCK_SOURCE_MISMATCH: true,
} as const satisfies Record<RejectCode | FrameRejectCode | SealedRefusal, true>;

/** Every label value `/metrics` can show, by label: the tables above (tests). */
export const METRICS_LABEL_VALUES: Readonly<Record<string, readonly string[]>> =
  {
    reason: Object.keys(DECODE_REASONS),
    code: Object.keys(REJECTION_CODES),
    stage: ["queue", "kernel", "interface"],
    segment: ["probation", "protected"],
    firewall_code: Object.keys(FIREWALL_CODES),
    result: ["fresh", "replay", "local"],
  };

/** Figures of the process itself, read at scrape time (`readProcessFigures`). */
export interface ProcessFigures {
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  residentMemoryBytes: number;
  heapUsedBytes: number;
  /** Epoch seconds. */
  startTimeSeconds: number;
  /** Undefined where `/proc/self/fd` cannot be read. */
  openFds?: number;
}

/** What one scrape shows. */
export interface MetricsSnapshot {
  /** The counters SIGUSR1 logs (all instances and sources of the process added up). */
  counters: DaemonCounters;
  /** Network mode's capture counters (undefined: there has been no capture). */
  capture: CaptureCounters | undefined;
  /** The managed firewall's counters (issue #17); undefined: no `<firewall>`, no series. */
  firewall?: FirewallCounters | undefined;
  /** The cluster's counters (issue #19); undefined: no `<cluster>` (or `-test`), no series. */
  cluster?: ClusterCounters | undefined;
  /** Sources with a queue now (the current configuration's detector). */
  sourcesQueued: number;
  /** Delayed actions waiting in the store. */
  pendingActions: number;
  /** knockd's version (`portknock_build_info`). */
  version: string;
  process?: ProcessFigures;
}

type Sample = [labels: Record<string, string>, value: number];

/** Renders the text exposition format 0.0.4: `# HELP`, `# TYPE` and samples, one per line. */
export function formatMetrics(s: MetricsSnapshot): string {
  const c = s.counters;
  const out: string[] = [];
  const metric = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: number | Sample[],
  ): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of typeof samples === "number"
      ? [[{}, samples] as Sample]
      : samples) {
      out.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    }
  };
  const counter = (name: string, help: string, v: number | Sample[]): void =>
    metric(name, "counter", help, v);
  const gauge = (name: string, help: string, v: number): void =>
    metric(name, "gauge", help, v);
  const byCode = (
    label: string,
    table: object,
    counts: Readonly<Record<string, number | undefined>>,
  ): Sample[] =>
    Object.keys(table).map((k) => [{ [label]: k }, counts[k] ?? 0]);

  const p = s.capture?.pcap;
  counter(
    "portknock_lines_read_total",
    "Log lines (file mode) or frames (network mode) read.",
    c.linesSeen ?? c.packetsSeen ?? 0,
  );
  counter(
    "portknock_hits_total",
    "Hits (connection attempts) handed to the detector.",
    c.hits,
  );
  counter(
    "portknock_rejections_total",
    "Log lines and frames rejected, and valid sealed knocks refused, by code.",
    byCode("code", REJECTION_CODES, c.rejections),
  );
  counter(
    "portknock_hits_queued_total",
    "Hits added to a source's queue.",
    c.queue.hitsQueued,
  );
  counter(
    "portknock_hits_outside_span_total",
    "Hits on ports outside portspan.",
    c.queue.hitsOutsideSpan,
  );
  counter(
    "portknock_decode_failures_total",
    "Knock-length sequences that did not decode, by reason (KNOCK_BAD_TAG, KNOCK_BAD_PADDING: often a client with another key).",
    byCode("reason", DECODE_REASONS, c.queue.decodeFailures),
  );
  counter(
    "portknock_knocks_accepted_total",
    "Knocks decoded, checked and handed to the actions.",
    c.knocksAccepted,
  );
  counter(
    "portknock_replays_dropped_total",
    "Knocks dropped as replays (the same wire bytes within knocktimeout).",
    c.queue.replaysDropped,
  );
  counter(
    "portknock_retransmits_dropped_total",
    "Kernel SYN retransmits dropped (the same source, source port and port within 3 s).",
    c.retransmitsDropped,
  );
  counter(
    "portknock_sources_evicted_total",
    "Sources evicted, by segment: probation (one-hit sources, 4 x maxsources records) and protected (queues of sources with two hits or more, maxsources).",
    [
      [{ segment: "probation" }, c.queue.evictedProbation],
      [{ segment: "protected" }, c.queue.evictedProtected],
    ],
  );
  counter(
    "portknock_sources_expired_total",
    "Source queues dropped after knocktimeout without a hit.",
    c.queue.sourcesExpired,
  );
  counter(
    "portknock_actions_run_total",
    "Actions run (now or when their delay was over).",
    c.actionsRun,
  );
  counter(
    "portknock_actions_failed_total",
    "Actions with a command that failed (exit status, signal, timeout, spawn).",
    c.actionsFailed,
  );
  counter(
    "portknock_actions_refused_total",
    "Actions refused before running (a substituted value invalid or missing, an unsafe state key, a division by zero).",
    c.actionsRefused,
  );
  counter(
    "portknock_actions_scheduled_total",
    "Delayed actions scheduled.",
    c.actionsScheduled,
  );
  counter(
    "portknock_knocks_not_durable_total",
    "Knocks refused because their delayed actions could not be written to the statefile (nothing of them ran).",
    c.knocksNotDurable,
  );
  counter(
    "portknock_actions_interrupted_total",
    "Delayed actions found at start interrupted by a crash while they ran (not run again).",
    c.actionsInterrupted,
  );
  counter(
    "portknock_capture_received_total",
    "Network mode: packets that passed the kernel's capture filter (libpcap).",
    p?.received ?? 0,
  );
  counter(
    "portknock_capture_dropped_total",
    "Network mode: captured packets lost, by stage: queue (knockd lagged), kernel (the capture ring was full), interface (the driver dropped them).",
    [
      [{ stage: "queue" }, s.capture?.droppedInQueue ?? 0],
      [{ stage: "kernel" }, p?.dropped ?? 0],
      [{ stage: "interface" }, p?.ifDropped ?? 0],
    ],
  );
  if (s.firewall) formatFirewall(s.firewall, c, counter, byCode);
  if (s.cluster) formatCluster(s.cluster, c, counter, gauge);
  gauge(
    "portknock_sources_queued",
    "Sources with a knock in progress (a queue) now.",
    s.sourcesQueued,
  );
  gauge(
    "portknock_pending_actions",
    "Delayed actions waiting to run (kept in the statefile).",
    s.pendingActions,
  );
  metric("portknock_build_info", "gauge", "knockd's version.", [
    [{ version: s.version }, 1],
  ]);
  if (s.process) formatProcess(s.process, counter, gauge);
  return out.join("\n") + "\n";
}

function formatFirewall(
  f: FirewallCounters,
  c: DaemonCounters,
  counter: (name: string, help: string, v: number | Sample[]) => void,
  byCode: (
    label: string,
    table: object,
    counts: Readonly<Record<string, number | undefined>>,
  ) => Sample[],
): void {
  counter(
    "portknock_grants_total",
    "grant template keys applied by the actions (issue #17).",
    c.grantsRun,
  );
  counter(
    "portknock_grants_failed_total",
    "grant template keys the firewall did not apply.",
    c.grantsFailed,
  );
  counter(
    "portknock_firewall_installs_total",
    "Base rulesets installed (start, SIGHUP).",
    f.installs,
  );
  counter(
    "portknock_firewall_reinstalls_total",
    "Base rulesets put back by the periodic reconcile after someone removed them.",
    f.reinstalls,
  );
  counter(
    "portknock_firewall_expired_total",
    "Tagged iptables grants taken away at expiry by knockd (nftables and ipset grants expire in the kernel).",
    f.expired,
  );
  counter(
    "portknock_firewall_errors_total",
    "Firewall calls refused or failed, by code (FIREWALL_COMMAND_FAILED: the tool's message is in the log).",
    byCode("firewall_code", FIREWALL_CODES, {
      ...f.rejections,
      ...f.failures,
    }),
  );
}

function formatCluster(
  k: ClusterCounters,
  c: DaemonCounters,
  counter: (name: string, help: string, v: number | Sample[]) => void,
  gauge: (name: string, help: string, v: number) => void,
): void {
  const claims = c.clusterClaims ?? { fresh: 0, replay: 0, local: 0 };
  gauge(
    "portknock_cluster_up",
    "1 while Redis answers, 0 while the gateway decides locally (degraded).",
    k.link.up,
  );
  counter(
    "portknock_cluster_outages_total",
    "Times Redis became unreachable (one CLUSTER_DOWN warning each).",
    k.link.outages,
  );
  counter(
    "portknock_cluster_commands_total",
    "Redis commands sent on the decision path.",
    k.link.commands,
  );
  counter(
    "portknock_cluster_timeouts_total",
    "Redis commands over the budget (decided locally).",
    k.link.timeouts,
  );
  counter(
    "portknock_cluster_failures_total",
    "Redis commands that failed otherwise (Redis down, a Redis error).",
    k.link.failures,
  );
  gauge(
    "portknock_cluster_name_held",
    "1 while this gateway holds the lease on its name, 0 otherwise (another live gateway may use it).",
    k.lease.held,
  );
  counter(
    "portknock_cluster_name_conflicts_total",
    "Lease renewals that found another running gateway with this name (CLUSTER_NAME_IN_USE).",
    k.lease.conflicts,
  );
  counter(
    "portknock_cluster_replay_claims_total",
    "Accepted sealed knocks claimed in the shared replay cache, by result: fresh (first in the cluster), replay (refused: another gateway had it), local (Redis down or over the budget: decided by the local cache).",
    [
      [{ result: "fresh" }, claims.fresh],
      [{ result: "replay" }, claims.replay],
      [{ result: "local" }, claims.local],
    ],
  );
  counter(
    "portknock_cluster_replay_merged_total",
    "Claims decided locally and pushed to Redis when it came back.",
    k.replay.merged,
  );
  counter(
    "portknock_cluster_replay_conflicts_total",
    "Claims decided locally that another gateway had also accepted (CLUSTER_REPLAY_CONFLICT: accepted twice during an outage).",
    k.replay.conflicts,
  );
  gauge(
    "portknock_cluster_state_outbox",
    "State changes waiting to be sent to Redis.",
    k.store.outbox,
  );
  counter(
    "portknock_cluster_state_ops_total",
    "State changes Redis applied.",
    k.store.sent,
  );
  counter(
    "portknock_cluster_state_dropped_total",
    "State changes given up (outbox full, or refused by Redis).",
    k.store.dropped,
  );
  counter(
    "portknock_cluster_state_reloads_total",
    "State roots reloaded after another gateway changed them.",
    k.store.reloads,
  );
  counter(
    "portknock_cluster_pending_forged_total",
    "Pending delayed actions in Redis whose seal did not verify: never loaded or run (CLUSTER_PENDING_FORGED).",
    k.store.forged,
  );
  if (k.grants == null) return;
  counter(
    "portknock_cluster_grants_published_total",
    "scope = cluster grants published to the other gateways.",
    k.grants.published,
  );
  counter(
    "portknock_cluster_grants_received_total",
    "Cluster grant entries read from the stream.",
    k.grants.received,
  );
  counter(
    "portknock_cluster_grants_applied_total",
    "Other gateways' grants applied to this gateway's firewall.",
    k.grants.applied,
  );
  counter(
    "portknock_cluster_grants_failed_total",
    "Other gateways' grants this gateway's firewall refused or failed (the code is in the log).",
    Object.values(k.grants.failed).reduce((a, b) => a + b, 0),
  );
}

function formatProcess(
  f: ProcessFigures,
  counter: (name: string, help: string, v: number) => void,
  gauge: (name: string, help: string, v: number) => void,
): void {
  // The names of Prometheus' client libraries, so that stock dashboards work.
  counter(
    "process_cpu_user_seconds_total",
    "User CPU time spent, in seconds.",
    f.cpuUserSeconds,
  );
  counter(
    "process_cpu_system_seconds_total",
    "System CPU time spent, in seconds.",
    f.cpuSystemSeconds,
  );
  counter(
    "process_cpu_seconds_total",
    "User and system CPU time spent, in seconds.",
    f.cpuUserSeconds + f.cpuSystemSeconds,
  );
  gauge(
    "process_resident_memory_bytes",
    "Resident memory size, in bytes.",
    f.residentMemoryBytes,
  );
  gauge(
    "process_start_time_seconds",
    "Start time of the process since the Unix epoch, in seconds.",
    f.startTimeSeconds,
  );
  if (f.openFds != null) {
    gauge("process_open_fds", "Open file descriptors.", f.openFds);
  }
  gauge(
    "nodejs_heap_size_used_bytes",
    "V8 heap in use, in bytes.",
    f.heapUsedBytes,
  );
}

/** The process' own figures now (Linux: open descriptors from `/proc/self/fd`). */
export function readProcessFigures(): ProcessFigures {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  let openFds: number | undefined;
  try {
    // One entry is the descriptor readdir itself holds open while it reads.
    openFds = Math.max(0, readdirSync("/proc/self/fd").length - 1);
  } catch {
    openFds = undefined;
  }
  return {
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    residentMemoryBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    startTimeSeconds: Math.round(Date.now() / 1000 - process.uptime()),
    ...(openFds != null && { openFds }),
  };
}

function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${escapeLabelValue(v)}"`,
  );
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
}

/** A label value as the format wants it: `\`, `"` and line feeds escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`));
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
