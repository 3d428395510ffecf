// The package's `install` script. A release tarball (tools/release/npm.js, #18) carries the addon
// prebuilt for its platform in prebuilds/<platform>-<arch>/portknock_pcap.node (Node-API 8, links
// libpcap.so.0.8): when it is there and loads, nothing is compiled, so no C toolchain is needed.
// Otherwise (no prebuilt for this platform, libpcap0.8 missing, or PORTKNOCK_PCAP_BUILD_FROM_SOURCE=1)
// it compiles the libpcap addon (binding.gyp → build/Release/portknock_pcap.node) with the
// node-gyp that npm and pnpm put on PATH for install scripts (npm also names it in
// npm_config_node_gyp). When it cannot be built (no libpcap-dev, no C compiler), the install still
// succeeds with a warning: decoding, filters and pcap-file replay need no addon, and live capture
// then throws PcapError PCAP_UNAVAILABLE saying how to build it.
// Set PORTKNOCK_PCAP_REQUIRE_ADDON=1 to make a failed build fail the install.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const prebuilt = fileURLToPath(
  new URL(
    `../prebuilds/${process.platform}-${process.arch}/portknock_pcap.node`,
    import.meta.url,
  ),
);

/** Why the prebuilt addon is not used, or undefined when it loads. */
function prebuiltProblem() {
  if (process.env.PORTKNOCK_PCAP_BUILD_FROM_SOURCE === "1")
    return "PORTKNOCK_PCAP_BUILD_FROM_SOURCE=1";
  if (!existsSync(prebuilt)) return undefined;
  try {
    createRequire(import.meta.url)(prebuilt);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
}

const problem = existsSync(prebuilt) ? prebuiltProblem() : "none shipped";
if (problem === undefined) {
  // The prebuilt addon loads: done (loadNative() prefers a local build, and there is none).
  process.exitCode = 0;
} else {
  if (problem !== "none shipped")
    process.stderr.write(
      `@portknock/pcap: not using the prebuilt addon (${problem}); compiling it.\n`,
    );
  build();
}

function build() {
  const nodeGyp = process.env.npm_config_node_gyp;
  const r =
    nodeGyp != null && nodeGyp !== ""
      ? spawnSync(
          nodeGyp.endsWith(".js") ? process.execPath : nodeGyp,
          nodeGyp.endsWith(".js") ? [nodeGyp, "rebuild"] : ["rebuild"],
          { cwd: root, stdio: "inherit" },
        )
      : spawnSync("node-gyp", ["rebuild"], {
          cwd: root,
          stdio: "inherit",
          shell: process.platform === "win32",
        });
  if (r.status !== 0) {
    const why =
      r.error != null ? r.error.message : `node-gyp exited with ${r.status}`;
    const required = process.env.PORTKNOCK_PCAP_REQUIRE_ADDON === "1";
    process.stderr.write(
      `@portknock/pcap: the libpcap addon was not built (${why}). ` +
        "Live capture needs libpcap-dev, a C compiler, make and python3 " +
        "(Debian: apt-get install libpcap-dev build-essential python3), then " +
        '"npm rebuild @portknock/pcap" or "pnpm rebuild @portknock/pcap". ' +
        (required
          ? "PORTKNOCK_PCAP_REQUIRE_ADDON=1: failing the install.\n"
          : "Decoding, filters and pcap-file replay work without it.\n"),
    );
    process.exitCode = required ? 1 : 0;
  }
}
