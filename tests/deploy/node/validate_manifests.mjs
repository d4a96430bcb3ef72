// Validates Kubernetes manifests against the Kubernetes OpenAPI schema without a cluster:
//   node tests/deploy/node/validate_manifests.mjs [--print-json] FILE.yaml...
// Every YAML document of every file is parsed (the `yaml` package) and validated by the
// kubernetes-models class of its apiVersion and kind (ConfigMap, PersistentVolumeClaim, Job —
// what `trafficsim deploy k8s` renders). Prints each error as FILE: document N (Kind name):
// message and exits 1 on any; 0 when all are valid. --print-json writes the parsed documents as
// one JSON array to stdout (the tests read the ConfigMap's plan back through it).
// web/node_modules holds both packages (web/package-lock.json pins them); ES modules ignore
// NODE_PATH, so they are imported from web/ explicitly (TRAFFICSIM_WEB_DIR overrides).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = process.env.TRAFFICSIM_WEB_DIR ?? path.resolve(here, '../../../web');
const modules = path.join(webDir, 'node_modules');
const load = (rel) => import(pathToFileURL(path.join(modules, rel)).href);

const YAML = await load('yaml/dist/index.js');
const classes = {
  'v1/ConfigMap': (await load('kubernetes-models/v1/ConfigMap.js')).ConfigMap,
  'v1/PersistentVolumeClaim': (await load('kubernetes-models/v1/PersistentVolumeClaim.js'))
    .PersistentVolumeClaim,
  'batch/v1/Job': (await load('kubernetes-models/batch/v1/Job.js')).Job,
};

const args = process.argv.slice(2);
const printJson = args[0] === '--print-json';
const files = printJson ? args.slice(1) : args;
if (files.length === 0) {
  console.error('usage: validate_manifests.mjs [--print-json] FILE.yaml...');
  process.exit(2);
}

let failures = 0;
const fail = (where, message) => {
  failures++;
  console.error(`${where}: ${message}`);
};
const parsed = [];
for (const file of files) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    fail(file, `cannot read: ${e.message}`);
    continue;
  }
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, strict: true });
  docs.forEach((doc, i) => {
    const where = `${file}: document ${i + 1}`;
    for (const e of doc.errors) fail(where, `YAML: ${e.message}`);
    for (const w of doc.warnings) fail(where, `YAML: ${w.message}`);
    if (doc.errors.length) return;
    const obj = doc.toJS();
    if (obj === null || obj === undefined) return;  // an empty document (a trailing ---)
    parsed.push(obj);
    const key = `${obj.apiVersion}/${obj.kind}`;
    const Model = classes[key];
    if (!Model) {
      fail(where, `apiVersion ${obj.apiVersion} kind ${obj.kind} is not one this validator knows`);
      return;
    }
    const name = `${where} (${obj.kind} ${obj.metadata?.name ?? '?'})`;
    try {
      new Model(obj).validate();
    } catch (e) {
      const details = Array.isArray(e.errors)
        ? e.errors.map((x) => `${x.instancePath || '/'} ${x.message}`).join('; ')
        : e.message;
      fail(name, details);
    }
  });
}
if (printJson) process.stdout.write(JSON.stringify(parsed) + '\n');
if (failures) {
  console.error(`${failures} error(s)`);
  process.exit(1);
}
console.error(`${parsed.length} document(s) valid`);
