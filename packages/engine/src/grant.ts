/**
 * Template `grant`s (issue #17): open PROTO/PORT to the knock's address for a lifetime, through an
 * injected `grant` function (knockd's is `@portknock/firewall`; the engine does not depend on it).
 * The address and port are substituted and validated like `system` words; what is granted is
 * reported like a command (counters, one log line); the kernel expires it, so there is no close.
 */
import type { ConfigWhere } from "@portknock/config";
import type { Logger } from "@portknock/core";
import { escapeInput, normalizeIp, parseIpv6 } from "@portknock/core";
import type { EngineCounters } from "./engine-types.ts";
import { RefusalSignal } from "./errors.ts";
import type { Bindings } from "./substitute.ts";
import { substituteVariable } from "./substitute.ts";

/** One grant to apply: a strict IP (normal form), a protocol, a port and a lifetime. */
export interface GrantRequest {
  /** IPv4 dotted quad or IPv6 in RFC 5952 form (an IPv4-mapped IPv6 address becomes IPv4). */
  address: string;
  family: 4 | 6;
  protocol: "tcp" | "udp";
  /** 0–65535. */
  port: number;
  /** Whole ms, ≥ 1. */
  lifetimeMs: number;
  /**
   * The template's `scope` (issue #19): `local` applies the grant on this gateway only; `cluster`
   * also asks the embedder to publish it to every gateway (knockd: `@portknock/cluster`'s grant
   * bus). The engine treats both alike: the injected `grant` decides what `cluster` means.
   */
  scope: "local" | "cluster";
}

/** What an injected `grant` reports: done, or the granter's own code and message. */
export type GrantResult =
  { ok: true } | { ok: false; code: string; message: string };

/**
 * Applies one grant (knockd: `firewall.grant`). Should not reject; a rejection is reported as a
 * failed grant with code `ENGINE_GRANT_FAILED`.
 */
export type GrantFn = (request: GrantRequest) => Promise<GrantResult>;

/** One compiled `grant = …` of a template. */
export interface CompiledGrant {
  text: string;
  where: ConfigWhere;
  protocol: "tcp" | "udp";
  /** A port, or the name of the knock variable that holds it. */
  port: number | { variable: string };
  /** The knock variable that holds the address (`CLIENT`, `SOURCE`). */
  to: string;
  lifetimeMs: number;
  /** The template's `scope` (issue #19), carried into each `GrantRequest`. */
  scope: "local" | "cluster";
}

/** A grant that was tried: the request, and the granter's code when it failed. */
export interface GrantOutcome {
  request: GrantRequest;
  ok: boolean;
  /** The granter's code (e.g. `FIREWALL_COMMAND_FAILED`) when `ok` is false. */
  code?: string;
  message?: string;
}

/**
 * The request of `g` for one knock: the address and port substituted and validated (a bad value
 * refuses the whole action: `ENGINE_VALUE_INVALID`, `ENGINE_VALUE_MISSING`, or
 * `ENGINE_GRANT_BAD_ADDRESS` for an address no packet comes from: unspecified, multicast,
 * broadcast).
 */
export function substituteGrant(g: CompiledGrant, b: Bindings): GrantRequest {
  const text = substituteVariable(b, g.to);
  let address = normalizeIp(text);
  if (address === undefined) {
    throw new RefusalSignal({
      code: "ENGINE_VALUE_INVALID",
      message: `${g.to} is not a valid ip`,
      input: text,
    });
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped?.[1] !== undefined) address = mapped[1];
  const family = address.includes(":") ? 6 : 4;
  if (!isGrantableAddress(address, family)) {
    throw new RefusalSignal({
      code: "ENGINE_GRANT_BAD_ADDRESS",
      message: `grant ${g.text}: ${g.to} is an address no packet comes from (unspecified, multicast or broadcast)`,
      input: text,
    });
  }
  const port =
    typeof g.port === "number"
      ? g.port
      : Number(substituteVariable(b, g.port.variable));
  return {
    address,
    family,
    protocol: g.protocol,
    port,
    lifetimeMs: g.lifetimeMs,
    scope: g.scope,
  };
}

/**
 * Whether a packet can come from `address` (normal form, of `family`): not unspecified, multicast
 * or broadcast. A grant to any other address is refused (`ENGINE_GRANT_BAD_ADDRESS`); the cluster's
 * grant stream refuses such entries the same way.
 */
export function isGrantableAddress(address: string, family: 4 | 6): boolean {
  if (family === 4) {
    const first = Number(address.split(".")[0]);
    return (
      address !== "0.0.0.0" && address !== "255.255.255.255" && first < 224
    );
  }
  const bytes = parseIpv6(address);
  if (bytes === undefined) return false;
  return bytes[0] !== 0xff && bytes.some((x) => x !== 0);
}

/** What running grants needs. */
export interface GrantContext {
  grant: GrantFn;
  logger: Logger;
  counters: EngineCounters;
}

/** Applies `requests` one after the other; `label` names the action in logs. */
export async function runGrants(
  ctx: GrantContext,
  label: string,
  requests: readonly GrantRequest[],
): Promise<GrantOutcome[]> {
  const outcomes: GrantOutcome[] = [];
  for (const request of requests) {
    ctx.counters.grantsRun++;
    const startMs = performance.now();
    let result: GrantResult;
    try {
      result = await ctx.grant(request);
    } catch (error) {
      result = {
        ok: false,
        code: "ENGINE_GRANT_FAILED",
        message: error instanceof Error ? error.message : String(error),
      };
    }
    const fields = {
      action: label,
      ip: request.address,
      protocol: request.protocol,
      port: request.port,
      lifetimeMs: request.lifetimeMs,
      scope: request.scope,
      ms: Math.round(performance.now() - startMs),
    };
    if (result.ok) {
      ctx.logger.info({ event: "action.granted", ...fields }, "grant applied");
      outcomes.push({ request, ok: true });
      continue;
    }
    ctx.counters.grantsFailed++;
    ctx.counters.failed.ENGINE_GRANT_FAILED =
      (ctx.counters.failed.ENGINE_GRANT_FAILED ?? 0) + 1;
    ctx.logger.error(
      {
        event: "action.failed",
        code: "ENGINE_GRANT_FAILED",
        reason: result.code,
        ...fields,
        error: escapeInput(result.message, 2000),
      },
      "grant failed",
    );
    outcomes.push({
      request,
      ok: false,
      code: result.code,
      message: result.message,
    });
  }
  return outcomes;
}
