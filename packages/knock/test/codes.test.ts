import { fileURLToPath } from "node:url";
import { describeCodesTable } from "@portknock/test-utils";
import { KNOCK_CODES } from "@portknock/knock";

describeCodesTable(
  "knock",
  fileURLToPath(new URL("../src/", import.meta.url)),
  KNOCK_CODES,
);
