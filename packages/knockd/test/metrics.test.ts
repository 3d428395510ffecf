/**
 * `metrics` end to end (#15): the built daemon serves `/metrics` on loopback while the real
 * client appends knocks to the log it follows; the page moves with them and shows what SIGUSR1
 * logs. A taken port stops the start; `-replay` and `-check` listen nowhere.
 */
import { spawn, spawnSync } from "node:child_process";
import { request } from "node:http";
import { createServer } from "node:net";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Exposition } from "./exposition.ts";
import { parseExposition } from "./exposition.ts";
import {
  KNOCK_SETTINGS,
  KNOCKD,
  daemonConfig,
  freePort,
  knockToLog,
  recorder,
  runMain,
  spawnDaemon,
  tempDir,
  waitFor,
} from "./helpers.ts";

const ACTIONS = `
<actions>
  <action>
    condition = CLIENT eq SOURCE
    template = open
  </action>
  <action>
    template = close
    delay = 10m
  </action>
  <template open>
    system = "REC open CLIENT PORT"
  </template>
  <template close>
    system = "REC close CLIENT PORT"
  </template>
</actions>`;

function setup(metrics: string): {
  dir: string;
  log: string;
  conf: string;
  rec: ReturnType<typeof recorder>;
} {
  const dir = tempDir();
  const rec = recorder(dir);
  const log = join(dir, "firewall.log");
  writeFileSync(log, "");
  const conf = daemonConfig(
    dir,
    `logfile = ${log}\nstatefile = ${join(dir, "state.json")}\nmetrics = ${metrics}\n${ACTIONS.replaceAll("REC", rec.path)}`,
  );
  return { dir, log, conf, rec };
}

function knockLines(dir: string, args: string[], settings?: string): string[] {
  const file = join(dir, `knock-${Math.random().toString(36).slice(2)}.log`);
  knockToLog(file, args, settings);
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

function get(
  port: number,
  path: string,
  method = "GET",
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers["content-type"] ?? "",
            body,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function scrape(port: number): Promise<Exposition> {
  const r = await get(port, "/metrics");
  expect(r.status).toBe(200);
  expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(r.body);
}

/** Scrapes until `ok` holds for the page (the daemon reads the log on its own time). */
async function scrapeUntil(
  port: number,
  ok: (page: Exposition) => boolean,
  what: string,
): Promise<Exposition> {
  const start = Date.now();
  for (;;) {
    const page = await scrape(port);
    if (ok(page)) return page;
    if (Date.now() - start > 10_000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sum = (page: Exposition, name: string): number =>
  [...page.samples]
    .filter(([k]) => k.startsWith(`${name}{`))
    .reduce((a, [, v]) => a + v, 0);

describe(
  "knockd metrics = ADDRESS:PORT, end to end",
  { timeout: 40_000 },
  () => {
    it("serves the counters: hits, knocks, a wrong-key decode failure, pending delayed actions; the numbers SIGUSR1 logs", async () => {
      const port = await freePort();
      const { dir, log, conf, rec } = setup(`127.0.0.1:${port}`);
      const d = await spawnDaemon(["-conf", conf, "-logjson"]);
      expect(d.stderr()).toMatch(/"event":"metrics\.listening"/);

      const before = await scrape(port);
      expect(before.value("portknock_hits_total")).toBe(0);
      expect(before.value("portknock_knocks_accepted_total")).toBe(0);
      expect(before.value("portknock_pending_actions")).toBe(0);
      expect(before.labelValues("portknock_build_info", "version")).toEqual([
        (
          JSON.parse(
            readFileSync(new URL("../package.json", import.meta.url), "utf8"),
          ) as { version: string }
        ).version,
      ]);
      expect(before.value("process_resident_memory_bytes")).toBeGreaterThan(0);

      const good = knockLines(dir, [
        "-client",
        "127.0.0.1",
        "-port",
        "22",
        "-flag0",
        "1",
      ]);
      appendFileSync(log, good.join("\n") + "\n");
      await waitFor(() => rec.lines().length === 1, "the open action");
      const after = await scrapeUntil(
        port,
        (p) => p.value("portknock_pending_actions") === 1,
        "the delayed close in the store",
      );
      expect(after.value("portknock_lines_read_total")).toBe(good.length);
      expect(after.value("portknock_hits_total")).toBe(good.length);
      expect(after.value("portknock_knocks_accepted_total")).toBe(1);
      expect(after.value("portknock_actions_run_total")).toBe(1);
      expect(after.value("portknock_actions_scheduled_total")).toBe(1);
      expect(sum(after, "portknock_decode_failures_total")).toBe(0);

      // A client with another key, from a source with no knock in progress.
      const wrong = knockLines(
        dir,
        ["-client", "127.0.0.3", "-port", "22", "-flag0", "2"],
        KNOCK_SETTINGS.replace(/^key = .*$/m, "key = not the daemon's key"),
      );
      appendFileSync(log, wrong.join("\n") + "\n");
      const rejected = JSON.parse(
        await d.waitForLine(/"event":"knock\.rejected"/),
      ) as { code: string };
      expect(rejected.code).toMatch(/^KNOCK_/);
      const failed = await scrapeUntil(
        port,
        (p) => p.value("portknock_hits_total") === good.length + wrong.length,
        "the wrong-key hits",
      );
      expect(
        failed.value("portknock_decode_failures_total", {
          reason: rejected.code,
        }),
      ).toBe(1);
      expect(sum(failed, "portknock_decode_failures_total")).toBe(1);
      expect(failed.value("portknock_knocks_accepted_total")).toBe(1);
      expect(rec.lines()).toEqual(["open 127.0.0.1 22"]);

      // What SIGUSR1 logs is what the page shows.
      const from = d.stderr().length;
      d.child.kill("SIGUSR1");
      const logged = JSON.parse(
        await d.waitForLine(/"event":"counters"/, 10_000, from),
      ) as {
        linesSeen: number;
        hits: number;
        knocksAccepted: number;
        actionsRun: number;
        actionsScheduled: number;
        queue: { decodeFailures: Record<string, number>; hitsQueued: number };
      };
      const page = await scrape(port);
      expect(page.value("portknock_lines_read_total")).toBe(logged.linesSeen);
      expect(page.value("portknock_hits_total")).toBe(logged.hits);
      expect(page.value("portknock_hits_queued_total")).toBe(
        logged.queue.hitsQueued,
      );
      expect(page.value("portknock_knocks_accepted_total")).toBe(
        logged.knocksAccepted,
      );
      expect(page.value("portknock_actions_run_total")).toBe(logged.actionsRun);
      expect(page.value("portknock_actions_scheduled_total")).toBe(
        logged.actionsScheduled,
      );
      for (const [reason, n] of Object.entries(logged.queue.decodeFailures)) {
        expect(page.value("portknock_decode_failures_total", { reason })).toBe(
          n,
        );
      }

      expect((await get(port, "/")).status).toBe(404);
      expect((await get(port, "/metrics", "POST")).status).toBe(405);

      expect(await d.stop()).toBe(0);
      await expect(get(port, "/metrics")).rejects.toThrow(/ECONNREFUSED/);
    });

    it("SIGHUP with another metrics address moves the endpoint; the counters go on", async () => {
      const [p1, p2] = [await freePort(), await freePort()];
      const { dir, log, conf, rec } = setup(String(p1));
      const d = await spawnDaemon(["-conf", conf]);
      appendFileSync(
        log,
        knockLines(dir, [
          "-client",
          "127.0.0.1",
          "-port",
          "22",
          "-flag0",
          "3",
        ]).join("\n") + "\n",
      );
      await waitFor(() => rec.lines().length === 1, "the open action");
      await scrapeUntil(
        p1,
        (p) => p.value("portknock_knocks_accepted_total") === 1,
        "the knock",
      );
      writeFileSync(
        conf,
        readFileSync(conf, "utf8").replace(
          `metrics = ${p1}`,
          `metrics = 127.0.0.1:${p2}`,
        ),
      );
      const from = d.stderr().length;
      d.child.kill("SIGHUP");
      await d.waitForLine(/reload\.done/, 10_000, from);
      await expect(get(p1, "/metrics")).rejects.toThrow(/ECONNREFUSED/);
      const page = await scrape(p2);
      expect(page.value("portknock_knocks_accepted_total")).toBe(1);
      expect(page.value("portknock_pending_actions")).toBe(1);
      expect(await d.stop()).toBe(0);
    });

    it("a port in use stops the start: exit 1, METRICS_LISTEN_FAILED naming the key, its line and EADDRINUSE", async () => {
      const taken = createServer();
      await new Promise<void>((r) =>
        taken.listen({ host: "127.0.0.1", port: 0 }, r),
      );
      onTestFinished(() => void taken.close());
      const { port } = taken.address() as { port: number };
      const { conf } = setup(`127.0.0.1:${port}`);
      const line =
        readFileSync(conf, "utf8")
          .split("\n")
          .findIndex((l) => l.startsWith("metrics")) + 1;
      const child = spawn(process.execPath, [KNOCKD, "-conf", conf], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      const code = await new Promise<number | null>((r) =>
        child.once("exit", r),
      );
      expect(code).toBe(1);
      expect(stderr).toContain("METRICS_LISTEN_FAILED");
      expect(stderr).toContain(`metrics = 127.0.0.1:${port} (${conf}:${line}:`);
      expect(stderr).toContain("EADDRINUSE (address already in use)");
      // It failed before reading anything.
      expect(stderr).not.toMatch(/\bready\b/);
    });

    it("-replay and -check listen nowhere; -check shows the endpoint, and audits one beyond this host", async () => {
      const taken = createServer();
      await new Promise<void>((r) =>
        taken.listen({ host: "127.0.0.1", port: 0 }, r),
      );
      onTestFinished(() => void taken.close());
      const { port } = taken.address() as { port: number };
      const { conf, log } = setup(`127.0.0.1:${port}`);
      // An empty log (not /dev/null: a device is LOG_NOT_REGULAR, #16).
      const replay = spawnSync(
        process.execPath,
        [KNOCKD, "-conf", conf, "-test", "-replay", log],
        {
          encoding: "utf8",
        },
      );
      expect(replay.status).toBe(0);
      expect(replay.stderr).not.toMatch(/metrics/);
      const check = await runMain(["-check", "-conf", conf]);
      expect(check.code).toBe(0);
      expect(check.stdout).toMatch(
        new RegExp(`^metrics\\s+http://127\\.0\\.0\\.1:${port}/metrics$`, "m"),
      );
      expect(check.stdout).not.toContain("AUDIT_METRICS_EXPOSED");

      const open = setup("0.0.0.0:9464");
      const exposed = await runMain(["-check", "-conf", open.conf]);
      expect(exposed.code).toBe(0);
      expect(exposed.stdout).toMatch(
        /warning AUDIT_METRICS_EXPOSED: metrics = 0\.0\.0\.0:9464/,
      );
      const v6 = setup("[::1]:9464");
      expect(
        (await runMain(["-check", "-conf", v6.conf])).stdout,
      ).not.toContain("AUDIT_METRICS_EXPOSED");
    });

    it("a bad metrics value is a config error with its line: exit 2", async () => {
      const { conf } = setup("example.org:9464");
      const r = await runMain(["-check", "-conf", conf]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /knockdaemon\.conf:\d+:\d+: error CONFIG_BAD_ADDRESS: metrics must be/,
      );
    });
  },
);
