// `pnpm release:npm` (`node tools/release/npm.js`, after `pnpm build`): packs every published
// @portknock/* package into release/npm/<name>-<version>.tgz, ready for
// `npm install -g ./release/npm/*.tgz` (#18). For each package:
//   1. `pnpm pack` (the package's `files`; pnpm turns `workspace:` ranges into versions);
//   2. its package.json gets every @portknock/* dependency pinned to the exact release version
//      (pnpm writes `^0.1.0` for `workspace:^`: a newer sibling could be mixed in), and loses the
//      development dependencies on unpublished workspace tools (@portknock/test-utils);
//   3. @portknock/pcap gets this machine's libpcap addon as prebuilds/<platform>-<arch>/
//      portknock_pcap.node (Node-API 8, links libpcap.so.0.8), so live capture works where the
//      install cannot compile; knockd and knock get the example configs (examples/);
//   4. `npm pack` of that directory writes the tarball (npm's normalised modes and times);
//   5. the tarball's package.json is read back and checked: nothing `workspace:`, every internal
//      dependency exactly the version; LICENSE, README.md and CHANGELOG.md (once
//      `pnpm version-packages` has written it) inside.
// Prints each artefact with its size. Exit 1 on any failure; nothing goes through a shell.
// Options: --no-pcap-prebuilt (ship pcap without the addon: installs then compile it or warn).
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT = join(ROOT, "release", "npm");
const DEP_FIELDS = [
  "dependencies",
  "optionalDependencies",
  "peerDependencies",
  "devDependencies",
];
const PLATFORM = `${process.platform}-${process.arch}`;
const ADDON = join(ROOT, "packages/pcap/build/Release/portknock_pcap.node");
const EXAMPLES = ["knockdaemon.conf", "knockclient.conf"];
/** Files each package's tarball must hold besides package.json (checked after packing). */
const REQUIRED = {
  "@portknock/knockd": [
    "bin/knockd.js",
    "dist/cli.js",
    "dist/cli-prestart.js",
    "man/knockd.txt",
  ],
  "@portknock/knock": ["bin/knock.js", "man/knock.txt"],
  "@portknock/logsource": ["dist/scan.wasm"],
};

class ReleaseError extends Error {}

function fail(message) {
  throw new ReleaseError(message);
}

function run(file, args, cwd) {
  const r = spawnSync(file, args, { cwd, encoding: "utf8" });
  if (r.error != null) fail(`${file} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0)
    fail(
      `${file} ${args.join(" ")} (in ${relative(ROOT, cwd) || "."}) exited ${r.status}:\n${r.stderr}`,
    );
  return r.stdout;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** The published packages: packages/* that are not private. */
function publishedPackages() {
  const dir = join(ROOT, "packages");
  return readdirSync(dir)
    .filter((d) => existsSync(join(dir, d, "package.json")))
    .map((d) => ({
      dir: join(dir, d),
      manifest: readJson(join(dir, d, "package.json")),
    }))
    .filter((p) => p.manifest.private !== true);
}

/** Pins @portknock/* to `version`; drops dev dependencies on unpublished workspace packages. */
function pin(manifest, version, names) {
  for (const field of DEP_FIELDS) {
    const deps = manifest[field];
    if (deps == null) continue;
    for (const name of Object.keys(deps)) {
      if (!name.startsWith("@portknock/")) continue;
      if (names.has(name)) deps[name] = version;
      else if (field === "devDependencies") delete deps[name];
      else fail(`${manifest.name} depends on ${name}, which is not published`);
    }
    if (Object.keys(deps).length === 0) delete manifest[field];
  }
}

/** Checks what `npm pack` wrote: the manifest inside the tarball, and the files listed. */
function verify(tgz, pack, version, names, dir) {
  const inside = JSON.parse(
    run("tar", ["-xzOf", tgz, "package/package.json"], ROOT),
  );
  const text = JSON.stringify(inside);
  if (/"(workspace|link|file):/.test(text))
    fail(`${tgz}: package.json still has a workspace:, link: or file: range`);
  if (inside.version !== version)
    fail(`${tgz}: version ${inside.version}, expected ${version}`);
  for (const field of DEP_FIELDS)
    for (const [name, range] of Object.entries(inside[field] ?? {}))
      if (
        name.startsWith("@portknock/") &&
        (range !== version || !names.has(name))
      )
        fail(
          `${tgz}: ${field}.${name} is ${JSON.stringify(range)}, expected exactly ${version}`,
        );
  const files = new Set(pack.files.map((f) => f.path));
  for (const need of [
    "package.json",
    "LICENSE",
    "README.md",
    // after `pnpm version-packages`, each package has its CHANGELOG.md (its `files` names it)
    ...(existsSync(join(dir, "CHANGELOG.md")) ? ["CHANGELOG.md"] : []),
    ...(REQUIRED[inside.name] ?? []),
  ])
    if (!files.has(need)) fail(`${tgz}: ${need} is missing`);
  return inside;
}

/** Newest modification time of the files under `dir` but tests (not built), in ms. */
function newest(dir) {
  let ms = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile() && !e.name.endsWith(".test.ts"))
      ms = Math.max(ms, statSync(join(e.parentPath, e.name)).mtimeMs);
  return ms;
}

/** The package is built, and built since its sources last changed (tsc -b's build info). */
function checkBuilt(p) {
  const where = relative(ROOT, p.dir);
  const info = join(p.dir, "tsconfig.tsbuildinfo");
  if (!existsSync(join(p.dir, "dist", "index.js")) || !existsSync(info))
    fail(
      `${p.manifest.name} is not built (${where}/dist): run pnpm build first`,
    );
  if (newest(join(p.dir, "src")) > statSync(info).mtimeMs)
    fail(
      `${p.manifest.name}: ${where}/src changed since the last build: run pnpm build first`,
    );
}

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function main(argv) {
  const prebuilt = !argv.includes("--no-pcap-prebuilt");
  for (const a of argv)
    if (a !== "--no-pcap-prebuilt")
      fail(`unknown argument ${JSON.stringify(a)} (known: --no-pcap-prebuilt)`);
  const packages = publishedPackages();
  const names = new Set(packages.map((p) => p.manifest.name));
  const versions = new Set(packages.map((p) => p.manifest.version));
  if (versions.size !== 1)
    fail(
      `the packages do not share one version: ${[...versions].join(", ")} (run pnpm version-packages)`,
    );
  const [version] = versions;
  for (const p of packages) checkBuilt(p);
  if (prebuilt && !existsSync(ADDON))
    fail(
      `${relative(ROOT, ADDON)} is missing: install libpcap-dev and run "pnpm install" ` +
        `(or "cd packages/pcap && pnpm run install"), or pass --no-pcap-prebuilt`,
    );

  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "portknock-release-npm-"));
  const rows = [];
  try {
    for (const p of packages) {
      const name = p.manifest.name;
      const slug = name.replace(/^@/, "").replace("/", "-");
      const packed = join(work, slug);
      mkdirSync(packed);
      run("pnpm", ["pack", "--pack-destination", packed], p.dir);
      const [first] = readdirSync(packed).filter((f) => f.endsWith(".tgz"));
      if (first == null) fail(`pnpm pack wrote no tarball for ${name}`);
      run("tar", ["-xzf", join(packed, first), "-C", packed], ROOT);
      const stage = join(packed, "package");

      const manifest = readJson(join(stage, "package.json"));
      pin(manifest, version, names);
      if (name === "@portknock/pcap" && prebuilt) {
        const dest = join(stage, "prebuilds", PLATFORM);
        mkdirSync(dest, { recursive: true });
        cpSync(ADDON, join(dest, "portknock_pcap.node"));
        if (!(manifest.files ?? []).includes("prebuilds"))
          fail(`${name}: its files list must name prebuilds`);
      }
      if (name === "@portknock/knockd" || name === "@portknock/knock") {
        mkdirSync(join(stage, "examples"));
        for (const f of EXAMPLES)
          cpSync(join(ROOT, "examples", f), join(stage, "examples", f));
        if (!(manifest.files ?? []).includes("examples"))
          fail(`${name}: its files list must name examples`);
      }
      writeFileSync(
        join(stage, "package.json"),
        `${JSON.stringify(manifest, null, 2)}\n`,
      );

      const [pack] = JSON.parse(
        run(
          "npm",
          [
            "pack",
            stage,
            "--pack-destination",
            OUT,
            "--json",
            "--ignore-scripts",
          ],
          work,
        ),
      );
      const tgz = join(OUT, pack.filename);
      verify(tgz, pack, version, names, p.dir);
      if (name === "@portknock/pcap" && prebuilt)
        if (
          !pack.files.some(
            (f) => f.path === `prebuilds/${PLATFORM}/portknock_pcap.node`,
          )
        )
          fail(`${tgz}: the prebuilt addon is missing`);
      rows.push({ file: relative(ROOT, tgz), size: statSync(tgz).size, pack });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const width = Math.max(...rows.map((r) => r.file.length));
  console.log(
    `portknock ${version}: ${rows.length} npm tarballs (internal dependencies pinned to ${version})`,
  );
  for (const r of rows)
    console.log(
      `  ${r.file.padEnd(width)}  ${kib(r.size).padStart(10)}  ${String(r.pack.entryCount).padStart(4)} files  ${kib(r.pack.unpackedSize).padStart(11)} unpacked`,
    );
  const total = rows.reduce((s, r) => s + r.size, 0);
  console.log(`  ${"total".padEnd(width)}  ${kib(total).padStart(10)}`);
  console.log(
    prebuilt
      ? `  @portknock/pcap carries the libpcap addon prebuilt for ${PLATFORM} (needs libpcap.so.0.8)`
      : "  @portknock/pcap without a prebuilt addon (--no-pcap-prebuilt): installs compile it or warn",
  );
  console.log("install: npm install -g ./release/npm/*.tgz");
}

try {
  main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof ReleaseError)) throw e;
  process.stderr.write(`release:npm: ${e.message}\n`);
  process.exitCode = 1;
}
