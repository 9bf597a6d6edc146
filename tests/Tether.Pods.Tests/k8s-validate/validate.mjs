// Validates Kubernetes manifests offline against the API schemas of npm kubernetes-models.
// Usage: node validate.mjs FILE...   Prints one line per document ("ok FILE KIND NAME" or "error FILE KIND NAME: MESSAGE");
// exits 1 when any document is invalid or of a kind it cannot check.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

let failed = 0;
for (const file of process.argv.slice(2)) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      console.log(`error ${file} - -: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      failed++;
      continue;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    const { apiVersion, kind } = obj;
    const name = obj.metadata?.name ?? "-";
    if (kind === "Kustomization") {
      console.log(`skip ${file} ${kind} ${name}`);
      continue;
    }
    const path = apiVersion.includes("/") ? `kubernetes-models/${apiVersion}/${kind}` : `kubernetes-models/${apiVersion}/${kind}`;
    let Model;
    try {
      Model = (await import(path))[kind];
    } catch (e) {
      console.log(`error ${file} ${kind} ${name}: no schema for ${apiVersion} ${kind} (${e.message})`);
      failed++;
      continue;
    }
    try {
      new Model(obj).validate();
      console.log(`ok ${file} ${kind} ${name}`);
    } catch (e) {
      console.log(`error ${file} ${kind} ${name}: ${e.message}`);
      failed++;
    }
  }
}
process.exit(failed > 0 ? 1 : 0);
