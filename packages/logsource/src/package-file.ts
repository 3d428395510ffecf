/** Where this package's built files are, bundled or not. */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * A file of the built package (`dist/<name>`: the replay worker, the scanner's `.wasm`), found
 * through the package's own name: this module may be bundled into a program (knockd's CLI),
 * where `import.meta.url` is the program's file. Throws when the package cannot be resolved.
 */
export function packageFile(name: string): string {
  const root = dirname(
    createRequire(import.meta.url).resolve("@portknock/logsource/package.json"),
  );
  return join(root, "dist", name);
}
