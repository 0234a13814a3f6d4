// Usage: node logits.mjs MODEL.gguf TOKENS OUT
//   TOKENS: comma-separated token ids. Writes float32 little-endian logits for every position
//   (n_tokens x vocab, row-major) as computed by llama.cpp on the CPU, the same layout as
//   `bin/batchgen logits --out`. Prints one line with the shape and the argmax per position.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import fs from "node:fs";

const [modelPath, tokenArg, out] = process.argv.slice(2);
if (!modelPath || !tokenArg || !out) {
  console.error("Usage: node logits.mjs MODEL.gguf 1,2,3 OUT.f32");
  process.exit(2);
}
const tokens = tokenArg.split(",").map(Number);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: 2});
try {
  const model = await llama.loadModel({modelPath});
  const context = await model.createContext({contextSize: Math.max(64, tokens.length + 8),
      batchSize: 512, threads: 2, flashAttention: false});
  const results = await context.getSequence().controlledEvaluate(
      tokens.map((t) => [t, {generateNext: {logits: true}}]));
  let width = 0; // the vocabulary size: every position's map holds all of it
  for (const r of results) {
    for (const id of r.next.logits.keys()) width = Math.max(width, id + 1);
  }
  const buf = Buffer.alloc(4 * width * tokens.length);
  const argmax = [];
  results.forEach((r, i) => {
    for (const [id, v] of r.next.logits) buf.writeFloatLE(v, 4 * (i * width + id));
    argmax.push(r.next.logits.keys().next().value);
  });
  fs.writeFileSync(out, buf);
  console.log(`llama.cpp logits: ${tokens.length} x ${width} -> ${out}; argmax ${argmax.join(",")}`);
} finally {
  await llama.dispose();
}
