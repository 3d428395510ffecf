/**
 * One running configuration: engine, queues and core built from a `LoadedDaemon`. SIGHUP builds a
 * new instance and retires the old one; the store (and so state and pending delayed actions)
 * outlives instances.
 */
import type { Logger } from "@portknock/core";
import type {
  Engine,
  GrantFn,
  RunCommand,
  StateStore,
} from "@portknock/engine";
import type { Clock } from "@portknock/core";
import { createEngine } from "@portknock/engine";
import type { LoadedDaemon } from "./load.ts";
import type { DaemonCluster } from "./cluster.ts";
import type { DaemonCore } from "./daemon-core.ts";
import { createDaemonCore } from "./daemon-core.ts";

/** A configuration wired up and ready for hits. */
export interface Instance {
  loaded: LoadedDaemon;
  engine: Engine;
  core: DaemonCore;
}

/** What instances share. */
export interface InstanceDeps {
  store: StateStore;
  clock: Clock;
  run: RunCommand;
  logger: Logger;
  test: boolean;
  debug: boolean;
  /** The managed firewall's grant (issue #17); absent without a `<firewall>` block. */
  grant?: GrantFn;
  /** The cluster (issue #19): its replay cache is asked about every accepted sealed knock. */
  cluster?: Pick<DaemonCluster, "claim">;
}

/** Builds an instance and starts its engine (overdue delayed actions run now). */
export async function startInstance(
  loaded: LoadedDaemon,
  deps: InstanceDeps,
): Promise<Instance> {
  const engine = createEngine(
    loaded.rules,
    {
      clock: deps.clock,
      store: deps.store,
      run: deps.run,
      logger: deps.logger,
      ...(deps.grant != null ? { grant: deps.grant } : {}),
    },
    { test: deps.test },
  );
  const started = await engine.start();
  if (started.overdue + started.scheduled > 0) {
    deps.logger.info(
      {
        event: "delays.loaded",
        overdue: started.overdue,
        scheduled: started.scheduled,
      },
      "pending delayed actions loaded",
    );
  }
  const core = createDaemonCore({
    knock: loaded.knock,
    knockTimeoutMs: loaded.config.knockTimeoutMs,
    maxSources: loaded.config.maxSources,
    // Kernel retransmits (detector README, "Retransmits"): with packet times and sequence
    // numbers, a copy is one only 0.9-10 s after the last (a kernel waits ~1 s, then doubles);
    // file mode's batch times allow neither test (the detector's default: 0-3 s).
    ...(loaded.config.runmode === "network" && {
      retransmitWindowMs: 10_000,
      retransmitMinGapMs: 900,
    }),
    ...(loaded.knock.format === "sealed" && {
      sealed: {
        windowMs: loaded.config.windowMs,
        requireSource: loaded.config.requireSource,
        // -test reads the persisted replay cache but writes nothing.
        store: deps.test
          ? { getExtra: (ns) => deps.store.getExtra(ns), setExtra: () => {} }
          : deps.store,
      },
    }),
    ...(loaded.knock.format === "sealed" &&
      deps.cluster != null && {
        cluster: {
          claim: (key: string, ttlMs: number) =>
            deps.cluster!.claim(key, ttlMs),
          // The detector keeps a key until accepted-at + 2 × window (sealed-guard.ts).
          ttlMs: 2 * loaded.config.windowMs,
        },
      }),
    clock: deps.clock,
    engine,
    logger: deps.logger,
    debug: deps.debug,
  });
  return { loaded, engine, core };
}
