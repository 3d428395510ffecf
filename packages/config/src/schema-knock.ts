/**
 * The knock settings shared by daemon and client (spec: config.md, knock-format.md, sealed.md).
 * `knock`, `portspan`, `ivvalue` and `keysalt` are carried as written: the codec owns their rules.
 */
import type { KnockSettings } from "./types.ts";
import type { SectionReader, Val } from "./schema-reader.ts";
import { parseBoolean } from "./schema-values.ts";

/** The ciphers of the compat profile, in their canonical spelling (knock-format.md §2). */
export const CIPHERS: readonly ["Blowfish", "DES", "IDEA"] = [
  "Blowfish",
  "DES",
  "IDEA",
];

/** The knock profiles (sealed.md). */
export const FORMATS: readonly ["compat", "sealed"] = ["compat", "sealed"];

/**
 * Read the knock settings from the top-level reader, with the defaults of config.md. `hasUsers`:
 * the daemon has `<user NAME>` keys, so a sealed config needs no top-level `key`.
 */
export function readKnockSettings<V extends Val>(
  r: SectionReader<V>,
  hasUsers: boolean,
): KnockSettings {
  const knock = required(r, "knock", "knock = CLIENT,PORT,FLAG0,CHECKSUM");
  const portspan = required(
    r,
    "portspan",
    "portspan = 1024-5000,6000-25000,26000-35789",
  );
  const format = r.choice("format", FORMATS, "compat");
  const encryptVal = r.one("encrypt");
  const encrypt = r.bool("encrypt", true);
  // A bad encrypt value is reported already; do not also ask for a key because of it.
  const encryptBad =
    encryptVal !== undefined && parseBoolean(encryptVal.text) === undefined;
  const keyVal = r.text("key");
  const key =
    keyVal && format === "compat" ? compatKey(r, keyVal) : keyVal?.text;
  const needsKey = format === "sealed" ? !hasUsers : encrypt && !encryptBad;
  if (needsKey && !key) {
    r.error(
      "CONFIG_MISSING_KEY",
      format === "compat" ? (encryptVal?.where ?? r.where) : r.where,
      format === "compat"
        ? "key is required when encrypt = yes (the default); set key or encrypt = no"
        : "key is required with format = sealed (or <user NAME> blocks with keys)",
    );
  }
  const cipher = r.choice("cipher", CIPHERS, "Blowfish");
  const iv = r.bool("iv", false);
  // ivvalue with iv = yes is legal (vectors use it); the codec, which owns the knock rules,
  // warns about it (IV_VALUE_FIXED), so it is not repeated here.
  const ivvalue = r.text("ivvalue");
  const padding = r.choice("padding", ["right", "left"] as const, "right");
  const keysalt = r.text("keysalt")?.text;
  return {
    knock: knock?.text ?? "",
    portspan: portspan?.text ?? "",
    encrypt,
    ...(key ? { key } : {}),
    cipher,
    iv,
    ...(ivvalue ? { ivvalue: ivvalue.text } : {}),
    padding,
    format,
    ...(keysalt !== undefined ? { keysalt } : {}),
  };
}

function required<V extends Val>(
  r: SectionReader<V>,
  key: string,
  example: string,
): V | undefined {
  const v = r.text(key);
  if (!v) {
    r.error(
      "CONFIG_MISSING_KEY",
      r.where,
      `${key} is required, e.g. ${example}`,
    );
  }
  return v;
}

// compat: the prototype read its config with -AutoTrue, so `key = on` became the passphrase `1`.
// Old knocks were made with that key, so we keep the conversion for `key` alone, and say so.
function compatKey<V extends Val>(r: SectionReader<V>, v: V): string {
  const b = parseBoolean(v.text);
  if (b === undefined || v.text === "1" || v.text === "0") return v.text;
  // The message must not repeat the key itself.
  r.warn(
    "CONFIG_KEY_AUTOTRUE",
    v.where,
    `key is a yes/no word and is read as "${b ? 1 : 0}", as the prototype did; use a real passphrase`,
  );
  return b ? "1" : "0";
}
