/**
 * The sealed profile through the daemon (issue #8): window, replay cache (also across a
 * restart), requiresource, per-user keys. Knocks are written by the real client's code
 * (`knock -logtofile`, in-process so its clock can be injected) and replayed with `knockd -replay`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { main as knock } from "@portknock/knock";
import { recorder, runMain, tempDir } from "./helpers.ts";

const ALICE = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const BOB = "base64:HxwdHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";

/** Appends a sealed knock to `log` with the client's own code, at client time `nowMs`. */
async function sealedKnock(
  log: string,
  key: string,
  args: string[],
  nowMs = Date.now(),
): Promise<void> {
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
      "1024-33791",
      "-key",
      key,
      "-logtofile",
      "-logfile",
      log,
      "-quiet",
      ...args,
    ],
    { stdout: out, stderr: err, env: { HOME: tempDir() } },
    { now: () => nowMs },
  );
  if (code !== 0) throw new Error(`knock exited ${code}: ${stderr}`);
}

function setup(body: string): {
  dir: string;
  log: string;
  conf: string;
  a: ReturnType<typeof recorder>;
  b: ReturnType<typeof recorder>;
} {
  const dir = tempDir();
  const a = recorder(dir, "alice.sh");
  const b = recorder(dir, "bob.sh");
  const log = join(dir, "firewall.log");
  writeFileSync(log, "");
  const conf = join(dir, "knockdaemon.conf");
  writeFileSync(
    conf,
    [
      "format = sealed",
      "knock = CLIENT,PORT,FLAG0",
      "portspan = 1024-33791",
      `statefile = ${join(dir, "state.json")}`,
      "logfile = /nonexistent",
      body.replaceAll("RECA", a.path).replaceAll("RECB", b.path),
    ].join("\n"),
  );
  return { dir, log, conf, a, b };
}

const OPEN = `
key = ${ALICE}
<actions>
  <action>
    template = open
  </action>
  <template open>
    system = "RECA CLIENT PORT FLAG0"
  </template>
</actions>`;

/** The client's flags for one request. */
const knockArgs = (client: string, port: number, flag: number): string[] => [
  "-client",
  client,
  "-port",
  String(port),
  "-flag0",
  String(flag),
];

const replay = (
  conf: string,
  log: string,
  ...extra: string[]
): ReturnType<typeof runMain> =>
  runMain(["-conf", conf, "-replay", log, "-quiet", "-logjson", ...extra]);

describe("sealed knocks through knockd", () => {
  it("accepts a fresh knock and runs the action", async () => {
    const { log, conf, a } = setup(OPEN);
    await sealedKnock(log, ALICE, knockArgs("127.0.0.1", 22, 1));
    const r = await replay(conf, log);
    expect(r.code).toBe(0);
    expect(a.lines()).toEqual(["127.0.0.1 22 1"]);
  });

  it("accepts an IPv6 CLIENT (21 ports) next to IPv4 ones (14)", async () => {
    const { log, conf, a } = setup(OPEN);
    await sealedKnock(log, ALICE, knockArgs("::1", 443, 2));
    await sealedKnock(log, ALICE, knockArgs("127.0.0.1", 22, 3));
    const r = await replay(conf, log);
    expect(r.code).toBe(0);
    expect(readFileSync(log, "utf8").split("\n").filter(Boolean)).toHaveLength(
      21 + 14,
    );
    expect(a.lines()).toEqual(["::1 443 2", "127.0.0.1 22 3"]);
  });

  it("refuses a replay within the window, also after a restart (statefile)", async () => {
    const { log, conf, a } = setup(OPEN);
    await sealedKnock(log, ALICE, knockArgs("127.0.0.1", 22, 4));
    const lines = readFileSync(log, "utf8");
    // The same knock again, from fresh source ports, one per SYN (not kernel retransmits: a
    // single fresh port made a knock that repeats a port look like one, ~1 run in 200).
    let sport = 1;
    writeFileSync(
      log,
      lines + lines.replace(/SPT=\d+/g, () => `SPT=${sport++}`),
    );
    const first = await replay(conf, log);
    expect(JSON.parse(first.stdout)).toMatchObject({
      knocksAccepted: 2,
      rejections: { KNOCK_REPLAY: 1 },
    });
    expect(a.lines()).toHaveLength(1);
    // A new daemon on the same statefile: the knock is still a replay.
    writeFileSync(log, lines);
    const second = await replay(conf, log);
    expect(JSON.parse(second.stdout)).toMatchObject({
      rejections: { KNOCK_REPLAY: 1 },
    });
    expect(a.lines()).toHaveLength(1);
  });

  it("refuses knocks outside the window (client clock injected)", async () => {
    const { log, conf, a } = setup(`window = 60\n${OPEN}`);
    await sealedKnock(
      log,
      ALICE,
      knockArgs("127.0.0.1", 22, 5),
      Date.now() - 120_000,
    );
    await sealedKnock(
      log,
      ALICE,
      knockArgs("127.0.0.1", 22, 6),
      Date.now() + 120_000,
    );
    await sealedKnock(
      log,
      ALICE,
      knockArgs("127.0.0.1", 22, 7),
      Date.now() - 30_000,
    );
    const r = await replay(conf, log);
    expect(JSON.parse(r.stdout)).toMatchObject({
      rejections: { KNOCK_TIME_PAST: 1, KNOCK_TIME_FUTURE: 1 },
    });
    expect(a.lines()).toEqual(["127.0.0.1 22 7"]);
  });

  it("a captured knock sent from another source gets nothing (requiresource)", async () => {
    const { log, conf, a } = setup(OPEN);
    await sealedKnock(log, ALICE, knockArgs("127.0.0.1", 22, 8));
    writeFileSync(
      log,
      readFileSync(log, "utf8").replace(
        /SRC=127\.0\.0\.1/g,
        "SRC=198.51.100.66",
      ),
    );
    const r = await replay(conf, log);
    expect(JSON.parse(r.stdout)).toMatchObject({
      rejections: { KNOCK_SOURCE_MISMATCH: 1 },
    });
    expect(a.lines()).toEqual([]);
  });

  it("with requiresource = no, CLIENT behind NAT is trusted", async () => {
    const { log, conf, a } = setup(`requiresource = no\n${OPEN}`);
    await sealedKnock(log, ALICE, knockArgs("10.9.8.7", 22, 9));
    writeFileSync(
      log,
      readFileSync(log, "utf8").replace(/SRC=10\.9\.8\.7/g, "SRC=203.0.113.5"),
    );
    await replay(conf, log);
    expect(a.lines()).toEqual(["10.9.8.7 22 9"]);
  });

  it("a knock for user A never runs user B's actions", async () => {
    const { log, conf, a, b } = setup(`
<user alice>
  key = ${ALICE}
</user>
<user bob>
  key = ${BOB}
</user>
<actions>
  <action>
    condition = USER eq "alice"
    template = a
  </action>
  <action>
    condition = USER eq "bob"
    template = b
  </action>
  <template a>
    system = "RECA USER CLIENT"
  </template>
  <template b>
    system = "RECB USER CLIENT"
  </template>
</actions>`);
    await sealedKnock(log, ALICE, knockArgs("127.0.0.1", 22, 1));
    await sealedKnock(log, BOB, knockArgs("127.0.0.2", 22, 1));
    const r = await replay(conf, log);
    expect(r.code).toBe(0);
    expect(a.lines()).toEqual(["alice 127.0.0.1"]);
    expect(b.lines()).toEqual(["bob 127.0.0.2"]);
  });

  it("the audit warns when actions use USER and a shared key (which gives none) is set too (#16)", async () => {
    const users = `
<user alice>
  key = ${ALICE}
</user>
<actions>
  <action>
    template = a
  </action>
  <template a>
    system = "RECA USER CLIENT"
  </template>
</actions>`;
    const shared = setup(`key = ${BOB}\n${users}`);
    const warned = await runMain(["-check", "-conf", shared.conf]);
    expect(warned.stdout).toContain("warning AUDIT_USER_WITH_SHARED_KEY");
    // The trap itself: a knock with the shared key runs nothing of an action using USER.
    await sealedKnock(shared.log, BOB, knockArgs("127.0.0.1", 22, 1));
    const r = await runMain([
      "-conf",
      shared.conf,
      "-replay",
      shared.log,
      "-logjson",
    ]);
    expect(r.stderr).toContain("ENGINE_VALUE_MISSING");
    expect(shared.a.lines()).toEqual([]);
    const usersOnly = setup(users);
    const quiet = await runMain(["-check", "-conf", usersOnly.conf]);
    expect(quiet.stdout).not.toContain("AUDIT_USER_WITH_SHARED_KEY");
  });

  it("a knock with an unknown key decodes to nothing", async () => {
    const { log, conf, a } = setup(OPEN);
    await sealedKnock(log, BOB, knockArgs("127.0.0.1", 22, 1));
    const r = await replay(conf, log);
    expect(JSON.parse(r.stdout)).toMatchObject({ knocksAccepted: 0 });
    expect(a.lines()).toEqual([]);
  });
});
