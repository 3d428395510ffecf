import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  compileKnockConfigOrThrow,
  decodeKnock,
  encodeKnock,
  type KnockSettingsInput,
} from "@portknock/codec";

interface Vector {
  id: string;
  config: {
    knock: string;
    portspan: string;
    padding: "right" | "left";
    encrypt: boolean;
    cipher?: string;
    key?: string;
    iv?: boolean;
    ivvalue?: string;
  };
  values: Record<string, string | number>;
  plaintext: string;
  wire: string;
  ports: number[];
}

const fixture = new URL("./fixtures/vectors.json", import.meta.url);
const vectors = JSON.parse(readFileSync(fixture, "utf8")) as Vector[];
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function settings(v: Vector): KnockSettingsInput {
  return {
    knock: v.config.knock,
    portspan: v.config.portspan,
    padding: v.config.padding,
    encrypt: v.config.encrypt,
    cipher: v.config.cipher ?? "Blowfish",
    key: v.config.key,
    iv: v.config.iv ?? false,
    ivvalue: v.config.ivvalue,
  };
}

describe("vectors.json", () => {
  it("the committed copy matches the spec's (when the spec is beside the repo)", (ctx) => {
    const spec = new URL(
      "../../../../shared/spec/vectors.json",
      import.meta.url,
    );
    if (!existsSync(spec)) {
      ctx.skip("../shared/spec/vectors.json is not beside the repository");
      return;
    }
    expect(readFileSync(fixture, "utf8")).toBe(readFileSync(spec, "utf8"));
  });

  it("has every published vector", () => {
    expect(vectors.map((v) => v.id)).toEqual(
      expect.arrayContaining(["V1", "V5", "V10", "V11", "V13", "V14", "V12"]),
    );
  });

  it.each(vectors)(
    "$id encodes to the exact plaintext, wire and ports",
    (v) => {
      const config = compileKnockConfigOrThrow(settings(v));
      const out = encodeKnock(config, v.values);
      expect(hex(out.plaintext)).toBe(v.plaintext);
      expect(hex(out.wire)).toBe(v.wire);
      expect(out.ports).toEqual(v.ports);
    },
  );

  it.each(vectors)("$id decodes its ports back to the values", (v) => {
    const config = compileKnockConfigOrThrow(settings(v));
    const result = decodeKnock(config, v.ports);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.knock.values).toEqual(v.values);
    expect(hex(result.knock.plaintext)).toBe(v.plaintext);
    expect(hex(result.knock.wire)).toBe(v.wire);
  });
});
