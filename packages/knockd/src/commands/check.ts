/**
 * `knockd -check`: the resolved settings, the security audit and the environment of a
 * configuration that loaded without errors (its diagnostics were printed already).
 */
import type { Io } from "@portknock/core";
import { EXIT_OK, EXIT_RUNTIME } from "@portknock/core";
import { auditConfig } from "../audit.ts";
import type { EnvironmentOptions } from "../environment.ts";
import { checkEnvironment, formatFinding } from "../environment.ts";
import type { LoadedDaemon } from "../load.ts";
import { describeSettings } from "../report.ts";
import { prepareStatefileDir } from "../statefile-dir.ts";
import type { KnockdCode } from "../codes.ts";
import { baseRuleset, chooseBackend } from "../firewall.ts";
import { createFirewall } from "@portknock/firewall";
import { describeCluster, pingCluster } from "../cluster.ts";

/**
 * Prints the settings, the audit and the environment (the statefile's directory, the log file or
 * command, the interfaces, the action executables, IPv4-only templates); exit 0, or 1 when the
 * environment would stop the daemon. Creates nothing.
 */
export async function runCheck(
  loaded: LoadedDaemon,
  io: Io,
  options: EnvironmentOptions,
): Promise<number> {
  const out = (t: string): void => void io.stdout.write(t + "\n");
  const audit = auditConfig(loaded.config, loaded.knock);
  out(describeSettings(loaded));
  out("");
  out(
    audit.length === 0
      ? "security audit: nothing to report"
      : "security audit:",
  );
  for (const f of audit) out(`  ${f.severity} ${f.code}: ${f.message}`);
  await describeFirewall(loaded, out);
  await checkCluster(loaded, out);
  const lines: string[] = [];
  let failed = false;
  const statefile = loaded.config.statefile;
  if (statefile != null && !options.test) {
    const dir = prepareStatefileDir(statefile, false);
    if (!dir.ok) {
      const code: KnockdCode = "STATEFILE_DIR_UNUSABLE";
      lines.push(`error ${code}: ${dir.message}`);
      failed = true;
    } else {
      lines.push(
        dir.missing
          ? `the statefile's directory ${dir.dir} does not exist yet; knockd creates it at start (mode 0700)`
          : "the statefile's directory is writable",
      );
    }
  }
  for (const f of checkEnvironment(loaded, options)) {
    lines.push(formatFinding(f));
    failed ||= f.severity === "error";
  }
  out("");
  out(lines.length === 0 ? "environment: nothing to report" : "environment:");
  for (const line of lines) out(`  ${line}`);
  return failed ? EXIT_RUNTIME : EXIT_OK;
}

/**
 * The managed firewall (issue #17): the backend knockd would use (`auto` probes `nft list
 * tables`, `iptables -S`, `ipset list -n`: nothing is changed) and the ruleset it would install.
 */
async function describeFirewall(
  loaded: LoadedDaemon,
  out: (text: string) => void,
): Promise<void> {
  const config = loaded.config.firewall;
  const base = baseRuleset(loaded.config, loaded);
  if (config == null || base == null) return;
  const chosen = await chooseBackend(config);
  out("");
  if (chosen.backend === "none") {
    out(
      `firewall: no backend works (${chosen.reason}): knockd would not start`,
    );
    return;
  }
  out(`firewall: ${chosen.backend} (${chosen.reason}); knockd would install:`);
  const fw = createFirewall({ backend: chosen.backend, ipset: chosen.ipset });
  for (const line of fw.render(base).trimEnd().split("\n")) out(`  ${line}`);
  await fw.close();
}

/**
 * The cluster (issue #19): where and as whom knockd would join it, and one PING. An unreachable
 * Redis is a warning, never an error: knockd starts and decides locally until it is back.
 */
async function checkCluster(
  loaded: LoadedDaemon,
  out: (text: string) => void,
): Promise<void> {
  const config = loaded.config.cluster;
  if (config == null) return;
  out("");
  out(`cluster: ${describeCluster(config)}`);
  const probe = await pingCluster(config);
  if (probe.ok) {
    out(`  Redis answers PING (${probe.ms} ms)`);
    if (probe.gateways !== undefined) {
      const live = probe.gateways;
      out(
        `  gateways running now: ${live.length > 0 ? live.join(", ") : "none"}${live.includes(config.name) ? ` (${config.name} is this name: knockd runs here already, or another gateway uses it)` : ""}`,
      );
    }
    return;
  }
  const code: KnockdCode = "CLUSTER_UNREACHABLE";
  out(
    `  warning ${code}: Redis ${config.url}: ${probe.message}; knockd would start and decide locally (degraded mode) until it is reachable`,
  );
}
