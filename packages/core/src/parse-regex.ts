/**
 * A small parser of JavaScript regex syntax (without flags, Annex B leniency) into a tree for the
 * static safety check in `regex-safety.ts`. Pure. It only runs on sources that `new RegExp`
 * already accepted, so it never has to report syntax errors: it reads what it does not know as
 * literal characters.
 */
import type { CharSet } from "./char-set.ts";
import {
  addChar,
  addRange,
  classEscape,
  complement,
  dotSet,
  emptySet,
  unionInto,
} from "./char-set.ts";

/** A regex tree node; `start`/`end` index the source, for messages. */
export type RegexNode = { start: number; end: number } & (
  | { kind: "alt"; alts: RegexNode[] }
  | { kind: "seq"; items: RegexNode[] }
  | { kind: "group"; body: RegexNode; capture: boolean; look: boolean }
  | { kind: "repeat"; body: RegexNode; min: number; max: number }
  | { kind: "chars"; set: CharSet }
  /** Anchors and `\b`: match the empty string. */
  | { kind: "assert" }
  /** `\1`, `\k<name>`: any text, possibly empty. */
  | { kind: "backref" }
);

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  n: 10,
  r: 13,
  t: 9,
  f: 12,
  v: 11,
  0: 0,
};

/** Parses `source` (which `new RegExp(source)` accepted) into a tree. Never throws. */
export function parseRegex(source: string): RegexNode {
  let pos = 0;
  const peek = (k = 0): string => source[pos + k] ?? "";

  function alternation(): RegexNode {
    const start = pos;
    const alts = [sequence()];
    while (peek() === "|") {
      pos++;
      alts.push(sequence());
    }
    if (alts.length === 1 && alts[0] !== undefined) return alts[0];
    return { kind: "alt", alts, start, end: pos };
  }

  function sequence(): RegexNode {
    const start = pos;
    const items: RegexNode[] = [];
    while (pos < source.length && peek() !== "|" && peek() !== ")") {
      items.push(quantified(atom()));
    }
    return { kind: "seq", items, start, end: pos };
  }

  function quantified(node: RegexNode): RegexNode {
    const m = /^(?:\*|\+|\?|\{(\d+)(,(\d*))?\})\??/.exec(source.slice(pos));
    if (m == null || node.kind === "assert") return node;
    const q = m[0].replace(/\?$/, "") || "?"; // drop the lazy `?`
    let min = 0;
    let max = Infinity;
    if (q === "?") max = 1;
    else if (q === "+") min = 1;
    else if (q.startsWith("{")) {
      min = Number(m[1]);
      max = m[2] == null ? min : m[3] ? Number(m[3]) : Infinity;
    }
    pos += m[0].length;
    return {
      kind: "repeat",
      body: node,
      min,
      max,
      start: node.start,
      end: pos,
    };
  }

  function atom(): RegexNode {
    const start = pos;
    const c = peek();
    pos++;
    const chars = (set: CharSet): RegexNode => ({
      kind: "chars",
      set,
      start,
      end: pos,
    });
    if (c === "(") return group(start);
    if (c === "[") return chars(charClass());
    if (c === ".") return chars(dotSet());
    if (c === "^" || c === "$") return { kind: "assert", start, end: pos };
    if (c !== "\\") return chars(single(c.charCodeAt(0)));
    const e = peek();
    pos++;
    if (e === "b" || e === "B") return { kind: "assert", start, end: pos };
    if (/[1-9]/.test(e) || (e === "k" && peek() === "<")) {
      while (/[0-9]/.test(peek())) pos++;
      if (e === "k") pos = source.indexOf(">", pos) + 1 || source.length;
      return { kind: "backref", start, end: pos };
    }
    return chars(escapeSet(e));
  }

  function group(start: number): RegexNode {
    let capture = true;
    let look = false;
    const m = /^\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(source.slice(pos));
    if (m != null) {
      pos += m[0].length;
      capture = m[0].startsWith("?<") && !/^\?<[=!]/.test(m[0]);
      look = /^\?(?:=|!|<=|<!)$/.test(m[0]);
    }
    const body = alternation();
    if (peek() === ")") pos++;
    return { kind: "group", body, capture, look, start, end: pos };
  }

  function single(code: number): CharSet {
    const set = emptySet();
    addChar(set, code);
    return set;
  }

  /** The set of an escape `\e` (pos is after `e`). */
  function escapeSet(e: string): CharSet {
    return classEscape(e) ?? single(escapeCode(e));
  }

  /** The character code of a non-class escape `\e` (pos is after `e`). */
  function escapeCode(e: string): number {
    const hex = (n: number): number | undefined => {
      const digits = source.slice(pos, pos + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) return undefined;
      pos += n;
      return parseInt(digits, 16);
    };
    if (e === "x") return hex(2) ?? 120;
    if (e === "u") return hex(4) ?? 117;
    if (e === "c" && /[A-Za-z]/.test(peek())) {
      pos++;
      return source.charCodeAt(pos - 1) % 32;
    }
    return SIMPLE_ESCAPES[e] ?? e.charCodeAt(0);
  }

  /** A `[...]` class (pos is after `[`). */
  function charClass(): CharSet {
    const negate = peek() === "^";
    if (negate) pos++;
    const set = emptySet();
    while (pos < source.length && peek() !== "]") {
      const from = classAtom();
      if (
        peek() === "-" &&
        peek(1) !== "]" &&
        peek(1) !== "" &&
        from.code >= 0
      ) {
        const save = pos;
        pos++;
        const to = classAtom();
        if (to.code >= 0) {
          addRange(set, from.code, to.code);
          continue;
        }
        pos = save; // `[a-\d]`: the `-` is literal
      }
      unionInto(set, from.set);
    }
    pos++;
    return negate ? complement(set) : set;
  }

  /** One class member: a character (with its code) or a class escape (code -1). */
  function classAtom(): { set: CharSet; code: number } {
    const c = peek();
    pos++;
    if (c !== "\\") {
      const code = c.charCodeAt(0);
      return { set: single(code), code };
    }
    const e = peek();
    pos++;
    const cls = classEscape(e);
    if (cls !== undefined) return { set: cls, code: -1 };
    const code = e === "b" ? 8 : escapeCode(e);
    return { set: single(code), code };
  }

  return alternation();
}
