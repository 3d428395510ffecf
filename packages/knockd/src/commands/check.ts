/**
 * `knockd -check`: the resolved settings and the security audit of a configuration that loaded
 * without errors (its diagnostics were printed already).
 */
import type { Io } from "@portknock/core";
import { EXIT_OK } from "@portknock/core";
import { auditConfig } from "../audit.ts";
import type { LoadedDaemon } from "../load.ts";
import { describeSettings } from "../report.ts";

/** Prints the settings and the audit; exit 0. */
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
  return EXIT_OK;
}
