/**
 * `raw-socket` is an optional dependency (#18): the built `knock`, installed where `raw-socket`
 * cannot be resolved (as npm leaves it when there is no C toolchain), still encodes and sends
 * knocks with `-method connect`, and `-method raw` fails with `RAW_SOCKET_UNAVAILABLE` saying how
 * to install it. The package is copied into a temp `node_modules` beside its other dependencies
 * (links to the workspace's), so only `raw-socket` is missing.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, realpathSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";

const PKG = fileURLToPath(new URL("..", import.meta.url));
const PACKAGES = join(PKG, "..");

/** An install of the built `@portknock/knock` with every dependency but raw-socket. */
function installWithoutRawSocket(): string {
  const root = tempDir();
  const modules = join(root, "node_modules");
  const knock = join(modules, "@portknock", "knock");
  mkdirSync(knock, { recursive: true });
  for (const entry of ["bin", "dist", "man", "package.json"])
    cpSync(join(PKG, entry), join(knock, entry), { recursive: true });
  for (const lib of ["core", "codec", "config"])
    symlinkSync(join(PACKAGES, lib), join(modules, "@portknock", lib), "dir");
  symlinkSync(
    realpathSync(join(PKG, "node_modules", "yargs")),
    join(modules, "yargs"),
    "dir",
  );
  return knock;
}

// pnpm's shims put its hoisted store on NODE_PATH (raw-socket is there): the children get none.
const ENV = { ...process.env, NODE_PATH: "" };
const RESOLVE = `import { createRequire } from "node:module";
try { createRequire(process.argv[1]).resolve("raw-socket"); console.log("found"); }
catch (e) { console.log(e.code); }`;

function knock(
  bin: string,
  args: string[],
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...ENV, HOME: tempDir() },
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const KNOCK = [
  "-remote",
  "127.0.0.1",
  "-knock",
  "PORT",
  "-portspan",
  "41000-41255",
  "-noencrypt",
  "-port",
  "1",
];

describe("knock without raw-socket (#18)", () => {
  it("-method connect works and -method raw is RAW_SOCKET_UNAVAILABLE", () => {
    const dir = installWithoutRawSocket();
    // The point of the test: raw-socket cannot be resolved from the copy.
    const resolve = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", RESOLVE, join(dir, "dist", "index.js")],
      { encoding: "utf8", env: ENV },
    );
    expect(resolve.stdout).toBe("MODULE_NOT_FOUND\n");
    const bin = join(dir, "bin", "knock.js");

    expect(knock(bin, ["-version"]).stdout).toMatch(/^knock \d+\.\d+\.\d+\n$/);
    const test = knock(bin, ["-test", "-quiet", ...KNOCK]);
    expect(test.stdout).toBe("41000,41001\n");
    const connect = knock(bin, ["-quiet", ...KNOCK]);
    expect(connect.stderr).toBe("");
    expect(connect.status).toBe(0);

    const raw = knock(bin, ["-method", "raw", ...KNOCK]);
    expect(raw.status).toBe(1);
    expect(raw.stdout).toBe("");
    expect(raw.stderr).toMatch(/^knock: RAW_SOCKET_UNAVAILABLE: /);
    expect(raw.stderr).toContain("npm install raw-socket");
    expect(raw.stderr).toContain("method = connect");
  }, 60_000);
});
