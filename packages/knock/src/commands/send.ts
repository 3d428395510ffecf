/**
 * `knock -remote HOST`: send the knock, one TCP SYN (connect or raw) or UDP datagram per port
 * (client.md "Sending").
 */
import { InternalError } from "@portknock/core";
import { localAddressFor } from "../local-address.ts";
import { sendKnock } from "../send.ts";
import type { SendReport } from "../send.ts";
import { sendKnockRaw } from "../send-raw.ts";
import type { CommandContext, CommandStatus } from "./context.ts";
import type { PreparedKnock } from "./prepare.ts";
import type { RemoteAddress } from "./remote.ts";

/** Sends to the remote; a port that fails locally is reported and makes the run `failed`. */
export async function runSend(
  knock: PreparedKnock,
  ctx: CommandContext,
  debug: boolean,
): Promise<CommandStatus> {
  const { config, remote } = knock;
  // prepareKnock refuses to send without a remote.
  if (remote == null) throw new InternalError("runSend: no remote address");
  if (config.method === "raw" && config.protocol === "udp") {
    return ctx.reject({
      code: "ARGV_BAD_VALUE",
      severity: "error",
      message:
        "method = raw sends TCP SYNs; with protocol = udp use method = connect",
      where: { kind: "argv", flag: "-method" },
    });
  }
  const ports = knock.encoded.ports;
  const result = await send(ports, remote, knock);
  for (const f of result.failures) ctx.note(`port ${f.port}: ${f.code}`);
  if (debug)
    ctx.note(`sent ${result.sent} of ${ports.length} to ${remote.address}`);
  return result.failures.length === 0 ? "done" : "failed";
}

async function send(
  ports: number[],
  remote: RemoteAddress,
  { config }: PreparedKnock,
): Promise<SendReport> {
  if (config.method !== "raw") {
    return sendKnock(ports, {
      ...remote,
      protocol: config.protocol,
      delayMs: config.knockDelayMs,
    });
  }
  return sendKnockRaw(ports, {
    ...remote,
    sourceAddress: await localAddressFor(remote.address, remote.family),
    delayMs: config.knockDelayMs,
  });
}
