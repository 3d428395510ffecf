// Why the codec has its own Blowfish: decode-shaped work (key schedule once, then CBC-decrypt
// two blocks) with our typed-array implementation versus egoroof-blowfish 4.0.3, both checked
// for the same output first.
import { Blowfish } from "egoroof-blowfish";
// The cipher primitives are not part of @portknock/codec's API: this bench reads them from the
// package's build on purpose (`pnpm build` first).
import { createBlowfish } from "../../packages/codec/dist/blowfish.js";
import { cbcDecryptInto } from "../../packages/codec/dist/cbc.js";
import { deriveCompatKey } from "../../packages/codec/dist/key-derivation.js";
import { bench } from "./harness.js";

export function run() {
  const key = deriveCompatKey("password", 56);
  const wire = Buffer.from("d3b221552959d4210be8884db29b560c", "hex"); // V4
  const expect = "0a0302010cea050b";

  const ours = createBlowfish(key);
  const out = new Uint8Array(16);
  const iv = new Uint8Array(8);
  const len = cbcDecryptInto(ours, iv, wire, 0, 16, out);
  if (Buffer.from(out.subarray(0, len)).toString("hex") !== expect)
    throw new Error("ours wrong");

  const theirs = new Blowfish(key, Blowfish.MODE.CBC, Blowfish.PADDING.PKCS5);
  theirs.setIv(iv);
  if (
    Buffer.from(theirs.decode(wire, Blowfish.TYPE.UINT8_ARRAY)).toString(
      "hex",
    ) !== expect
  ) {
    throw new Error("egoroof-blowfish wrong");
  }
  let sink = 0;
  const results = [
    bench("typed-array Blowfish (ours), CBC decrypt 16 bytes", (n) => {
      for (let i = 0; i < n; i++)
        sink += cbcDecryptInto(ours, iv, wire, 0, 16, out);
    }),
    bench("egoroof-blowfish 4.0.3, CBC decrypt 16 bytes", (n) => {
      for (let i = 0; i < n; i++) {
        theirs.setIv(iv);
        sink += theirs.decode(wire, Blowfish.TYPE.UINT8_ARRAY).length;
      }
    }),
    bench(
      "typed-array Blowfish (ours), key schedule",
      (n) => {
        for (let i = 0; i < n; i++) sink += createBlowfish(key).name.length;
      },
      { batch: 100 },
    ),
    bench(
      "egoroof-blowfish 4.0.3, key schedule",
      (n) => {
        for (let i = 0; i < n; i++) {
          const bf = new Blowfish(
            key,
            Blowfish.MODE.CBC,
            Blowfish.PADDING.PKCS5,
          );
          sink += bf.mode === Blowfish.MODE.CBC ? 1 : 0;
        }
      },
      { batch: 100 },
    ),
  ];
  if (sink === 0) throw new Error("optimised away");
  return { title: "Blowfish implementation choice (ops/s, one core)", results };
}
