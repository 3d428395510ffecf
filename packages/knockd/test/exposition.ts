/**
 * A strict reader of Prometheus' text exposition format 0.0.4, for tests: it throws on any line
 * the format does not allow (names, label syntax and escapes, values, `# TYPE` after a sample,
 * a metric's samples not together, a series twice), so a page that reads here is one a scraper
 * reads.
 */

/** A page read by `parseExposition`. */
export interface Exposition {
  /** `# TYPE` by metric name. */
  types: Map<string, string>;
  /** `# HELP` by metric name. */
  help: Map<string, string>;
  /** Every sample, by `name{a="x",b="y"}` with the labels sorted. */
  samples: Map<string, number>;
  /** The value of one series; throws when the page does not have it. */
  value(name: string, labels?: Record<string, string>): number;
  /** The label values of `label` among `name`'s samples. */
  labelValues(name: string, label: string): string[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = "[a-zA-Z_][a-zA-Z0-9_]*";
const VALUE_TEXT = String.raw`"(?:[^"\\\n]|\\[\\"n])*"`;
const SAMPLE = new RegExp(
  String.raw`^(${NAME})(?:\{((?:${LABEL}=${VALUE_TEXT})(?:,${LABEL}=${VALUE_TEXT})*,?)?\})? (\S+)(?: (-?\d+))?$`,
);
const PAIR = new RegExp(`(${LABEL})=(${VALUE_TEXT})`, "g");
const NUMBER =
  /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf|NaN)$/;

/** Reads `text`; throws naming the first line that breaks the format. */
export function parseExposition(text: string): Exposition {
  if (!text.endsWith("\n"))
    throw new Error("the page must end with a line feed");
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples = new Map<string, number>();
  const labels = new Map<string, Array<Record<string, string>>>();
  const done = new Set<string>();
  let currentMetric: string | undefined;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, i) => {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1} ${JSON.stringify(line)}: ${why}`);
    };
    if (line === "") return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = "", rest = ""] = meta;
      if (!new RegExp(`^${NAME}$`).test(name)) fail("bad metric name");
      if (kind === "TYPE") {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(rest))
          fail("bad type");
        if (types.has(name)) fail("a second TYPE");
        if (
          samples.size > 0 &&
          [...samples.keys()].some((k) => k.split("{")[0] === name)
        )
          fail("TYPE after a sample");
        types.set(name, rest);
      } else {
        if (help.has(name)) fail("a second HELP");
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, "")))
          fail("bad escape in HELP");
        help.set(name, rest);
      }
      return;
    }
    if (line.startsWith("#")) return;
    const m = SAMPLE.exec(line);
    if (!m) return fail("not a sample");
    const [, name = "", labelText = "", valueText = ""] = m;
    if (!NUMBER.test(valueText)) fail("bad value");
    if (name !== currentMetric) {
      if (done.has(name)) fail("the metric's samples are not together");
      if (currentMetric) done.add(currentMetric);
      currentMetric = name;
    }
    const pairs: Record<string, string> = {};
    for (const [, k = "", v = ""] of labelText.matchAll(PAIR)) {
      if (k in pairs) fail(`label ${k} twice`);
      pairs[k] = JSON.parse(v) as string;
    }
    const key = seriesKey(name, pairs);
    if (samples.has(key)) fail("the series twice");
    samples.set(key, Number(valueText.replace(/Inf$/, "Infinity")));
    labels.set(name, [...(labels.get(name) ?? []), pairs]);
  });
  return {
    types,
    help,
    samples,
    value(name, l = {}): number {
      const v = samples.get(seriesKey(name, l));
      if (v === undefined) throw new Error(`no series ${seriesKey(name, l)}`);
      return v;
    },
    labelValues(name, label): string[] {
      return (labels.get(name) ?? []).flatMap((p) =>
        p[label] != null ? [p[label]] : [],
      );
    },
  };
}

function seriesKey(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${parts.join(",")}}`;
}
