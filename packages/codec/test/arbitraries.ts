import fc from "fast-check";

/** A random valid port span: 2^b ports in 1–4 ascending pieces, gaps of 0 (adjacent) or more. */
export const spanArb: fc.Arbitrary<string> = fc
  .record({
    bits: fc.integer({ min: 1, max: 15 }),
    pieces: fc.integer({ min: 1, max: 4 }),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
      minLength: 3,
      maxLength: 3,
    }),
    gaps: fc.array(fc.integer({ min: 0, max: 500 }), {
      minLength: 4,
      maxLength: 4,
    }),
  })
  .map(({ bits, pieces, cuts, gaps }) => {
    const size = 2 ** bits;
    const k = Math.min(pieces, size);
    // Split `size` into k positive parts.
    const points = [
      ...new Set(
        cuts
          .slice(0, k - 1)
          .map((c) => 1 + Math.floor(c * (size - 1)))
          .filter((p) => p < size),
      ),
    ].sort((a, b) => a - b);
    const bounds = [0, ...points, size];
    let port = 1 + gaps[0]!;
    const parts: string[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const len = bounds[i + 1]! - bounds[i]!;
      parts.push(len === 1 ? `${port}` : `${port}-${port + len - 1}`);
      port += len + gaps[(i + 1) % 4]!;
    }
    return parts.join(",");
  });
