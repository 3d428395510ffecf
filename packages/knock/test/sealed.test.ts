/** `knock` with format = sealed (issue #8). */
import { describe, expect, it } from "vitest";
import { run } from "./helpers.ts";

const KEY = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const SEALED = [
  "-format",
  "sealed",
  "-knock",
  "CLIENT,PORT,FLAG0",
  "-portspan",
  "1024-33791",
  "-key",
  KEY,
];

describe("knock -format sealed", () => {
  it("an IPv4 CLIENT is a 14-port knock, different every time", async () => {
    const a = await run([
      "-test",
      ...SEALED,
      "-client",
      "10.3.2.1",
      "-port",
      "22",
      "-flag0",
      "1",
    ]);
    const b = await run([
      "-test",
      ...SEALED,
      "-client",
      "10.3.2.1",
      "-port",
      "22",
      "-flag0",
      "1",
    ]);
    expect(a.code).toBe(0);
    expect(a.stdout.trim().split(",")).toHaveLength(14);
    expect(a.stdout).not.toBe(b.stdout);
  });

  it("an IPv6 CLIENT is allowed (21 ports), and the time comes from the clock", async () => {
    const r = await run(
      [
        "-json",
        "-test",
        ...SEALED,
        "-client",
        "2001:db8::1",
        "-port",
        "22",
        "-flag0",
        "1",
      ],
      {
        now: () => 1_700_000_000_000,
      },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      wire: string;
      ports: number[];
      plaintext: string;
    };
    expect(out.ports).toHaveLength(21);
    expect(out.wire.slice(0, 8)).toBe((1_700_000_000).toString(16));
    expect(out.plaintext).toBe("0620010db8000000000000000000000001001601");
  });

  it("-time is the time in the nonce (#16), without a warning", async () => {
    const r = await run(
      [
        "-json",
        "-test",
        ...SEALED,
        "-client",
        "10.3.2.1",
        "-port",
        "22",
        "-flag0",
        "1",
        "-time",
        "1600000000",
      ],
      { now: () => 1_700_000_000_000 },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { wire: string };
    expect(out.wire.slice(0, 8)).toBe((1_600_000_000).toString(16));
  });

  it.each([
    [["-knock", "CLIENT,PORT,TIME"], "option -knock"],
    [["-knock", "CLIENT,PORT,CHECKSUM"], "option -knock"],
    [["-key", "base64:tooshort"], "option -key"],
  ])("%j is refused naming %s", async (extra, where) => {
    const r = await run([
      "-test",
      ...SEALED,
      ...extra,
      "-client",
      "10.3.2.1",
      "-port",
      "22",
      "-flag0",
      "1",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`knock: ${where}:`);
  });

  it("-client must still be an address", async () => {
    const r = await run([
      "-test",
      ...SEALED,
      "-client",
      "not-an-ip",
      "-port",
      "22",
      "-flag0",
      "1",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option -client");
  });
});

describe("knock -remote that no knock can go to (#16)", () => {
  it.each([
    ["0", "not an address"],
    ["127.1", "not an address"],
    ["0x7f000001", "not an address"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
  ])(
    "-remote %s is refused before anything is sent (%s)",
    async (remote, why) => {
      const r = await run([
        "-remote",
        remote,
        ...SEALED,
        "-port",
        "22",
        "-flag0",
        "1",
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("REMOTE_BAD_ADDRESS");
      expect(r.stderr).toContain(why);
    },
  );
});
