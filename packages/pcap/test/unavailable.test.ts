/**
 * Where the addon is not built, the pure half of the package works and live capture throws
 * `PCAP_UNAVAILABLE` saying how to build it (issue #7). A copy of the build without `build/` runs
 * in a child process. In CI the addon must be built (it is compiled at install). A copy with only
 * the prebuilt addon of a release tarball (#18) loads that one.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { ADDON_PATH, loadNative } from "../src/native-binding.ts";

const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(PACKAGE, "dist");

const CHILD = `
const pcap = await import(process.argv[1]);
const frame = new Uint8Array(54);
frame[12] = 8; frame[14] = 0x45; frame[17] = 40; frame[23] = 6;
frame[26] = 127; frame[29] = 1; frame[30] = 127; frame[33] = 1; frame[46] = 0x50; frame[47] = 2;
const decoded = pcap.decodeFrame(frame, "ethernet", { timeMs: 0, origin: "t" });
let error;
try {
  pcap.openCapture({ interfaces: ["lo"], filter: "" });
} catch (e) {
  error = { name: e.name, code: e.code, message: e.message };
}
process.stdout.write(JSON.stringify({ decoded: decoded.ok, error }));
`;

const LOAD = `
const { loadNative, ADDON_PATH, PREBUILT_PATH } = await import(process.argv[1]);
const { existsSync } = await import("node:fs");
const native = loadNative();
const from = existsSync(ADDON_PATH) ? ADDON_PATH : PREBUILT_PATH;
process.stdout.write(JSON.stringify({ from, version: native.libpcapVersion }));
`;

describe("without the addon", () => {
  it.skipIf(!existsSync(DIST))(
    "decoding works; openCapture throws PCAP_UNAVAILABLE naming what the build needs",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "pk-pcap-noaddon-"));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      cpSync(DIST, join(dir, "dist"), { recursive: true });
      cpSync(join(PACKAGE, "package.json"), join(dir, "package.json"));
      symlinkSync(join(PACKAGE, "node_modules"), join(dir, "node_modules"));
      const r = spawnSync(
        process.execPath,
        ["--input-type=module", "-e", CHILD, join(dir, "dist", "index.js")],
        { encoding: "utf8" },
      );
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as {
        decoded: boolean;
        error?: { name: string; code: string; message: string };
      };
      expect(out.decoded).toBe(true);
      expect(out.error).toMatchObject({
        name: "PcapError",
        code: "PCAP_UNAVAILABLE",
      });
      expect(out.error?.message).toContain("libpcap-dev");
    },
  );
});

const built = existsSync(ADDON_PATH);
if (!built) {
  if (process.env.CI)
    throw new Error(
      `CI must build the libpcap addon: ${ADDON_PATH} is missing`,
    );
  console.warn(
    `skipping the addon load test: ${ADDON_PATH} is not built (pnpm install builds it)`,
  );
}

describe.skipIf(!built)("the addon", () => {
  it("loads (no privilege needed) and reports libpcap's version", () => {
    const native = loadNative();
    expect(native.libpcapVersion).toMatch(/^libpcap version \d+\.\d+/);
    expect(native.recordHeaderBytes).toBe(16);
  });
});

describe.skipIf(!built || !existsSync(DIST))("a prebuilt addon (#18)", () => {
  it("a copy without build/ loads prebuilds/<platform>-<arch>/ (as a release tarball ships it)", () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-pcap-prebuilt-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(DIST, join(dir, "dist"), { recursive: true });
    cpSync(join(PACKAGE, "package.json"), join(dir, "package.json"));
    symlinkSync(join(PACKAGE, "node_modules"), join(dir, "node_modules"));
    const prebuilds = join(
      dir,
      "prebuilds",
      `${process.platform}-${process.arch}`,
    );
    mkdirSync(prebuilds, { recursive: true });
    cpSync(ADDON_PATH, join(prebuilds, "portknock_pcap.node"));
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        LOAD,
        join(dir, "dist", "native-binding.js"),
      ],
      { encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      from: join(prebuilds, "portknock_pcap.node"),
      version: expect.stringMatching(/^libpcap version \d+\.\d+/) as unknown,
    });
  });
});
