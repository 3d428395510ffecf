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

/** The remote's address: an IP literal as is, a host name resolved only when `resolve`. */
export async function locateRemote(
  remote: string | undefined,
  resolve: boolean,
): Promise<RemoteResult> {
  if (remote == null) return {};
  const family = isIP(remote);
  if (family === 4 || family === 6)
    return { remote: { address: remote, family } };
  if (!resolve) return { unresolvedName: remote };
  try {
    const r = await lookup(remote);
    return { remote: { address: r.address, family: r.family === 6 ? 6 : 4 } };
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
