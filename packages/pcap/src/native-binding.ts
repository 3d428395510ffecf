/**
 * The typed edge of this package's own libpcap addon (`native/pcap_binding.c`, Node-API, built by
 * node-gyp at install into `build/Release/portknock_pcap.node`, or shipped prebuilt in a release
 * tarball). `any` appears nowhere: the interfaces below are the contract the C code keeps. Loaded
 * lazily, so the pure half of this package (decoding, filters, pcap files) works where the addon
 * is not built.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { PcapError } from "./errors.ts";

/** What `new Capture(device, filter, options, onBatch)` takes (all set by `openCapture`). */
export interface NativeCaptureOptions {
  /** libpcap's snap length: bytes kept of each frame. */
  snaplen: number;
  /** libpcap's kernel ring, in bytes. */
  bufferBytes: number;
  promiscuous: boolean;
  /** Immediate mode (Linux: TPACKET_V2, one wake-up per packet) or timeout batching (V3). */
  immediate: boolean;
  /** Without immediate mode: the most a packet waits in a part-filled ring block. */
  timeoutMs: number;
  /** The batch buffer JavaScript reads, in bytes. */
  batchBytes: number;
  /** The most packets in one batch (one JavaScript call). */
  batchPackets: number;
  /** Only packets this host receives (pcap_setdirection + Linux PACKET_IGNORE_OUTGOING). */
  inbound: boolean;
}

/** libpcap's counters (pcap_stats), widened to 64 bits by the addon. */
export interface NativeStats {
  received: number;
  dropped: number;
  ifDropped: number;
  /** False when pcap_stats never worked for this device. */
  available: boolean;
}

/**
 * Called once per batch with the number of records and the bytes they use in `batch`; or with
 * count -1 and libpcap's message when reading failed (delivery has stopped then).
 */
export type BatchListener = (
  count: number,
  bytesUsed: number,
  error?: string,
) => void;

/** One open libpcap handle. */
export interface NativeCapture {
  /** The DLT number (`pcap_datalink`). */
  readonly linkType: number;
  /** Its name (`pcap_datalink_val_to_name`: `EN10MB`, `LINUX_SLL`, …), or "". */
  readonly linkName: string;
  /** The snap length libpcap uses. */
  readonly snaplen: number;
  /** pcap_activate's warning (promiscuous mode not supported, …), if any. */
  readonly warning?: string;
  /**
   * Records of the current batch: 4 host-order uint32 (ts_sec, ts_usec, caplen, wire length),
   * then caplen bytes padded to 4. Overwritten by the next batch.
   */
  readonly batch: ArrayBuffer;
  /** Stops delivery at once and closes libpcap (idempotent). */
  close(): void;
  /** libpcap's counters; the final ones after `close()`. */
  stats(): NativeStats;
  /**
   * Injects `count` frames of `frameBytes` bytes taken in turn from `frames` (pcap_inject);
   * returns how many went out. Throws when the capture is closed or the first one fails.
   */
  send(frames: Uint8Array, frameBytes?: number, count?: number): number;
}

/** The addon's exports. */
export interface NativeModule {
  Capture: new (
    device: string,
    filter: string,
    options: NativeCaptureOptions,
    onBatch: BatchListener,
  ) => NativeCapture;
  /** `pcap_lib_version()`. */
  libpcapVersion: string;
  /** Bytes of a record header in a batch (16). */
  recordHeaderBytes: number;
}

/** Where node-gyp puts the addon, relative to this file (`src/` or `dist/`). */
export const ADDON_PATH: string = fileURLToPath(
  new URL("../build/Release/portknock_pcap.node", import.meta.url),
);

/**
 * The addon built for this platform that a release tarball carries (`tools/release/npm.js`, #18):
 * `prebuilds/<platform>-<arch>/portknock_pcap.node`, so live capture works where the install could
 * not compile. Node-API 8: one build serves every Node from 20 on; it needs libpcap.so.0.8 at run
 * time. A local build (`ADDON_PATH`) wins over it.
 */
export const PREBUILT_PATH: string = fileURLToPath(
  new URL(
    `../prebuilds/${process.platform}-${process.arch}/portknock_pcap.node`,
    import.meta.url,
  ),
);

let loaded: NativeModule | undefined;

/**
 * The addon, loaded on first use: the local build, else the prebuilt one. Throws `PcapError`
 * `PCAP_UNAVAILABLE` when neither can be loaded (not built, or libpcap missing at run time),
 * saying how to build it.
 */
export function loadNative(): NativeModule {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  const path =
    !existsSync(ADDON_PATH) && existsSync(PREBUILT_PATH)
      ? PREBUILT_PATH
      : ADDON_PATH;
  try {
    loaded = require(path) as NativeModule;
  } catch (error) {
    throw new PcapError(
      "PCAP_UNAVAILABLE",
      `the libpcap addon of @portknock/pcap could not be loaded from ${path}: ${error instanceof Error ? error.message : String(error)}. ` +
        (path === PREBUILT_PATH
          ? `The prebuilt addon needs libpcap.so.0.8 (Debian: apt-get install libpcap0.8), or build it yourself: `
          : "") +
        `It is compiled when the package is installed; that needs libpcap-dev (libpcap headers), a C compiler, make and python3 ` +
        `(apt-get install libpcap-dev build-essential python3), and with pnpm the package must be allowed to build ` +
        `(onlyBuiltDependencies / allowBuilds in pnpm-workspace.yaml). Then run "npm rebuild @portknock/pcap" or ` +
        `"pnpm rebuild @portknock/pcap" (or "node-gyp rebuild" in its directory).`,
      { cause: error },
    );
  }
  return loaded;
}
