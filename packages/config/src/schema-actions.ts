/**
 * The `<actions>` block: `<action>` blocks in file order and `<template NAME>` blocks (spec:
 * config.md "Daemon keys", daemon.md §4–7). Conditions, commands and state statements are carried
 * as written; the engine parses them.
 */
import type { Where } from "@portknock/core";
import { quoteValue } from "@portknock/core";
import type { GeneralBlock, GeneralValue } from "./general-tree.ts";
import type {
  ActionConfig,
  ActionsConfig,
  ConfigWhere,
  FirewallConfig,
  GrantTemplateConfig,
  LocatedText,
  TemplateConfig,
} from "./types.ts";
import type { SectionReader, Sink } from "./schema-reader.ts";
import { matchChoice } from "./schema-values.ts";
import { blockReader, located } from "./schema-blocks.ts";
import { parseGrantTemplate } from "./schema-firewall.ts";

/** The longest `delay`: one year. */
export const MAX_DELAY_MS: number = 365 * 86_400_000;

/** The values of a template's `scope` (issue #19). */
export const TEMPLATE_SCOPES: readonly ["local", "cluster"] = [
  "local",
  "cluster",
];

/**
 * Read the `<actions>` block(s) of the file (at most one is allowed). Every `template = NAME` must
 * name a `<template NAME>` of the block (names are case-sensitive). `cluster` is the `<cluster>`
 * line when the file has that block (`scope = cluster` needs it).
 */
export function readActions(
  blocks: readonly GeneralBlock[],
  sink: Sink,
  firewall?: FirewallConfig,
  cluster?: ConfigWhere,
): ActionsConfig {
  const [block, again] = blocks;
  if (again && block) {
    sink.diagnostics.push({
      code: "CONFIG_REPEATED_BLOCK",
      severity: "error",
      message: `<actions> may appear only once; the first is at line ${block.where.line}`,
      where: again.where,
    });
  }
  if (!block) return { actions: [], templates: new Map() };
  const r = blockReader(block, sink);
  const templates = new Map<string, TemplateConfig>();
  for (const [name, t] of r.named("template")) {
    templates.set(name, readTemplate(name, t, sink, firewall, cluster));
  }
  const actions = r
    .anonymous("action")
    .map((a) => readAction(a, templates, sink));
  r.finish();
  return { actions, templates };
}

function readTemplate(
  name: string,
  block: GeneralBlock,
  sink: Sink,
  firewall: FirewallConfig | undefined,
  cluster: ConfigWhere | undefined,
): TemplateConfig {
  const r = blockReader(block, sink);
  const nonEmpty = (key: string): LocatedText[] =>
    r.many(key).flatMap((v) => {
      if (v.text !== "") return [located(v)];
      r.error("CONFIG_EMPTY_VALUE", v.where, `${key} must not be empty`);
      return [];
    });
  const system = nonEmpty("system");
  const state = nonEmpty("state");
  const grant = r
    .many("grant")
    .flatMap((v) => readGrant(v, firewall, sink) ?? []);
  if (
    system.length === 0 &&
    state.length === 0 &&
    r.whereOf("grant") === undefined
  ) {
    r.error(
      "CONFIG_MISSING_KEY",
      block.where,
      `<template ${name}> needs system = COMMAND, state = STATEMENTS or grant = PROTO/PORT`,
    );
  }
  const scope = readScope(r, name, cluster);
  r.finish();
  return { name, where: block.where, system, state, grant, ...scope };
}

/**
 * `scope = local | cluster` (issue #19). `cluster` publishes the template's grants to every
 * gateway, so it needs a `<cluster>` block and a `grant`: commands and state never travel (Redis
 * must not become a remote shell), so a `cluster` template without a grant would share nothing.
 */
function readScope(
  r: SectionReader<GeneralValue>,
  name: string,
  cluster: ConfigWhere | undefined,
): Pick<TemplateConfig, "scope" | "scopeWhere"> {
  const v = r.one("scope");
  if (v === undefined) return { scope: "local" };
  const scope = matchChoice(v.text, TEMPLATE_SCOPES);
  if (scope === undefined) {
    r.error(
      "CONFIG_BAD_SCOPE",
      v.where,
      `scope must be local or cluster, got ${quoteValue(v.text)}`,
    );
    return { scope: "local" };
  }
  if (scope === "cluster" && cluster === undefined) {
    r.error(
      "CONFIG_SCOPE_NO_CLUSTER",
      v.where,
      `scope = cluster in <template ${name}> needs a <cluster> block (redis, name): there is no cluster to publish its grants to`,
    );
  }
  if (scope === "cluster" && r.whereOf("grant") === undefined) {
    r.error(
      "CONFIG_SCOPE_NO_GRANT",
      v.where,
      `scope = cluster in <template ${name}> shares only grants, and it has no grant = PROTO/PORT: system commands and state are never sent to other gateways`,
    );
  }
  return { scope, scopeWhere: v.where };
}

/** One `grant` value: its syntax, then whether the `<firewall>` block can carry it out. */
function readGrant(
  v: LocatedText,
  firewall: FirewallConfig | undefined,
  sink: Sink,
): GrantTemplateConfig | undefined {
  const g = parseGrantTemplate(v, firewall?.grantMs ?? 30_000, sink);
  if (!g) return undefined;
  const error = (
    code: "CONFIG_GRANT_NO_FIREWALL" | "CONFIG_GRANT_NOT_PROTECTED",
    message: string,
  ): undefined => {
    sink.diagnostics.push({ code, severity: "error", message, where: v.where });
    return undefined;
  };
  if (!firewall || firewall.backend === "none") {
    return error(
      "CONFIG_GRANT_NO_FIREWALL",
      firewall
        ? `grant needs a managed firewall, but <firewall> at line ${firewall.where.line} has backend = none; use system = … commands instead`
        : "grant needs a <firewall> block (backend, protect, grant lifetime): knockd manages no firewall without one",
    );
  }
  if (
    typeof g.port === "number" &&
    !firewall.protect.some(
      (p) => p.protocol === g.protocol && p.port === g.port,
    )
  ) {
    const list = firewall.protect.map((p) => `${p.protocol}/${p.port}`);
    return error(
      "CONFIG_GRANT_NOT_PROTECTED",
      `grant ${g.protocol}/${g.port} would open nothing: <firewall> protects only ${list.join(", ") || "no port"}; add protect = ${g.protocol}/${g.port}`,
    );
  }
  return g;
}

function readAction(
  block: GeneralBlock,
  templates: ReadonlyMap<string, TemplateConfig>,
  sink: Sink,
): ActionConfig {
  const r = blockReader(block, sink);
  const condition = r.text("condition");
  const delayMs = r.duration("delay", "m", 0, {
    minMs: 0,
    maxMs: MAX_DELAY_MS,
  });
  const names: LocatedText[] = [];
  for (const v of r.many("template")) {
    if (v.text === "") {
      r.error("CONFIG_EMPTY_VALUE", v.where, "template must name a <template>");
    } else if (!templates.has(v.text)) {
      r.error(
        "CONFIG_UNKNOWN_TEMPLATE",
        v.where,
        unknownTemplate(v.text, block.where.line, templates),
      );
    } else {
      names.push(located(v));
      const t = templates.get(v.text);
      if (t?.scope === "cluster" && delayMs > 0) {
        r.error(
          "CONFIG_SCOPE_DELAYED",
          v.where,
          `<template ${v.text}> has scope = cluster (line ${t.scopeWhere?.line ?? t.where.line}), which cannot be delayed (delay at line ${lineOf(r.whereOf("delay"))}): cluster grants are published when the knock is accepted; use an action without delay`,
        );
      }
    }
  }
  if (r.whereOf("template") === undefined) {
    r.error(
      "CONFIG_MISSING_KEY",
      block.where,
      "<action> needs at least one template = NAME",
    );
  }
  const use = r.bool("use", true);
  r.finish();
  return {
    where: block.where,
    ...(condition ? { condition: located(condition) } : {}),
    templates: names,
    delayMs,
    use,
  };
}

function lineOf(where: Where | undefined): number | string {
  return where?.kind === "config" ? where.line : "?";
}

function unknownTemplate(
  name: string,
  actionLine: number,
  templates: ReadonlyMap<string, TemplateConfig>,
): string {
  const known = [...templates.keys()];
  const lower = name.toLowerCase();
  const near = known.find((k) => k.toLowerCase() === lower);
  const hint = near
    ? `; names are case-sensitive: did you mean ${quoteValue(near)}?`
    : known.length > 0
      ? `; defined: ${known.join(", ")}`
      : "; no <template NAME> is defined";
  return `<action> at line ${actionLine} uses template ${quoteValue(name)}, which is not defined${hint}`;
}
