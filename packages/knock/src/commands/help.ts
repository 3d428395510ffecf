/** `knock -h`, `-man`, `-version` and `-genkey`: print and exit 0. */
import { generateSealedKey } from "@portknock/codec";
import { USAGE, readManual, readVersion } from "../manual.ts";
import type { CommandContext, CommandStatus } from "./context.ts";

/** `-h`: the brief usage. */
export function runHelp(ctx: CommandContext): CommandStatus {
  ctx.say(USAGE);
  return "done";
}

/** `-man`: the full manual shipped in the package. */
export function runManual(ctx: CommandContext): CommandStatus {
  ctx.say(readManual());
  return "done";
}

/** `-genkey`: a fresh random 32-byte key, `base64:…`. */
export function runGenkey(ctx: CommandContext): CommandStatus {
  ctx.say(generateSealedKey());
  return "done";
}

/** `-version`: the package's version. */
export function runVersion(ctx: CommandContext): CommandStatus {
  ctx.say(`knock ${readVersion()}`);
  return "done";
}
