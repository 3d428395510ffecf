/**
 * `knockd -firewall-remove -conf FILE` (issue #17): takes away everything the managed firewall of
 * the configuration installs — rules, chains, sets and the grants in them — and exits. Idempotent.
 */
import type { Io } from "@portknock/core";
import {
  EXIT_OK,
  EXIT_RUNTIME,
  EXIT_USAGE,
  errorMessages,
  noopLogger,
} from "@portknock/core";
import type { KnockdCode } from "../codes.ts";
import { codeOf } from "../codes.ts";
import { removeFirewall } from "../firewall.ts";
import type { LoadedDaemon } from "../load.ts";

/** Removes the firewall; exit 0, 1 when a command failed, 2 without a `<firewall>` block. */
export async function runFirewallRemove(
  loaded: LoadedDaemon,
  io: Io,
  quiet: boolean,
): Promise<number> {
  const config = loaded.config.firewall;
  if (config == null) {
    const code: KnockdCode = "FIREWALL_NOT_MANAGED";
    io.stderr.write(
      `knockd: ${code}: ${loaded.config.file} has no <firewall> block: there is nothing of portknock's to remove\n`,
    );
    return EXIT_USAGE;
  }
  try {
    const message = await removeFirewall(config, noopLogger);
    if (!quiet) io.stdout.write(`${message}\n`);
    return EXIT_OK;
  } catch (e) {
    io.stderr.write(
      `knockd: ${codeOf(e, "FIREWALL_NOT_MANAGED")}: ${errorMessages(e) || "unknown error"}\n`,
    );
    return EXIT_RUNTIME;
  }
}
