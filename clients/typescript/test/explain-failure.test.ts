// Every case of clients/explain-failure.json: the run in the proto's JSON mapping, parsed with
// fromJson, then explainFailure's exact text.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { explainFailure, PipelineRunSchema } from "@polysync/platform-client";
import { repoRoot } from "./live-stack.js";

const table = JSON.parse(readFileSync(join(repoRoot(), "clients", "explain-failure.json"), "utf8")) as {
  cases: { name: string; run: JsonValue; text: string }[];
};

for (const entry of table.cases) {
  test(`explainFailure: ${entry.name}`, () => {
    assert.equal(explainFailure(fromJson(PipelineRunSchema, entry.run)), entry.text);
  });
}
