/**
 * The start-up security audit (spec: README "Two profiles", daemon.md): each weakness of a config
 * named once, with what to do about it. `knockd -check` prints it; the daemon logs it at start.
 */
import type { DaemonConfig } from "@portknock/config";
import type { KnockConfig } from "@portknock/codec";
import { parseLogCommand } from "@portknock/logsource";
import type { KnockdCode } from "./codes.ts";

/** The key shipped in examples/knockdaemon.conf: public, so never acceptable in production. */
const EXAMPLE_KEY = "base64:S2bkEjmI0lCmReo9NtMzkLk1P0aWM6pmj2e6m7o577c=";

/** One finding of the audit. */
export interface AuditFinding {
  code: Extract<KnockdCode, `AUDIT_${string}`>;
  /** `warning`: weakens the knock; `notice`: worth knowing. */
  severity: "warning" | "notice";
  message: string;
}

/** Audits a loaded configuration. Pure. */
export function auditConfig(
  config: DaemonConfig,
  knock: KnockConfig,
): AuditFinding[] {
  const out: AuditFinding[] = [];
  const warn = (code: AuditFinding["code"], message: string): void => {
    out.push({ code, severity: "warning", message });
  };
  const fields = knock.layout.fields.map((f) => f.kind);
  if (config.format === "sealed") {
    if (
      config.key === EXAMPLE_KEY ||
      [...config.users.values()].some((u) => u.key.text === EXAMPLE_KEY)
    ) {
      warn(
        "AUDIT_EXAMPLE_KEY",
        "the key is the public one of examples/knockdaemon.conf: anyone can knock; make your own with knock -genkey",
      );
    }
    const passphrases = [
      ...(config.key != null ? [config.key] : []),
      ...[...config.users.values()].map((u) => u.key.text),
    ].filter((k) => !k.startsWith("base64:"));
    if (passphrases.length > 0) {
      out.push({
        code: "AUDIT_PASSPHRASE_KEY",
        severity: passphrases.some((k) => k.length < 16) ? "warning" : "notice",
        message:
          "a sealed key is a passphrase: one captured knock lets an attacker test guesses offline (scrypt slows each guess); prefer random keys from knock -genkey (base64:…)",
      });
    }
    if (config.key != null && config.users.size > 0 && usesUser(config)) {
      warn(
        "AUDIT_USER_WITH_SHARED_KEY",
        "actions use USER but a shared key is set besides the <user> blocks: a knock made with the shared key has no USER, so the actions that use it are refused (ENGINE_VALUE_MISSING); remove the shared key, or guard them with a condition on USER",
      );
    }
    if (!config.requireSource) {
      out.push({
        code: "AUDIT_NO_REQUIRESOURCE",
        severity: "notice",
        message:
          "requiresource = no: a knock is accepted from any source address (fine behind NAT; CLIENT is still authenticated)",
      });
    }
    if (config.windowMs > 300_000) {
      out.push({
        code: "AUDIT_WIDE_WINDOW",
        severity: "notice",
        message: `window = ${config.windowMs / 1000} s: a captured knock can be replayed from another source while it is in the window unless requiresource = yes; 60 s is usual`,
      });
    }
    if (config.statefile == null) {
      warn(
        "AUDIT_REPLAY_CACHE_MEMORY",
        "no statefile: the replay cache of sealed knocks is lost on restart, so a knock captured just before a restart can be replayed within its window; set statefile",
      );
    }
    return [...out, ...commonFindings(config)];
  }
  if (config.format === "compat") {
    warn(
      "AUDIT_COMPAT_FORMAT",
      "format = compat: knocks can be forged by flipping bits, replayed after knocktimeout and brute-forced offline (knock-format.md §5); prefer format = sealed (knock -genkey makes a key; both ends need format = sealed and the key)",
    );
  }
  if (!config.encrypt) {
    warn(
      "AUDIT_NO_ENCRYPTION",
      "encrypt = no: anyone who sees a knock can read and replay it; set encrypt = yes and a key",
    );
  } else {
    if (knock.cipherName === "DES") {
      warn(
        "AUDIT_WEAK_CIPHER",
        "cipher = DES has a 56-bit key that can be searched exhaustively; use Blowfish",
      );
    }
    if (!config.iv) {
      warn(
        "AUDIT_NO_IV",
        "iv = no: the same request is always the same knock, so an observer can replay it after knocktimeout; set iv = yes (client and daemon)",
      );
    } else if (config.ivvalue != null) {
      warn(
        "AUDIT_FIXED_IV",
        "ivvalue is set with iv = yes: every knock uses the same IV; remove ivvalue outside tests",
      );
    }
    if (
      config.key != null &&
      config.key.length < 12 &&
      !config.key.startsWith("base64:")
    ) {
      warn(
        "AUDIT_SHORT_KEY",
        `key is ${config.key.length} characters: the compat key derivation (MD5) makes short keys cheap to guess from one captured knock; use 20+ random characters`,
      );
    }
  }
  if (!fields.includes("time")) {
    warn(
      "AUDIT_NO_TIME",
      "the knock has no TIME field: a captured knock stays valid forever; add TIME and a condition like abs(TIME - NOW) < 60",
    );
  }
  if (!fields.includes("ip")) {
    warn(
      "AUDIT_NO_CLIENT",
      "the knock has no CLIENT/IP field: actions can only use SOURCE, which a captured knock sent from elsewhere changes",
    );
  }
  if (!fields.includes("checksum") && !config.encrypt) {
    warn(
      "AUDIT_NO_CHECKSUM",
      "no CHECKSUM and no encryption: any window of ports in the span decodes to a knock",
    );
  }
  return [...out, ...commonFindings(config)];
}

function commonFindings(config: DaemonConfig): AuditFinding[] {
  const out: AuditFinding[] = [];
  if (config.statefile == null) {
    out.push({
      code: "AUDIT_NO_STATEFILE",
      severity: "notice",
      message:
        "no statefile: state and pending delayed actions (such as closing the firewall again) are lost when knockd stops; set statefile",
    });
  }
  if (config.metrics != null && !isLoopback(config.metrics.host)) {
    out.push({
      code: "AUDIT_METRICS_EXPOSED",
      severity: "warning",
      message: `metrics = ${config.metrics.text}: the counters (knocks, decode failures, pending closes) are served to every host that can reach this address, beyond this host; use 127.0.0.1 (or a port alone) or filter the port`,
    });
  }
  if (
    config.runmode === "file" &&
    config.uselogformat === "iptables" &&
    !config.logformats.has("iptables") &&
    config.logcommand != null &&
    isUntaggedJournal(parseLogCommand(config.logcommand).argv ?? [])
  ) {
    out.push({
      code: "AUDIT_UNTAGGED_LOGCOMMAND",
      severity: "warning",
      message: `logcommand = ${JSON.stringify(config.logcommand.slice(0, 80))} prints every program's messages without their tag (-o cat without -k), so text another program logs (an sshd user name "IN=… SRC=…") reads as a firewall record; add -k (kernel messages only) or use -o short-iso`,
    });
  }
  if (config.knockTimeoutMs > 300_000) {
    out.push({
      code: "AUDIT_LONG_TIMEOUT",
      severity: "notice",
      message: `knocktimeout = ${config.knockTimeoutMs / 1000} s keeps partial knocks (and the replay cache) long; 30 s is usual`,
    });
  }
  return out;
}

/**
 * Whether `argv` runs journalctl with `-o cat` (the message alone, no tag) and without `-k` /
 * `--dmesg` / `_TRANSPORT=kernel` (kernel messages only): then any program's message can look
 * like an untagged kernel record (issue #16).
 */
export function isUntaggedJournal(argv: readonly string[]): boolean {
  if (argv.length === 0 || !/(?:^|\/)journalctl$/.test(argv[0]!)) return false;
  let cat = false;
  let kernel = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === "-o" || a === "--output") {
      cat = argv[++i] === "cat";
    } else if (a.startsWith("--output=")) {
      cat = a === "--output=cat";
    } else if (a === "--dmesg" || a === "_TRANSPORT=kernel") {
      kernel = true;
    } else if (/^-[A-Za-z]+$/.test(a)) {
      // A group of short flags: an `o` takes the rest as its value (`-ocat`, `-fo` + next).
      const o = a.indexOf("o");
      const flags = o < 0 ? a : a.slice(0, o);
      if (flags.includes("k")) kernel = true;
      if (o >= 0)
        cat = (o === a.length - 1 ? argv[++i] : a.slice(o + 1)) === "cat";
    }
  }
  return cat && !kernel;
}

/** 127.0.0.0/8, ::1 and IPv4-mapped 127/8 (`ListenAddress.host` is normalised). */
function isLoopback(host: string): boolean {
  const v4 = host.startsWith("::ffff:") ? host.slice(7) : host;
  return v4.startsWith("127.") || host === "::1";
}

/** Whether a condition, command or state line of the actions names the variable USER. */
function usesUser(config: DaemonConfig): boolean {
  const texts = [
    ...config.actions.actions.flatMap((a) =>
      a.condition != null ? [a.condition.text] : [],
    ),
    ...[...config.actions.templates.values()].flatMap((t) => [
      ...t.system.map((l) => l.text),
      ...t.state.map((l) => l.text),
    ]),
  ];
  return texts.some((t) => /\bUSER\b/.test(t));
}
