/**
 * Templates written for IPv4 that may be handed an IPv6 address (#15): a sealed knock carries an
 * IPv6 CLIENT as readily as an IPv4 one (sealed.md), and SOURCE is IPv6 when the knock came over
 * IPv6 (network mode captures both families; the built-in log format reads ip6tables lines).
 * `CLIENT/32` then becomes `2001:db8::1/32`, which iptables refuses and ip6tables reads as a
 * whole /32 network; `iptables -s CLIENT` refuses the address, so the door never opens (or never
 * closes). An audit-style warning per command line, naming the template and the fix.
 */
import type { CompiledRules } from "@portknock/engine";
import { quoteValue } from "@portknock/core";
import type { EnvironmentFinding } from "./environment.ts";
import type { LoadedDaemon } from "./load.ts";

type Action = CompiledRules["actions"][number];
type Expr = NonNullable<Action["condition"]>;

/** iptables binaries that take IPv4 only (`ip6tables*` is the IPv6 one). */
const IPTABLES = /(?:^|\/)iptables(?:-legacy|-nft)?$/;
/** An IPv4 prefix length right after the address: `/0` … `/32`, not `/64` or `/128`. */
const IPV4_PREFIX = /^\/([0-9]{1,2})(?![0-9])/;

/** The IP variables that may hold an IPv6 address, with the reason. */
function ipv6Variables(loaded: LoadedDaemon): Map<string, string> {
  const out = new Map<string, string>();
  out.set(
    "SOURCE",
    loaded.config.runmode === "network"
      ? "network mode captures IPv6 knocks too"
      : "the log may hold IPv6 lines (ip6tables, nftables inet)",
  );
  const hasClient = loaded.knock.layout.fields.some((f) => f.kind === "ip");
  if (loaded.knock.format === "sealed" && hasClient) {
    const why = "format = sealed carries IPv6 clients";
    out.set("CLIENT", why);
    out.set("IP", why);
  }
  return out;
}

/**
 * Variables whose family the condition already tests (`VAR =~ /:/`, `VAR !~ /:/`,
 * `inside(VAR, "10.0.0.0/8")`): the author chose, so nothing is said about them.
 */
function familyTested(
  expr: Expr | undefined,
  into = new Set<string>(),
): Set<string> {
  if (expr == null) return into;
  switch (expr.type) {
    case "match":
      if (expr.subject.type === "var") into.add(expr.subject.name);
      familyTested(expr.subject, into);
      break;
    case "inside":
      if (expr.ip.type === "var") into.add(expr.ip.name);
      break;
    case "unary":
      familyTested(expr.operand, into);
      break;
    case "binary":
      familyTested(expr.left, into);
      familyTested(expr.right, into);
      break;
    case "abs":
      familyTested(expr.arg, into);
      break;
    default:
      break;
  }
  return into;
}

/** Warnings for IPv4-only templates of actions in use that may receive an IPv6 address. */
export function findIpv6Hazards(loaded: LoadedDaemon): EnvironmentFinding[] {
  const risky = ipv6Variables(loaded);
  const out: EnvironmentFinding[] = [];
  const seen = new Set<string>();
  for (const action of loaded.rules.actions) {
    if (!action.use) continue;
    const tested = familyTested(action.condition);
    // CLIENT and IP are one field: testing either covers both.
    if (tested.has("CLIENT") || tested.has("IP"))
      tested.add("CLIENT").add("IP");
    for (const template of action.templates) {
      for (const grant of template.grants) {
        // compat's CLIENT is a 4-byte field: a client that knocks over IPv6 has its IPv4
        // address granted, and its IPv6 connection stays closed (issue #17).
        if (
          loaded.knock.format !== "compat" ||
          grant.to === "SOURCE" ||
          tested.has("SOURCE")
        )
          continue;
        out.push({
          code: "ENV_IPV6_GRANT_IPV4_CLIENT",
          severity: "warning",
          key: "grant",
          message: `<template ${template.name}> grant ${quoteValue(grant.text)}: ${grant.to} is IPv4 only in format = compat, but SOURCE may be IPv6 (${risky.get("SOURCE") ?? "IPv6 knocks"}): a client knocking over IPv6 is granted its IPv4 address and stays closed over IPv6; grant to SOURCE, or keep this action to IPv4 with condition SOURCE !~ /:/`,
          where: grant.where,
        });
      }
      for (const command of template.commands) {
        const first = command.words[0] ?? [];
        const program = first.every((p) => p.kind === "text")
          ? first.map((p) => p.text).join("")
          : "";
        const iptables = IPTABLES.test(program);
        for (const word of command.words.slice(1)) {
          word.forEach((part, i) => {
            if (part.kind !== "var" || tested.has(part.name)) return;
            const why = risky.get(part.name);
            if (why == null) return;
            const next = word[i + 1];
            const prefix =
              next?.kind === "text" ? IPV4_PREFIX.exec(next.text) : null;
            const bits = prefix != null ? Number(prefix[1]) : undefined;
            const hazard =
              bits != null && bits <= 32
                ? `/${bits}`
                : iptables
                  ? "iptables"
                  : undefined;
            const id = `${template.name}:${command.where.line}:${command.where.column ?? 0}:${part.name}`;
            if (hazard == null || seen.has(id)) return;
            seen.add(id);
            out.push({
              code: "ENV_IPV6_CLIENT_IPV4_TEMPLATE",
              severity: "warning",
              key: "system",
              message: hazardMessage(
                template.name,
                command.text,
                part.name,
                why,
                hazard,
              ),
              where: command.where,
            });
          });
        }
      }
    }
  }
  return out;
}

function hazardMessage(
  template: string,
  text: string,
  name: string,
  why: string,
  hazard: string,
): string {
  const head = `<template ${template}> ${quoteValue(text)}: ${name} may be an IPv6 address (${why})`;
  const fix = `run ip6tables for IPv6 in an action with condition ${name} =~ /:/, or keep this action to IPv4 with ${name} !~ /:/`;
  return hazard === "iptables"
    ? `${head}, which iptables refuses: an IPv6 knock opens nothing, and a close fails; ${fix}`
    : `${head}, and ${name}${hazard} then reads "2001:db8::1${hazard}": iptables refuses it and ip6tables takes it as a whole ${hazard} network; write ${name} without ${hazard} (iptables and ip6tables read a bare address as one host) and ${fix}`;
}
