// usage: node validate.mjs RENDERED.yaml...
// Each monitoring.coreos.com object is checked against the Prometheus Operator CRD schema
// (@kubernetes-models/prometheus-operator: the CRDs' openAPIV3Schema compiled for ajv). An
// unknown kind of that group, an invalid object, or no such object at all fails.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import * as monitoringV1 from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const GROUP = "monitoring.coreos.com/v1";
let checked = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) {
      console.error(`${file}: ${doc.errors[0].message}`);
      failed++;
      continue;
    }
    const object = doc.toJS();
    if (!object || !String(object.apiVersion).startsWith("monitoring.coreos.com/")) continue;
    const where = `${file} - ${object.kind} ${object.metadata?.name}`;
    const Model = object.apiVersion === GROUP ? monitoringV1[object.kind] : undefined;
    if (typeof Model !== "function") {
      console.error(`${where}: no schema for ${object.apiVersion} ${object.kind}`);
      failed++;
      continue;
    }
    try {
      new Model(object).validate();
      checked++;
    } catch (error) {
      console.error(`${where} is invalid: ${error.message}`);
      failed++;
    }
  }
}
console.log(`crd-validate: ${checked} valid, ${failed} invalid`);
process.exit(failed || !checked ? 1 : 0);
