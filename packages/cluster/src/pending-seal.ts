/**
 * Pending delayed actions in Redis carry argv that this gateway will run (issue #19): whoever can
 * write `P:pending:<name>` — another gateway's credentials, a shared `requirepass` — must not be
 * able to make a gateway run a command of their choosing. Each entry is sealed with an HMAC-SHA256
 * under a key derived from the knock key every gateway of the cluster holds (knockd:
 * `pendingKeyFrom`) and bound to the gateway's name and the action's id; an entry whose seal does
 * not verify is never loaded (`CLUSTER_PENDING_FORGED`, counted, logged at error). Without a key
 * (an unencrypted compat knock has none) nothing is loaded from Redis: the pending actions stay
 * this gateway's own, in its statefile.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const CONTEXT = "portknock cluster pending v1";

/**
 * The sealing key from the cluster's shared knock secrets (the `key` and every `<user>` key, as
 * written), or undefined when there are none.
 */
export function pendingKeyFrom(
  secrets: readonly (string | undefined)[],
): Uint8Array | undefined {
  const present = secrets.filter(
    (s): s is string => typeof s === "string" && s !== "",
  );
  if (present.length === 0) return undefined;
  const h = createHmac("sha256", CONTEXT);
  for (const s of [...present].sort()) {
    h.update(String(s.length));
    h.update(":");
    h.update(s);
  }
  return new Uint8Array(h.digest());
}

function mac(
  key: Uint8Array,
  gateway: string,
  id: string,
  json: string,
): Buffer {
  return createHmac("sha256", key)
    .update(`${gateway}\n${id}\n`)
    .update(json)
    .digest();
}

/** `hex(mac).json`: what `P:pending:<name>` holds for one action. */
export function sealPending(
  key: Uint8Array | undefined,
  gateway: string,
  id: string,
  json: string,
): string {
  return `${key === undefined ? "" : mac(key, gateway, id, json).toString("hex")}.${json}`;
}

/**
 * The JSON of a sealed entry when its seal verifies under `key` for (`gateway`, `id`);
 * "forged" when it does not (or is unsealed), "none" without a key (nothing may be loaded).
 */
export function openPending(
  key: Uint8Array | undefined,
  gateway: string,
  id: string,
  value: string,
): { json: string } | "forged" | "none" {
  if (key === undefined) return "none";
  const dot = value.indexOf(".");
  if (dot !== 64) return "forged";
  const json = value.slice(dot + 1);
  const given = Buffer.from(value.slice(0, dot), "hex");
  if (given.length !== 32) return "forged";
  return timingSafeEqual(given, mac(key, gateway, id, json))
    ? { json }
    : "forged";
}
