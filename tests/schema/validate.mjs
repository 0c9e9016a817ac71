#!/usr/bin/env node
// Validates sealbridge payloads against schemas/*.schema.json.
//   validate.mjs --examples                 every example must pass, every invalid one fail
//   validate.mjs --root seal FILE.jsonl...  captured {"topic", "payload"} lines, schema by topic
//   validate.mjs --schema NAME FILE.json... one-off check of payload files
// Prints one line per failure and "N passed, M failed"; exit status 1 on any failure.
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas');
// A transport rule no schema can state: the daemon drops larger reports unparsed.
const REPORT_MAX = 1024;
const SUFFIX = '.schema.json';

let passed = 0;
let failed = 0;

function fail(where, msg) {
  failed++;
  console.log(`FAIL ${where}: ${msg}`);
}

function loadSchemas() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  const ids = new Map();
  for (const f of readdirSync(SCHEMA_DIR).filter((n) => n.endsWith(SUFFIX)).sort()) {
    const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, f), 'utf8'));
    if (!schema.$id) throw new Error(`${f}: no $id`);
    ajv.addSchema(schema);
    ids.set(f.slice(0, -SUFFIX.length), schema.$id);
  }
  // Compile every schema up front so that a broken $ref fails at once, not on first use.
  const validators = new Map();
  for (const [name, id] of ids) {
    if (name !== 'common') validators.set(name, ajv.getSchema(id));
  }
  return validators;
}

function errorText(validate) {
  return validate.errors
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params && e.params.allowedValues ? ' ' + JSON.stringify(e.params.allowedValues) : ''}${e.params && e.params.additionalProperty ? ' (' + e.params.additionalProperty + ')' : ''}`)
    .join('; ');
}

// Returns the list of problems; empty when the payload is acceptable.
function check(validators, name, value, bytes) {
  const validate = validators.get(name);
  if (!validate) return [`no schema named ${name}`];
  const problems = [];
  if (name === 'report' && bytes > REPORT_MAX) problems.push(`${bytes} bytes, over the ${REPORT_MAX}-byte report limit`);
  if (!validate(value)) problems.push(errorText(validate));
  return problems;
}

function jsonFiles(dir) {
  return readdirSync(dir).filter((n) => n.endsWith('.json')).sort().map((n) => join(dir, n));
}

function readJson(file) {
  const raw = readFileSync(file);
  return { value: JSON.parse(raw.toString('utf8')), bytes: Buffer.byteLength(raw.toString('utf8').trim()) };
}

function runExamples(validators) {
  const goodRoot = join(SCHEMA_DIR, 'examples');
  const badRoot = join(SCHEMA_DIR, 'examples-invalid');
  for (const name of validators.keys()) {
    const dir = join(goodRoot, name);
    const n = existsSync(dir) ? jsonFiles(dir).length : 0;
    if (n < 2) fail(name, `only ${n} valid example(s), want at least 2`);
    const bad = join(badRoot, name);
    if (!existsSync(bad) || jsonFiles(bad).length === 0) fail(name, 'no invalid examples');
  }
  for (const [root, mustPass] of [[goodRoot, true], [badRoot, false]]) {
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      if (!statSync(dir).isDirectory()) continue;
      if (!validators.has(name)) {
        fail(dir, 'directory does not name a schema');
        continue;
      }
      for (const file of jsonFiles(dir)) {
        const where = `${basename(root)}/${name}/${basename(file)}`;
        let doc;
        try {
          doc = readJson(file);
        } catch (e) {
          // An invalid example must fail the schema, not the JSON parser.
          fail(where, `not JSON: ${e.message}`);
          continue;
        }
        const problems = check(validators, name, doc.value, doc.bytes);
        if (mustPass && problems.length) fail(where, problems.join('; '));
        else if (!mustPass && !problems.length) fail(where, 'accepted, but must be rejected');
        else passed++;
      }
    }
  }
}

// Topic (after the root) to schema name and the topic-vs-payload checks it implies.
function route(rest) {
  const p = rest.split('/');
  if (p.length === 3 && p[0] === 'alert') return { name: 'alert', level: p[1], unit: p[2] };
  if (p.length === 3 && p[0] === 'state' && p[1] === 'household') return { name: 'household-state', household: p[2] };
  if (p.length === 3 && p[0] === 'state' && p[1] === 'seal') return { name: 'seal-state', device: p[2] };
  if (p.length === 3 && p[0] === 'stats') return { name: 'stats', level: p[1], unit: p[2] };
  if (p.length === 2 && p[0] === 'bridge' && p[1] === 'status') return { name: 'status' };
  if (p.length === 2 && p[0] === 'bridge' && p[1] === 'rejected') return { name: 'rejected' };
  if (p.length === 3 && p[0] === 'dev' && p[2] === 'report') return { name: 'report' };
  if (p.length === 2 && p[0] === 'cmd') return { name: `command-${p[1]}` };
  if (p.length === 3 && p[0] === 'gw' && p[2] === 'status') return { name: 'gateway-status' };
  return null;
}

function topicProblems(r, payload) {
  const out = [];
  if (payload === null || typeof payload !== 'object') return out;
  if (r.name === 'alert') {
    if (payload.level !== r.level) out.push(`topic level ${r.level} but payload level ${payload.level}`);
    else if (payload[`${r.level}_id`] !== r.unit) out.push(`topic unit ${r.unit} but payload ${r.level}_id ${payload[`${r.level}_id`]}`);
  } else if (r.name === 'stats') {
    if (payload.level !== r.level || payload.unit_id !== r.unit) out.push(`topic ${r.level}/${r.unit} but payload ${payload.level}/${payload.unit_id}`);
  } else if (r.name === 'seal-state') {
    if (payload.device_id !== r.device) out.push(`topic seal ${r.device} but payload ${payload.device_id}`);
  } else if (r.name === 'household-state') {
    if (payload.household_id !== r.household) out.push(`topic household ${r.household} but payload ${payload.household_id}`);
  }
  return out;
}

function runCapture(validators, root, file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      fail(where, `not JSON: ${e.message}`);
      return;
    }
    if (rec === null || typeof rec.topic !== 'string' || !('payload' in rec)) {
      fail(where, 'want {"topic": string, "payload": value}');
      return;
    }
    const { topic, payload } = rec;
    const r = topic.startsWith(`${root}/`) ? route(topic.slice(root.length + 1)) : null;
    // Replies go wherever reply_to pointed, so whatever is not ours is taken for one.
    const name = r ? r.name : 'reply';
    if (payload === null) {
      // An empty retained message is how a released household's state is cleared.
      // Tests clear retained seal states the same way (the daemon never does).
      if (name === 'household-state' || name === 'seal-state') passed++;
      else fail(where, `${topic}: empty payload`);
      return;
    }
    const bytes = Buffer.byteLength(JSON.stringify(payload));
    const problems = check(validators, name, payload, bytes);
    if (r) problems.push(...topicProblems(r, payload));
    if (problems.length) fail(where, `${topic} (${name}): ${problems.join('; ')}`);
    else passed++;
  });
}

function usage() {
  console.error('usage: validate.mjs --examples | --root ROOT FILE.jsonl... | --schema NAME FILE.json...');
  process.exit(2);
}

const args = process.argv.slice(2);
let validators;
try {
  validators = loadSchemas();
} catch (e) {
  console.log(`FAIL schemas: ${e.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (args[0] === '--examples' && args.length === 1) {
  runExamples(validators);
} else if (args[0] === '--root' && args.length >= 3) {
  for (const f of args.slice(2)) runCapture(validators, args[1], f);
} else if (args[0] === '--schema' && args.length >= 3) {
  for (const f of args.slice(2)) {
    let doc;
    try {
      doc = readJson(f);
    } catch (e) {
      fail(f, e.message);
      continue;
    }
    const problems = check(validators, args[1], doc.value, doc.bytes);
    if (problems.length) fail(f, problems.join('; '));
    else passed++;
  }
} else {
  usage();
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
