// `node tools/release/check-npm.js` (after `pnpm release:npm`): installs release/npm/*.tgz as an
// admin would, offline and without a C toolchain, and runs the bins (#18). Exit 1 on any failure.
//
// 1. Cache. `npm install --offline` needs the third-party dependencies in npm's cache. They are
//    put there by one online install of the same tarballs into a scratch folder with
//    --ignore-scripts (nothing is built; the registry is the only network used; metadata already
//    cached is reused: --prefer-offline). The cache is release/npm-cache unless --cache DIR is
//    given; a fresh CI machine starts with it empty.
// 2. A PATH with no toolchain: a temporary directory holding only node, npm, npx and sh (checked:
//    no cc, gcc, g++, c++, clang, make, python or python3 reachable), a temporary HOME, and no
//    npm_config_* from the environment (pnpm's node-gyp, nodedir and python settings stay out).
// 3. `npm install --offline` of every tarball into an empty folder, and `npm install -g --offline`
//    into an empty prefix (what the README documents).
// 4. node_modules/.bin/knockd -version and knock -version print the tarballs' version;
//    knockd -check passes on the shipped example config; knock -test encodes with the shipped
//    client config; knock -method raw fails with RAW_SOCKET_UNAVAILABLE (raw-socket could not be
//    built, so npm left the optional dependency out); @portknock/pcap loads its prebuilt addon
//    without having compiled anything (when the tarball carries one). The global bins print the
//    version too.
// Nothing goes through a shell; only loopback is named (knock -method raw fails before sending).
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TARBALLS = join(ROOT, "release", "npm");
const TOOLCHAIN = [
  "cc",
  "gcc",
  "g++",
  "c++",
  "clang",
  "make",
  "python",
  "python3",
];
const NPM_FLAGS = ["--no-audit", "--no-fund", "--no-update-notifier"];

class CheckError extends Error {}

let failures = 0;
function check(label, ok, detail = "") {
  console.log(
    `${ok ? "ok  " : "FAIL"}  ${label}${detail === "" ? "" : `\n        ${detail.trim().replaceAll("\n", "\n        ")}`}`,
  );
  if (!ok) failures++;
}

/** The lines of a successful install worth showing: the count, warnings, why an addon was not built. */
function summary(output) {
  return output
    .split("\n")
    .filter((l) =>
      /^added |^npm warn|@portknock\/pcap:|gyp ERR! stack Error:|gyp ERR! cwd/.test(
        l,
      ),
    )
    .join("\n");
}

/** The absolute path of `name` on `PATH`, or undefined. */
function which(name, path) {
  for (const dir of path.split(delimiter))
    if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

function run(file, args, options) {
  const r = spawnSync(file, args, {
    encoding: "utf8",
    timeout: 300_000,
    ...options,
  });
  if (r.error != null)
    throw new CheckError(`${file} ${args.join(" ")}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function parseArgs(argv) {
  let cache = join(ROOT, "release", "npm-cache");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--cache" && argv[i + 1] != null)
      cache = resolve(argv[++i]);
    else
      throw new CheckError(
        `unknown argument ${JSON.stringify(argv[i])} (known: --cache DIR)`,
      );
  }
  return { cache };
}

/** A bin directory with node, npm, npx and sh only; throws if a toolchain program is reachable. */
function toolFreePath(work) {
  const bin = join(work, "bin");
  mkdirSync(bin);
  const path = process.env.PATH ?? "";
  symlinkSync(process.execPath, join(bin, "node"));
  for (const tool of ["npm", "npx", "sh"]) {
    const found = which(tool, path);
    if (found == null) throw new CheckError(`${tool} is not on PATH`);
    symlinkSync(found, join(bin, tool));
  }
  for (const tool of TOOLCHAIN)
    if (which(tool, bin) != null)
      throw new CheckError(`${tool} is reachable in the stripped PATH`);
  return bin;
}

function main(argv) {
  const { cache } = parseArgs(argv);
  const tgz = existsSync(TARBALLS)
    ? readdirSync(TARBALLS)
        .filter((f) => f.endsWith(".tgz"))
        .map((f) => join(TARBALLS, f))
    : [];
  if (tgz.length === 0)
    throw new CheckError(
      `no tarballs in ${relative(ROOT, TARBALLS)}: run pnpm release:npm first`,
    );
  const knockdTgz = tgz.find((f) => /portknock-knockd-[^/]+\.tgz$/.test(f));
  if (knockdTgz == null) throw new CheckError("no @portknock/knockd tarball");
  const version = JSON.parse(
    run("tar", ["-xzOf", knockdTgz, "package/package.json"], { cwd: ROOT })
      .stdout,
  ).version;
  console.log(
    `checking ${tgz.length} tarballs of portknock ${version} (cache ${cache})`,
  );

  const work = mkdtempSync(join(tmpdir(), "portknock-check-npm-"));
  try {
    // 1. The cache, filled online once (the registry only), nothing built.
    mkdirSync(cache, { recursive: true });
    const warm = join(work, "warm");
    mkdirSync(warm);
    writeFileSync(
      join(warm, "package.json"),
      '{ "name": "warm", "private": true }\n',
    );
    const w = run(
      "npm",
      [
        "install",
        "--cache",
        cache,
        "--prefer-offline",
        "--ignore-scripts",
        ...NPM_FLAGS,
        ...tgz,
      ],
      { cwd: warm },
    );
    check(
      "the npm cache holds the third-party dependencies (online install, --ignore-scripts)",
      w.status === 0,
      w.status === 0 ? "" : w.stderr,
    );
    if (w.status !== 0) return;

    // 2. No toolchain, no inherited npm settings.
    const bin = toolFreePath(work);
    const home = join(work, "home");
    mkdirSync(home);
    const env = { PATH: bin, HOME: home, LANG: "C.UTF-8", TMPDIR: work };
    check(
      `PATH holds node, npm, npx and sh only (no ${TOOLCHAIN.join(", ")})`,
      true,
    );

    // 3. Offline installs: into an empty folder, and globally into an empty prefix.
    const app = join(work, "app");
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      '{ "name": "app", "private": true }\n',
    );
    const offline = [
      "--offline",
      "--cache",
      cache,
      "--foreground-scripts",
      ...NPM_FLAGS,
    ];
    const i = run("npm", ["install", ...offline, ...tgz], { cwd: app, env });
    check(
      "npm install --offline ./release/npm/*.tgz (no C toolchain)",
      i.status === 0,
      i.status === 0
        ? summary(`${i.stdout}${i.stderr}`)
        : `${i.stdout}${i.stderr}`,
    );
    const prefix = join(work, "global");
    const g = run(
      "npm",
      ["install", "-g", "--prefix", prefix, ...offline, ...tgz],
      { cwd: work, env },
    );
    check(
      "npm install -g --offline ./release/npm/*.tgz (an empty prefix)",
      g.status === 0,
      g.status === 0 ? "" : `${g.stdout}${g.stderr}`,
    );
    if (i.status !== 0) return;

    // 4. The installed bins.
    const dotBin = join(app, "node_modules", ".bin");
    const cli = (name, args, b = dotBin) =>
      run(join(b, name), args, { cwd: app, env });
    for (const name of ["knockd", "knock"]) {
      const r = cli(name, ["-version"]);
      check(
        `${name} -version prints "${name} ${version}"`,
        r.status === 0 && r.stdout === `${name} ${version}\n`,
        `${r.stdout}${r.stderr}`,
      );
    }
    const examples = join(
      app,
      "node_modules",
      "@portknock",
      "knockd",
      "examples",
    );
    const c = cli("knockd", [
      "-check",
      "-conf",
      join(examples, "knockdaemon.conf"),
    ]);
    check(
      "knockd -check -conf node_modules/@portknock/knockd/examples/knockdaemon.conf exits 0",
      c.status === 0,
      c.status === 0
        ? c.stdout.split("\n").slice(0, 3).join("\n")
        : `${c.stdout}${c.stderr}`,
    );
    const client = join(
      app,
      "node_modules",
      "@portknock",
      "knock",
      "examples",
      "knockclient.conf",
    );
    const t = cli("knock", [
      "-conf",
      client,
      "-test",
      "-port",
      "22",
      "-flag0",
      "0",
    ]);
    check(
      "knock -test with the shipped client config prints the ports",
      t.status === 0 && /^\d+(,\d+)+\n$/.test(t.stdout),
      `${t.stdout}${t.stderr}`,
    );
    const rawInstalled = existsSync(join(app, "node_modules", "raw-socket"));
    check(
      "npm left out the optional raw-socket (its addon cannot be built here)",
      !rawInstalled,
    );
    const raw = cli("knock", [
      "-conf",
      client,
      "-remote",
      "127.0.0.1",
      "-method",
      "raw",
      "-port",
      "22",
      "-flag0",
      "0",
    ]);
    check(
      "knock -method raw exits 1 with RAW_SOCKET_UNAVAILABLE",
      raw.status === 1 &&
        raw.stderr.startsWith("knock: RAW_SOCKET_UNAVAILABLE: "),
      `${raw.stdout}${raw.stderr}`,
    );

    const pcap = join(app, "node_modules", "@portknock", "pcap");
    const prebuilt = existsSync(join(pcap, "prebuilds"));
    const load = run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        "const { loadNative } = await import(process.argv[1]); console.log(loadNative().libpcapVersion);",
        pathToFileURL(join(pcap, "dist", "native-binding.js")).href,
      ],
      { cwd: app, env },
    );
    if (prebuilt)
      check(
        "@portknock/pcap loads its prebuilt addon, nothing compiled",
        load.status === 0 && !existsSync(join(pcap, "build")),
        `${load.stdout}${load.stderr}`,
      );
    else
      check(
        "@portknock/pcap without a prebuilt addon: PCAP_UNAVAILABLE",
        load.stderr.includes("PCAP_UNAVAILABLE"),
        load.stderr.split("\n")[0],
      );

    if (g.status === 0)
      for (const name of ["knockd", "knock"]) {
        const r = cli(name, ["-version"], join(prefix, "bin"));
        check(
          `global ${name} -version prints "${name} ${version}"`,
          r.status === 0 && r.stdout === `${name} ${version}\n`,
          `${r.stdout}${r.stderr}`,
        );
      }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof CheckError)) throw e;
  check(e.message, false);
}
if (failures > 0) {
  console.log(`check-npm: ${failures} check(s) failed`);
  process.exitCode = 1;
} else console.log("check-npm: all checks passed");
