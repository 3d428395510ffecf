/**
 * SIGHUP's load: the configuration file read again and its environment checked, every finding
 * logged with its place, and a new instance started when it is valid (the store is shared, so
 * state and pending delayed actions carry over).
 */
import type { Daemon } from "./daemon.ts";
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
  return startInstance(next.daemon, daemon.deps);
}
