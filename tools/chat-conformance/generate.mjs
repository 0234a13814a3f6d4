// Writes the chat-conformance goldens, once, with references independent of BatchGen:
//   rendered text:  @huggingface/jinja 0.5.11 (transformers.js' Jinja interpreter) and Python
//                   Jinja2 configured as transformers configures it (render_jinja2.py); where the
//                   two differ, Python Jinja2 (what transformers runs) is the golden and the entry
//                   records what @huggingface/jinja gave
//   token ids:      tokenizers 0.23.2 (Hugging Face's official Node binding of the Rust library)
//
//   node tools/chat-conformance/generate.mjs --modules DIR --tokenizers DIR --out REPO_ROOT
//
// DIR for --modules holds node_modules with both packages (npm install into a temp folder);
// --tokenizers is a folder of FAMILY/{tokenizer.json,tokenizer_config.json} as the build fetches
// them (e.g. arrow-io/target/tokenizers). See README.md.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
for (const k of ['modules', 'tokenizers', 'out']) {
  if (!args[k]) {
    console.error(`missing --${k}`);
    process.exit(2);
  }
}
const require = createRequire(path.join(path.resolve(args.modules), 'package.json'));
const { Template } = require('@huggingface/jinja');
const { Tokenizer } = require('tokenizers');
const here = path.dirname(new URL(import.meta.url).pathname);
const conversations = JSON.parse(fs.readFileSync(path.join(here, 'conversations.json'), 'utf8'));

// Plain (non-chat) prompts: special tokens as the model's tokenizer adds them.
const PLAIN = ['Hello world', 'The capital of France is', ' leading space', 'trailing space ',
  'Grüße, 世界! 🌍', '{{ 7*7 }} {% raw %}', '\n\nTwo newlines first', 'a',
  '<s> literal <|im_start|> special text', 'x'.repeat(300)];

// transformers' special_tokens_map keys, passed to the template when set.
const SPECIAL_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token',
  'cls_token', 'mask_token'];

function tokenText(v) {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : (v.content ?? null);
}

function defaultTemplate(cfg) {
  const t = cfg.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return (t.find((x) => x.name === 'default') || {}).template ?? null;
  return null;
}

async function ids(tok, text, special) {
  return (await tok.encode(text, null, { addSpecialTokens: special })).getIds();
}

// What tokenizer_config's add_bos_token / add_eos_token change on top of the post-processor, as
// transformers' LlamaTokenizerFast/GemmaTokenizerFast rebuild it: true adds the token when the
// post-processor does not, false drops the post-processor's; absent leaves the post-processor.
async function plainIds(tok, cfg, text) {
  const withSpecial = await ids(tok, text, true);
  const without = await ids(tok, text, false);
  let prefix = withSpecial.length - without.length;
  // the post-processor's own additions: find where the bare ids sit inside the processed ones
  let start = 0;
  for (; start <= prefix; start++) {
    if (without.every((id, i) => withSpecial[start + i] === id)) break;
  }
  let head = withSpecial.slice(0, start);
  let body = without;
  let tail = withSpecial.slice(start + without.length);
  const bos = tokenText(cfg.bos_token);
  const eos = tokenText(cfg.eos_token);
  const bosId = bos === null ? null : tok.tokenToId(bos);
  const eosId = eos === null ? null : tok.tokenToId(eos);
  if (cfg.add_bos_token === true && bosId !== null && !head.includes(bosId)) head = [bosId, ...head];
  if (cfg.add_bos_token === false && bosId !== null) head = head.filter((id) => id !== bosId);
  if (cfg.add_eos_token === true && eosId !== null && !tail.includes(eosId)) tail = [...tail, eosId];
  if (cfg.add_eos_token === false && eosId !== null) tail = tail.filter((id) => id !== eosId);
  return { postProcessorIds: withSpecial, ids: [...head, ...body, ...tail] };
}

const disagreements = [];
const families = fs.readdirSync(args.tokenizers).filter((f) =>
  fs.existsSync(path.join(args.tokenizers, f, 'tokenizer.json'))).sort();
for (const family of families) {
  const dir = path.join(args.tokenizers, family);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
  const tok = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
  const special = {};
  for (const k of SPECIAL_KEYS) {
    const t = tokenText(cfg[k]);
    if (t !== null) special[k] = t;
  }
  if (Array.isArray(cfg.additional_special_tokens)) {
    special.additional_special_tokens = cfg.additional_special_tokens.map(tokenText);
  }
  const source = defaultTemplate(cfg);
  const rendered = [];
  const chats = [];
  if (source !== null) {
    const template = new Template(source);
    const python = spawnSync('python3', [path.join(here, 'render_jinja2.py'),
      path.join(dir, 'tokenizer_config.json'), path.join(here, 'conversations.json')],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (python.status !== 0) throw new Error(`render_jinja2.py failed: ${python.stderr}`);
    const byPython = new Map(JSON.parse(python.stdout).map((r) => [r.id, r]));
    for (const c of conversations) {
      const vars = { tools: null, documents: null, ...special, ...(c.kwargs || {}),
        messages: c.messages, add_generation_prompt: c.addGenerationPrompt };
      const entry = { id: c.id, messages: c.messages, addGenerationPrompt: c.addGenerationPrompt };
      if (c.kwargs) entry.kwargs = c.kwargs;
      let js;
      try {
        js = { text: template.render(vars) };
      } catch (e) {
        js = { raised: String(e.message) };
      }
      const py = byPython.get(c.id);
      const agree = js.text === py.text && js.raised === py.raised;
      if (py.text !== undefined) entry.text = py.text; else entry.raised = py.raised;
      if (!agree) {
        entry.huggingfaceJinjaDiffers = js;
        disagreements.push(`${family}/${c.id}`);
      }
      if (entry.text !== undefined) {
        chats.push({ id: c.id, text: entry.text, ids: await ids(tok, entry.text, false) });
      }
      rendered.push(entry);
    }
  }
  const plain = [];
  for (const text of PLAIN) plain.push({ text, ...(await plainIds(tok, cfg, text)) });
  const header = { family, renderedBy: '@huggingface/jinja 0.5.11 and Python Jinja2 (transformers'
    + ' configuration); Python Jinja2 where they differ', idsBy: 'tokenizers 0.23.2' };
  const write = (module, body) => {
    const file = path.join(args.out, module, 'src/test/resources/chat-conformance', `${family}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ ...header, ...body }, null, 1) + '\n');
  };
  if (source !== null) write('arrow-io', { conversations: rendered });
  write('gpu-executor', { chats, plain });
  console.log(`${family}: ${rendered.filter((r) => r.text !== undefined).length} rendered, `
    + `${rendered.filter((r) => r.raised !== undefined).length} raised, ${plain.length} plain`);
}
console.log(`@huggingface/jinja differed from Python Jinja2 on ${disagreements.length}: `
  + disagreements.join(', '));
