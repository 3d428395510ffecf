#!/usr/bin/env node
// Builds release/portknock_<version>_<arch>.deb from the built workspace (run `pnpm build` first,
// and the pcap addon's `pnpm run install`). No network: everything comes from this checkout and
// its node_modules. tools/release/README.md explains the layout and the decisions.
//
//   node tools/release/deb.js [--out DIR]
//
// The runtime tree (/usr/lib/portknock/node_modules) holds @portknock/knockd and
// @portknock/knock with their production dependencies, copied from node_modules without
// declarations, source maps and docs; /usr/bin/portknockd and /usr/bin/portknock link to their
// bins, whose shebang becomes /usr/bin/node (Depends: nodejs (>= 20.19)).
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { renameCommands, textToRoff } from "./man-roff.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const assets = fileURLToPath(new URL("deb/", import.meta.url));
const LIB = "usr/lib/portknock";
// Needed only to compile raw-socket (C++ headers); nothing loads it at run time.
const BUILD_ONLY = new Set(["nan"]);
// Parts of a dependency nothing here loads: node-forge's browser bundles and Flash sources
// (require("node-forge") is lib/).
const PRUNE = new Map([["node-forge", new Set(["dist", "flash"])]]);

/** Fails the build with one line naming what is wrong. */
function fail(message) {
  process.stderr.write(`deb.js: ${message}\n`);
  process.exit(1);
}

/** Runs argv (never a shell); returns stdout, fails the build on a non-zero exit. */
function run(argv, options = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", ...options });
  if (r.status !== 0) {
    fail(
      `${argv.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? "").trim().slice(0, 2000)}`,
    );
  }
  return r.stdout;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

function parseArgs(argv) {
  let out = join(repo, "release");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out" && argv[i + 1] !== undefined) out = argv[++i];
    else
      fail(
        `unknown argument ${JSON.stringify(argv[i])}; usage: deb.js [--out DIR]`,
      );
  }
  return { out };
}

// --- the runtime tree -----------------------------------------------------------------------

/** Workspace packages by name → directory. */
function workspacePackages() {
  const map = new Map();
  for (const name of readdirSync(join(repo, "packages"))) {
    const file = join(repo, "packages", name, "package.json");
    if (existsSync(file))
      map.set(readJson(file).name, join(repo, "packages", name));
  }
  return map;
}

/** Where Node would find package `name` from `dir` (in this checkout), or undefined. */
function resolveFrom(dir, name) {
  for (let d = dir; ; d = dirname(d)) {
    if (basename(d) !== "node_modules") {
      const candidate = join(d, "node_modules", name, "package.json");
      if (existsSync(candidate)) return realpathSync(dirname(candidate));
    }
    if (dirname(d) === d) return undefined;
  }
}

// A workspace package's `files` entries that `pnpm build` makes or that the CLIs read.
const BUILD_OUTPUTS = new Set(["dist", "bin", "man"]);

const DROP_DIRS = new Set([
  "node_modules",
  ".github",
  "test",
  "tests",
  "__tests__",
  "benchmarks",
  "benchmark",
  "bench",
  "docs",
  "doc",
  "example",
  "examples",
  "coverage",
  "fixtures",
  ".husky",
]);

/** Whether a file of a copied package is needed at run time. */
function keepFile(name, rel, native) {
  if (/^(licen[cs]e|copying|notice)/i.test(name)) return true;
  if (
    /\.(d\.[cm]?ts|d\.ts\.map|map|tsbuildinfo|md|markdown|html|ts|mts|cts|gyp|gypi|c|cc|cpp|h|hh|o|a|mk|yml|yaml)$/i.test(
      name,
    )
  ) {
    return false;
  }
  if (/\.test\.[cm]?js$/.test(name)) return false;
  if (/^(\.|tsconfig|Makefile$|binding\.Makefile$|config\.gypi$)/.test(name))
    return false;
  // A native build keeps only its addon (build/Release/*.node).
  if (native && rel.startsWith("build/"))
    return /^build\/Release\/[^/]+\.node$/.test(rel);
  return true;
}

function copyTree(src, dest, rel = "", prune = new Set()) {
  let bytes = 0;
  // A native addon's build/ holds objects and makefiles; other packages ship JS in build/.
  const native = existsSync(join(src, "binding.gyp"));
  for (const entry of readdirSync(join(src, rel), { withFileTypes: true })) {
    const r = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (DROP_DIRS.has(entry.name) || prune.has(r)) continue;
      // Of a native build only build/Release (its *.node, see keepFile).
      const inBuild = native && (r === "build" || r.startsWith("build/"));
      if (inBuild && r !== "build" && r !== "build/Release") continue;
      bytes += copyTree(src, dest, r, prune);
    } else if (entry.isFile() && keepFile(entry.name, r, native)) {
      mkdirSync(dirname(join(dest, r)), { recursive: true });
      copyFileSync(join(src, r), join(dest, r));
      bytes += statSync(join(src, r)).size;
    }
  }
  return bytes;
}

/**
 * Copies a workspace package's published files (package.json `files`) without declarations and
 * source maps, plus its addon (build/Release/*.node) when it has one.
 */
function copyWorkspacePackage(src, dest) {
  const pkg = readJson(join(src, "package.json"));
  mkdirSync(dest, { recursive: true });
  copyFileSync(join(src, "package.json"), join(dest, "package.json"));
  for (const entry of pkg.files ?? []) {
    if (entry === "native" || entry === "binding.gyp" || entry.endsWith(".md"))
      continue;
    const from = join(src, entry);
    if (!existsSync(from)) {
      // The build's outputs must be there; other entries (prebuilds/, examples/, CHANGELOG.md)
      // are added when tools/release/npm.js packs the tarballs and have no use in the .deb.
      if (BUILD_OUTPUTS.has(entry)) {
        fail(`${pkg.name}: "${entry}" is missing: run pnpm build`);
      }
      continue;
    }
    if (statSync(from).isDirectory()) copyTree(src, dest, entry);
    else copyFileSync(from, join(dest, entry));
  }
  if (existsSync(join(src, "build", "Release"))) copyTree(src, dest, "build");
}

/**
 * Installs `name` (found from `fromSrc` in the checkout) so that Node finds it from
 * `fromDest` in the staged tree: reused where an equal version is already visible, at the top
 * when free, else nested under the dependent. Recurses into its dependencies.
 */
function install(state, name, fromSrc, fromDest, optional) {
  const src = state.workspace.get(name) ?? resolveFrom(fromSrc, name);
  if (src === undefined) {
    if (optional) return;
    fail(
      `cannot find ${name} (a dependency of ${relative(repo, fromSrc)}): run pnpm install`,
    );
  }
  const pkg = readJson(join(src, "package.json"));
  let nested = false;
  for (let d = fromDest; d.startsWith(state.lib); d = dirname(d)) {
    if (basename(d) === "node_modules") continue;
    const seen = state.placed.get(join(d, "node_modules", name));
    if (seen === pkg.version) return;
    if (seen !== undefined) {
      nested = true;
      break;
    }
  }
  const dest = nested
    ? join(fromDest, "node_modules", name)
    : join(state.lib, "node_modules", name);
  state.placed.set(dest, pkg.version);
  if (state.workspace.has(name)) copyWorkspacePackage(src, dest);
  else copyTree(src, dest, "", PRUNE.get(name));
  state.packages.push({
    name,
    version: pkg.version,
    license: pkg.license,
    src,
    dest,
  });
  for (const [deps, opt] of [
    [pkg.dependencies, false],
    [pkg.optionalDependencies, true],
  ]) {
    for (const dep of Object.keys(deps ?? {})) {
      if (!BUILD_ONLY.has(dep)) install(state, dep, src, dest, opt);
    }
  }
}

// --- the package's other files ---------------------------------------------------------------

function writeFile(root, path, content, mode = 0o644) {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  chmodSync(file, mode);
}

/** gzip -9n: no name, no time stamp (reproducible, as lintian wants). */
function gzip(data) {
  return gzipSync(data, { level: 9 });
}

function manPages(root, version, date) {
  for (const [src, name, section] of [
    ["packages/knockd/man/knockd.txt", "portknockd", "8"],
    ["packages/knock/man/knock.txt", "portknock", "1"],
  ]) {
    const roff = textToRoff(readFileSync(join(repo, src), "utf8"), {
      name,
      section,
      version,
      date,
      rename: renameCommands,
    });
    writeFile(
      root,
      `usr/share/man/man${section}/${name}.${section}.gz`,
      gzip(roff),
    );
  }
}

function rewriteShebang(file) {
  const text = readFileSync(file, "utf8");
  if (!text.startsWith("#!")) fail(`${file}: no #! line`);
  writeFileSync(file, text.replace(/^#![^\n]*/, "#!/usr/bin/node"));
  chmodSync(file, 0o755);
}

/** Copyright lines of a license file, or undefined. */
function copyrightOf(dir) {
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
  if (file === undefined) return undefined;
  const text = readFileSync(join(dir, file), "utf8");
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(
      (l) =>
        /^(copyright|\(c\)|©)/i.test(l) &&
        !/copyright (notice|holder|owner)/i.test(l),
    )
    .map((l) => l.replace(/^copyright\s*(\(c\)|©)?\s*/i, ""));
  return { file, text, lines: [...new Set(lines)] };
}

// SPDX names that DEP-5 spells differently.
const DEP5_NAMES = new Map([
  ["GPL-2.0", "GPL-2"],
  ["GPL-2.0-only", "GPL-2"],
  ["GPL-2.0-or-later", "GPL-2+"],
]);

/** debian/copyright in the machine-readable format (DEP-5). */
function copyrightFile(packages, root) {
  const paras = [
    [
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
      "Upstream-Name: portknock",
      "Source: https://github.com/portknock/portknock",
    ],
    ["Files: *", "Copyright: the portknock authors", "License: GPL-2+"],
  ];
  const licenseTexts = new Map();
  let gpl2 = false;
  for (const p of packages.filter((p) => !p.name.startsWith("@portknock/"))) {
    const info = copyrightOf(p.dest);
    const names = (p.license ?? "UNKNOWN")
      .replace(/[()]/g, "")
      .split(" OR ")
      .map((n) => DEP5_NAMES.get(n) ?? n);
    paras.push([
      `Files: ${relative(root, p.dest)}/*`,
      `Copyright: ${info?.lines.length ? info.lines.join("\n ") : `the ${p.name} authors`}`,
      `License: ${names.join(" or ")}`,
    ]);
    for (const name of names) {
      if (name === "GPL-2") gpl2 = true;
      else if (!licenseTexts.has(name)) {
        if (info === undefined)
          fail(`${p.name}: no license file to quote for ${name}`);
        // A dual-licence file (node-forge) also holds the GPL: that text is in common-licenses.
        const gpl = info.text.search(/^\s*GNU GENERAL PUBLIC LICENSE/m);
        licenseTexts.set(name, gpl > 0 ? info.text.slice(0, gpl) : info.text);
      }
    }
  }
  paras.push([
    "License: GPL-2+",
    " This program is free software; you can redistribute it and/or modify it under",
    " the terms of the GNU General Public License as published by the Free Software",
    " Foundation; either version 2 of the License, or (at your option) any later",
    " version.",
    " .",
    " This program is distributed in the hope that it will be useful, but WITHOUT",
    " ANY WARRANTY; without even the implied warranty of MERCHANTABILITY or FITNESS",
    " FOR A PARTICULAR PURPOSE. See the GNU General Public License for more details.",
    " .",
    " On Debian systems, the complete text of the GNU General Public License",
    " version 2 can be found in /usr/share/common-licenses/GPL-2.",
  ]);
  if (gpl2) {
    paras.push([
      "License: GPL-2",
      " On Debian systems, the complete text of the GNU General Public License",
      " version 2 can be found in /usr/share/common-licenses/GPL-2.",
    ]);
  }
  for (const [name, text] of licenseTexts) {
    paras.push([
      `License: ${name}`,
      ...text
        .trim()
        .split("\n")
        .map((l) => (l.trim() === "" ? " ." : ` ${l.trimEnd()}`))
        .filter((l, i, all) => !(l === " ." && all[i - 1] === " .")),
    ]);
  }
  return paras.map((p) => p.join("\n")).join("\n\n") + "\n";
}

function changelog(version, maintainer, epochSeconds) {
  const date = new Date(epochSeconds * 1000)
    .toUTCString()
    .replace("GMT", "+0000");
  return (
    `portknock (${version}) unstable; urgency=medium\n\n` +
    `  * Release ${version}: see CHANGELOG.md of each package.\n\n` +
    ` -- ${maintainer}  ${date}\n`
  );
}

/** Every regular file of the tree, relative, sorted. */
function filesOf(root, rel = "") {
  const out = [];
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const r = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...filesOf(root, r));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

function isScript(file) {
  return readFileSync(file).subarray(0, 2).toString("latin1") === "#!";
}

/** Strips the native addons' debug symbols (as dh_strip would). */
function stripAddons(root) {
  for (const f of filesOf(root).filter((f) => f.endsWith(".node"))) {
    run([
      "strip",
      "--strip-unneeded",
      "--remove-section=.comment",
      "--remove-section=.note",
      join(root, f),
    ]);
  }
}

function normaliseModes(root, rel = "") {
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const r = join(root, rel, e.name);
    if (e.isDirectory()) {
      chmodSync(r, 0o755);
      normaliseModes(root, join(rel, e.name));
    } else if (e.isFile()) {
      // Executable: scripts that say so (the bins). Addons are shared objects: 0644.
      const executable = (lstatSync(r).mode & 0o100) !== 0 && isScript(r);
      chmodSync(r, executable ? 0o755 : 0o644);
    }
  }
}

// --- main ------------------------------------------------------------------------------------

const { out } = parseArgs(process.argv.slice(2));
const knockdPkg = readJson(join(repo, "packages/knockd/package.json"));
const version = knockdPkg.version;
const arch = run(["dpkg", "--print-architecture"]).trim();
const epoch = Number(
  process.env.SOURCE_DATE_EPOCH ??
    run(["git", "-C", repo, "log", "-1", "--format=%ct"]).trim(),
);
const maintainer =
  process.env.DEB_MAINTAINER ??
  run(["git", "-C", repo, "log", "-1", "--format=%an <%ae>"]).trim();
for (const f of [
  "packages/knockd/dist/cli.js",
  "packages/knock/dist/index.js",
  "packages/logsource/dist/scan.wasm",
  "packages/pcap/build/Release/portknock_pcap.node",
]) {
  if (!existsSync(join(repo, f))) {
    fail(
      `${f} is missing: run "pnpm build" (and "pnpm run install" in packages/pcap) first`,
    );
  }
}

const root = mkdtempSync(join(tmpdir(), "portknock-deb-"));
try {
  const state = {
    lib: join(root, LIB),
    workspace: workspacePackages(),
    placed: new Map(),
    packages: [],
  };
  for (const name of ["@portknock/knockd", "@portknock/knock"]) {
    install(state, name, repo, state.lib, false);
  }
  const nm = join(state.lib, "node_modules");
  rewriteShebang(join(nm, "@portknock/knockd/bin/knockd.js"));
  rewriteShebang(join(nm, "@portknock/knock/bin/knock.js"));
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  symlinkSync(
    "../lib/portknock/node_modules/@portknock/knockd/bin/knockd.js",
    join(root, "usr/bin/portknockd"),
  );
  symlinkSync(
    "../lib/portknock/node_modules/@portknock/knock/bin/knock.js",
    join(root, "usr/bin/portknock"),
  );

  const date = new Date(epoch * 1000).toISOString().slice(0, 10);
  manPages(root, version, date);
  for (const f of ["knockdaemon.conf.example", "knockclient.conf.example"]) {
    writeFile(root, `etc/portknock/${f}`, readFileSync(join(assets, f)));
  }
  writeFile(
    root,
    "lib/systemd/system/portknockd.service",
    readFileSync(join(assets, "portknockd.service")),
  );
  const doc = "usr/share/doc/portknock";
  writeFile(
    root,
    `${doc}/README.md.gz`,
    gzip(readFileSync(join(repo, "README.md"))),
  );
  writeFile(
    root,
    `${doc}/RECIPES.md.gz`,
    gzip(readFileSync(join(repo, "packages/knockd/RECIPES.md"))),
  );
  writeFile(
    root,
    `${doc}/README.Debian`,
    readFileSync(join(assets, "README.Debian")),
  );
  writeFile(
    root,
    `${doc}/changelog.gz`,
    gzip(changelog(version, maintainer, epoch)),
  );
  writeFile(root, `${doc}/copyright`, copyrightFile(state.packages, root));
  stripAddons(root);
  normaliseModes(root);
  chmodSync(root, 0o755);

  // DEBIAN/
  const files = filesOf(root);
  const installedKiB = files.reduce(
    (sum, f) => sum + Math.ceil(statSync(join(root, f)).size / 1024),
    0,
  );
  const control = [
    "Package: portknock",
    `Version: ${version}`,
    `Architecture: ${arch}`,
    `Maintainer: ${maintainer}`,
    `Installed-Size: ${installedKiB}`,
    // The pcap addon links libpcap (Node-API: any Node >= 20.19); raw-socket (knock -method
    // raw) is a NAN addon for the Node major it was built with.
    "Depends: nodejs (>= 20.19), libpcap0.8 (>= 1.5.0), libc6 (>= 2.28), libstdc++6 (>= 5.2), adduser",
    "Recommends: nftables",
    "Suggests: systemd",
    "Section: net",
    "Priority: optional",
    "Homepage: https://github.com/portknock/portknock",
    "Description: port-knocking daemon and client (portknockd, portknock)",
    " portknockd watches connection attempts to closed ports (in the firewall log",
    " or with libpcap), decodes knocks - sealed (authenticated, replay-proof) or",
    " compatible with the portknocking.org Perl prototype - and runs the configured",
    " actions: open the firewall for the knocking address, close it again later.",
    " portknock sends knocks. Includes a hardened systemd unit; nothing runs until",
    " /etc/portknock/knockdaemon.conf is written.",
    "",
  ].join("\n");
  writeFile(root, "DEBIAN/control", control);
  writeFile(
    root,
    "DEBIAN/conffiles",
    "/etc/portknock/knockdaemon.conf.example\n/etc/portknock/knockclient.conf.example\n",
  );
  for (const s of ["postinst", "prerm", "postrm"]) {
    writeFile(root, `DEBIAN/${s}`, readFileSync(join(assets, s)), 0o755);
  }
  writeFile(
    root,
    "DEBIAN/md5sums",
    files
      .map(
        (f) =>
          `${createHash("md5")
            .update(readFileSync(join(root, f)))
            .digest("hex")}  ${f}\n`,
      )
      .join(""),
  );

  mkdirSync(out, { recursive: true });
  const deb = join(out, `portknock_${version}_${arch}.deb`);
  run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, deb], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
  });
  const bytes = statSync(deb).size;
  process.stdout.write(
    `${relative(process.cwd(), deb) || deb}: ${(bytes / 1024).toFixed(0)} KiB, installed ${installedKiB} KiB, ` +
      `${state.packages.length} npm packages\n`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
