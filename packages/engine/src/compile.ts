/**
 * Load time: turns the `<actions>` block into compiled rules (spec: daemon.md §4–7). Every
 * condition, command line and state statement is parsed once here; all findings are collected.
 */
import type {
  ActionsConfig,
  ConfigWhere,
  TemplateConfig,
} from "@portknock/config";
import type { Diagnostic } from "@portknock/core";
import type { Expr, StateStatement } from "./ast.ts";
import type { CompiledGrant } from "./grant.ts";
import { checkExecutable } from "./executable.ts";
import type { CommandWord } from "./parse-command.ts";
import { parseCommand } from "./parse-command.ts";
import { parseCondition } from "./parse-condition.ts";
import { parseStateStatements } from "./parse-state.ts";
import type { VariableKind } from "./variables.ts";
import { knownVariables } from "./variables.ts";

/** Options of `compileActions`. */
export interface CompileOptions {
  /** The knock's field list in wire order, e.g. `["CLIENT","PORT","FLAG0","CHECKSUM"]`. */
  fields: readonly string[];
  /** An embedder's own variables and their kinds, in addition to the knock's. */
  variables?: Readonly<Record<string, VariableKind>>;
  /** Warn about executables that do not exist. Default true. */
  checkExecutables?: boolean;
  /**
   * The `PATH` bare command names are looked up in. Default `process.env.PATH` (unset: glibc's
   * `/bin:/usr/bin`, as `spawnRunner` would search).
   */
  pathVariable?: string;
}

/** One `system` command line, split into words at load. */
export interface CompiledCommand {
  text: string;
  where: ConfigWhere;
  words: CommandWord[];
}

/** One `<template NAME>`, compiled. */
export interface CompiledTemplate {
  name: string;
  where: ConfigWhere;
  commands: CompiledCommand[];
  state: StateStatement[];
  /** `grant = …` (issue #17), in order; applied before the commands. */
  grants: CompiledGrant[];
}

/** One `<action>`, compiled. */
export interface CompiledAction {
  /** Position in the file, from 0. */
  index: number;
  where: ConfigWhere;
  /** `file:line` of the `<action>` block, for logs. */
  label: string;
  /** Absent: always true. */
  condition?: Expr;
  templates: CompiledTemplate[];
  delayMs: number;
  use: boolean;
}

/** Everything the engine needs, built once at load. */
export interface CompiledRules {
  actions: readonly CompiledAction[];
  /** The variables known to this knock format, with their kinds. */
  variables: ReadonlyMap<string, VariableKind>;
}

/** Result of `compileActions`: the rules when there is no error, and every finding. */
export interface CompileResult {
  rules?: CompiledRules;
  diagnostics: Diagnostic[];
}

/**
 * Compiles the actions and templates of a config. Syntax errors, unknown names and functions,
 * bad regexes and CIDRs, shell metacharacters and unknown templates are error diagnostics with
 * file, line and column; a missing executable is a warning. `rules` is absent when any error
 * was found.
 * @throws TypeError when `fields` names something that is not a knock field.
 */
export function compileActions(
  config: ActionsConfig,
  options: CompileOptions,
): CompileResult {
  const variables = knownVariables(options.fields, options.variables);
  const diagnostics: Diagnostic[] = [];
  const compiled = new Map<string, CompiledTemplate>();
  const ctx = {
    variables,
    checkExecutables: options.checkExecutables ?? true,
    pathVariable: options.pathVariable ?? process.env.PATH,
  };
  const actions = config.actions.map((action, index): CompiledAction => {
    if (!(action.delayMs >= 0 && Number.isFinite(action.delayMs))) {
      throw new RangeError(
        `action ${index}: delayMs must be a finite number ≥ 0, got ${action.delayMs}`,
      );
    }
    let condition: Expr | undefined;
    if (action.condition) {
      const parsed = parseCondition(action.condition.text, {
        variables,
        where: action.condition.where,
      });
      diagnostics.push(...parsed.diagnostics);
      condition = parsed.expr;
    }
    const templates: CompiledTemplate[] = [];
    for (const ref of action.templates) {
      const config_ = config.templates.get(ref.text);
      if (config_ == null) {
        diagnostics.push({
          code: "ENGINE_UNKNOWN_TEMPLATE",
          severity: "error",
          message: `no <template ${ref.text}> block; template names are case-sensitive`,
          where: ref.where,
        });
        continue;
      }
      let template = compiled.get(ref.text);
      if (template == null) {
        template = compileTemplate(config_, ctx, diagnostics);
        compiled.set(ref.text, template);
      }
      templates.push(template);
      if (action.delayMs > 0 && template.grants.length > 0) {
        diagnostics.push({
          code: "ENGINE_GRANT_UNUSABLE",
          severity: "error",
          message: `<template ${ref.text}> has a grant, which cannot be delayed (delay at line ${action.where.line}): grants expire in the kernel, so no close is needed; put the grant in an action without delay`,
          where: ref.where,
        });
      }
    }
    const base = {
      index,
      where: action.where,
      label: `${action.where.file}:${action.where.line}`,
      templates,
      delayMs: action.delayMs,
      use: action.use,
    };
    return condition ? { ...base, condition } : base;
  });
  const failed = diagnostics.some((d) => d.severity === "error");
  return failed
    ? { diagnostics }
    : { rules: { actions, variables }, diagnostics };
}

interface TemplateContext {
  variables: ReadonlyMap<string, VariableKind>;
  checkExecutables: boolean;
  pathVariable: string | undefined;
}

function compileTemplate(
  template: TemplateConfig,
  ctx: TemplateContext,
  diagnostics: Diagnostic[],
): CompiledTemplate {
  const commands: CompiledCommand[] = [];
  for (const line of template.system) {
    const parsed = parseCommand(line.text, {
      variables: ctx.variables,
      where: line.where,
    });
    diagnostics.push(...parsed.diagnostics);
    if (parsed.words == null) continue;
    const first = parsed.words[0] ?? [];
    const [only] = first;
    if (ctx.checkExecutables && first.length === 1 && only?.kind === "text") {
      const problem = checkExecutable(only.text, ctx.pathVariable);
      if (problem != null) {
        diagnostics.push({
          code: "ENGINE_EXECUTABLE_MISSING",
          severity: "warning",
          message: `<template ${template.name}>: ${JSON.stringify(only.text)} ${problem.message}; running it will fail`,
          where: line.where,
        });
      }
    }
    commands.push({ text: line.text, where: line.where, words: parsed.words });
  }
  const state: StateStatement[] = [];
  for (const line of template.state) {
    const parsed = parseStateStatements(line.text, {
      variables: ctx.variables,
      where: line.where,
    });
    diagnostics.push(...parsed.diagnostics);
    state.push(...(parsed.statements ?? []));
  }
  const grants: CompiledGrant[] = [];
  for (const g of template.grant ?? []) {
    const missing = [g.to, ...(g.port === "PORT" ? ["PORT"] : [])].filter(
      (name) => !ctx.variables.has(name),
    );
    if (missing.length > 0) {
      diagnostics.push({
        code: "ENGINE_GRANT_UNUSABLE",
        severity: "error",
        message: `<template ${template.name}>: grant uses ${missing.join(" and ")}, which this knock format does not have (use to SOURCE, or add the field to knock)`,
        where: g.where,
      });
      continue;
    }
    grants.push({
      text: g.text,
      where: g.where,
      protocol: g.protocol,
      port: g.port === "PORT" ? { variable: "PORT" } : g.port,
      to: g.to,
      lifetimeMs: g.lifetimeMs,
      // A TemplateConfig built by hand (not by the config parser) may predate scope.
      scope: template.scope ?? "local",
    });
  }
  return {
    name: template.name,
    where: template.where,
    commands,
    state,
    grants,
  };
}
