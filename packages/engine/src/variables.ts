/**
 * Knock variables (spec: daemon.md §3): the knock's fields plus `SOURCE`, `NOW`, `TIME` and the
 * local date/time at acceptance. Each variable has a kind that says which values are valid when
 * it is substituted into a command or used as a state key.
 */
import { isIpAddress } from "@portknock/core";

/** What a variable holds; decides which values are valid (see `isValidValue`). */
export type VariableKind =
  | "ip"
  | "port"
  | "flag"
  | "mask"
  | "time"
  | "year"
  | "month"
  | "day"
  | "hour"
  | "minute"
  | "weekday"
  | "name";

/** The value of one variable: numbers for integers, text for IPs and names. */
export type VariableValue = string | number;

/** Variables by name, as handed to `engine.accept` (knock fields plus `SOURCE`, `USER`). */
export type KnockVariables = Readonly<Record<string, VariableValue>>;

const RANGES: Readonly<
  Record<Exclude<VariableKind, "ip" | "name">, readonly [number, number]>
> = {
  port: [0, 65535],
  flag: [0, 255],
  mask: [0, 128],
  time: [0, Number.MAX_SAFE_INTEGER],
  year: [0, 9999],
  month: [1, 12],
  day: [1, 31],
  hour: [0, 23],
  minute: [0, 59],
  weekday: [0, 6],
};

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,63}$/;

/** The variables every knock has, whatever its fields (spec: daemon.md §3). */
export const COMPUTED_VARIABLES: ReadonlyMap<string, VariableKind> = new Map<
  string,
  VariableKind
>([
  ["SOURCE", "ip"],
  ["NOW", "time"],
  ["TIME", "time"],
  ["THISYEAR", "year"],
  ["THISMONTH", "month"],
  ["THISDAY", "day"],
  ["THISHOUR", "hour"],
  ["THISMINUTE", "minute"],
  ["THISWEEKDAY", "weekday"],
]);

/**
 * The kind of a knock field name (`CLIENT`, `IP`, `PORT`, `FLAGn`, `TIME`, `MASK`, `USER`), or
 * undefined for names that are not variables (`CHECKSUM`, unknown names).
 */
export function fieldKind(name: string): VariableKind | undefined {
  if (name === "CLIENT" || name === "IP") return "ip";
  if (name === "PORT") return "port";
  if (name === "TIME") return "time";
  if (name === "MASK") return "mask";
  if (name === "USER") return "name";
  if (/^FLAG(?:0|[1-9]\d?)$/.test(name)) return "flag";
  return undefined;
}

/** Whether `name` looks like a knock field, available or not (for "unavailable" messages). */
export function isFieldName(name: string): boolean {
  return fieldKind(name) !== undefined || name === "CHECKSUM";
}

/**
 * The variables known for a knock format: its fields (`CLIENT` and `IP` are aliases, `CHECKSUM`
 * is not a variable), the computed ones, and `extra` (an embedder's own variables).
 * @throws TypeError on a field name that is not a knock field and not in `extra`.
 */
export function knownVariables(
  fields: readonly string[],
  extra: Readonly<Record<string, VariableKind>> = {},
): Map<string, VariableKind> {
  const known = new Map<string, VariableKind>(COMPUTED_VARIABLES);
  for (const raw of fields) {
    const written = raw.trim();
    const name = written.toUpperCase();
    if (name === "CHECKSUM" || name === "") continue;
    const kind = fieldKind(name);
    if (kind === undefined) {
      if (extra[written] !== undefined) continue;
      throw new TypeError(
        `fields: expected knock field names (CLIENT, IP, PORT, FLAGn, TIME, MASK, USER, CHECKSUM), got ${JSON.stringify(raw)}`,
      );
    }
    known.set(name, kind);
    if (name === "CLIENT") known.set("IP", "ip");
    if (name === "IP") known.set("CLIENT", "ip");
  }
  for (const [name, kind] of Object.entries(extra)) known.set(name, kind);
  return known;
}

/**
 * Whether `value` is valid for `kind`: IPs are strict dotted quads or IPv6 text; integers are
 * decimal digits (or safe integer numbers) inside the kind's range; names are 1–64 characters of
 * `A-Z a-z 0-9 _ . @ + -` not starting with punctuation.
 */
export function isValidValue(
  kind: VariableKind,
  value: VariableValue,
): boolean {
  if (kind === "ip") return typeof value === "string" && isIpAddress(value);
  if (kind === "name") return typeof value === "string" && NAME.test(value);
  const [min, max] = RANGES[kind];
  let n: number;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) return false;
    n = value;
  } else {
    if (!/^\d{1,16}$/.test(value)) return false;
    n = Number(value);
  }
  return n >= min && n <= max;
}

/**
 * The full variable set of a knock accepted at `nowMs`: the knock's own values, `IP`/`CLIENT`
 * aliases, `NOW` (Unix seconds), `TIME` (= NOW when the knock has none) and the local date/time
 * (`THISYEAR` 4 digits, `THISMONTH` 1–12, `THISDAY` 1–31, `THISHOUR`, `THISMINUTE`,
 * `THISWEEKDAY` 0–6 with Sunday 0). Computed names in `knock` are overwritten. Values are not
 * validated here: validation happens where a value is substituted or used as a state key.
 */
export function computeVariables(
  knock: KnockVariables,
  nowMs: number,
): Record<string, VariableValue> {
  const vars: Record<string, VariableValue> = Object.create(null) as Record<
    string,
    VariableValue
  >;
  for (const [name, value] of Object.entries(knock)) vars[name] = value;
  if (vars.CLIENT !== undefined && vars.IP === undefined) vars.IP = vars.CLIENT;
  if (vars.IP !== undefined && vars.CLIENT === undefined) vars.CLIENT = vars.IP;
  const date = new Date(nowMs);
  const now = Math.floor(nowMs / 1000);
  vars.NOW = now;
  if (vars.TIME === undefined) vars.TIME = now;
  vars.THISYEAR = date.getFullYear();
  vars.THISMONTH = date.getMonth() + 1;
  vars.THISDAY = date.getDate();
  vars.THISHOUR = date.getHours();
  vars.THISMINUTE = date.getMinutes();
  vars.THISWEEKDAY = date.getDay();
  return vars;
}
