/**
 * `knock -logtofile -logfile FILE`: append the knock as firewall log lines instead of sending it,
 * so a daemon in file mode can be driven without a network (client.md "Log-file mode").
 */
import { appendFile } from "node:fs/promises";
import { hostname } from "node:os";
import { localAddressFor } from "../local-address.ts";
import { renderKnockLog } from "../log-line.ts";
import type { CommandContext, CommandStatus } from "./context.ts";
import type { PreparedKnock } from "./prepare.ts";

/** Appends one line per port to `-logfile`; a write failure throws (exit 1 in `main`). */
export async function runLogToFile(
  knock: PreparedKnock,
  ctx: CommandContext,
  debug: boolean,
): Promise<CommandStatus> {
  const { config, values, remote } = knock;
  if (config.logfile == null) {
    return ctx.reject({
      code: "ARGV_MISSING_VALUE",
      severity: "error",
      message: "-logtofile needs -logfile FILE",
      where: { kind: "argv", flag: "-logfile" },
    });
  }
  // The logged packet comes from the address the knock names (CLIENT), or else from the local
  // address that routes to the remote.
  const named = values.CLIENT ?? values.IP;
  const ipclient =
    named != null
      ? String(named)
      : await localAddressFor(
          remote?.address ?? "127.0.0.1",
          remote?.family ?? 4,
        );
  const rendered = renderKnockLog(knock.encoded.ports, {
    ipclient,
    remote,
    protocol: config.protocol,
    fileformat: config.fileformat,
    nowMs: knock.nowMs,
    host: hostname(),
  });
  if (!rendered.ok) return ctx.reject(rendered.diagnostic);
  // One append: the lines of a knock arrive together and in order.
  await appendFile(config.logfile, rendered.lines.join("\n") + "\n");
  if (debug)
    ctx.note(`appended ${rendered.lines.length} lines to ${config.logfile}`);
  return "done";
}
