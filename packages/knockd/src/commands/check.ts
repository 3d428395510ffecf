/**
 * `knockd -check`: the resolved settings and the security audit of a configuration that loaded
 * without errors (its diagnostics were printed already).
 */
import type { Io } from "@portknock/core";
import { EXIT_OK, EXIT_RUNTIME } from "@portknock/core";
import { auditConfig } from "../audit.ts";
import type { LoadedDaemon } from "../load.ts";
import { describeSettings } from "../report.ts";
import { prepareStatefileDir } from "../statefile-dir.ts";
import type { KnockdCode } from "../codes.ts";

/**
 * Prints the settings, the environment (the statefile's directory) and the audit; exit 0, or 1
 * when the environment would stop the daemon.
 */
export function runCheck(loaded: LoadedDaemon, io: Io): number {
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
  const statefile = loaded.config.statefile;
  if (statefile == null) return EXIT_OK;
  const dir = prepareStatefileDir(statefile, false);
  out("");
  if (!dir.ok) {
    const code: KnockdCode = "STATEFILE_DIR_UNUSABLE";
    out(`environment:\n  error ${code}: ${dir.message}`);
    return EXIT_RUNTIME;
  }
  out(
    dir.missing
      ? `environment: the statefile's directory ${dir.dir} does not exist yet; knockd creates it at start (mode 0700)`
      : "environment: the statefile's directory is writable",
  );
  return EXIT_OK;
}
