/**
 * The `metrics` endpoint of a running daemon (issue #15): `formatMetrics` over the counters the
 * follow loop keeps, the current detector's queues and the store's pending delayed actions,
 * served by `createMetricsEndpoint` where the configuration says. `-replay` and `-check` have none.
 */
import { formatWhere } from "@portknock/core";
import type { FirewallCounters } from "@portknock/firewall";
import type { CaptureCounters, DaemonCounters } from "./counters.ts";
import type { ClusterCounters } from "./cluster.ts";
import type { Daemon } from "./daemon.ts";
import { formatMetrics, readProcessFigures } from "./metrics.ts";
import type { MetricsEndpoint } from "./metrics-server.ts";
import { createMetricsEndpoint } from "./metrics-server.ts";
import { readVersion } from "./usage.ts";

/** The counters of the process now (what SIGUSR1 logs). */
export interface CountersSnapshot {
  counters: DaemonCounters;
  /** Network mode's capture counters; undefined when there has never been a capture. */
  capture: CaptureCounters | undefined;
  /** The managed firewall's counters (issue #17); undefined without `<firewall>`. */
  firewall?: FirewallCounters | undefined;
  /** The cluster's counters (issue #19); undefined without `<cluster>`. */
  cluster?: ClusterCounters | undefined;
}

/**
 * The endpoint, listening where the current configuration's `metrics` says (nowhere when it is
 * not set). Undefined, after `METRICS_LISTEN_FAILED` is logged, when it cannot listen there.
 */
export async function openMetrics(
  daemon: Daemon,
  snapshot: () => CountersSnapshot,
): Promise<MetricsEndpoint | undefined> {
  const version = readVersion();
  const endpoint = createMetricsEndpoint({
    logger: daemon.logger,
    render: () =>
      formatMetrics({
        ...snapshot(),
        sourcesQueued: daemon.instance.core.sources(),
        pendingActions: daemon.deps.store.pending().length,
        version,
        process: readProcessFigures(),
      }),
  });
  return (await reloadMetrics(daemon, endpoint)) ? endpoint : undefined;
}

/**
 * SIGHUP: listens where the current instance's configuration says, if that changed. False when it
 * cannot (logged; the endpoint keeps its old address).
 */
export function reloadMetrics(
  daemon: Daemon,
  endpoint: MetricsEndpoint,
): Promise<boolean> {
  const { config } = daemon.instance.loaded;
  const where = config.where.get("metrics");
  return endpoint.listen(
    config.metrics,
    where ? formatWhere(where) : undefined,
  );
}
