/**
 * From validated settings to an encoded knock: locate the remote (resolving a name only when
 * sending), fill the fields, encode. Every problem is returned as findings.
 */
import type { Diagnostic } from "@portknock/core";
import { quoteValue } from "@portknock/core";
import type { EncodedKnock, KnockConfig, KnockValues } from "@portknock/codec";
import { CodecError, encodeKnock } from "@portknock/codec";
import type { KnockCode } from "../codes.ts";
import { knockValues } from "../knock-values.ts";
import { localAddressFor } from "../local-address.ts";
import type { Finding } from "./context.ts";
import { findings } from "./context.ts";
import type { RemoteAddress } from "./remote.ts";
import { locateRemote } from "./remote.ts";
import type { KnockSettings } from "./settings.ts";

/** A knock ready to print, log or send. */
export interface PreparedKnock extends KnockSettings {
  values: KnockValues;
  encoded: EncodedKnock;
  /** The remote's address; absent without `-remote`, or for a name when not sending. */
  remote?: RemoteAddress | undefined;
  /** The time of the run, epoch milliseconds. */
  nowMs: number;
}

/** Result of `prepareKnock`: the knock when there is no error, and every finding. */
export interface PrepareResult {
  knock?: PreparedKnock;
  findings: Finding[];
}

/** Locates the remote, fills the fields from the config and encodes the knock. */
export async function prepareKnock(
  settings: KnockSettings,
  o: { sending: boolean; given: readonly string[]; nowMs: number },
): Promise<PrepareResult> {
  const { config, codec } = settings;
  const located = await locateRemote(config.remote, o.sending);
  if (located.diagnostic) return { findings: findings([located.diagnostic]) };
  const remote = located.remote;
  if (o.sending && remote == null) {
    return { findings: findings([missingRemote()]) };
  }
  const needsClient =
    config.client == null && codec.layout.fields.some((f) => f.kind === "ip");
  const filled = knockValues(codec.layout.fields, config, {
    format: codec.format,
    nowMs: o.nowMs,
    defaultClient:
      needsClient && remote != null
        ? await localAddressFor(remote.address, remote.family)
        : undefined,
    noDefaultClient:
      located.unresolvedName != null
        ? ` (-test and -logtofile do not resolve -remote ${quoteValue(located.unresolvedName)})`
        : undefined,
    given: o.given,
  });
  const found = findings(filled.diagnostics);
  if (filled.values == null) return { findings: found };
  // sealed: -time, when given, is the time in the nonce (a knock made now for later, or for a
  // test of the daemon's window); otherwise the clock's.
  const timeSeconds = config.time ?? Math.floor(o.nowMs / 1000);
  const encoded = encodeValues(codec, filled.values, timeSeconds);
  if ("code" in encoded)
    return { findings: [...found, ...findings([encoded])] };
  const { values } = filled;
  return {
    knock: { ...settings, values, encoded, remote, nowMs: o.nowMs },
    findings: found,
  };
}

function missingRemote(): Diagnostic<KnockCode> {
  return {
    code: "ARGV_MISSING_VALUE",
    severity: "error",
    message: "no -remote given: whom should I knock?",
    where: { kind: "argv", flag: "-remote" },
  };
}

/** Encodes, turning a value that does not fit its field into a diagnostic naming its option. */
function encodeValues(
  codec: KnockConfig,
  values: KnockValues,
  timeSeconds: number,
): EncodedKnock | Diagnostic<KnockCode> {
  try {
    // sealed: the time travels in the nonce.
    return codec.format === "sealed"
      ? encodeKnock(codec, values, { timeSeconds })
      : encodeKnock(codec, values);
  } catch (e) {
    // The codec throws for values that do not fit; a bad value on the command line is input.
    if (!(e instanceof CodecError) || e.field == null) throw e;
    const field = e.field.toLowerCase();
    return {
      code: "KNOCK_BAD_VALUE",
      severity: "error",
      message: e.message,
      where: { kind: "argv", flag: `-${field === "ip" ? "client" : field}` },
    };
  }
}
