/**
 * The replay's line scanner in WebAssembly (`assembly/scan.ts`, built to `dist/scan.wasm`): a
 * block's bytes are read straight into its memory, and one call counts the lines, finds those
 * with an `IN=` and takes the usual IPv4 netfilter records through the fast lane, with SIMD
 * (about three times the JavaScript lane's speed, no strings made). `read-block.ts` decodes the
 * other listed lines in JavaScript. Without WebAssembly (`node --jitless`) or without the built
 * file, there is no scanner and the JavaScript lane does it all. The file is found from the
 * package's root (`package-file.ts`), also when this module is bundled into a program.
 */
import { readFileSync } from "node:fs";
import { packageFile } from "./package-file.ts";

/** How a listed line is to be taken. */
export const LINE_FAST = 0;
export const LINE_ASCII = 1;
export const LINE_UTF8 = 2;

/** The lines a scan listed (views of the scanner's memory, valid until its next use). */
export interface ScannedLines {
  /** Lines counted. */
  readonly lines: number;
  /** Lines listed (those with an `IN=`). */
  readonly length: number;
  /** LINE_FAST (the hit is in `ips`/`ports`), LINE_ASCII or LINE_UTF8 (decode the bytes). */
  readonly kinds: Int32Array;
  readonly ips: Uint32Array;
  /** Destination port | source port << 16. */
  readonly ports: Uint32Array;
  /** From 1 at the scan's first line. */
  readonly lineNos: Int32Array;
  /** In the input. */
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  /** The first `IN=`, from the line's start. */
  readonly firstIns: Int32Array;
}

/** One thread's scanner. */
export interface LineScanner {
  /** The input area, at least `bytes` long; what it held is kept when it grows. */
  input(bytes: number): Uint8Array;
  /** Scans input[first, end): `end` is the last line's newline, or its end. */
  scan(first: number, end: number): ScannedLines;
}

// Node's global WebAssembly, which neither the ES libs nor @types/node 20 declare: what is used.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: unknown };
};

interface Exports {
  memory: { readonly buffer: ArrayBuffer };
  layout(bytes: number): number;
  scan(first: number, end: number): number;
  lineCount(): number;
  kindsAt(): number;
  ipsAt(): number;
  portsAt(): number;
  lineNosAt(): number;
  offsetsAt(): number;
  lengthsAt(): number;
  firstInsAt(): number;
}

let loaded: LineScanner | null | undefined;

/** This thread's scanner, or undefined when WebAssembly or the built module is missing. */
export function lineScanner(): LineScanner | undefined {
  if (loaded === undefined) {
    try {
      const module = new WebAssembly.Module(
        readFileSync(packageFile("scan.wasm")),
      );
      const instance = new WebAssembly.Instance(module, {
        env: {
          abort: (): never => {
            throw new Error("scan.wasm aborted");
          },
        },
      });
      loaded = createScanner(instance.exports as Exports);
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

function createScanner(x: Exports): LineScanner {
  let base = 0;
  let size = -1;
  return {
    input(bytes: number): Uint8Array {
      if (bytes > size) {
        const at = x.layout(bytes);
        if (at === 0) throw new RangeError(`scan.wasm: no memory for ${bytes}`);
        base = at;
        size = bytes;
      }
      return new Uint8Array(x.memory.buffer, base, bytes);
    },
    scan(first: number, end: number): ScannedLines {
      const n = x.scan(first, end);
      if (n < 0) throw new RangeError(`scan.wasm: bad range ${first}-${end}`);
      const buffer = x.memory.buffer;
      return {
        lines: x.lineCount(),
        length: n,
        kinds: new Int32Array(buffer, x.kindsAt(), n),
        ips: new Uint32Array(buffer, x.ipsAt(), n),
        ports: new Uint32Array(buffer, x.portsAt(), n),
        lineNos: new Int32Array(buffer, x.lineNosAt(), n),
        offsets: new Int32Array(buffer, x.offsetsAt(), n),
        lengths: new Int32Array(buffer, x.lengthsAt(), n),
        firstIns: new Int32Array(buffer, x.firstInsAt(), n),
      };
    },
  };
}
