/**
 * The root-only scenarios every backend variant must pass (issue #17), against the real `nft`,
 * `iptables`/`ip6tables` and `ipset` inside network namespaces the test creates.
 */
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { gateRootTests } from "@portknock/test-utils";
import type { Logger } from "@portknock/core";
import type { BaseRuleset, Firewall } from "../src/index.ts";
import { createFirewall, FirewallError } from "../src/index.ts";
import { CLIENT, PORTS, createTopology, type Topology } from "./topology.ts";

/** One backend variant under test. */
export interface Variant {
  name: string;
  backend: "nftables" | "iptables";
  ipset: boolean;
  /** Tools the variant needs. */
  tools: string[];
}

/** The base ruleset of the tests: two protected ports, a span, one minute by default. */
export const BASE: BaseRuleset = {
  protect: [
    { protocol: "tcp", port: PORTS.protectedTcp },
    { protocol: "udp", port: PORTS.protectedUdp },
  ],
  knockSpan: { protocol: "tcp", ranges: [{ from: 3000, to: 3999 }] },
  defaultLifetimeMs: 60_000,
};

/** A logger that keeps every entry (level, fields, message). */
export function recordingLogger(): Logger & {
  entries: Array<{
    level: string;
    fields: Record<string, unknown>;
    msg?: string;
  }>;
} {
  const entries: Array<{
    level: string;
    fields: Record<string, unknown>;
    msg?: string;
  }> = [];
  const at =
    (level: string) =>
    (fields: object, msg?: string): void => {
      entries.push({
        level,
        fields: fields as Record<string, unknown>,
        ...(msg != null ? { msg } : {}),
      });
    };
  const logger = {
    entries,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => logger,
  };
  return logger;
}

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/** What is ours in `gw`'s firewall, as text that does not change with time or counters. */
function snapshot(t: Topology, variant: Variant): string {
  if (variant.backend === "nftables") {
    return [
      t.gw.exec(["nft", "list", "tables"]),
      t.gw.exec(["nft", "-s", "list", "chain", "inet", "portknock", "input"]),
      t.gw.exec(["nft", "-s", "list", "set", "inet", "portknock", "grants4"]),
      t.gw.exec(["nft", "-s", "list", "set", "inet", "portknock", "grants6"]),
    ]
      .join("")
      .replace(/ expires \S+?(?=[,\s}])/g, "");
  }
  return [
    t.gw.exec(["iptables", "-S"]),
    t.gw.exec(["ip6tables", "-S"]),
    variant.ipset ? t.gw.exec(["ipset", "list", "-n"]) : "",
  ].join("");
}

/** Declares the scenarios for `variant`. */
export function describeScenarios(variant: Variant): void {
  const gate = gateRootTests(["ip", ...variant.tools]);
  const create = (t: Topology, logger?: Logger): Firewall => {
    const fw = createFirewall({
      backend: variant.backend,
      ...(variant.backend === "iptables" ? { ipset: variant.ipset } : {}),
      run: t.gwRun,
      ...(logger != null ? { logger } : {}),
    });
    onTestFinished(() => fw.close());
    return fw;
  };

  describe.skipIf(gate.skip)(
    `${variant.name} (root, network namespaces)`,
    { timeout: 30_000 },
    () => {
      it("closes protected ports before a grant and opens them to the granted source only, IPv4 and IPv6, TCP and UDP", async () => {
        const t = await createTopology();
        const fw = create(t);
        // Without the firewall the service answers everyone.
        expect(await t.probe("tcp", CLIENT.b4, PORTS.protectedTcp)).toBe(
          "open",
        );
        expect(await t.probe("udp", CLIENT.b6, PORTS.protectedUdp)).toBe(
          "open",
        );

        await fw.install(BASE);
        for (const from of Object.values(CLIENT)) {
          expect(await t.probe("tcp", from, PORTS.protectedTcp), from).toBe(
            "timeout",
          );
          expect(await t.probe("udp", from, PORTS.protectedUdp), from).toBe(
            "timeout",
          );
          expect(await t.probe("tcp", from, PORTS.openTcp), from).toBe("open");
        }

        for (const address of [CLIENT.a4, CLIENT.a6]) {
          await fw.grant({
            address,
            protocol: "tcp",
            port: PORTS.protectedTcp,
          });
          await fw.grant({
            address,
            protocol: "udp",
            port: PORTS.protectedUdp,
          });
        }
        for (const [from, want] of [
          [CLIENT.a4, "open"],
          [CLIENT.b4, "timeout"],
          [CLIENT.a6, "open"],
          [CLIENT.b6, "timeout"],
        ] as const) {
          expect(await t.probe("tcp", from, PORTS.protectedTcp), from).toBe(
            want,
          );
          expect(await t.probe("udp", from, PORTS.protectedUdp), from).toBe(
            want,
          );
        }

        const listed = await fw.list();
        expect(
          listed.map((g) => `${g.address} ${g.protocol}/${g.port}`).sort(),
        ).toEqual(
          [
            `${CLIENT.a4} tcp/${PORTS.protectedTcp}`,
            `${CLIENT.a4} udp/${PORTS.protectedUdp}`,
            `${CLIENT.a6} tcp/${PORTS.protectedTcp}`,
            `${CLIENT.a6} udp/${PORTS.protectedUdp}`,
          ].sort(),
        );
        for (const g of listed) {
          expect(g.expiresInMs).toBeGreaterThan(50_000);
          expect(g.expiresInMs).toBeLessThanOrEqual(61_000);
        }

        await fw.revoke({
          address: CLIENT.a4,
          protocol: "tcp",
          port: PORTS.protectedTcp,
        });
        await fw.revoke({
          address: CLIENT.a4,
          protocol: "tcp",
          port: PORTS.protectedTcp,
        });
        expect(await t.probe("tcp", CLIENT.a4, PORTS.protectedTcp)).toBe(
          "timeout",
        );
        expect(await t.probe("tcp", CLIENT.a6, PORTS.protectedTcp)).toBe(
          "open",
        );
        expect(fw.counters()).toMatchObject({
          installs: 1,
          grants: 4,
          revokes: 2,
          failures: {},
        });
      });

      it("a second grant of the same (source, port) counts its lifetime from now, whether the same, longer or shorter", async () => {
        const t = await createTopology();
        const fw = create(t);
        await fw.install(BASE);
        const port = PORTS.protectedTcp;
        const grant = (address: string, lifetimeMs: number): Promise<unknown> =>
          fw.grant({ address, protocol: "tcp", port, lifetimeMs });
        const t0 = Date.now();
        // The same lifetime again (the common case: a client knocks again). nft's plain
        // `add element` leaves an element's timer alone when the timeout is unchanged.
        await grant(CLIENT.a4, 3_000);
        // Longer, and shorter.
        await grant(CLIENT.b4, 1_000);
        await grant(CLIENT.b4, 60_000);
        await grant(CLIENT.a6, 60_000);
        await grant(CLIENT.a6, 1_000);
        expect(await t.probe("tcp", CLIENT.a6, port)).toBe("open");
        await sleep(Math.max(0, t0 + 1_500 - Date.now()));
        await grant(CLIENT.a4, 3_000); // now until t0 + 4.5 s at least
        // Past the first lifetime of a4 (iptables without ipset rounds an expiry up to the
        // whole second, so up to t0 + 4 s), before its second one ends.
        const tagged = variant.backend === "iptables" && !variant.ipset;
        await sleep(Math.max(0, t0 + (tagged ? 4_100 : 3_300) - Date.now()));
        expect(await t.probe("tcp", CLIENT.a4, port)).toBe("open");
        expect(await t.probe("tcp", CLIENT.b4, port)).toBe("open");
        expect((await fw.list()).map((g) => g.address).sort()).toEqual(
          [CLIENT.a4, CLIENT.b4].sort(),
        );
        expect(await t.probe("tcp", CLIENT.a6, port)).toBe("timeout");
      });

      it("closes a grant at the end of its lifetime when the process that granted it was killed (kill -9)", async () => {
        if (!existsSync(DIST))
          throw new Error(`build first (pnpm build): ${DIST}`);
        const t = await createTopology();
        // The granting process: the built package, its commands in gw; it waits to be killed.
        const script = `
        import { createFirewall, spawnArgv } from ${JSON.stringify(DIST)};
        const run = spawnArgv();
        const fw = createFirewall({
          backend: ${JSON.stringify(variant.backend)},
          ${variant.backend === "iptables" ? `ipset: ${variant.ipset},` : ""}
          run: (argv, o) => run(["ip", "netns", "exec", ${JSON.stringify(t.gw.name)}, ...argv], o),
        });
        await fw.install(${JSON.stringify(BASE)});
        for (const address of ${JSON.stringify([CLIENT.a4, CLIENT.a6])}) {
          await fw.grant({ address, protocol: "tcp", port: ${PORTS.protectedTcp}, lifetimeMs: 2000 });
        }
        console.log("granted");
        setInterval(() => {}, 60_000);`;
        const child = spawn(
          process.execPath,
          ["--input-type=module", "-e", script],
          {
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        onTestFinished(() => {
          child.kill("SIGKILL");
        });
        await new Promise<void>((resolve, reject) => {
          let err = "";
          child.stderr.on("data", (d: Buffer) => (err += d.toString()));
          child.stdout.once("data", () => resolve());
          child.once("exit", (code) =>
            reject(new Error(`granter exited ${code}: ${err}`)),
          );
        });
        const grantedAt = Date.now();
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;

        expect(await t.probe("tcp", CLIENT.a4, PORTS.protectedTcp)).toBe(
          "open",
        );
        expect(await t.probe("tcp", CLIENT.a6, PORTS.protectedTcp)).toBe(
          "open",
        );
        expect(await t.probe("tcp", CLIENT.b4, PORTS.protectedTcp)).toBe(
          "timeout",
        );
        // Past the lifetime (plus the whole-second rounding of iptables without ipset).
        await sleep(Math.max(0, grantedAt + 3_200 - Date.now()));

        if (variant.backend === "iptables" && !variant.ipset) {
          // Documented: tagged rules outlive a dead daemon until the next reconcile().
          expect(await t.probe("tcp", CLIENT.a4, PORTS.protectedTcp)).toBe(
            "open",
          );
          const logger = recordingLogger();
          const fw = create(t, logger);
          const { expired, reinstalled } = await fw.reconcile();
          expect(expired.map((g) => g.address).sort()).toEqual(
            [CLIENT.a4, CLIENT.a6].sort(),
          );
          expect(reinstalled).toBe(false);
          expect(fw.counters().expired).toBe(2);
          expect(
            logger.entries.filter((e) => e.fields.event === "firewall.expired"),
          ).toHaveLength(2);
        }
        expect(await t.probe("tcp", CLIENT.a4, PORTS.protectedTcp)).toBe(
          "timeout",
        );
        expect(await t.probe("tcp", CLIENT.a6, PORTS.protectedTcp)).toBe(
          "timeout",
        );
      });

      it("installing again, in this process or the next, leaves one copy of everything and keeps open grants", async () => {
        const t = await createTopology();
        const fw = create(t);
        await fw.install(BASE);
        await fw.grant({
          address: CLIENT.a4,
          protocol: "tcp",
          port: PORTS.protectedTcp,
        });
        const once = snapshot(t, variant);
        await fw.install(BASE);
        expect(snapshot(t, variant)).toBe(once);

        // A restart: a new process installs the same ruleset again.
        const next = create(t);
        await next.install(BASE);
        expect(snapshot(t, variant)).toBe(once);
        expect(await t.probe("tcp", CLIENT.a4, PORTS.protectedTcp)).toBe(
          "open",
        );
        if (variant.backend === "iptables") {
          for (const cmd of ["iptables", "ip6tables"]) {
            const jumps = t.gw
              .exec([cmd, "-S", "INPUT"])
              .split("\n")
              .filter((l) => l === "-A INPUT -j PORTKNOCK");
            expect(jumps, cmd).toHaveLength(1);
          }
        } else {
          expect(t.gw.exec(["nft", "list", "tables"]).trim()).toBe(
            "table inet portknock",
          );
        }

        // A reload with another ruleset: the new port closes, the open grant stays open.
        expect(await t.probe("tcp", CLIENT.b4, PORTS.openTcp)).toBe("open");
        await next.install({
          ...BASE,
          protect: [...BASE.protect, { protocol: "tcp", port: PORTS.openTcp }],
        });
        expect(await t.probe("tcp", CLIENT.b4, PORTS.openTcp)).toBe("timeout");
        expect(await t.probe("tcp", CLIENT.a4, PORTS.protectedTcp)).toBe(
          "open",
        );
        expect(snapshot(t, variant)).not.toBe(once);
      });

      it("remove() takes everything away, and again does nothing", async () => {
        const t = await createTopology();
        // What the tools show of the whole firewall. iptables-nft leaves its own empty `filter`
        // tables behind in the nft listing: not ours, so the iptables variants compare their
        // tools' listings and check the nft listing names nothing of ours.
        const everything = (): string =>
          [
            t.gw.exec(["iptables", "-S"]),
            t.gw.exec(["ip6tables", "-S"]),
            variant.backend === "nftables"
              ? t.gw.exec(["nft", "list", "ruleset"])
              : "",
            variant.ipset ? t.gw.exec(["ipset", "list", "-n"]) : "",
          ].join("");
        const before = everything();
        const fw = create(t);
        await fw.install({ ...BASE, nflog: { group: 9 } });
        await fw.grant({
          address: CLIENT.a6,
          protocol: "udp",
          port: PORTS.protectedUdp,
        });
        expect(await t.probe("tcp", CLIENT.b4, PORTS.protectedTcp)).toBe(
          "timeout",
        );
        expect(everything()).not.toBe(before);
        await fw.remove();
        expect(everything()).toBe(before);
        expect(t.gw.exec(["nft", "list", "ruleset"])).not.toMatch(/portknock/i);
        if (variant.ipset) expect(t.gw.exec(["ipset", "list", "-n"])).toBe("");
        expect(await t.probe("tcp", CLIENT.b4, PORTS.protectedTcp)).toBe(
          "open",
        );
        await fw.remove();
        expect(await fw.list()).toEqual([]);
        expect(fw.counters().removes).toBe(2);
      });

      it("the knock span drops packets silently and logs each SYN to NFLOG at once (ulogd2)", async () => {
        const plugins = ulogdPlugins();
        if (plugins === undefined) {
          if (process.env.CI)
            throw new Error(
              "CI must run this test: ulogd2's plugins are missing",
            );
          console.warn(
            "skipping the NFLOG test: needs ulogd2's plugins (apt-get install ulogd2)",
          );
          return;
        }
        const t = await createTopology();
        // Without the firewall a span port is closed: the kernel answers with a RST.
        expect(await t.probe("tcp", CLIENT.a4, 3500)).toBe("refused");
        const dir = mkdtempSync(join(tmpdir(), "pk-fw-nflog-"));
        onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
        const log = join(dir, "knock.log");
        writeFileSync(join(dir, "ulogd.conf"), ulogdConf(plugins, dir, log, 9));
        const ulogd = spawn(
          "ip",
          ["netns", "exec", t.gw.name, "ulogd", "-c", join(dir, "ulogd.conf")],
          {
            stdio: "ignore",
          },
        );
        onTestFinished(() => {
          ulogd.kill("SIGKILL");
        });
        await waitFor(() =>
          readIfExists(join(dir, "ulogd.log")).includes("entering main loop"),
        );

        const fw = create(t);
        await fw.install({ ...BASE, nflog: { group: 9, prefix: "KNOCK" } });
        expect(await t.probe("tcp", CLIENT.a4, 3500)).toBe("timeout");
        expect(await t.probe("tcp", CLIENT.b6, 3600)).toBe("timeout");
        await waitFor(() => readIfExists(log).split("\n").length > 2);
        const lines = readIfExists(log)
          .split("\n")
          .filter((l) => l !== "");
        // One line per SYN: a dropped SYN is resent after 1 s, the probe gives up after 0.7 s.
        expect(lines).toHaveLength(2);
        expect(lines[0]).toMatch(
          new RegExp(
            ` KNOCK +IN=veth0 .* SRC=${CLIENT.a4} .* DPT=3500 .* SYN `,
          ),
        );
        expect(lines[1]).toMatch(
          new RegExp(
            ` KNOCK +IN=veth0 .* SRC=${CLIENT.b6} .* DPT=3600 .* SYN `,
          ),
        );
      });

      it("a failed command is a counted, logged error with the tool's message; reconcile() puts a removed ruleset back", async () => {
        const t = await createTopology();
        const logger = recordingLogger();
        const fw = create(t, logger);
        await fw.install(BASE);
        expect((await fw.reconcile()).reinstalled).toBe(false);

        // Someone else takes the ruleset away.
        if (variant.backend === "nftables") {
          t.gw.exec(["nft", "delete", "table", "inet", "portknock"]);
        } else {
          for (const cmd of ["iptables", "ip6tables"])
            t.gw.exec([cmd, "-D", "INPUT", "-j", "PORTKNOCK"]);
          if (variant.ipset) {
            for (const cmd of ["iptables", "ip6tables"])
              t.gw.exec([cmd, "-F", "PORTKNOCK"]);
            t.gw.exec(["ipset", "destroy", "portknock4"]);
          }
        }
        expect(await t.probe("tcp", CLIENT.b4, PORTS.protectedTcp)).toBe(
          "open",
        );

        if (variant.backend === "nftables" || variant.ipset) {
          const error = await fw
            .grant({
              address: CLIENT.a4,
              protocol: "tcp",
              port: PORTS.protectedTcp,
            })
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(FirewallError);
          expect((error as FirewallError).code).toBe("FIREWALL_COMMAND_FAILED");
          // The tool's own words.
          expect((error as FirewallError).message).toMatch(
            variant.backend === "nftables"
              ? /No such file or directory/
              : /does not exist/,
          );
          expect(fw.counters().failures).toEqual({
            FIREWALL_COMMAND_FAILED: 1,
          });
          const logged = logger.entries.find(
            (e) => e.fields.event === "firewall.failed",
          );
          expect(logged).toMatchObject({
            level: "error",
            fields: { code: "FIREWALL_COMMAND_FAILED", op: "grant" },
          });
          expect(String(logged?.fields.stderr)).not.toBe("");
        }

        expect(await fw.reconcile()).toMatchObject({ reinstalled: true });
        expect(fw.counters().reinstalls).toBe(1);
        expect(
          logger.entries.some((e) => e.fields.event === "firewall.reinstalled"),
        ).toBe(true);
        expect(await t.probe("tcp", CLIENT.b4, PORTS.protectedTcp)).toBe(
          "timeout",
        );
        await fw.grant({
          address: CLIENT.a4,
          protocol: "tcp",
          port: PORTS.protectedTcp,
        });
        expect(await t.probe("tcp", CLIENT.a4, PORTS.protectedTcp)).toBe(
          "open",
        );
      });
    },
  );
}

/** Resolves once `check()` holds; fails after 5 s. */
async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until)
      throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

/** ulogd2's plugin directory (Debian multiarch paths), or undefined. */
function ulogdPlugins(): string | undefined {
  return [
    "/usr/lib/x86_64-linux-gnu/ulogd",
    "/usr/lib/aarch64-linux-gnu/ulogd",
    "/usr/lib64/ulogd",
    "/usr/lib/ulogd",
  ].find((d) => existsSync(join(d, "ulogd_output_LOGEMU.so")));
}

/** ulogd.conf: NFLOG `group` → LOGEMU lines in `logfile`, each written at once (sync=1). */
function ulogdConf(
  plugins: string,
  dir: string,
  logfile: string,
  group: number,
): string {
  return `[global]
logfile="${join(dir, "ulogd.log")}"
loglevel=3
plugin="${plugins}/ulogd_inppkt_NFLOG.so"
plugin="${plugins}/ulogd_raw2packet_BASE.so"
plugin="${plugins}/ulogd_filter_IFINDEX.so"
plugin="${plugins}/ulogd_filter_IP2STR.so"
plugin="${plugins}/ulogd_filter_PRINTPKT.so"
plugin="${plugins}/ulogd_output_LOGEMU.so"
stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU

[log1]
group=${group}

[emu1]
file="${logfile}"
sync=1
`;
}
