/**
 * DES through `node-forge` (named by the design; Node's own `des-cbc` needs the OpenSSL legacy
 * provider, which a library cannot require). forge's `des.Algorithm` exposes the block function
 * over 32-bit word pairs; we use it directly, with the key schedule expanded once.
 */
import { createRequire } from "node:module";
import type forgeModule from "node-forge";
import type { BlockCipher } from "./block-cipher.ts";
import { readU32, writeU32 } from "./block-cipher.ts";

type Forge = typeof forgeModule;
let forge: Forge | undefined;

/**
 * node-forge, loaded on first use: it takes ~30 ms to load, which every knockd start paid
 * whatever the cipher (Blowfish and IDEA are ours, only DES needs it).
 */
function loadForge(): Forge {
  forge ??= createRequire(import.meta.url)("node-forge") as Forge;
  return forge;
}

// forge's typings do not describe `des.Algorithm`; this is the part of it we rely on.
interface ForgeDesAlgorithm {
  initialize(options: { key: forgeModule.util.ByteStringBuffer }): void;
  mode: {
    cipher: {
      encrypt(input: number[], output: number[]): void;
      decrypt(input: number[], output: number[]): void;
    };
  };
}
interface ForgeDesModule {
  Algorithm: new (name: string, mode: unknown) => ForgeDesAlgorithm;
}
interface ForgeCipherModes {
  modes: { ecb: unknown };
}

/** Creates a DES cipher for an 8-byte key (parity bits ignored, as Crypt::DES does). */
export function createDes(key: Uint8Array): BlockCipher {
  if (key.length !== 8) {
    throw new RangeError(`DES key must be 8 bytes, got ${key.length}`);
  }
  const forge = loadForge();
  const des = (forge as unknown as { des: ForgeDesModule }).des;
  const modes = (forge.cipher as unknown as ForgeCipherModes).modes;
  const alg = new des.Algorithm("DES-ECB", modes.ecb);
  alg.initialize({
    key: forge.util.createBuffer(String.fromCharCode(...key)),
  });
  const { cipher } = alg.mode;
  const input = [0, 0];
  const output = [0, 0];
  const run = (
    fn: (i: number[], o: number[]) => void,
    buf: Uint8Array,
    o: number,
  ): void => {
    input[0] = readU32(buf, o) | 0;
    input[1] = readU32(buf, o + 4) | 0;
    fn(input, output);
    writeU32(buf, o, output[0]!);
    writeU32(buf, o + 4, output[1]!);
  };
  const encrypt = cipher.encrypt.bind(cipher);
  const decrypt = cipher.decrypt.bind(cipher);
  return {
    name: "DES",
    encryptBlock(buf: Uint8Array, o: number): void {
      run(encrypt, buf, o);
    },
    decryptBlock(buf: Uint8Array, o: number): void {
      run(decrypt, buf, o);
    },
  };
}
