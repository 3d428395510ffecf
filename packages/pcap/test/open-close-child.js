// Opens and closes captures on `lo` again and again with garbage collection in between (run with
// --expose-gc by bpf-compile.test.ts). cap 0.2.1 never uv_close()s a handle's poll watcher, so
// collecting a closed handle corrupted libuv's handle list: before src/cap-binding.ts kept every
// handle alive, this crashed (SIGSEGV or "free(): invalid pointer") in 5 of 6 runs.
const { openCapture } = await import(
  new URL("../dist/index.js", import.meta.url).href
);

for (let i = 0; i < 40; i++) {
  const capture = openCapture({
    interfaces: ["lo"],
    filter: i % 2 === 0 ? "tcp" : "udp",
    bufferBytes: 65_536,
  });
  await capture.close();
  if (i % 2 === 0) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
process.stdout.write("ok");
