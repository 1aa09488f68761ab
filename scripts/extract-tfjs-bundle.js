#!/usr/bin/env node
// Turn the browserify bundles of a TensorFlow.js model as npm packages ship
// them (model.min.js + group1-shardKofN.min.js) into the standard TF.js
// files: model.json and group1-shardKofN.bin.
// usage: node scripts/extract-tfjs-bundle.js BUNDLE_DIR OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');

function load(file) {
  const module = { exports: {} };
  // A UMD bundle: with `module` defined it assigns module.exports.
  new Function('module', 'exports', 'require', fs.readFileSync(file, 'utf8'))(module, module.exports, require);
  return module.exports;
}

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: extract-tfjs-bundle.js BUNDLE_DIR OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
let model = load(path.join(src, 'model.min.js'));
if (model && model.default) model = model.default;
if (!model || !model.modelTopology || !model.weightsManifest) {
  console.error(`${src}/model.min.js: not a TensorFlow.js model.json bundle`);
  process.exit(1);
}
const shards = fs.readdirSync(src).filter((f) => /^group\d+-shard\d+of\d+\.min\.js$/.test(f));
const num = (f) => f.match(/^group(\d+)-shard(\d+)of/).slice(1).map(Number);
shards.sort((a, b) => num(a)[0] - num(b)[0] || num(a)[1] - num(b)[1]);
const paths = [];
let total = 0;
for (const f of shards) {
  let b64 = load(path.join(src, f));
  if (b64 && b64.default) b64 = b64.default;
  if (typeof b64 !== 'string') {
    console.error(`${src}/${f}: expected a base64 string`);
    process.exit(1);
  }
  const bin = f.replace(/\.min\.js$/, '.bin');
  const bytes = Buffer.from(b64, 'base64');
  fs.writeFileSync(path.join(out, bin), bytes);
  paths.push(bin);
  total += bytes.length;
}
// One weights group whose paths are the shards in order (they concatenate).
const weights = [];
for (const g of model.weightsManifest) weights.push(...g.weights);
model.weightsManifest = [{ paths, weights }];
fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify(model));
console.log(`${out}/model.json: ${model.format || 'layers-model'}, ${weights.length} weights, ${paths.length} shards, ${total} bytes`);
