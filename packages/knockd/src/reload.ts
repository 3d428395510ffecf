/**
 * SIGHUP's load: the configuration file read again and its environment checked, every finding
 * logged with its place, and a new instance started when it is valid (the store is shared, so
 * state and pending delayed actions carry over).
 */
import type { ClusterConfig } from "@portknock/config";
import { errorMessages } from "@portknock/core";
import type { Daemon } from "./daemon.ts";
import { baseRuleset } from "./firewall.ts";
import {
  checkEnvironment,
  environmentOptions,
  logFindings,
} from "./environment.ts";
import type { Instance } from "./instance.ts";
import { startInstance } from "./instance.ts";
import { loadDaemon } from "./load.ts";

/** The new instance, or undefined (after logging why) when the new configuration is invalid. */
export async function reloadInstance(
  daemon: Daemon,
): Promise<Instance | undefined> {
  const next = await loadDaemon(daemon.confPath);
  for (const d of next.diagnostics) {
    const fields = {
      event: "reload.diagnostic",
      code: d.code,
      source:
        d.where.kind === "config"
          ? `${d.where.file}:${d.where.line}`
          : undefined,
    };
    if (d.severity === "error") daemon.logger.error(fields, d.message);
    else daemon.logger.warn(fields, d.message);
  }
  if (next.daemon == null) return undefined;
  // The environment as at start: an interface or an executable that is not there rejects the
  // new configuration, and the old one keeps running.
  const env = checkEnvironment(next.daemon, environmentOptions(daemon.args));
  if (logFindings(env, daemon.logger, "reload.environment")) return undefined;
  if (!sameCluster(daemon, next.daemon)) return undefined;
  if (!(await reinstallFirewall(daemon, next.daemon))) return undefined;
  return startInstance(next.daemon, daemon.deps);
}

/**
 * SIGHUP and `<cluster>` (issue #19): the connection, the name and the prefix are set at start;
 * adding, removing or changing the block needs a restart, and the new configuration is rejected
 * (like a switch of firewall backend). A daemon that runs without its cluster (`-test`) compares
 * with the block it started with all the same.
 */
function sameCluster(
  daemon: Daemon,
  next: NonNullable<Awaited<ReturnType<typeof loadDaemon>>["daemon"]>,
): boolean {
  const key = (c: ClusterConfig | undefined): string =>
    c == null
      ? "none"
      : JSON.stringify([
          c.url,
          c.name,
          c.prefix,
          c.budgetMs,
          c.password ?? null,
          c.tlsCa ?? null,
        ]);
  const running = daemon.instance.loaded.config.cluster;
  const wanted = next.config.cluster;
  if (key(running) === key(wanted)) return true;
  daemon.logger.error(
    {
      event: "reload.cluster",
      name: running?.name ?? null,
      source:
        wanted != null
          ? `${wanted.where.file}:${wanted.where.line}`
          : undefined,
    },
    running == null
      ? "the new configuration has a <cluster> block and the running one does not: restart knockd to join the cluster"
      : wanted == null
        ? `the new configuration has no <cluster> block; the running daemon stays in cluster ${running.prefix} as ${running.name}: restart knockd to leave it`
        : `the new configuration changes the <cluster> block (redis, name, prefix, budget, passwordfile or tlsca): restart knockd to apply it`,
  );
  return false;
}

/**
 * SIGHUP with a managed firewall (issue #17): the new base ruleset replaces the old one (open
 * grants stay; nothing is duplicated). The backend is chosen at start: adding, removing or
 * switching it needs a restart, and the new configuration is rejected.
 */
async function reinstallFirewall(
  daemon: Daemon,
  next: NonNullable<Awaited<ReturnType<typeof loadDaemon>>["daemon"]>,
): Promise<boolean> {
  const base = baseRuleset(next.config, next);
  const wanted = next.config.firewall?.backend;
  const fw = daemon.firewall;
  const reject = (message: string): false => {
    daemon.logger.error(
      { event: "reload.firewall", backend: fw?.backend ?? "none" },
      message,
    );
    return false;
  };
  if (fw == null) {
    return base == null
      ? true
      : reject(
          "the new configuration manages a firewall and the running one does not: restart knockd to install it",
        );
  }
  if (base == null) {
    return reject(
      `the new configuration manages no firewall (or backend = none); the running ${fw.backend} firewall stays: restart knockd (and run knockd -firewall-remove) to stop managing it`,
    );
  }
  if (wanted !== "auto" && wanted !== fw.backend) {
    return reject(
      `the new configuration asks for backend = ${wanted ?? "?"}, the running firewall is ${fw.backend}: restart knockd to switch`,
    );
  }
  try {
    await fw.install(base);
    daemon.logger.info(
      { event: "reload.firewall", backend: fw.backend },
      "firewall ruleset re-installed",
    );
    return true;
  } catch (e) {
    return reject(
      `cannot install the new ${fw.backend} ruleset (${errorMessages(e) || "unknown error"}); the old one stays`,
    );
  }
}
