/**
 * The environment a loaded configuration will run in (#15), checked by `-check` and before the
 * daemon opens anything: the log file (file mode), the `logcommand` and action executables, the
 * capture interfaces (network mode), and templates that cannot take the IPv6 addresses the knock
 * may carry (`ipv6-templates.ts`). Syntax is `load.ts`'s job; this is what the file system and
 * the kernel say. The statefile's directory is `statefile-dir.ts` (it may be created).
 */
import {
  accessSync,
  constants,
  lstatSync,
  readFileSync,
  statSync,
} from "node:fs";
import type { Stats } from "node:fs";
import { networkInterfaces } from "node:os";
import type { ConfigWhere } from "@portknock/config";
import { describeFileKind, formatWhere, quoteValue } from "@portknock/core";
import type { Logger } from "@portknock/core";
import { checkExecutable } from "@portknock/engine";
import type { DaemonArgs } from "./argv.ts";
import type { KnockdCode } from "./codes.ts";
import { findIpv6Hazards } from "./ipv6-templates.ts";
import type { LoadedDaemon } from "./load.ts";

/** One finding about the environment. */
export interface EnvironmentFinding {
  code: Extract<KnockdCode, `ENV_${string}`>;
  /** `error` stops the start (and makes `-check` exit 1); `warning` is logged. */
  severity: "error" | "warning";
  /** The configuration key it is about: `logfile`, `logcommand`, `interface` or `system`. */
  key: string;
  /** One sentence: the key, the path or name, and the OS's reason. */
  message: string;
  /** Where the value was written, when it was (a default has no place). */
  where?: ConfigWhere;
}

/** Options of `checkEnvironment`: how the daemon will run. */
export interface EnvironmentOptions {
  /** `-replay FILE`: the replayed file is the source, so `logfile`, `logcommand` and `interface` are not used. */
  replay: boolean;
  /** `-test`: no action runs, so a missing action executable is only a warning. */
  test: boolean;
  /** The `PATH` commands are looked up in: the daemon's own (`spawnRunner` passes its environment on). */
  pathVariable: string | undefined;
  /** The kernel's list of network devices (tests). Default `/proc/self/net/dev`. */
  netDevFile?: string;
}

/** The options for a daemon started with `args`. */
export function environmentOptions(args: DaemonArgs): EnvironmentOptions {
  return {
    replay: args.replay != null,
    test: args.test,
    // spawnRunner() and the logcommand's spawn pass the daemon's own environment on.
    pathVariable: process.env.PATH,
  };
}

/** Checks what `loaded` needs from the machine. Never throws; never opens the log file. */
export function checkEnvironment(
  loaded: LoadedDaemon,
  options: EnvironmentOptions,
): EnvironmentFinding[] {
  const c = loaded.config;
  const out: EnvironmentFinding[] = [];
  if (!options.replay) {
    if (c.runmode === "network") {
      out.push(
        ...checkInterfaces(c.interfaces, c.where.get("interface"), options),
      );
    } else if (loaded.logCommand != null) {
      const [file = ""] = loaded.logCommand;
      // The source runs with -test too: always an error.
      out.push(
        ...executableFinding(file, "logcommand", "logcommand:", false, {
          ...options,
          where: c.where.get("logcommand"),
        }),
      );
    } else {
      out.push(...checkLogfile(c.logfile, c.where.get("logfile")));
    }
  }
  out.push(...checkActionExecutables(loaded, options));
  out.push(...findIpv6Hazards(loaded));
  return out;
}

function at(where: ConfigWhere | undefined): { where?: ConfigWhere } {
  return where != null ? { where } : {};
}

/** `ENOENT (no such file or directory)` for a Node fs error (its syscall and path left out). */
function osReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const text = /^[A-Z]+: ([^,]+)/.exec(e.message ?? "")?.[1];
  return e.code != null
    ? `${e.code}${text != null ? ` (${text})` : ""}`
    : String(error);
}

/**
 * File mode: the log must be a readable regular file. Only stat and access(2): a FIFO is never
 * opened (that would block until a writer comes). Missing is a warning: the follower waits for
 * it (a log that a firewall rule creates on its first line).
 */
export function checkLogfile(
  path: string,
  where: ConfigWhere | undefined,
): EnvironmentFinding[] {
  const finding = (
    code: EnvironmentFinding["code"],
    severity: EnvironmentFinding["severity"],
    message: string,
  ): EnvironmentFinding[] => [
    {
      code,
      severity,
      key: "logfile",
      message: `logfile ${quoteValue(path)} ${message}`,
      ...at(where),
    },
  ];
  let st: Stats;
  try {
    st = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      return finding(
        "ENV_LOGFILE_UNREADABLE",
        "error",
        `cannot be used: ${osReason(error)}`,
      );
    }
    const dangling =
      lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true;
    return finding(
      "ENV_LOGFILE_MISSING",
      "warning",
      `${dangling ? "is a symbolic link to a file that does not exist" : "does not exist"} (ENOENT) yet: knockd waits for it and reads it from its start; check that the firewall logs there`,
    );
  }
  if (!st.isFile()) {
    return finding(
      "ENV_LOGFILE_NOT_REGULAR",
      "error",
      `is ${describeFileKind(st)}, not a regular file: knockd follows a file like tail -F; for a stream use logcommand`,
    );
  }
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    return finding(
      "ENV_LOGFILE_UNREADABLE",
      "error",
      `cannot be read: ${osReason(error)}`,
    );
  }
  return [];
}

/**
 * The network devices of this process's network namespace. `/proc/self/net/dev` lists every
 * device, up or down (`os.networkInterfaces()` leaves out those without an address or down), and
 * follows the process's own namespace (`/sys/class/net` shows the namespace sysfs was mounted in,
 * which `nsenter --net` does not change). Elsewhere, the interfaces that are up.
 */
function listInterfaces(file: string): {
  names: Set<string>;
  complete: boolean;
} {
  try {
    const names = readFileSync(file, "utf8")
      .split("\n")
      .slice(2)
      .map((line) => line.split(":")[0]!.trim())
      .filter((name) => name !== "");
    return { names: new Set(names), complete: true };
  } catch {
    return {
      names: new Set(Object.keys(networkInterfaces())),
      complete: false,
    };
  }
}

/** Network mode: every `interface` exists (`any` is libpcap's all-devices pseudo-device). */
export function checkInterfaces(
  interfaces: readonly string[],
  where: ConfigWhere | undefined,
  options: Pick<EnvironmentOptions, "netDevFile">,
): EnvironmentFinding[] {
  const wanted = interfaces.filter((name) => name !== "any");
  if (wanted.length === 0) return [];
  const { names, complete } = listInterfaces(
    options.netDevFile ?? "/proc/self/net/dev",
  );
  const out: EnvironmentFinding[] = [];
  for (const name of wanted) {
    // An alias label (eth0:1) captures on its device.
    if (names.has(name.split(":")[0]!)) continue;
    const known = [...names].sort().join(", ") || "none";
    out.push({
      code: "ENV_INTERFACE_MISSING",
      severity: complete ? "error" : "warning",
      key: "interface",
      message: complete
        ? `interface ${quoteValue(name)} does not exist in this network namespace (ENODEV); devices: ${known}`
        : `interface ${quoteValue(name)} is not among the interfaces that are up (${known}); a device that is down cannot be told from a missing one here`,
      ...at(where),
    });
  }
  return out;
}

/** The finding for a program that would not start (a warning when `soft`), or none. */
function executableFinding(
  file: string,
  key: string,
  label: string,
  soft: boolean,
  options: { pathVariable: string | undefined; where: ConfigWhere | undefined },
): EnvironmentFinding[] {
  const problem = checkExecutable(file, options.pathVariable);
  if (problem == null) return [];
  return [
    {
      code:
        problem.reason === "missing"
          ? "ENV_EXECUTABLE_MISSING"
          : "ENV_EXECUTABLE_NOT_EXECUTABLE",
      severity: soft ? "warning" : "error",
      key,
      message: `${label} ${quoteValue(file)} ${problem.message}${soft ? "; -test runs no command, a real start would stop here" : ""}`,
      ...at(options.where),
    },
  ];
}

/**
 * Every `system` command of the templates of actions in use: its executable must start, found
 * the way `spawnRunner` finds it. A command word built from a variable is not checked (its value
 * is known only at knock time). One finding per command line, naming the first action using it.
 */
function checkActionExecutables(
  loaded: LoadedDaemon,
  options: EnvironmentOptions,
): EnvironmentFinding[] {
  const out: EnvironmentFinding[] = [];
  const seen = new Set<string>();
  for (const action of loaded.rules.actions) {
    if (!action.use) continue;
    for (const template of action.templates) {
      for (const command of template.commands) {
        const first = command.words[0] ?? [];
        const [only] = first;
        if (first.length !== 1 || only?.kind !== "text") continue;
        const id = formatWhere(command.where);
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(
          ...executableFinding(
            only.text,
            "system",
            `<template ${template.name}> (action at ${action.label}):`,
            options.test,
            { ...options, where: command.where },
          ),
        );
      }
    }
  }
  return out;
}

/** One finding as `-check` prints it: `error CODE: message (file:line)`. */
export function formatFinding(f: EnvironmentFinding): string {
  return `${f.severity} ${f.code}: ${f.message}${f.where != null ? ` (${formatWhere(f.where)})` : ""}`;
}

/**
 * Logs each finding (`event`, `code`, `setting` = its key, `source` = file:line); true when any
 * is an error.
 */
export function logFindings(
  findings: readonly EnvironmentFinding[],
  logger: Logger,
  event: string,
): boolean {
  for (const f of findings) {
    const fields = {
      event,
      code: f.code,
      // Not `key`: the logger redacts that field (it is the knock key elsewhere).
      setting: f.key,
      ...(f.where != null ? { source: formatWhere(f.where) } : {}),
    };
    if (f.severity === "error") logger.error(fields, f.message);
    else logger.warn(fields, f.message);
  }
  return findings.some((f) => f.severity === "error");
}
