/**
 * `knockd -init`'s flags, checked (issue #17): every bad flag is a diagnostic naming it, all of
 * them reported at once; what is left is an `InitPlan` the two config files are written from
 * (init-render.ts). Pure: whether `-dir` exists is `commands/init.ts`'s business.
 */
import { isIP } from "node:net";
import type { Diagnostic } from "@portknock/core";
import { quoteValue } from "@portknock/core";
import { compileKnockConfig } from "@portknock/codec";
import { MAX_GRANT_LIFETIME_MS } from "@portknock/config";
import type { DaemonArgs } from "./argv.ts";
import type { KnockdCode } from "./codes.ts";

/** A port the managed firewall closes to all but granted sources. */
export interface InitProtect {
  protocol: "tcp" | "udp";
  port: number;
}

/** What `knockd -init` writes, every value checked. */
export interface InitPlan {
  protect: InitProtect[];
  /** Network mode's capture interfaces (may be empty in file mode). */
  interfaces: string[];
  /** The gateway as the client names it: a host name or an IP literal. */
  remote: string;
  /** The grant lifetime as written into `<firewall>` (`30s`), and in ms. */
  grant: string;
  grantMs: number;
  runmode: "network" | "file";
  portspan: string;
  statefile: string;
  dir: string;
}

/** The grant lifetime, the statefile and the NFLOG group -init uses when not told otherwise. */
export const INIT_DEFAULTS = {
  grant: "30s",
  runmode: "network",
  statefile: "/var/lib/portknock/state.json",
  nflogGroup: 5,
  logfile: "/var/log/ulog/portknock.log",
} as const;

// The sizes tried for a span left to -init, largest first: 32768 ports carry 15 bits each.
const SPAN_SIZES = [32768, 16384, 8192, 4096, 2048, 1024, 512, 256];
const SPAN_FIRST = 1024;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const PLAIN_PATH = /^\/[A-Za-z0-9._+/-]*[A-Za-z0-9._+-]$/;

type Fail = (code: KnockdCode, flag: string, message: string) => void;

/**
 * The options -init refuses beside it (`DaemonArgs` field → flag). Read by name, so that an
 * option another command adds (`firewallRemove`, issue #17) is refused as soon as it exists.
 */
const NOT_WITH_INIT: Readonly<Record<string, string>> = {
  conf: "-conf",
  replay: "-replay",
  check: "-check",
  test: "-test",
  firewallRemove: "-firewall-remove",
};

/**
 * The first of `-init`'s own flags given without `-init` (`INIT_FLAG_MISUSE`), if any: they
 * would otherwise be ignored silently.
 */
export function initFlagsAlone(args: DaemonArgs): Diagnostic | undefined {
  if (args.init) return undefined;
  const [name] = [...args.initFlags.keys()];
  if (name === undefined) return undefined;
  return {
    code: "INIT_FLAG_MISUSE",
    severity: "error",
    message: `-${name} goes with -init (knockd -init … -dir DIR writes a new configuration); a running knockd reads its settings from -conf`,
    where: { kind: "argv", flag: `-${name}` },
  };
}

/**
 * Checks `-init`'s flags; `diagnostics` has one error per problem (each naming its flag, code
 * `INIT_*`), and `plan` is there only when there are none. Never throws.
 */
export function planInit(args: DaemonArgs): {
  plan?: InitPlan;
  diagnostics: Diagnostic[];
} {
  const diagnostics: Diagnostic[] = [];
  const fail: Fail = (code, flag, message) =>
    void diagnostics.push({
      code,
      severity: "error",
      message,
      where: { kind: "argv", flag },
    });
  const given = args as unknown as Record<string, unknown>;
  for (const [name, flag] of Object.entries(NOT_WITH_INIT)) {
    if (given[name] !== undefined && given[name] !== false) {
      fail(
        "INIT_FLAG_MISUSE",
        flag,
        `-init writes a new configuration and takes no ${flag}`,
      );
    }
  }
  const flags = args.initFlags;
  const one = (name: string, required?: string): string | undefined => {
    const values = flags.get(name) ?? [];
    if (values.length > 1) {
      fail(
        "INIT_FLAG_MISUSE",
        `-${name}`,
        `-${name} may be given once, got ${values.length} values`,
      );
    } else if (values.length === 0 && required !== undefined) {
      fail("INIT_MISSING_FLAG", `-${name}`, `-init needs -${name} ${required}`);
    }
    return values[0];
  };
  const runmode = readRunmode(one("runmode"), fail);
  const protect = readProtect(flags.get("protect") ?? [], fail);
  const interfaces = readInterfaces(
    flags.get("interface") ?? [],
    runmode === "network",
    fail,
  );
  const remote = readRemote(
    one("remote", "HOST: the gateway's name or address as clients reach it"),
    fail,
  );
  const grant = readGrant(one("grant") ?? INIT_DEFAULTS.grant, fail);
  const statefile = readStatefile(
    one("statefile") ?? INIT_DEFAULTS.statefile,
    fail,
  );
  const spanText = one("portspan");
  const portspan = protect && readPortspan(spanText, protect, fail);
  const dir = one(
    "dir",
    "DIR: the directory to write knockdaemon.conf and knockclient.conf in",
  );
  if (diagnostics.length > 0) return { diagnostics };
  return {
    plan: {
      protect: protect!,
      interfaces: interfaces!,
      remote: remote!,
      grant: grant!.text,
      grantMs: grant!.ms,
      runmode: runmode!,
      portspan: portspan!,
      statefile: statefile!,
      dir: dir!,
    },
    diagnostics,
  };
}

function readRunmode(
  text: string | undefined,
  fail: Fail,
): "network" | "file" | undefined {
  const mode = (text ?? INIT_DEFAULTS.runmode).toLowerCase();
  if (mode === "network" || mode === "file") return mode;
  fail(
    "INIT_BAD_RUNMODE",
    "-runmode",
    `-runmode is network (capture on -interface) or file (read ulogd2's log), got ${quoteValue(text ?? "")}`,
  );
  return undefined;
}

/** `-protect tcp/22` (repeatable; `tcp/22,udp/53` lists allowed). */
function readProtect(
  values: readonly string[],
  fail: Fail,
): InitProtect[] | undefined {
  if (values.length === 0) {
    fail(
      "INIT_MISSING_FLAG",
      "-protect",
      "-init needs -protect tcp/PORT (or udp/PORT): the port the knock opens",
    );
    return undefined;
  }
  const out: InitProtect[] = [];
  let ok = true;
  for (const word of values.flatMap((v) => v.split(/[\s,]+/))) {
    const m = /^(tcp|udp)\/([1-9]\d{0,4})$/i.exec(word);
    const port = Number(m?.[2]);
    if (!m || port > 65535) {
      fail(
        "INIT_BAD_PROTECT",
        "-protect",
        `-protect is tcp/PORT or udp/PORT with PORT 1–65535 (no leading zeros), got ${quoteValue(word)}`,
      );
      ok = false;
      continue;
    }
    const protocol = m[1]!.toLowerCase() as "tcp" | "udp";
    if (out.some((p) => p.protocol === protocol && p.port === port)) {
      fail(
        "INIT_BAD_PROTECT",
        "-protect",
        `-protect ${protocol}/${port} is given twice`,
      );
      ok = false;
      continue;
    }
    out.push({ protocol, port });
  }
  return ok ? out : undefined;
}

function readInterfaces(
  values: readonly string[],
  required: boolean,
  fail: Fail,
): string[] | undefined {
  if (values.length === 0 && required) {
    fail(
      "INIT_MISSING_FLAG",
      "-interface",
      "-runmode network (the default) needs -interface NAME: where knocks arrive (ip -br link lists them)",
    );
    return undefined;
  }
  const out: string[] = [];
  for (const name of values) {
    if (!IFNAME.test(name) || name === "." || name === "..") {
      fail(
        "INIT_BAD_INTERFACE",
        "-interface",
        `-interface is an interface name of 1–15 letters, digits, "_", "." or "-" (or any), got ${quoteValue(name)}`,
      );
    } else if (out.includes(name)) {
      fail(
        "INIT_BAD_INTERFACE",
        "-interface",
        `-interface ${name} is given twice`,
      );
    } else {
      out.push(name);
    }
  }
  return out.length === values.length ? out : undefined;
}

/** A host name (RFC 1123 labels, not all digits) or an IP address a knock can go to. */
function readRemote(text: string | undefined, fail: Fail): string | undefined {
  if (text === undefined) return undefined;
  const bad = (why: string): undefined =>
    void fail(
      "INIT_BAD_REMOTE",
      "-remote",
      `-remote is the gateway's host name or IP address as the client reaches it: ${why}, got ${quoteValue(text)}`,
    );
  const family = isIP(text);
  if (family !== 0) {
    const lower = text.toLowerCase();
    if (lower.includes("%")) return bad("an IPv6 address without a zone");
    if (family === 4) {
      const first = Number(text.split(".")[0]);
      if (first === 0 || (first >= 224 && first <= 255)) {
        return bad("not an unspecified, multicast or broadcast address");
      }
    } else if (/^[0:]+$/.test(lower) || lower.startsWith("ff")) {
      return bad("not the unspecified or a multicast address");
    }
    return text;
  }
  const labels = text.split(".");
  if (
    text.length > 253 ||
    !labels.every((l) => LABEL.test(l)) ||
    /^\d+$/.test(labels[labels.length - 1]!)
  ) {
    return bad(
      "labels of letters, digits and inner hyphens separated by dots (like gw.example.org), or an IP address",
    );
  }
  return text;
}

function readGrant(
  text: string,
  fail: Fail,
): { text: string; ms: number } | undefined {
  const m = /^(\d{1,7})([smh]?)$/.exec(text);
  const unit = { "": 1000, s: 1000, m: 60_000, h: 3_600_000 }[m?.[2] ?? ""]!;
  const ms = Number(m?.[1]) * unit;
  if (!m || !(ms >= 1000 && ms <= MAX_GRANT_LIFETIME_MS)) {
    fail(
      "INIT_BAD_GRANT",
      "-grant",
      `-grant is how long a knock opens the port: whole seconds or 30s, 5m, 2h, from 1s to ${MAX_GRANT_LIFETIME_MS / 1000}s, got ${quoteValue(text)}`,
    );
    return undefined;
  }
  return { text: m[2] === "" ? `${m[1]}s` : text, ms };
}

function readStatefile(text: string, fail: Fail): string | undefined {
  if (PLAIN_PATH.test(text) && !text.split("/").includes("..")) return text;
  fail(
    "INIT_BAD_STATEFILE",
    "-statefile",
    `-statefile is an absolute path of letters, digits and . _ + - / (no ".."), got ${quoteValue(text)}`,
  );
  return undefined;
}

/**
 * The knock span: `-portspan FROM-TO` as given (checked by the codec, and free of protected
 * ports: the firewall drops the span), else the first span of the largest size from 1024 up that
 * holds no protected port (1024-33791 unless a protected port is in it).
 */
function readPortspan(
  text: string | undefined,
  protect: readonly InitProtect[],
  fail: Fail,
): string | undefined {
  const ports = protect.map((p) => p.port);
  if (text === undefined) {
    for (const size of SPAN_SIZES) {
      let from = SPAN_FIRST;
      while (from + size - 1 <= 65535) {
        const inside = ports.filter((p) => p >= from && p < from + size);
        if (inside.length === 0) return `${from}-${from + size - 1}`;
        from = Math.max(...inside) + 1;
      }
    }
    // 256 free ports always exist above 1023: at most 65535 - 1023 protected ones.
    return undefined;
  }
  const bad = (why: string): undefined =>
    void fail(
      "INIT_BAD_PORTSPAN",
      "-portspan",
      `-portspan is FROM-TO, a power of two of ports (like 1024-33791) that holds no protected port: ${why}, got ${quoteValue(text)}`,
    );
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  if (!m) return bad("one range");
  const from = Number(m[1]);
  const to = Number(m[2]);
  const inside = ports.filter((p) => p >= from && p <= to);
  if (inside.length > 0) {
    return bad(`the firewall drops the span, and ${inside[0]} is protected`);
  }
  const issue = compileKnockConfig({
    format: "sealed",
    knock: "CLIENT,PORT",
    portspan: text,
    key: "base64:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    encrypt: true,
    cipher: "Blowfish",
    iv: false,
    padding: "right",
  }).issues.find((i) => i.severity === "error");
  return issue ? bad(issue.message) : text;
}
