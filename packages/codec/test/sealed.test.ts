import { describe, expect, it } from "vitest";
import {
  checkSealedWindow,
  CodecError,
  compileKnockConfig,
  compileKnockConfigOrThrow,
  decodeKnock,
  encodeKnock,
  generateSealedKey,
  knockPortCounts,
  replayKey,
  type KnockSettingsInput,
  type SealedKnockConfig,
} from "@portknock/codec";
import { bytesToPorts } from "../src/bit-mapping.ts";

const KEY_A = "base64:" + Buffer.alloc(32, 0xa1).toString("base64");
const KEY_B = "base64:" + Buffer.alloc(32, 0xb2).toString("base64");
const KEY_C = "base64:" + Buffer.alloc(32, 0xc3).toString("base64");

function sealedSettings(
  extra: Partial<KnockSettingsInput> = {},
): KnockSettingsInput {
  return {
    knock: "CLIENT,PORT,FLAG0",
    portspan: "1024-33791",
    format: "sealed",
    encrypt: true,
    cipher: "Blowfish",
    iv: false,
    padding: "right",
    key: KEY_A,
    ...extra,
  };
}
const sealed = (extra: Partial<KnockSettingsInput> = {}): SealedKnockConfig =>
  compileKnockConfigOrThrow(sealedSettings(extra)) as SealedKnockConfig;
const issuesOf = (extra: Partial<KnockSettingsInput>) =>
  compileKnockConfig(sealedSettings(extra)).issues.map((i) => ({
    code: i.code,
    severity: i.severity,
    key: i.key,
    ...(i.user != null ? { user: i.user } : {}),
  }));

const values = { CLIENT: "10.3.2.1", PORT: 22, FLAG0: 1 };
const at = { timeSeconds: 1_700_000_000, random: new Uint8Array(6).fill(9) };

describe("compiling format = sealed", () => {
  it("has two port counts with CLIENT (IPv4 first), one without", () => {
    const c = sealed();
    expect(knockPortCounts(c)).toEqual([14, 21]);
    expect(c.portCount).toBe(14);
    expect(c.wireLength).toBe(26);
    expect(c.layout.length).toBe(8);
    expect(knockPortCounts(sealed({ knock: "PORT,FLAG0" }))).toEqual([12]);
    const compat = compileKnockConfigOrThrow({
      ...sealedSettings(),
      format: "compat",
    });
    expect(knockPortCounts(compat)).toEqual([compat.portCount]);
  });

  it("refuses TIME and CHECKSUM, naming each", () => {
    const r = compileKnockConfig(
      sealedSettings({ knock: "CLIENT,TIME,PORT,CHECKSUM" }),
    );
    expect(r.config).toBeUndefined();
    const errs = r.issues.filter((i) => i.code === "FIELDS_NOT_ALLOWED");
    expect(errs.map((i) => i.key)).toEqual(["knock", "knock"]);
    expect(errs[0]!.message).toContain("TIME");
    expect(errs[1]!.message).toContain("CHECKSUM");
  });

  it("refuses a base64 key that is not 32 bytes, without quoting the key", () => {
    for (const key of [
      "base64:" + Buffer.alloc(31).toString("base64"),
      "base64:" + Buffer.alloc(33).toString("base64"),
      "base64:not base64 at all!",
      "base64:" + Buffer.alloc(32, 0xfb).toString("base64url"),
      "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", // non-canonical last char
      "base64:",
    ]) {
      const r = compileKnockConfig(sealedSettings({ key }));
      expect(r.config, key).toBeUndefined();
      expect(r.issues).toMatchObject([{ code: "KEY_INVALID", key: "key" }]);
      expect(r.issues[0]!.message).not.toContain(key.slice(7) || "\0");
    }
    expect(
      sealed({ key: KEY_A.replace(/=$/, "") }).users,
      "unpadded base64",
    ).toEqual([""]);
  });

  it("needs a key or users", () => {
    expect(issuesOf({ key: undefined })).toEqual([
      { code: "KEY_MISSING", severity: "error", key: "key" },
    ]);
    expect(issuesOf({ key: "", users: [] })).toEqual([
      { code: "KEY_MISSING", severity: "error", key: "key" },
    ]);
  });

  it("checks the user blocks: names, duplicates, empty and bad keys, shared keys", () => {
    expect(
      issuesOf({
        key: undefined,
        users: [
          { name: "", key: KEY_A },
          { name: "bob", key: KEY_B },
          { name: "bob", key: KEY_C },
          { name: "carol", key: "" },
          { name: "dave", key: "base64:AAAA" },
        ],
      }),
    ).toEqual([
      { code: "USER_INVALID", severity: "error", key: "user" },
      { code: "USER_DUPLICATE", severity: "error", key: "user", user: "bob" },
      { code: "KEY_MISSING", severity: "error", key: "user", user: "carol" },
      { code: "KEY_INVALID", severity: "error", key: "user", user: "dave" },
    ]);
    expect(
      issuesOf({ key: KEY_A, users: [{ name: "alice", key: KEY_A }] }),
    ).toEqual([
      { code: "KEY_DUPLICATE", severity: "error", key: "user", user: "alice" },
    ]);
  });

  it("reads users from a Map of the config's <user> blocks (key as located text)", () => {
    const where = { kind: "config", file: "k.conf", line: 3 };
    const c = sealed({
      key: undefined,
      users: new Map([
        ["alice", { name: "alice", where, key: { text: KEY_A, where } }],
        ["bob", { name: "bob", where, key: { text: KEY_B, where } }],
      ]),
    });
    expect(c.users).toEqual(["alice", "bob"]);
  });

  it("warns about compat-only settings set to non-defaults, naming each", () => {
    const r = compileKnockConfig(
      sealedSettings({
        encrypt: false,
        cipher: "IDEA",
        iv: true,
        ivvalue: "12345678",
      }),
    );
    expect(r.config).toBeDefined();
    expect(r.issues.map((i) => [i.code, i.severity, i.key])).toEqual([
      ["SETTING_IGNORED", "warning", "encrypt"],
      ["SETTING_IGNORED", "warning", "cipher"],
      ["SETTING_IGNORED", "warning", "iv"],
      ["SETTING_IGNORED", "warning", "ivvalue"],
    ]);
    expect(compileKnockConfig(sealedSettings()).issues).toEqual([]);
  });

  it("compat warns about sealed-only keysalt and users, and is otherwise unchanged", () => {
    const r = compileKnockConfig(
      sealedSettings({
        format: "compat",
        keysalt: "x",
        users: [{ name: "a", key: KEY_A }],
      }),
    );
    expect(r.issues.map((i) => [i.code, i.key])).toEqual([
      ["SETTING_IGNORED", "keysalt"],
      ["SETTING_IGNORED", "user"],
    ]);
    expect(r.config?.format).toBe("compat");
  });

  it("refuses an unknown format", () => {
    expect(issuesOf({ format: "sealed2" })).toEqual([
      { code: "FORMAT_UNKNOWN", severity: "error", key: "format" },
    ]);
  });

  it("holds no key material in enumerable data (JSON of the keys is names and ids)", () => {
    const c = sealed({ users: [{ name: "b", key: KEY_B }] });
    const keyId: unknown = expect.stringMatching(/^[0-9a-f]{16}$/);
    expect(JSON.parse(JSON.stringify(c.keys))).toEqual([
      { user: "", keyId, gcm: {} },
      { user: "b", keyId, gcm: {} },
    ]);
  });
});

describe("generateSealedKey", () => {
  it("gives a fresh base64: key of 32 bytes that seals and opens knocks", () => {
    const keys = new Set(Array.from({ length: 8 }, () => generateSealedKey()));
    expect(keys.size).toBe(8);
    for (const key of keys) {
      expect(key).toMatch(/^base64:[A-Za-z0-9+/]{43}=$/);
      const c = sealed({ key });
      const ports = encodeKnock(c, values).ports;
      expect(decodeKnock(c, ports).ok).toBe(true);
      // Another fresh key does not open it.
      const other = sealed({ key: generateSealedKey() });
      expect(decodeKnock(other, ports)).toMatchObject({ ok: false });
    }
  });
});

describe("encoding", () => {
  const c = sealed();

  it("takes CLIENT as IPv4 or IPv6 and decodes it in canonical form", () => {
    const v6 = encodeKnock(c, { ...values, CLIENT: "2001:DB8:0:0::1" }, at);
    expect(v6.ports).toHaveLength(21);
    expect(v6.plaintext[0]).toBe(6);
    const d = decodeKnock(c, v6.ports);
    expect(d.ok && d.knock.values.CLIENT).toBe("2001:db8::1");
    const mapped = encodeKnock(c, { ...values, CLIENT: "::ffff:10.3.2.1" }, at);
    const dm = decodeKnock(c, mapped.ports);
    expect(dm.ok && dm.knock.values.CLIENT).toBe("::ffff:10.3.2.1");
  });

  it.each([
    "010.3.2.1",
    "10.3.2",
    " 10.3.2.1",
    "2001:db8::1::2",
    "fe80::1%eth0",
    "[::1]",
    "1:2:3:4:5:6:7:8:9",
    "::ffff:1.2.3.256",
    "",
  ])("refuses CLIENT %j, naming the field", (client) => {
    expect(() => encodeKnock(c, { ...values, CLIENT: client }, at)).toThrow(
      expect.objectContaining({ code: "CODEC_BAD_VALUE", field: "CLIENT" }),
    );
  });

  it("refuses out-of-range values and bad options, naming them", () => {
    const bad = (v: object, o: object, field: string): void => {
      const f = (): unknown =>
        encodeKnock(c, { ...values, ...v }, { ...at, ...o });
      expect(f).toThrow(CodecError);
      expect(f).toThrow(expect.objectContaining({ field }));
    };
    bad({ PORT: 65536 }, {}, "PORT");
    bad({ FLAG0: -1 }, {}, "FLAG0");
    bad({ FLAG0: undefined }, {}, "FLAG0");
    bad({}, { timeSeconds: 2 ** 32 }, "timeSeconds");
    bad({}, { timeSeconds: 1.5 }, "timeSeconds");
    bad({}, { random: new Uint8Array(5) }, "random");
    bad({}, { user: "nobody" }, "user");
  });

  it("reads the time from the config's clock when no timeSeconds is given", () => {
    const clocked = sealed({ now: () => 1_234_567_890_999 });
    const e = encodeKnock(clocked, values, { random: at.random });
    const d = decodeKnock(clocked, e.ports);
    expect(d.ok && d.knock.timeSeconds).toBe(1_234_567_890);
  });

  it("draws fresh random bytes for every knock by default", () => {
    const a = encodeKnock(c, values, { timeSeconds: at.timeSeconds });
    const b = encodeKnock(c, values, { timeSeconds: at.timeSeconds });
    expect(a.ports).not.toEqual(b.ports);
  });

  it("with several users and no anonymous key, asks which user knocks", () => {
    const multi = sealed({
      key: undefined,
      users: [
        { name: "a", key: KEY_A },
        { name: "b", key: KEY_B },
      ],
    });
    expect(() => encodeKnock(multi, values, at)).toThrow(
      expect.objectContaining({ field: "user" }),
    );
    const only = sealed({ key: undefined, users: [{ name: "a", key: KEY_A }] });
    const d = decodeKnock(only, encodeKnock(only, values, at).ports);
    expect(d.ok && d.knock.user).toBe("a");
  });
});

describe("decoding rejects what is not a knock under this config", () => {
  const c = sealed();

  it.each(["10.3.2.1", "2001:db8::7"])(
    "flipping any single bit of the wire (CLIENT %s) is rejected",
    (client) => {
      const { wire } = encodeKnock(c, { ...values, CLIENT: client }, at);
      expect(decodeKnock(c, bytesToPorts(wire, c.span, c.padding)).ok).toBe(
        true,
      );
      for (let bit = 0; bit < wire.length * 8; bit++) {
        const w = wire.slice();
        w[bit >>> 3]! ^= 0x80 >>> (bit & 7);
        const r = decodeKnock(c, bytesToPorts(w, c.span, c.padding));
        expect(r, `bit ${bit}`).toEqual({ ok: false, code: "KNOCK_BAD_TAG" });
      }
    },
  );

  it.each(["10.3.2.1", "2001:db8::7"])(
    "every single-port change (every other span port, and outside the span) is rejected (CLIENT %s)",
    (client) => {
      const { ports } = encodeKnock(c, { ...values, CLIENT: client }, at);
      const span = c.span.ports;
      const codes = new Set<string>();
      for (let i = 0; i < ports.length; i++) {
        const changed = ports.slice();
        for (const p of [...span, 1023, 33792, 0, 65535, 1024.5, NaN]) {
          if (p === ports[i]) continue;
          changed[i] = p;
          const r = decodeKnock(c, changed);
          if (r.ok) throw new Error(`port ${i} → ${p} decoded`);
          codes.add(r.code);
        }
      }
      expect([...codes].sort()).toEqual([
        "KNOCK_BAD_BIT_PADDING",
        "KNOCK_BAD_TAG",
        "KNOCK_PORT_OUTSIDE_SPAN",
      ]);
    },
    // ~700,000 decodes: 3.5 s alone, more on a loaded 2-core CI machine.
    30_000,
  );

  it("a wrong key gives KNOCK_BAD_TAG", () => {
    const { ports } = encodeKnock(c, values, at);
    expect(decodeKnock(sealed({ key: KEY_B }), ports)).toEqual({
      ok: false,
      code: "KNOCK_BAD_TAG",
    });
    expect(
      decodeKnock(sealed({ key: KEY_A, keysalt: "ignored for base64" }), ports)
        .ok,
    ).toBe(true);
  });

  it("a different field list of the same length gives KNOCK_BAD_TAG (associated data)", () => {
    const { ports } = encodeKnock(c, values, at);
    const other = sealed({ knock: "CLIENT,FLAG0,PORT" });
    expect(other.wireLength).toBe(c.wireLength);
    expect(decodeKnock(other, ports)).toEqual({
      ok: false,
      code: "KNOCK_BAD_TAG",
    });
    const flags = sealed({ knock: "CLIENT,FLAG0,FLAG1,FLAG2" });
    expect(decodeKnock(flags, ports)).toEqual({
      ok: false,
      code: "KNOCK_BAD_TAG",
    });
  });

  it("IP and CLIENT are one field: the associated data names it CLIENT", () => {
    const ip = sealed({ knock: "ip,port,flag0" });
    expect(ip.aadText).toBe("portknock/sealed/1:CLIENT,PORT,FLAG0");
    const d = decodeKnock(ip, encodeKnock(c, values, at).ports);
    expect(d.ok && d.knock.values).toEqual({
      IP: "10.3.2.1",
      PORT: 22,
      FLAG0: 1,
    });
  });

  it("a knock sealed with the wrong length or garbage never throws", () => {
    const { ports } = encodeKnock(c, values, at);
    for (const p of [
      [],
      ports.slice(1),
      [...ports, 1024],
      new Array(21).fill(1024),
    ]) {
      const r = decodeKnock(c, p);
      expect(r.ok).toBe(false);
    }
    expect(decodeKnock(c, ports.slice(1))).toEqual({
      ok: false,
      code: "KNOCK_WRONG_LENGTH",
    });
  });
});

describe("per-user keys", () => {
  const users = [
    { name: "alice", key: KEY_A },
    { name: "bob", key: KEY_B },
    { name: "carol", key: "carol's passphrase" },
  ];
  const daemon = sealed({ key: KEY_C, users });

  it("a knock sealed for a user decodes as that user, never another", () => {
    for (const u of ["alice", "bob", "carol"]) {
      const e = encodeKnock(daemon, values, { ...at, user: u });
      const d = decodeKnock(daemon, e.ports);
      expect(d.ok && d.knock.user).toBe(u);
    }
    const anon = decodeKnock(daemon, encodeKnock(daemon, values, at).ports);
    expect(anon.ok && anon.knock.user).toBe("");
  });

  it("a client holding only its user's key knocks as that user", () => {
    const bobClient = sealed({ key: KEY_B });
    const d = decodeKnock(daemon, encodeKnock(bobClient, values, at).ports);
    expect(d.ok && d.knock.user).toBe("bob");
    expect(daemon.users).toEqual(["", "alice", "bob", "carol"]);
  });

  it("a revoked user (block deleted) is rejected", () => {
    const without = sealed({
      key: KEY_C,
      users: users.filter((u) => u.name !== "bob"),
    });
    const e = encodeKnock(daemon, values, { ...at, user: "bob" });
    expect(decodeKnock(without, e.ports)).toEqual({
      ok: false,
      code: "KNOCK_BAD_TAG",
    });
  });
});

describe("the daemon's checks (helpers; the codec does not apply them)", () => {
  it("checkSealedWindow: |time − now| ≤ window, with an injected clock", () => {
    expect(checkSealedWindow(1000, 1060, 60)).toBe(0);
    expect(checkSealedWindow(1000, 940, 60)).toBe(0);
    expect(checkSealedWindow(1000, 1060.5, 60)).toBe("KNOCK_TIME_PAST");
    expect(checkSealedWindow(1000, 939.5, 60)).toBe("KNOCK_TIME_FUTURE");
    expect(checkSealedWindow(NaN, 1000, 60)).toBe("KNOCK_TIME_PAST");
    expect(() => checkSealedWindow(1000, 1000, -1)).toThrow(RangeError);
    expect(() => checkSealedWindow(1000, 1000, NaN)).toThrow(RangeError);
  });

  it("a daemon built from decodeKnock, checkSealedWindow and replayKey drops replays and stale knocks", () => {
    let nowMs = 1_700_000_000_000;
    const client = sealed({ now: () => nowMs });
    const daemon = sealed({ users: [{ name: "a", key: KEY_B }] });
    const seen = new Map<string, number>();
    const accept = (ports: number[]): string => {
      const d = decodeKnock(daemon, ports);
      if (!d.ok) return d.code;
      const nowSeconds = nowMs / 1000;
      const w = checkSealedWindow(d.knock.timeSeconds, nowSeconds, 60);
      if (w !== 0) return w;
      for (const [k, t] of seen) if (nowSeconds - t > 60) seen.delete(k);
      const key = replayKey(d.knock);
      if (seen.has(key)) return "REPLAY";
      seen.set(key, d.knock.timeSeconds);
      return `ok ${d.knock.user}`;
    };
    const first = encodeKnock(client, values).ports;
    expect(accept(first)).toBe("ok ");
    expect(accept(first)).toBe("REPLAY");
    nowMs += 30_000;
    expect(accept(first)).toBe("REPLAY");
    expect(accept(encodeKnock(client, values).ports)).toBe("ok ");
    nowMs += 61_000;
    expect(accept(first)).toBe("KNOCK_TIME_PAST");
  });

  it("replayKey: key identity ‖ time ‖ random", () => {
    const c = sealed({ key: KEY_A, users: [{ name: "b", key: KEY_B }] });
    const k = (user?: string, random = at.random): string => {
      const d = decodeKnock(
        c,
        encodeKnock(c, values, { ...at, random, ...(user ? { user } : {}) })
          .ports,
      );
      if (!d.ok) throw new Error(d.code);
      return replayKey(d.knock);
    };
    expect(k()).toMatch(/^[0-9a-f]{16}:1700000000:090909090909$/);
    expect(k()).toBe(k());
    expect(k("b")).not.toBe(k());
    expect(k(undefined, new Uint8Array(6))).not.toBe(k());
  });
});
