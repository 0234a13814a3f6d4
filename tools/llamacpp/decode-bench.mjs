// Usage: node decode-bench.mjs MODEL.gguf [seqs=64] [promptTokens=128] [newTokens=128] [runs=3] [flash=1]
// llama.cpp's batched decode throughput on the CPU (2 threads), measured the way
// `bin/batchgen bench runtime --bar` measures BatchGen: the same number of sequences, each a
// prompt of random token ids; decode tok/s = seqs * (newTokens - 1) / (full run - prefill-only run),
// median of the runs. All sequences share one context and are evaluated concurrently, so
// node-llama-cpp batches their tokens into shared llama_decode calls.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const args = process.argv.slice(2);
if (args.length < 1) {
  console.error("Usage: node decode-bench.mjs MODEL.gguf [seqs] [promptTokens] [newTokens] [runs] [flash 0|1]");
  process.exit(2);
}
const [modelPath, S = "64", P = "128", G = "128", R = "3", F = "1"] = args;
const seqs = +S, promptTokens = +P, newTokens = +G, runs = +R, flash = F === "1";
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: 2});
const model = await llama.loadModel({modelPath});
const vocab = model.fileInsights.metadata?.tokenizer?.ggml?.tokens?.length ?? 32000;
let state = 42;
const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
const prompts = Array.from({length: seqs},
    () => Array.from({length: promptTokens}, () => 1 + next() % (vocab - 1)));
const context = await model.createContext({sequences: seqs,
    contextSize: seqs * (promptTokens + newTokens + 8), batchSize: 512,
    threads: {ideal: 2, min: 2}, flashAttention: flash});
const sequences = prompts.map(() => context.getSequence());

/** Seconds to run every prompt and generate n tokens per sequence (greedy), all concurrently. */
async function pass(n) {
  await Promise.all(sequences.map((s) => s.clearHistory()));
  const t0 = performance.now();
  await Promise.all(prompts.map(async (p, i) => {
    let k = 0;
    for await (const _ of sequences[i].evaluate(p, {temperature: 0})) {
      if (++k >= n) break;
    }
  }));
  return (performance.now() - t0) / 1000;
}

await pass(2); // warm-up: page the weights in
const decode = [];
for (let r = 0; r < runs; r++) {
  const prefill = await pass(1);
  const full = await pass(newTokens);
  const tps = seqs * (newTokens - 1) / (full - prefill);
  decode.push(tps);
  console.log(`run ${r + 1}: prefill-only ${prefill.toFixed(2)} s, full ${full.toFixed(2)} s, decode ${tps.toFixed(1)} tok/s`);
}
const sorted = [...decode].sort((a, b) => a - b);
console.log(`llama.cpp decode: median ${sorted[Math.floor(runs / 2)].toFixed(1)} tok/s `
    + `(runs ${decode.map((x) => x.toFixed(1)).join(", ")}), seqs=${seqs} prompt=${promptTokens} `
    + `new=${newTokens} flash=${flash} threads=2`);
await llama.dispose();
