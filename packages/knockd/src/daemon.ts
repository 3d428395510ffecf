/**
 * What `-replay` and a running daemon share: the logger, the audit at start, the state store and
 * the first instance (engine + detector) of a loaded configuration.
 */
import type { Io, Logger } from "@portknock/core";
import { errorMessages, PortknockError, systemClock } from "@portknock/core";
import type { StateStore } from "@portknock/engine";
import {
  createFileStore,
  createMemoryStore,
  spawnRunner,
} from "@portknock/engine";
import type { DaemonArgs } from "./argv.ts";
import { auditConfig } from "./audit.ts";
import type { Instance, InstanceDeps } from "./instance.ts";
import { startInstance } from "./instance.ts";
import type { LoadedDaemon } from "./load.ts";
import {
  checkEnvironment,
  environmentOptions,
  logFindings,
} from "./environment.ts";
import type { ManagedFirewall } from "./firewall.ts";
import { baseRuleset, startFirewall } from "./firewall.ts";
import { createDaemonLogger } from "./logger.ts";
import { prepareStatefileDir } from "./statefile-dir.ts";
import type { KnockdCode } from "./codes.ts";
import type { DaemonCluster } from "./cluster.ts";
import { startCluster } from "./cluster.ts";

/** A started daemon: its first instance, and what later instances share. */
export interface Daemon {
  args: DaemonArgs;
  confPath: string;
  io: Io;
  logger: Logger;
  deps: InstanceDeps;
  /** The instance hits go to now (SIGHUP replaces it). */
  instance: Instance;
  /** The managed firewall (issue #17), installed at start; absent without `<firewall>`. */
  firewall?: ManagedFirewall;
  /** The cluster (issue #19); absent without `<cluster>`, with `-test` and with `-replay`. */
  cluster?: DaemonCluster;
  /**
   * Closes the current instance's engine and the store. Never rejects: a statefile that cannot
   * be written is retried, then reported in one error line; resolves false in that case.
   */
  close(): Promise<boolean>;
}

/**
 * Logs the start and the audit, opens the store and starts the first instance (its overdue
 * delayed actions run now). Undefined, after the errors are logged, when the environment is not
 * ready (`environment.ts`) or the store cannot be opened.
 */
export async function startDaemon(
  loaded: LoadedDaemon,
  args: DaemonArgs,
  confPath: string,
  io: Io,
): Promise<Daemon | undefined> {
  const logger = createDaemonLogger({
    json: args.logjson,
    level: args.debug ? "debug" : args.quiet ? "error" : "info",
    stream: io.stderr,
    // systemd sets it when stderr goes to the journal (systemd.exec(5)).
    journal: io.env.JOURNAL_STREAM != null && io.env.JOURNAL_STREAM !== "",
  });
  logger.info(
    {
      event: "start",
      config: confPath,
      runmode: loaded.config.runmode,
      test: args.test,
      replay: args.replay ?? null,
    },
    "knockd starting",
  );
  for (const f of auditConfig(loaded.config, loaded.knock)) {
    const fields = { event: "audit", code: f.code };
    if (f.severity === "warning") logger.warn(fields, f.message);
    else logger.info(fields, f.message);
  }
  // Before anything opens (store, engine, overdue actions, source): a daemon that would
  // never see a knock, or never run its commands, does not start.
  const findings = checkEnvironment(loaded, environmentOptions(args));
  if (logFindings(findings, logger, "environment")) {
    logger.error(
      {
        event: "start.refused",
        errors: findings.filter((f) => f.severity === "error").length,
      },
      "the environment has errors (above); not starting",
    );
    return undefined;
  }
  // Fail closed (issue #17): the base ruleset is in place before any knock is read, or knockd
  // does not start.
  const base = baseRuleset(loaded.config, loaded);
  let firewall: ManagedFirewall | undefined;
  if (base != null && loaded.config.firewall != null) {
    firewall = await startFirewall(loaded.config.firewall, base, {
      logger,
      test: args.test,
    });
    if (firewall == null) return undefined;
  }
  let local: StateStore;
  try {
    local = await openStore(loaded, logger, args.test);
  } catch (e) {
    logger.error(
      { event: "store.error", code: (e as { code?: string }).code },
      (e as Error).message,
    );
    await firewall?.close();
    return undefined;
  }
  const cluster = await joinCluster(loaded, args, logger, local, firewall);
  const store = cluster?.store ?? local;
  const deps: InstanceDeps = {
    store,
    clock: systemClock,
    run: spawnRunner(),
    logger,
    test: args.test,
    debug: args.debug,
    ...(firewall != null
      ? {
          grant:
            cluster != null
              ? cluster.wrapGrant(firewall.grant, () => systemClock.now())
              : firewall.grant,
        }
      : {}),
    ...(cluster != null ? { cluster } : {}),
  };
  let instance: Instance;
  try {
    instance = await startInstance(loaded, deps);
  } catch (e) {
    // The Redis connections would keep the process alive after the error is reported.
    await cluster?.stop();
    await cluster?.closeLink();
    throw e;
  }
  const daemon: Daemon = {
    args,
    confPath,
    io,
    logger,
    deps,
    instance,
    ...(firewall != null ? { firewall } : {}),
    ...(cluster != null ? { cluster } : {}),
    async close(): Promise<boolean> {
      await daemon.instance.engine.close();
      await cluster?.stop();
      // The ruleset and the grants stay: grants expire in the kernel, and a restart reinstalls.
      await firewall?.close().catch(() => undefined);
      // The cluster store merges its outbox back (for at most 1 s) before the local store closes.
      const saved = await closeStore(store, loaded.config.statefile, logger);
      await cluster?.closeLink().catch(() => undefined);
      return saved;
    },
  };
  return daemon;
}

/**
 * The cluster of a `<cluster>` block (issue #19), connected; undefined without one, and with
 * `-test` or `-replay` (said in a log line): a dry run or a replay of an old log must not claim
 * knocks or change the state other gateways see.
 */
async function joinCluster(
  loaded: LoadedDaemon,
  args: DaemonArgs,
  logger: Logger,
  local: StateStore,
  firewall: ManagedFirewall | undefined,
): Promise<DaemonCluster | undefined> {
  const config = loaded.config.cluster;
  if (config == null) return undefined;
  if (args.test || args.replay != null) {
    logger.info(
      { event: "cluster.off", name: config.name },
      `${args.test ? "-test" : "-replay"}: not connecting to the cluster's Redis; the replay cache and the state are this gateway's own`,
    );
    return undefined;
  }
  return startCluster(config, {
    local,
    logger,
    // The secrets every gateway of the cluster holds: pending actions in Redis are sealed with a
    // key derived from them, so write access to Redis alone cannot make a gateway run a command.
    knockSecrets: [
      loaded.config.encrypt || loaded.config.format === "sealed"
        ? loaded.config.key
        : undefined,
      ...[...loaded.config.users.values()].map((u) => u.key.text),
    ],
    ...(firewall != null && { grant: firewall.grant }),
  });
}

async function openStore(
  loaded: LoadedDaemon,
  logger: Logger,
  readOnly: boolean,
): Promise<StateStore> {
  const path = loaded.config.statefile;
  if (path == null || readOnly) return createMemoryStore();
  const dir = prepareStatefileDir(path);
  if (!dir.ok) {
    throw new PortknockError<KnockdCode>("STATEFILE_DIR_UNUSABLE", dir.message);
  }
  if (dir.created) {
    logger.info(
      { event: "store.dir", dir: dir.dir },
      "created the statefile's directory (mode 0700)",
    );
  }
  const store = await createFileStore(path, { logger });
  for (const d of store.diagnostics) {
    const fields = { event: "store.diagnostic", code: d.code, source: path };
    if (d.severity === "error") logger.error(fields, d.message);
    else logger.warn(fields, d.message);
  }
  return store;
}

/** Attempts and wait between them when the statefile cannot be written at stop. */
export const CLOSE_ATTEMPTS = 3;
const CLOSE_RETRY_MS = 500;

/**
 * Flushes and closes the store, retrying a failed write; never throws. What a failure loses is
 * bounded by the engine's rule that a delayed action is on disk before its knock acts: only state
 * changes, completed removals and started marks can be missing (see the README).
 */
async function closeStore(
  store: StateStore,
  statefile: string | undefined,
  logger: Logger,
): Promise<boolean> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= CLOSE_ATTEMPTS; attempt++) {
    try {
      await store.flush();
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
      if (attempt < CLOSE_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, CLOSE_RETRY_MS));
      }
    }
  }
  let pending = 0;
  try {
    pending = store.pending().length;
  } catch {
    // closed already
  }
  try {
    await store.close();
  } catch (error) {
    lastError ??= error;
  }
  if (lastError === undefined) return true;
  const code: KnockdCode = "STATEFILE_NOT_SAVED";
  logger.error(
    { event: "store.error", code, file: statefile, pending },
    `cannot save the statefile ${statefile ?? ""} at stop after ${CLOSE_ATTEMPTS} attempts (${errorMessages(lastError) || "unknown error"}): state changes since the last write are lost; every delayed action whose knock acted was written before it acted (${pending} pending)`,
  );
  return false;
}
