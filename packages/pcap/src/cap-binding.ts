/**
 * The typed edge of the native `cap` module (mscdex/cap 0.2.1, libpcap through NAN; it ships no
 * types). `any` appears only here, where the untyped native module enters. Loaded lazily, so the
 * pure half of this package (decoding, filters, pcap files) works where `cap` is not built.
 */
import { createRequire } from "node:module";
import { PcapError } from "./errors.ts";

/** One `cap` capture handle (a `Cap` instance: an EventEmitter). */
export interface CapHandle {
  /**
   * Opens `device` with a libpcap `filter`; libpcap keeps `kernelBufferBytes` of packets, each
   * delivered by copying at most `buffer.length` bytes into `buffer`. Returns the link type name
   * (`ETHERNET`, `LINKTYPE_LINUX_SLL`, `RAW`, `NULL`, `Unknown linktype N`). Throws libpcap's
   * message on failure.
   */
  open(
    device: string,
    filter: string,
    kernelBufferBytes: number,
    buffer: Buffer,
  ): string;
  /** Stops capturing. */
  close(): boolean;
  /** Sends a raw frame on the open device (`pcap_sendpacket`). */
  send(buffer: Buffer, length?: number): void;
  /** One callback per packet, on the main loop: `bytes` copied, `truncated` if more existed. */
  on(
    event: "packet",
    listener: (bytes: number, truncated: boolean) => void,
  ): unknown;
  removeAllListeners(event?: string): unknown;
}

/** What this package uses of `cap`. */
export interface CapModule {
  createHandle(): CapHandle;
}

let loaded: CapModule | undefined;

// cap 0.2.1 bugs, worked around by never letting a handle be garbage-collected:
// - close() stops the uv_poll handle embedded in the native object but never uv_close()s it, so
//   it stays linked in libuv's handle list; when the object is collected after close(), that
//   list points into freed memory and the process crashes later (reproduced: open/close/GC
//   cycles segfault within a few hundred iterations);
// - when open() throws after pcap_create (unknown device, a filter libpcap refuses), the uv_poll
//   handle was never initialised, and close() or the destructor calls uv_poll_stop on garbage.
// Every handle is kept here for the life of the process: a few hundred bytes each (pcap_close
// has freed the capture itself), and knockd opens one per interface at start and on reload.
const retained = new Set<CapHandle>();

/**
 * Gives up a handle whose `open()` threw: never `close()` it (see above).
 */
export function abandonHandle(handle: CapHandle): void {
  handle.removeAllListeners();
}

/**
 * The `cap` module, loaded on first use. Throws `PcapError` `PCAP_UNAVAILABLE` when it cannot be
 * loaded (native build missing, libpcap not installed).
 */
export function loadCap(): CapModule {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  // `any` at the native boundary: cap has no types; CapHandle above is the contract we rely on.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let cap: any;
  try {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    cap = require("cap");
  } catch (error) {
    throw new PcapError(
      "PCAP_UNAVAILABLE",
      `the native module "cap" could not be loaded (is libpcap installed and cap built?): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access
  const Cap = cap.Cap;
  const module: CapModule = {
    createHandle: (): CapHandle => {
      // eslint-disable-next-line @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-assignment
      const handle: CapHandle = new Cap();
      retained.add(handle);
      return handle;
    },
  };
  loaded = module;
  return module;
}
