/**
 * Pure helpers for the checks a daemon makes after `decodeKnock` accepted a sealed knock
 * (spec: sealed.md "Daemon checks" 2–3). The codec does not make them itself: they need the
 * daemon's clock and its replay cache, which outlive a single decode.
 */
import type { SealedKnock } from "./sealed.ts";

/** Why a sealed knock's time is outside the window. */
export type SealedWindowCode = "KNOCK_TIME_PAST" | "KNOCK_TIME_FUTURE";

/**
 * Checks the time sealed in a knock against the daemon's clock (sealed.md check 2):
 * |timeSeconds − nowSeconds| ≤ windowSeconds. Returns 0 when inside the window, else
 * `KNOCK_TIME_PAST` (older than the window, or a time that is not a number) or
 * `KNOCK_TIME_FUTURE` (ahead of the daemon by more than the window). `nowSeconds` may be
 * fractional (`Date.now() / 1000`). Throws `RangeError` for a negative or non-finite window.
 */
export function checkSealedWindow(
  timeSeconds: number,
  nowSeconds: number,
  windowSeconds: number,
): 0 | SealedWindowCode {
  if (!(windowSeconds >= 0) || !Number.isFinite(windowSeconds)) {
    throw new RangeError(
      `windowSeconds must be a finite number ≥ 0, got ${windowSeconds}`,
    );
  }
  const skew = timeSeconds - nowSeconds;
  if (skew > windowSeconds) return "KNOCK_TIME_FUTURE";
  if (skew >= -windowSeconds) return 0;
  return "KNOCK_TIME_PAST";
}

/**
 * The replay-cache key of a sealed knock (sealed.md check 3): key identity, time and random
 * bytes, as `keyId:timeSeconds:randomHex` (the key id and the random bytes are fixed-width hex, so
 * distinct triples give distinct strings). Keep each key until its time has left the window: older knocks fail the window check
 * anyway, so the cache stays bounded by the window. Contains no secret.
 */
export function replayKey(
  knock: Pick<SealedKnock, "keyId" | "timeSeconds" | "nonce">,
): string {
  return `${knock.keyId}:${knock.timeSeconds}:${Buffer.from(knock.nonce).toString("hex")}`;
}
