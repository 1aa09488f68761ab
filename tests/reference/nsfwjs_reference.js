#!/usr/bin/env node
// Reference probabilities of the three nsfwjs models, computed by TensorFlow.js
// (@tensorflow/tfjs, pure JavaScript CPU backend) from preprocessed input
// tensors (NAME_SIZE.f32, little-endian float32 NHWC, batch 1).
// usage: node nsfwjs_reference.js MODELS_DIR INPUTS_DIR > nsfwjs_reference.json
//   MODELS_DIR/<model>/model.json + shards (TF.js format), INPUTS_DIR/*.f32
// @tensorflow/tfjs is resolved through NODE_PATH.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const tf = require('@tensorflow/tfjs');

const MODELS = [
  ['inception_v3', 299],
  ['mobilenet_v2', 224],
  ['mobilenet_v2_mid', 224],
];

async function load(dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const specs = [];
  const bufs = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const artifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    userDefinedMetadata: json.userDefinedMetadata,
  };
  const handler = tf.io.fromMemory(artifacts);
  return json.format === 'graph-model' ? tf.loadGraphModel(handler) : tf.loadLayersModel(handler);
}

async function main() {
  const [modelsDir, inputsDir] = process.argv.slice(2);
  if (!modelsDir || !inputsDir) {
    console.error('usage: nsfwjs_reference.js MODELS_DIR INPUTS_DIR');
    process.exit(2);
  }
  await tf.setBackend('cpu');
  const files = fs.readdirSync(inputsDir).filter((f) => f.endsWith('.f32')).sort();
  const out = {
    about:
      'nsfwjs@4.4.0 models (classes Drawing, Hentai, Neutral, Porn, Sexy) run by @tensorflow/tfjs ' +
      tf.version.tfjs + ' (' + tf.getBackend() + ' backend) on the inputs made by tests/reference/nsfwjs_inputs.py; ' +
      'regenerate with tests/reference/nsfwjs_reference.sh',
    inputs: {},
    models: {},
  };
  for (const f of files) {
    out.inputs[f] = crypto.createHash('sha256').update(fs.readFileSync(path.join(inputsDir, f))).digest('hex');
  }
  for (const [name, size] of MODELS) {
    const model = await load(path.join(modelsDir, name));
    const res = { size, outputs: {} };
    for (const f of files) {
      const m = f.match(/^(.*)_(\d+)\.f32$/);
      if (!m || Number(m[2]) !== size) continue;
      const buf = fs.readFileSync(path.join(inputsDir, f));
      const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      const x = tf.tensor4d(data, [1, size, size, 3]);
      const y = model.predict(x);
      res.outputs[m[1]] = Array.from(y.dataSync());
      x.dispose();
      y.dispose();
    }
    out.models[name] = res;
    process.stderr.write(`${name}: ${Object.keys(res.outputs).length} images\n`);
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
