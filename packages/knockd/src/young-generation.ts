/**
 * V8's young generation in network mode (issue #20: "RSS ≤ 100 MiB under any flood"). Every
 * captured packet leaves a few short-lived objects; V8 doubles the new space (from 1 MiB per
 * semi-space up to 16 MiB) each time as many bytes have survived scavenges as it holds, so a
 * flood grows it to its maximum, 32 MiB resident, and it stays there. Stopping the growth keeps
 * it at 2 MiB. `--max-semi-space-size` cannot be set from inside the process (V8 sizes the
 * heap at start), and `--semi-space-growth-factor` on the command line is raised back to 2 by
 * V8 (`Heap::ConfigureHeap`), but set at run time it is read at each growth decision
 * (`NewSpace::Grow`). The bin caps it before the daemon loads (loading would grow it once, to
 * 4 MiB resident) unless it is a `-replay`; a source that is no capture lifts the cap again
 * (file mode is measured without it). Measured in `@portknock/detector`'s docs/floods.md
 * ("Where knockd's memory goes").
 */
import { setFlagsFromString } from "node:v8";

/** Stops the young generation growing past its current size, for the rest of the process. */
export function capYoungGeneration(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
}

/** Lets the young generation grow again as V8 does by default (file mode, `-replay`). */
export function releaseYoungGeneration(): void {
  setFlagsFromString("--semi-space-growth-factor=2");
}
