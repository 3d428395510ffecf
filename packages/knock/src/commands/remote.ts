/**
 * The remote of one run (client.md: a host name is resolved once). Only sending resolves a name:
 * `-test` and `-logtofile` use `-remote` only when it is an address (#14).
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Diagnostic } from "@portknock/core";
import { quoteValue } from "@portknock/core";
import type { KnockCode } from "../codes.ts";

/** A remote IP address and its family. */
export interface RemoteAddress {
  address: string;
  family: 4 | 6;
}

/** Result of `locateRemote`: the address when known, or why not. */
export interface RemoteResult {
  remote?: RemoteAddress;
  /** A host name that was not resolved (resolution was not asked for). */
  unresolvedName?: string;
  diagnostic?: Diagnostic<KnockCode>;
}

// What inet_aton takes besides dotted quads: `0`, `127.1`, `0x7f.1`, `017700000001`. The resolver
// turns them into addresses (`-remote 0` knocked 0.0.0.0, i.e. this machine); they are refused.
const INET_ATON_SHORTHAND =
  /^(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+)){0,3}$/i;

function badRemote(message: string): RemoteResult {
  return {
    diagnostic: {
      code: "REMOTE_BAD_ADDRESS",
      severity: "error",
      message,
      where: { kind: "argv", flag: "-remote" },
    },
  };
}

/** Why `address` cannot be knocked: unspecified, multicast or broadcast; undefined when it can. */
function unknockable(address: string, family: 4 | 6): string | undefined {
  if (family === 4) {
    const first = Number(address.split(".")[0]);
    if (address === "0.0.0.0" || first === 0) return "an unspecified address";
    if (address === "255.255.255.255") return "the broadcast address";
    if (first >= 224 && first <= 239) return "a multicast address";
    return undefined;
  }
  const lower = address.toLowerCase();
  if (lower === "::" || /^0*:(0*:)*0*$/.test(lower))
    return "the unspecified address";
  if (lower.startsWith("ff")) return "a multicast address";
  return undefined;
}

/**
 * The remote's address: an IP literal as is, a host name resolved only when `resolve`. An address
 * no knock can go to (unspecified, multicast, broadcast) and inet_aton's shorthand forms (`0`,
 * `127.1`) are `REMOTE_BAD_ADDRESS`.
 */
export async function locateRemote(
  remote: string | undefined,
  resolve: boolean,
): Promise<RemoteResult> {
  if (remote == null) return {};
  const family = isIP(remote);
  if (family === 4 || family === 6) {
    const why = unknockable(remote, family);
    return why != null
      ? badRemote(`cannot knock ${quoteValue(remote)}: it is ${why}`)
      : { remote: { address: remote, family } };
  }
  if (INET_ATON_SHORTHAND.test(remote)) {
    return badRemote(
      `${quoteValue(remote)} is not an address: give a dotted quad (like 192.0.2.1), an IPv6 address or a host name`,
    );
  }
  if (!resolve) return { unresolvedName: remote };
  try {
    const r = await lookup(remote);
    const resolvedFamily = r.family === 6 ? 6 : 4;
    const why = unknockable(r.address, resolvedFamily);
    if (why != null) {
      return badRemote(
        `cannot knock ${quoteValue(remote)}: it resolves to ${r.address}, ${why}`,
      );
    }
    return { remote: { address: r.address, family: resolvedFamily } };
  } catch (e) {
    return {
      diagnostic: {
        code: "REMOTE_UNRESOLVED",
        severity: "error",
        message: `cannot resolve ${quoteValue(remote)}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
        where: { kind: "argv", flag: "-remote" },
      },
    };
  }
}
