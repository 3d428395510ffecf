/**
 * From option values to knock values (client.md "Fields"): which value fills each field of a
 * knock layout, what is missing, what does not fit, and what was given for a field the knock does
 * not have. Pure: the local address a missing CLIENT defaults to is looked up by the caller.
 */
import { isIP } from "node:net";
import type { Diagnostic } from "@portknock/core";
import type { FieldSpec, KnockValues } from "@portknock/codec";
import type { KnockCode } from "./codes.ts";

/** The values a user gives for a knock's fields (`ClientConfig` has this shape). */
export interface KnockValueInput {
  /** CLIENT / IP: an IPv4 address (compat) or an IPv4 or IPv6 address (sealed). */
  client?: string | undefined;
  port?: number | undefined;
  /** FLAG0 … FLAG99 by number. */
  flags: ReadonlyMap<number, number>;
  /** TIME in Unix seconds; absent means now. */
  time?: number | undefined;
  mask?: number | undefined;
}

/** How `knockValues` fills the gaps. */
export interface KnockValuesOptions {
  /** `sealed` takes an IPv6 CLIENT too; `compat` only IPv4. */
  format: "compat" | "sealed";
  /** The clock, epoch milliseconds: the TIME value when `input.time` is absent. */
  nowMs: number;
  /** The CLIENT value when `input.client` is absent (the local address that routes to the remote). */
  defaultClient?: string | undefined;
  /** Said right after "give -client IP" when there is no `defaultClient`. */
  noDefaultClient?: string | undefined;
  /**
   * Option names (`client`, `port`, `flag1`, `time`, `mask`) that the user gave explicitly: those
   * for a field the knock does not have get a `KNOCK_FIELD_UNUSED` warning. Default none.
   */
  given?: readonly string[] | undefined;
}

/** Result of `knockValues`: the values when no error was found, and every finding. */
export interface KnockValuesResult {
  values?: KnockValues;
  diagnostics: Diagnostic<KnockCode>[];
}

const VALUE_OPTION = /^(client|port|time|mask|flag\d+)$/;

/** The option that sets a field of `kind` (`-client` for CLIENT/IP, `-flag3` for FLAG3). */
function optionFor(f: Pick<FieldSpec, "name" | "kind">): string {
  if (f.kind === "ip") return "client";
  if (f.kind === "flag") return `flag${Number(f.name.slice(4))}`;
  return f.kind;
}

function argvDiagnostic(
  code: KnockCode,
  severity: "error" | "warning",
  option: string,
  message: string,
): Diagnostic<KnockCode> {
  return {
    code,
    severity,
    message,
    where: { kind: "argv", flag: `-${option}` },
  };
}

/** The CLIENT/IP value, or the diagnostic saying why there is none. */
function clientValue(
  f: FieldSpec,
  input: KnockValueInput,
  options: KnockValuesOptions,
): string | Diagnostic<KnockCode> {
  const client = input.client ?? options.defaultClient;
  if (client == null) {
    const why =
      options.noDefaultClient ??
      ", or -remote to find the local address that routes to it";
    return argvDiagnostic(
      "ARGV_MISSING_VALUE",
      "error",
      "client",
      `${f.name}: give -client IP${why}`,
    );
  }
  const sealed = options.format === "sealed";
  if (sealed ? isIP(client) === 0 : isIP(client) !== 4) {
    return argvDiagnostic(
      "KNOCK_BAD_VALUE",
      "error",
      "client",
      sealed
        ? `${f.name} must be an IPv4 or IPv6 address, got ${JSON.stringify(client)}`
        : `${f.name} is a 4-byte IPv4 field in the compat format, got ${JSON.stringify(client)}; give -client with an IPv4 address`,
    );
  }
  return client;
}

/** The value of one field, or the diagnostic saying why there is none (CHECKSUM: undefined). */
function fieldValue(
  f: FieldSpec,
  input: KnockValueInput,
  options: KnockValuesOptions,
): string | number | Diagnostic<KnockCode> | undefined {
  const missing = (option: string, message: string): Diagnostic<KnockCode> =>
    argvDiagnostic("ARGV_MISSING_VALUE", "error", option, message);
  switch (f.kind) {
    case "ip":
      return clientValue(f, input, options);
    case "port":
      return (
        input.port ??
        missing("port", "the knock has a PORT field: give -port N")
      );
    case "flag": {
      const n = Number(f.name.slice(4));
      return (
        input.flags.get(n) ??
        missing(`flag${n}`, `the knock has a ${f.name} field: give -flag${n} N`)
      );
    }
    case "time":
      return input.time ?? Math.floor(options.nowMs / 1000);
    case "mask":
      return (
        input.mask ??
        missing("mask", "the knock has a MASK field: give -mask N (0–32)")
      );
    case "checksum":
      return undefined;
  }
}

/**
 * Fills the fields of a knock layout from option values, in field order. A missing value is an
 * `ARGV_MISSING_VALUE` error and a CLIENT that is not an address of the format's family a
 * `KNOCK_BAD_VALUE` error, each naming its option (`-port`, `-client`); TIME defaults to
 * `nowMs`. Values out of range for their field are left to `encodeKnock`. Options in `given`
 * that no field uses get a `KNOCK_FIELD_UNUSED` warning (#14). Never throws.
 */
export function knockValues(
  fields: readonly FieldSpec[],
  input: KnockValueInput,
  options: KnockValuesOptions,
): KnockValuesResult {
  const values: Record<string, string | number> = {};
  const diagnostics: Diagnostic<KnockCode>[] = [];
  for (const f of fields) {
    const v = fieldValue(f, input, options);
    if (typeof v === "object") diagnostics.push(v);
    else if (v !== undefined) values[f.name] = v;
  }
  const used = new Set(fields.map(optionFor));
  const layout = fields.map((f) => f.name).join(",");
  for (const option of options.given ?? []) {
    if (!VALUE_OPTION.test(option) || used.has(option)) continue;
    // sealed: -time is the time of the nonce (prepareKnock), not a field.
    if (option === "time" && options.format === "sealed") continue;
    const field = option === "client" ? "CLIENT or IP" : option.toUpperCase();
    diagnostics.push(
      argvDiagnostic(
        "KNOCK_FIELD_UNUSED",
        "warning",
        option,
        `the knock (${layout}) has no ${field} field: -${option} is ignored`,
      ),
    );
  }
  return diagnostics.some((d) => d.severity === "error")
    ? { diagnostics }
    : { values, diagnostics };
}
