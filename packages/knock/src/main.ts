/**
 * `knock`: the port-knocking client (spec: client.md). Thin: options and config → codec → send.
 */
import { readFileSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { hostname } from "node:os";
import { randomBytes, randomInt } from "node:crypto";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { ClientConfig } from "@portknock/config";
import type { Diagnostic } from "@portknock/core";
import {
  findConfigFile,
  loadClientConfig,
  parseClientConfig,
} from "@portknock/config";
import { formatDiagnostic } from "@portknock/core";
import type { CodecIssue } from "@portknock/codec";
import { CodecError, compileKnockConfig, encodeKnock } from "@portknock/codec";
import { parseArgs } from "./argv.ts";
import type { Io } from "@portknock/core";
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from "@portknock/core";
import { localAddressFor } from "./local-address.ts";
import {
  defaultFileFormat,
  formatLogLine,
  syslogDate,
  unknownPlaceholders,
} from "./log-line.ts";
import { sendKnock } from "./send.ts";
import { sendKnockRaw } from "./send-raw.ts";
import { USAGE, readManual } from "./manual.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Options of `main` beyond the I/O streams: the clock, for tests. */
export interface MainOptions {
  now?: () => number;
}

class UsageFailure extends Error {}

/** Runs the client; returns the exit code (never calls `process.exit`). */
export async function main(
  argv: readonly string[],
  io: Io,
  options: MainOptions = {},
): Promise<number> {
  const say = (text: string): void => void io.stdout.write(text + "\n");
  const err = (text: string): void => void io.stderr.write(text + "\n");
  const report = (d: Diagnostic, source?: string): void =>
    err(`knock: ${formatDiagnostic(d, source)}`);

  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    report(parsed.diagnostic);
    return EXIT_USAGE;
  }
  const args = parsed.args;
  if (args.help) {
    say(USAGE);
    return EXIT_OK;
  }
  if (args.man) {
    say(readManual());
    return EXIT_OK;
  }
  if (args.genkey) {
    say(`base64:${randomBytes(32).toString("base64")}`);
    return EXIT_OK;
  }

  try {
    const config = loadConfig(
      args.conf,
      args.overrides,
      io,
      report,
      args.quiet,
    );
    const codecIssues = compileKnockConfig(config);
    for (const issue of codecIssues.issues) {
      if (issue.severity === "error" || !args.quiet)
        report(codecDiagnostic(issue, config, args.overrides));
    }
    if (codecIssues.config == null) return EXIT_USAGE;
    const codec = codecIssues.config;

    const debug = args.debug || config.debug === true;
    const test = args.test || config.test === true;
    const json = args.json || config.json === true;
    const send = !test && !config.logtofile;

    // Resolve the remote once (client.md: a host name is resolved once).
    let remote: { address: string; family: 4 | 6 } | undefined;
    if (config.remote != null) {
      remote = await resolveRemote(config.remote);
    } else if (send) {
      throw usage(
        "-remote",
        "ARGV_MISSING_VALUE",
        "no -remote given: whom should I knock?",
      );
    }

    const now = options.now ?? Date.now;
    const sealed = codec.format === "sealed";
    const values = await fieldValues(
      codec.layout.fields,
      config,
      remote,
      now,
      sealed,
    );
    let encoded;
    try {
      // sealed: the time travels in the nonce, from the same (injectable) clock.
      encoded = sealed
        ? encodeKnock(codec, values, { timeSeconds: Math.floor(now() / 1000) })
        : encodeKnock(codec, values);
    } catch (e) {
      if (e instanceof CodecError && e.field != null) {
        const flag = `-${e.field.toLowerCase() === "ip" ? "client" : e.field.toLowerCase()}`;
        throw usage(flag, "KNOCK_BAD_VALUE", e.message);
      }
      throw e;
    }
    if (debug) {
      err(`knock: fields ${JSON.stringify(values)}`);
      err(`knock: plaintext ${hex(encoded.plaintext)}`);
      err(`knock: wire ${hex(encoded.wire)}`);
      err(`knock: ${encoded.ports.length} ports ${encoded.ports.join(",")}`);
    }
    if (json) {
      say(
        JSON.stringify({
          plaintext: hex(encoded.plaintext),
          wire: hex(encoded.wire),
          ports: encoded.ports,
        }),
      );
    } else if (test) {
      say(encoded.ports.join(","));
    }
    if (test) return EXIT_OK;

    if (config.logtofile) {
      if (config.logfile == null)
        throw usage(
          "-logfile",
          "ARGV_MISSING_VALUE",
          "-logtofile needs -logfile FILE",
        );
      // The logged packet comes from the address the knock names (CLIENT), or else from the
      // local address that routes to the remote; its line layout follows that address's family.
      const named = values.CLIENT ?? values.IP;
      const ipclient =
        named != null
          ? String(named)
          : await localAddressFor(
              remote?.address ?? "127.0.0.1",
              remote?.family ?? 4,
            );
      const family = isIP(ipclient) === 6 ? 6 : 4;
      const ipserver =
        remote != null && remote.family === family
          ? remote.address
          : family === 6
            ? "::1"
            : "127.0.0.1";
      const format =
        config.fileformat ?? defaultFileFormat(config.protocol, family);
      const unknown = unknownPlaceholders(format);
      if (unknown.length > 0) {
        throw usage(
          "-fileformat",
          "ARGV_BAD_VALUE",
          `fileformat: unknown placeholder {${unknown[0]}}; known: {date} {host} {ipclient} {ipserver} {port} {protocol} {interface} {sport}`,
        );
      }
      const now = (options.now ?? Date.now)();
      const lines = encoded.ports.map((port) =>
        formatLogLine(format, {
          date: syslogDate(now),
          host: hostname(),
          ipclient,
          ipserver,
          port,
          protocol: config.protocol,
          interface: "lo",
          sport: randomInt(32768, 61000),
        }),
      );
      // One append: the lines of a knock arrive together and in order.
      await appendFile(config.logfile, lines.join("\n") + "\n");
      if (debug)
        err(`knock: appended ${lines.length} lines to ${config.logfile}`);
      return EXIT_OK;
    }

    if (config.method === "raw" && config.protocol === "udp") {
      throw usage(
        "-method",
        "ARGV_BAD_VALUE",
        "method = raw sends TCP SYNs; with protocol = udp use method = connect",
      );
    }
    const result =
      config.method === "raw"
        ? await sendKnockRaw(encoded.ports, {
            address: remote!.address,
            family: remote!.family,
            sourceAddress: await localAddressFor(
              remote!.address,
              remote!.family,
            ),
            delayMs: config.knockDelayMs,
          })
        : await sendKnock(encoded.ports, {
            address: remote!.address,
            family: remote!.family,
            protocol: config.protocol,
            delayMs: config.knockDelayMs,
          });
    for (const f of result.failures) err(`knock: port ${f.port}: ${f.code}`);
    if (debug)
      err(
        `knock: sent ${result.sent} of ${encoded.ports.length} to ${remote!.address}`,
      );
    return result.failures.length === 0 ? EXIT_OK : EXIT_RUNTIME;
  } catch (e) {
    if (e instanceof UsageFailure) return EXIT_USAGE;
    if (e instanceof UsageDiagnostic) {
      report(e.diagnostic);
      return EXIT_USAGE;
    }
    const code = (e as NodeJS.ErrnoException).code ?? "ERROR";
    err(`knock: ${code}: ${(e as Error).message}`);
    if (args.debug && e instanceof Error && e.stack) err(e.stack);
    return EXIT_RUNTIME;
  }

  function loadConfig(
    conf: string | undefined,
    overrides: Record<string, string>,
    ioArg: Io,
    show: (d: Diagnostic, source?: string) => void,
    quiet: boolean,
  ): ClientConfig {
    const file =
      conf ??
      findConfigFile("knockclient.conf", {
        home: ioArg.env.HOME,
        binDir: new URL("../bin/", import.meta.url).pathname,
      });
    const result =
      file != null
        ? loadClientConfig(file, { overrides })
        : parseClientConfig("", { file: "(no config file)", overrides });
    let source: string | undefined;
    try {
      source = file != null ? readFileSync(file, "utf8") : undefined;
    } catch {
      source = undefined;
    }
    for (const d of result.diagnostics) {
      if (d.severity === "error" || !quiet)
        show(
          d,
          d.where.kind === "config" && d.where.file === file
            ? source
            : undefined,
        );
    }
    if (result.config == null) throw new UsageFailure();
    return result.config;
  }
}

class UsageDiagnostic extends Error {
  readonly diagnostic: Diagnostic;
  constructor(diagnostic: Diagnostic) {
    super(diagnostic.message);
    this.diagnostic = diagnostic;
  }
}

function usage(flag: string, code: string, message: string): UsageDiagnostic {
  return new UsageDiagnostic({
    code,
    severity: "error",
    message,
    where: { kind: "argv", flag },
  });
}

/** A codec finding, located at the flag that set the key, or the config line. */
function codecDiagnostic(
  issue: CodecIssue,
  config: ClientConfig,
  overrides: Record<string, string>,
): Diagnostic {
  const where = config.where.get(issue.key);
  return {
    code: issue.code,
    severity: issue.severity,
    message: issue.message,
    where:
      issue.key in overrides || where == null
        ? { kind: "argv", flag: `-${issue.key}` }
        : where,
  };
}

async function resolveRemote(
  remote: string,
): Promise<{ address: string; family: 4 | 6 }> {
  const family = isIP(remote);
  if (family === 4 || family === 6) return { address: remote, family };
  try {
    const r = await lookup(remote);
    return { address: r.address, family: r.family === 6 ? 6 : 4 };
  } catch (e) {
    throw usage(
      "-remote",
      "REMOTE_UNRESOLVED",
      `cannot resolve ${JSON.stringify(remote)}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
}

async function fieldValues(
  fields: ReadonlyArray<{ name: string; kind: string }>,
  config: ClientConfig,
  remote: { address: string; family: 4 | 6 } | undefined,
  now: () => number,
  sealed: boolean,
): Promise<Record<string, string | number>> {
  const values: Record<string, string | number> = {};
  for (const f of fields) {
    switch (f.kind) {
      case "ip": {
        let client = config.client;
        if (client == null) {
          if (remote == null)
            throw usage(
              "-client",
              "ARGV_MISSING_VALUE",
              `${f.name}: give -client IP, or -remote to find the local address that routes to it`,
            );
          client = await localAddressFor(remote.address, remote.family);
        }
        if (sealed ? isIP(client) === 0 : isIP(client) !== 4) {
          throw usage(
            "-client",
            "KNOCK_BAD_VALUE",
            sealed
              ? `${f.name} must be an IPv4 or IPv6 address, got ${JSON.stringify(client)}`
              : `${f.name} is a 4-byte IPv4 field in the compat format, got ${JSON.stringify(client)}; give -client with an IPv4 address`,
          );
        }
        values[f.name] = client;
        break;
      }
      case "port":
        if (config.port == null)
          throw usage(
            "-port",
            "ARGV_MISSING_VALUE",
            "the knock has a PORT field: give -port N",
          );
        values[f.name] = config.port;
        break;
      case "flag": {
        const n = Number(f.name.slice(4));
        const v = config.flags.get(n);
        if (v == null)
          throw usage(
            `-flag${n}`,
            "ARGV_MISSING_VALUE",
            `the knock has a ${f.name} field: give -flag${n} N`,
          );
        values[f.name] = v;
        break;
      }
      case "time":
        values[f.name] = config.time ?? Math.floor(now() / 1000);
        break;
      case "mask":
        if (config.mask == null)
          throw usage(
            "-mask",
            "ARGV_MISSING_VALUE",
            "the knock has a MASK field: give -mask N (0–32)",
          );
        values[f.name] = config.mask;
        break;
    }
  }
  return values;
}
