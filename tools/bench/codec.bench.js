// Codec throughput: encode and decode knocks per second on one core, per cipher, with and
// without IV (issue #3 target: ≥ 1,000,000 decodes/s for a 16-byte Blowfish knock).
import {
  compileKnockConfigOrThrow,
  decodeKnock,
  encodeKnock,
} from "@portknock/codec";
import { bench } from "./harness.js";

const values = { CLIENT: "10.3.2.1", PORT: 3306, FLAG0: 5 };
const iv = new Uint8Array(8);

function config(cipher, ivOn, encrypt = true) {
  return compileKnockConfigOrThrow({
    knock: "CLIENT,PORT,FLAG0,CHECKSUM",
    portspan: "1024-33791",
    encrypt,
    key: "password",
    cipher,
    iv: ivOn,
    padding: "right",
  });
}

export function run() {
  const results = [];
  const cases = [
    ["plain (no cipher)", config("Blowfish", false, false)],
    ["Blowfish, no IV (16-byte knock)", config("Blowfish", false)],
    ["Blowfish, IV (32-byte knock)", config("Blowfish", true)],
    ["DES, no IV (16-byte knock)", config("DES", false)],
    ["DES, IV (32-byte knock)", config("DES", true)],
    ["IDEA, no IV (16-byte knock)", config("IDEA", false)],
    ["IDEA, IV (32-byte knock)", config("IDEA", true)],
  ];
  let sink = 0;
  for (const [name, c] of cases) {
    const ports = encodeKnock(c, values, { iv }).ports;
    results.push(
      bench(`decode ${name}`, (n) => {
        for (let i = 0; i < n; i++) {
          const r = decodeKnock(c, ports);
          if (r.ok) sink++;
        }
      }),
    );
    // A window that is not a knock: what the daemon does for most traffic.
    const noise = ports.map((p, i) => (i === 0 ? p ^ 1 : p));
    results.push(
      bench(`decode-reject ${name}`, (n) => {
        for (let i = 0; i < n; i++) if (!decodeKnock(c, noise).ok) sink++;
      }),
    );
    results.push(
      bench(`encode ${name}`, (n) => {
        for (let i = 0; i < n; i++)
          sink += encodeKnock(c, values, { iv }).ports.length;
      }),
    );
  }
  if (sink === 0) throw new Error("benchmark optimised away");
  return { title: "codec (knocks/s, one core)", results };
}
