import { parseIpv6 } from "@portknock/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSourceHasher, ipv6TextWords } from "./source-hash.ts";

/** core's answer: the four words of IPv6 text, or undefined. */
function coreWords(text: string): number[] | undefined {
  const bytes = parseIpv6(text);
  if (bytes === undefined) return undefined;
  const view = new DataView(bytes.buffer);
  return [0, 4, 8, 12].map((i) => view.getInt32(i));
}

function words(text: string): number[] | undefined {
  const out = new Int32Array(4);
  return ipv6TextWords(text, out) ? [...out] : undefined;
}

// Texts near IPv6: hex digits, colons, dots, a few other characters, in any order.
const nearIpv6 = fc
  .array(fc.constantFrom(..."0123456789abcdefABCDEF::::..g %"), {
    maxLength: 42,
  })
  .map((cs) => cs.join(""));

describe("ipv6TextWords (#20: an IPv6 source's text and its words are one key)", () => {
  it("accepts exactly what core's parseIpv6 accepts, with the same words", () => {
    for (const text of [
      "::",
      "::1",
      "1::",
      "2001:db8::7",
      "2001:DB8:0:0::7",
      "1:2:3:4:5:6:7::",
      "::ffff:192.0.2.1",
      "1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8:9",
      "::1:2:3:4:5:6:7:8",
      "1::2::3",
      ":::",
      "::1:",
      ":1::",
      "12345::",
      "",
      ":",
      "10.0.0.1",
    ])
      expect(words(text), text).toEqual(coreWords(text));
    fc.assert(
      fc.property(fc.oneof(fc.ipV6(), nearIpv6), (text) => {
        expect(words(text)).toEqual(coreWords(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it("hash(text) is hashWords(its words), for any spelling; other text keys differ", () => {
    const hasher = createSourceHasher(1, 2);
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const key = [...hasher.hash(text)];
        expect([
          ...hasher.hashWords(Int32Array.from(coreWords(text)!)),
        ]).toEqual(key);
        expect([...hasher.hash(text.toUpperCase())]).toEqual(key);
        expect(key[1]! & 1).toBe(1);
      }),
      { numRuns: 2000 },
    );
    const a = [...hasher.hash("2001:db8::1")];
    expect([...hasher.hash("2001:db8::2")]).not.toEqual(a);
    expect([...hasher.hash("not an address")]).not.toEqual(a);
    // Another hasher (other seeds) keys the same address otherwise.
    expect([...createSourceHasher(3, 4).hash("2001:db8::1")]).not.toEqual(a);
  });
});
