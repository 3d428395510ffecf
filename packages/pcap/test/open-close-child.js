// Opens and closes captures on `lo` again and again with garbage collection in between (run with
// --expose-gc by capture.test.ts; issue #7). cap 0.2.1, the binding before this package's own
// addon, never uv_close()d a handle's poll watcher, so collecting a closed handle corrupted
// libuv's handle list and crashed the process (SIGSEGV or "free(): invalid pointer" in 5 of 6
// runs). The addon closes its watcher and frees its memory only once both libuv and the garbage
// collector are done with it: this must run to the end with no handle kept alive, including
// captures that are dropped while still open, opens that fail, and closes while packets flow.
import dgram from "node:dgram";

const { openCapture } = await import(
  new URL("../dist/index.js", import.meta.url).href
);
const { loadNative } = await import(
  new URL("../dist/native-binding.js", import.meta.url).href
);

const cycles = Number(process.argv[2] ?? 30);
const port = 40_000 + (process.pid % 20_000);
const socket = dgram.createSocket("udp4");
const sendSome = (n) =>
  Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise((resolve) =>
          socket.send("x", port, "127.0.0.1", () => resolve()),
        ),
    ),
  );
const turn = () => new Promise((resolve) => setImmediate(resolve));
const { Capture } = loadNative();
const nativeOptions = {
  snaplen: 128,
  bufferBytes: 65_536,
  promiscuous: false,
  immediate: true,
  timeoutMs: 10,
  batchBytes: 65_536,
  batchPackets: 1024,
  inbound: true,
};

// In a function of its own, so that no variable of the loop keeps it reachable.
function dropOpen() {
  new Capture("lo", `udp and dst port ${port}`, nativeOptions, () => {});
}

for (let i = 0; i < cycles; i++) {
  const capture = openCapture({
    interfaces: ["lo"],
    filter: i % 2 === 0 ? `udp and dst port ${port}` : "tcp",
    bufferBytes: 65_536,
    immediate: i % 3 === 0,
  });
  await sendSome(3);
  await turn();
  await capture.close();
  await capture.close();
  await capture.close();
  if (i % 3 !== 0) continue;
  // A handle dropped while open (its finalizer closes it), and one closed twice from native.
  dropOpen();
  const twice = new Capture("lo", "udp", nativeOptions, () => {});
  twice.close();
  twice.close();
  // Opens that fail must leave nothing behind.
  try {
    new Capture("pk-no-such-if", "", nativeOptions, () => {});
  } catch {
    // expected
  }
  try {
    new Capture("lo", "tcp and dst portrange 9-", nativeOptions, () => {});
  } catch {
    // expected
  }
  globalThis.gc();
  await turn();
}
socket.close();
globalThis.gc();
await turn();
process.stdout.write("ok");
