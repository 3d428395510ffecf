/**
 * `knock [options]`: encode a knock and print it (`-test`, `-json`), append it to a log file
 * (`-logtofile`) or send it (client.md).
 */
import type { EncodedKnock } from "@portknock/codec";
import type { ParsedArgs } from "../argv.ts";
import type { CommandContext, CommandStatus } from "./context.ts";
import { runLogToFile } from "./logtofile.ts";
import { prepareKnock } from "./prepare.ts";
import { runSend } from "./send.ts";
import { loadSettings } from "./settings.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Runs the knock command: settings → knock → output → log file or network. */
export async function runKnock(
  args: ParsedArgs,
  ctx: CommandContext,
): Promise<CommandStatus> {
  const loaded = loadSettings(args, ctx.io);
  if (ctx.report(loaded.findings) || loaded.settings == null) return "rejected";
  const { config } = loaded.settings;
  const debug = args.debug || config.debug === true;
  const test = args.test || config.test === true;
  const json = args.json || config.json === true;
  const prepared = await prepareKnock(loaded.settings, {
    sending: !test && !config.logtofile,
    given: Object.keys(args.overrides),
    nowMs: ctx.clock(),
  });
  if (ctx.report(prepared.findings) || prepared.knock == null)
    return "rejected";
  const knock = prepared.knock;
  if (debug) printDebug(ctx, knock.values, knock.encoded);
  if (json) {
    const { plaintext, wire, ports } = knock.encoded;
    ctx.say(
      JSON.stringify({ plaintext: hex(plaintext), wire: hex(wire), ports }),
    );
  } else if (test) {
    ctx.say(knock.encoded.ports.join(","));
  }
  if (test) return "done";
  if (config.logtofile) return runLogToFile(knock, ctx, debug);
  return runSend(knock, ctx, debug);
}

function printDebug(
  ctx: CommandContext,
  values: object,
  encoded: EncodedKnock,
): void {
  ctx.note(`fields ${JSON.stringify(values)}`);
  ctx.note(`plaintext ${hex(encoded.plaintext)}`);
  ctx.note(`wire ${hex(encoded.wire)}`);
  ctx.note(`${encoded.ports.length} ports ${encoded.ports.join(",")}`);
}
