/**
 * Gateways of a cluster for knockd's cluster tests (issue #19): each gateway is the built `knockd`
 * in file mode, with its own directory, firewall log (the test appends knock lines to it),
 * statefile and recorder action, all joined to one real `redis-server` under a prefix of the
 * test's own. Knocks are sealed (`knock -logtofile` in-process, at the real time).
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { randomBytes } from "node:crypto";
import { main as knock } from "@portknock/knock";
import type { Daemon } from "./helpers.ts";
import { recorder, spawnDaemon, tempDir, waitFor } from "./helpers.ts";
import { spawnDaemonIn } from "./netns.ts";

/** The sealed key every gateway and the client share. */
export const KEY = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/** The sealed knock settings (client and daemons). */
const SEALED = ["format = sealed", "knock = CLIENT,PORT,FLAG0"];
const SPAN = "1024-33791";

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `pk-test-${randomBytes(4).toString("hex")}`;
}

/**
 * The log lines of one sealed knock for `client` (its CLIENT and packet source), written by the
 * real client's code at the real time: append them to a gateway's log to knock there.
 */
export async function sealedKnockLines(
  client: string,
  port = 22,
  flag = 1,
): Promise<string[]> {
  const log = join(tempDir(), "knock.log");
  writeFileSync(log, "");
  const out = new PassThrough().resume();
  const err = new PassThrough();
  let stderr = "";
  err.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await knock(
    [
      "-format",
      "sealed",
      "-knock",
      "CLIENT,PORT,FLAG0",
      "-portspan",
      SPAN,
      "-key",
      KEY,
      "-logtofile",
      "-logfile",
      log,
      "-quiet",
      "-client",
      client,
      "-port",
      String(port),
      "-flag0",
      String(flag),
    ],
    { stdout: out, stderr: err, env: { HOME: tempDir() } },
  );
  if (code !== 0) throw new Error(`knock exited ${code}: ${stderr}`);
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

/** One gateway of a test cluster. */
export interface Gateway {
  name: string;
  dir: string;
  conf: string;
  log: string;
  statefile: string;
  /** The lines the action recorded: `CLIENT PORT FLAG0` per knock it ran for. */
  recorded(): string[];
  /** The running daemon (after `start`). */
  daemon: Daemon;
  start(extraArgs?: string[]): Promise<Daemon>;
  /** Appends knock lines to the gateway's firewall log. */
  knock(lines: readonly string[]): void;
  /** knockd's JSON log lines (this run's) with `event`. */
  events(event: string): Array<Record<string, unknown>>;
  /** Waits for a JSON log line with `event` and the fields of `match`; resolves with it. */
  waitForEvent(
    event: string,
    match?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** The value at `path` in the statefile (undefined when absent). */
  stateValue(path: readonly string[]): unknown;
}

/** Options of `createGateway`. */
export interface GatewayOptions {
  name: string;
  redisUrl: string;
  prefix: string;
  /** Template lines besides the recorder (`state = …`). */
  template?: string[];
  /** More top-level lines (`metrics = …`, a `<firewall>` block). */
  extra?: string[];
  /** `budget` (default 2s). */
  budget?: string;
  /** Redis' password: written to a `passwordfile` (mode 0600) the `<cluster>` block names. */
  password?: string;
  /** The network namespace knockd runs in (root tests); default: the test's own. */
  netns?: string;
}

/** A gateway's directory and config (not started). */
export function createGateway(options: GatewayOptions): Gateway {
  const dir = tempDir();
  const rec = recorder(dir);
  const log = join(dir, "firewall.log");
  const statefile = join(dir, "state.json");
  writeFileSync(log, "");
  const passwordFile = join(dir, "redis.password");
  if (options.password != null) {
    writeFileSync(passwordFile, options.password + "\n", { mode: 0o600 });
  }
  const conf = join(dir, "knockdaemon.conf");
  writeFileSync(
    conf,
    [
      ...SEALED,
      `portspan = ${SPAN}`,
      `key = ${KEY}`,
      `statefile = ${statefile}`,
      `logfile = ${log}`,
      "fileinterval = 0.05",
      ...(options.extra ?? []),
      "<cluster>",
      `  redis = ${options.redisUrl}`,
      `  name = ${options.name}`,
      `  prefix = ${options.prefix}`,
      // Generous: on a loaded CI machine a SET can take longer than the default 50 ms, and a
      // claim over the budget is decided locally, which is not what these tests are about.
      `  budget = ${options.budget ?? "2s"}`,
      ...(options.password != null ? [`  passwordfile = ${passwordFile}`] : []),
      "</cluster>",
      "<actions>",
      "  <action>",
      "    template = open",
      "  </action>",
      "  <template open>",
      `    system = "${rec.path} CLIENT PORT FLAG0"`,
      ...(options.template ?? []).map((l) => `    ${l}`),
      "  </template>",
      "</actions>",
      "",
    ].join("\n"),
  );
  const jsonLines = (): Array<Record<string, unknown>> =>
    gw.daemon
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const matches = (
    e: Record<string, unknown>,
    event: string,
    match: Record<string, unknown>,
  ): boolean =>
    e.event === event && Object.entries(match).every(([k, v]) => e[k] === v);
  const gw: Gateway = {
    name: options.name,
    dir,
    conf,
    log,
    statefile,
    recorded: () => rec.lines(),
    daemon: undefined as unknown as Daemon,
    async start(extraArgs: string[] = []): Promise<Daemon> {
      const args = ["-conf", conf, "-logjson", ...extraArgs];
      gw.daemon =
        options.netns != null
          ? await spawnDaemonIn(options.netns, args)
          : await spawnDaemon(args);
      return gw.daemon;
    },
    knock(lines): void {
      appendFileSync(log, lines.map((l) => l + "\n").join(""));
    },
    events(event): Array<Record<string, unknown>> {
      return jsonLines().filter((e) => e.event === event);
    },
    async waitForEvent(event, match = {}, timeoutMs = 15_000) {
      let found: Record<string, unknown> | undefined;
      await waitFor(
        () => {
          found = jsonLines().find((e) => matches(e, event, match));
          return found != null;
        },
        `${options.name}: ${event} ${JSON.stringify(match)}; stderr:\n${gw.daemon.stderr()}`,
        timeoutMs,
      );
      return found!;
    },
    stateValue(path): unknown {
      let doc: { state?: Array<[string[], unknown]> };
      try {
        doc = JSON.parse(readFileSync(statefile, "utf8")) as typeof doc;
      } catch {
        return undefined;
      }
      const key = JSON.stringify(path);
      return doc.state?.find(([p]) => JSON.stringify(p) === key)?.[1];
    },
  };
  return gw;
}
