package io.batchgen.engine.model;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.Half;
import io.batchgen.engine.format.TensorSource;
import io.batchgen.engine.format.gguf.GgufWriter;
import io.batchgen.engine.format.safetensors.SafetensorsWriter;
import io.batchgen.engine.tokenizer.GeneratedVocab;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Writes one generated model in either format. Every weight element is a pure function of
 * {@code (seed, HF tensor name, element index)}, so both formats (and any layout change such as
 * llama.cpp's Q/K permutation or fused expert tensors) hold exactly the same values.
 */
final class TinyModelWriter {
  private enum Kind { EMBED, MATRIX, NORM, BIAS, HEAD }

  /** One HF tensor: row-major shape (1-D when {@code rows == 0}). */
  private record Spec(String name, int rows, int cols, Kind kind) {
    long[] shape() {
      return rows == 0 ? new long[] {cols} : new long[] {rows, cols};
    }

    long elements() {
      return rows == 0 ? cols : (long) rows * cols;
    }
  }

  private final ModelConfig c;
  private final long seed;
  private final DType dtype;

  TinyModelWriter(ModelConfig c, long seed, DType dtype) {
    this.c = c;
    this.seed = seed;
    this.dtype = dtype;
  }

  // ---- values ----

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  private static long nameHash(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return h;
  }

  /** Element {@code i} of tensor {@code s}, before rounding to the storage type. */
  private float raw(Spec s, long keyHash, long i) {
    long bits = mix(seed * 0x9e3779b97f4a7c15L + keyHash + mix(i + 1));
    float u = ((bits >>> 40) / (float) (1L << 24)) * 2f - 1f; // uniform [-1, 1)
    return switch (s.kind()) {
      case EMBED -> u;
      case MATRIX -> u * (float) Math.sqrt(3.0 / s.cols());
      case HEAD -> u * 4f * (float) Math.sqrt(3.0 / s.cols());
      case NORM -> 1f + 0.2f * u;
      case BIAS -> 0.1f * u;
    };
  }

  /** The value as the model's dtype holds it (Q8_0 quantises later, from the raw value). */
  private float stored(float v) {
    return switch (dtype) {
      case BF16 -> Half.bf16ToFloat(Half.floatToBf16(v));
      case F16 -> Half.f16ToFloat(Half.floatToF16(v));
      default -> v;
    };
  }

  private float[] row(Spec s, int r) {
    long h = nameHash(s.name());
    float[] out = new float[s.cols()];
    long base = (long) r * s.cols();
    for (int j = 0; j < out.length; j++) {
      out[j] = stored(raw(s, h, base + j));
    }
    return out;
  }

  // ---- the HF tensor list ----

  private List<Spec> specs() {
    List<Spec> l = new ArrayList<>();
    int h = c.hiddenSize();
    l.add(new Spec("model.embed_tokens.weight", c.vocabSize(), h, Kind.EMBED));
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      String a = p + "self_attn.";
      l.add(new Spec(p + "input_layernorm.weight", 0, h, Kind.NORM));
      l.add(new Spec(a + "q_proj.weight", c.qDim(), h, Kind.MATRIX));
      l.add(new Spec(a + "k_proj.weight", c.kvDim(), h, Kind.MATRIX));
      l.add(new Spec(a + "v_proj.weight", c.kvDim(), h, Kind.MATRIX));
      l.add(new Spec(a + "o_proj.weight", h, c.qDim(), Kind.MATRIX));
      if (c.attentionBias()) {
        l.add(new Spec(a + "q_proj.bias", 0, c.qDim(), Kind.BIAS));
        l.add(new Spec(a + "k_proj.bias", 0, c.kvDim(), Kind.BIAS));
        l.add(new Spec(a + "v_proj.bias", 0, c.kvDim(), Kind.BIAS));
      }
      if (c.qkNorm() == ModelConfig.QkNorm.PER_HEAD) {
        l.add(new Spec(a + "q_norm.weight", 0, c.headDim(), Kind.NORM));
        l.add(new Spec(a + "k_norm.weight", 0, c.headDim(), Kind.NORM));
      } else if (c.qkNorm() == ModelConfig.QkNorm.FULL) {
        l.add(new Spec(a + "q_norm.weight", 0, c.qDim(), Kind.NORM));
        l.add(new Spec(a + "k_norm.weight", 0, c.kvDim(), Kind.NORM));
      }
      l.add(new Spec(p + "post_attention_layernorm.weight", 0, h, Kind.NORM));
      int f = c.expertFfnSize();
      if (c.arch() == Architecture.MIXTRAL) {
        l.add(new Spec(p + "block_sparse_moe.gate.weight", c.numExperts(), h, Kind.MATRIX));
        for (int e = 0; e < c.numExperts(); e++) {
          String x = p + "block_sparse_moe.experts." + e + ".";
          l.add(new Spec(x + "w1.weight", f, h, Kind.MATRIX));
          l.add(new Spec(x + "w2.weight", h, f, Kind.MATRIX));
          l.add(new Spec(x + "w3.weight", f, h, Kind.MATRIX));
        }
      } else if (c.arch().moe()) {
        l.add(new Spec(p + "mlp.gate.weight", c.numExperts(), h, Kind.MATRIX));
        for (int e = 0; e < c.numExperts(); e++) {
          mlp(l, p + "mlp.experts." + e + ".", f, h);
        }
        if (c.sharedExpert()) {
          mlp(l, p + "mlp.shared_expert.", c.sharedExpertFfnSize(), h);
          l.add(new Spec(p + "mlp.shared_expert_gate.weight", 1, h, Kind.MATRIX));
        }
      } else {
        mlp(l, p + "mlp.", f, h);
      }
    }
    l.add(new Spec("model.norm.weight", 0, h, Kind.NORM));
    if (!c.tieWordEmbeddings()) {
      l.add(new Spec("lm_head.weight", c.vocabSize(), h, Kind.HEAD));
    }
    return l;
  }

  private static void mlp(List<Spec> l, String p, int f, int h) {
    l.add(new Spec(p + "gate_proj.weight", f, h, Kind.MATRIX));
    l.add(new Spec(p + "up_proj.weight", f, h, Kind.MATRIX));
    l.add(new Spec(p + "down_proj.weight", h, f, Kind.MATRIX));
  }

  private Spec spec(List<Spec> all, String name) {
    for (Spec s : all) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    throw new IllegalStateException("no generated tensor " + name);
  }

  // ---- encoding ----

  /** Streams rows {@code rowIds} of the given specs (concatenated) as {@code type}. */
  private TensorSource source(DType type, List<Spec> parts, int[][] rowOrder) {
    long elements = 0;
    for (Spec s : parts) {
      elements += s.elements();
    }
    long bytes = type.bytesFor(elements);
    return new TensorSource() {
      @Override
      public long bytes() {
        return bytes;
      }

      @Override
      public void write(OutputStream out) throws IOException {
        for (int p = 0; p < parts.size(); p++) {
          Spec s = parts.get(p);
          int rows = Math.max(s.rows(), 1);
          for (int r = 0; r < rows; r++) {
            int src = rowOrder == null || rowOrder[p] == null ? r : rowOrder[p][r];
            out.write(encode(type, row(s, src)));
          }
        }
      }
    };
  }

  static byte[] encode(DType type, float[] v) {
    ByteBuffer b = ByteBuffer.allocate((int) type.bytesFor(v.length))
        .order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case F32 -> {
        for (float x : v) {
          b.putFloat(x);
        }
      }
      case BF16 -> {
        for (float x : v) {
          b.putShort(Half.floatToBf16(x));
        }
      }
      case F16 -> {
        for (float x : v) {
          b.putShort(Half.floatToF16(x));
        }
      }
      case Q8_0 -> {
        for (int blk = 0; blk < v.length / 32; blk++) {
          float amax = 0;
          for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(v[blk * 32 + j]));
          }
          float d = amax / 127f;
          float id = d != 0 ? 1f / d : 0f;
          b.putShort(Half.floatToF16(d));
          for (int j = 0; j < 32; j++) {
            float x = v[blk * 32 + j] * id;
            b.put((byte) (Math.signum(x) * Math.floor(Math.abs(x) + 0.5f))); // C roundf
          }
        }
      }
      default -> throw new IllegalStateException("unreachable");
    }
    return b.array();
  }

  // ---- HF ----

  void writeHf(Path dir, long shardBytes) throws IOException {
    writeHf(dir, shardBytes, null);
  }

  /**
   * Writes the HF directory; with {@code tokenizerDir} its tokenizer files (tokenizer.json,
   * tokenizer_config.json, chat templates, special_tokens_map.json) are copied in place of the
   * generated vocabulary, whose size the config must already have.
   */
  void writeHf(Path dir, long shardBytes, Path tokenizerDir) throws IOException {
    List<Spec> all = specs();
    List<SafetensorsWriter> shards = new ArrayList<>();
    List<List<String>> shardNames = new ArrayList<>();
    SafetensorsWriter cur = null;
    for (Spec s : all) {
      TensorSource src = source(dtype, List.of(s), null);
      if (cur == null || (shardBytes > 0 && cur.dataBytes() > 0
          && cur.dataBytes() + src.bytes() > shardBytes)) {
        cur = new SafetensorsWriter();
        shards.add(cur);
        shardNames.add(new ArrayList<>());
      }
      cur.add(s.name(), dtype, s.shape(), src);
      shardNames.get(shardNames.size() - 1).add(s.name());
    }
    Map<String, String> meta = Map.of("format", "pt");
    if (shards.size() == 1) {
      shards.get(0).write(dir.resolve("model.safetensors"), meta);
    } else {
      JsonObject weightMap = new JsonObject();
      long total = 0;
      for (int i = 0; i < shards.size(); i++) {
        String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
        shards.get(i).write(dir.resolve(file), meta);
        total += shards.get(i).dataBytes();
        for (String n : shardNames.get(i)) {
          weightMap.addProperty(n, file);
        }
      }
      JsonObject index = new JsonObject();
      JsonObject m = new JsonObject();
      m.addProperty("total_size", total);
      index.add("metadata", m);
      index.add("weight_map", weightMap);
      writeJson(dir.resolve("model.safetensors.index.json"), index);
    }
    writeJson(dir.resolve("config.json"), hfConfig());
    JsonObject gen = new JsonObject();
    gen.addProperty("eos_token_id", c.eosTokenIds()[0]);
    gen.addProperty("do_sample", false);
    writeJson(dir.resolve("generation_config.json"), gen);
    if (tokenizerDir != null) {
      copyTokenizer(tokenizerDir, dir);
      return;
    }
    GeneratedChatFormat chat = GeneratedChatFormat.of(c.arch());
    GeneratedVocab v = GeneratedVocab.build(c.vocabSize(), chat.specialTokens());
    writeJson(dir.resolve("tokenizer.json"), v.tokenizerJson());
    JsonObject tc = new JsonObject();
    tc.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
    if (chat.bosToken() != null) {
      tc.addProperty("bos_token", chat.bosToken());
    }
    tc.addProperty("eos_token", chat.eosToken());
    tc.addProperty("model_max_length", c.maxPositions());
    // Plain prompts get no BOS (as generated models always had); the chat template writes it.
    tc.addProperty("add_bos_token", false);
    tc.addProperty("clean_up_tokenization_spaces", false);
    tc.addProperty("chat_template", chat.template());
    writeJson(dir.resolve("tokenizer_config.json"), tc);
  }

  /** The files that make up a Hugging Face tokenizer and its chat templates. */
  private static void copyTokenizer(Path from, Path to) throws IOException {
    for (String name : List.of("tokenizer.json", "tokenizer_config.json",
        "special_tokens_map.json", "chat_template.jinja", "chat_template.json")) {
      if (Files.exists(from.resolve(name))) {
        Files.copy(from.resolve(name), to.resolve(name),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path more = from.resolve("additional_chat_templates");
    if (Files.isDirectory(more)) {
      Files.createDirectories(to.resolve("additional_chat_templates"));
      try (var files = Files.list(more)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          Files.copy(f, to.resolve("additional_chat_templates").resolve(f.getFileName()),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private JsonObject hfConfig() {
    JsonObject j = new JsonObject();
    String cls = switch (c.arch()) {
      case MIXTRAL -> "MixtralForCausalLM";
      case QWEN2_MOE -> "Qwen2MoeForCausalLM";
      case QWEN3_MOE -> "Qwen3MoeForCausalLM";
      case OLMOE -> "OlmoeForCausalLM";
      case LLAMA -> "LlamaForCausalLM";
      case QWEN2 -> "Qwen2ForCausalLM";
      case QWEN3 -> "Qwen3ForCausalLM";
    };
    JsonArray archs = new JsonArray();
    archs.add(cls);
    j.add("architectures", archs);
    j.addProperty("model_type", c.arch().hfName());
    j.addProperty("vocab_size", c.vocabSize());
    j.addProperty("hidden_size", c.hiddenSize());
    j.addProperty("num_hidden_layers", c.numLayers());
    j.addProperty("num_attention_heads", c.numHeads());
    j.addProperty("num_key_value_heads", c.numKvHeads());
    j.addProperty("head_dim", c.headDim());
    j.addProperty("max_position_embeddings", c.maxPositions());
    j.addProperty("rms_norm_eps", c.rmsEps());
    j.addProperty("rope_theta", c.ropeTheta());
    j.addProperty("hidden_act", "silu");
    j.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
    j.addProperty("torch_dtype", switch (dtype) {
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      default -> "float32";
    });
    j.addProperty("eos_token_id", c.eosTokenIds()[0]);
    switch (c.arch()) {
      case MIXTRAL -> {
        j.addProperty("intermediate_size", c.expertFfnSize());
        j.addProperty("num_local_experts", c.numExperts());
        j.addProperty("num_experts_per_tok", c.topK());
      }
      case QWEN2_MOE, QWEN3_MOE -> {
        j.addProperty("intermediate_size", c.expertFfnSize() * c.topK());
        j.addProperty("moe_intermediate_size", c.expertFfnSize());
        j.addProperty("num_experts", c.numExperts());
        j.addProperty("num_experts_per_tok", c.topK());
        j.addProperty("norm_topk_prob", c.normTopkProb());
        j.addProperty("decoder_sparse_step", 1);
        j.add("mlp_only_layers", new JsonArray());
        if (c.sharedExpert()) {
          j.addProperty("shared_expert_intermediate_size", c.sharedExpertFfnSize());
        }
      }
      case OLMOE -> {
        j.addProperty("intermediate_size", c.expertFfnSize());
        j.addProperty("num_experts", c.numExperts());
        j.addProperty("num_experts_per_tok", c.topK());
        j.addProperty("norm_topk_prob", c.normTopkProb());
      }
      default -> j.addProperty("intermediate_size", c.expertFfnSize());
    }
    return j;
  }

  private static void writeJson(Path file, JsonObject obj) throws IOException {
    Files.writeString(file, new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create()
        .toJson(obj) + "\n", StandardCharsets.UTF_8);
  }

  // ---- GGUF ----

  void writeGguf(Path file) throws IOException {
    writeGguf(file, this::chatVocab);
  }

  /**
   * Writes the GGUF file with {@code tokenizerMetadata} in place of the generated byte-level BPE
   * vocabulary (tests use it for other vocabularies and extra metadata keys).
   */
  void writeGguf(Path file, Consumer<GgufWriter> tokenizerMetadata) throws IOException {
    List<Spec> all = specs();
    String a = c.arch().ggufName();
    String p = a + ".";
    GgufWriter w = new GgufWriter();
    w.putString("general.architecture", a);
    w.putString("general.name", "batchgen-" + c.arch().hfName() + "-generated");
    w.putU32("general.file_type", switch (dtype) {
      case F32 -> 0;
      case F16 -> 1;
      case Q8_0 -> 7;
      case BF16 -> 32;
    });
    w.putU32(p + "context_length", c.maxPositions());
    w.putU32(p + "embedding_length", c.hiddenSize());
    w.putU32(p + "block_count", c.numLayers());
    w.putU32(p + "feed_forward_length", c.expertFfnSize());
    w.putU32(p + "attention.head_count", c.numHeads());
    w.putU32(p + "attention.head_count_kv", c.numKvHeads());
    w.putF32(p + "rope.freq_base", (float) c.ropeTheta());
    w.putF32(p + "attention.layer_norm_rms_epsilon", c.rmsEps());
    w.putU32(p + "attention.key_length", c.headDim());
    w.putU32(p + "attention.value_length", c.headDim());
    w.putU32(p + "rope.dimension_count", c.headDim());
    w.putU32(p + "vocab_size", c.vocabSize());
    if (c.arch().moe()) {
      w.putU32(p + "expert_count", c.numExperts());
      w.putU32(p + "expert_used_count", c.topK());
      w.putBool(p + "expert_weights_norm", c.normTopkProb());
      if (c.arch() == Architecture.QWEN2_MOE || c.arch() == Architecture.QWEN3_MOE) {
        w.putU32(p + "expert_feed_forward_length", c.expertFfnSize());
      }
      if (c.sharedExpert()) {
        w.putU32(p + "expert_shared_feed_forward_length", c.sharedExpertFfnSize());
      }
    }
    tokenizerMetadata.accept(w);

    boolean permute = a.equals("llama");
    DType big = dtype;
    // llama.cpp keeps 1-D tensors and the router in F32.
    DType small = DType.F32;
    tensor(w, "token_embd.weight", big, all, "model.embed_tokens.weight", null);
    for (int i = 0; i < c.numLayers(); i++) {
      String hp = "model.layers." + i + ".";
      String ha = hp + "self_attn.";
      String g = "blk." + i + ".";
      tensor(w, g + "attn_norm.weight", small, all, hp + "input_layernorm.weight", null);
      tensor(w, g + "attn_q.weight", big, all, ha + "q_proj.weight",
          permute ? permutation(c.numHeads()) : null);
      tensor(w, g + "attn_k.weight", big, all, ha + "k_proj.weight",
          permute ? permutation(c.numKvHeads()) : null);
      tensor(w, g + "attn_v.weight", big, all, ha + "v_proj.weight", null);
      tensor(w, g + "attn_output.weight", big, all, ha + "o_proj.weight", null);
      if (c.attentionBias()) {
        tensor(w, g + "attn_q.bias", small, all, ha + "q_proj.bias", null);
        tensor(w, g + "attn_k.bias", small, all, ha + "k_proj.bias", null);
        tensor(w, g + "attn_v.bias", small, all, ha + "v_proj.bias", null);
      }
      if (c.qkNorm() != ModelConfig.QkNorm.NONE) {
        tensor(w, g + "attn_q_norm.weight", small, all, ha + "q_norm.weight", null);
        tensor(w, g + "attn_k_norm.weight", small, all, ha + "k_norm.weight", null);
      }
      tensor(w, g + "ffn_norm.weight", small, all, hp + "post_attention_layernorm.weight", null);
      if (c.arch().moe()) {
        boolean mixtral = c.arch() == Architecture.MIXTRAL;
        String m = mixtral ? hp + "block_sparse_moe." : hp + "mlp.";
        tensor(w, g + "ffn_gate_inp.weight", small, all, m + "gate.weight", null);
        fused(w, g + "ffn_gate_exps.weight", all, m, mixtral ? "w1" : "gate_proj");
        fused(w, g + "ffn_up_exps.weight", all, m, mixtral ? "w3" : "up_proj");
        fused(w, g + "ffn_down_exps.weight", all, m, mixtral ? "w2" : "down_proj");
        if (c.sharedExpert()) {
          String s = hp + "mlp.shared_expert.";
          tensor(w, g + "ffn_gate_shexp.weight", big, all, s + "gate_proj.weight", null);
          tensor(w, g + "ffn_up_shexp.weight", big, all, s + "up_proj.weight", null);
          tensor(w, g + "ffn_down_shexp.weight", big, all, s + "down_proj.weight", null);
          Spec gate = spec(all, hp + "mlp.shared_expert_gate.weight");
          w.addTensor(g + "ffn_gate_inp_shexp.weight", small, new long[] {gate.cols()},
              source(small, List.of(gate), null));
        }
      } else {
        tensor(w, g + "ffn_gate.weight", big, all, hp + "mlp.gate_proj.weight", null);
        tensor(w, g + "ffn_up.weight", big, all, hp + "mlp.up_proj.weight", null);
        tensor(w, g + "ffn_down.weight", big, all, hp + "mlp.down_proj.weight", null);
      }
    }
    tensor(w, "output_norm.weight", small, all, "model.norm.weight", null);
    if (!c.tieWordEmbeddings()) {
      tensor(w, "output.weight", big, all, "lm_head.weight", null);
    }
    w.write(file);
  }

  /**
   * The generated byte-level BPE vocabulary as llama.cpp's {@code tokenizer.ggml.*} keys, with
   * the architecture's chat format's special tokens (no template: see {@link #chatVocab}).
   */
  void gpt2Vocab(GgufWriter w) {
    GeneratedChatFormat chat = GeneratedChatFormat.of(c.arch());
    GeneratedVocab v = GeneratedVocab.build(c.vocabSize(), chat.specialTokens());
    w.putString("tokenizer.ggml.model", "gpt2");
    w.putString("tokenizer.ggml.pre", "default");
    w.putStrings("tokenizer.ggml.tokens", v.tokens());
    w.putI32s("tokenizer.ggml.token_type", v.tokenTypes());
    w.putStrings("tokenizer.ggml.merges", v.merges());
    w.putU32("tokenizer.ggml.eos_token_id", c.eosTokenIds()[0]);
    if (chat.bosToken() != null) {
      w.putU32("tokenizer.ggml.bos_token_id", v.specialId(chat.bosToken()));
    }
    w.putBool("tokenizer.ggml.add_bos_token", false);
  }

  /** {@link #gpt2Vocab} with the architecture's chat template ({@code tokenizer.chat_template}). */
  void chatVocab(GgufWriter w) {
    gpt2Vocab(w);
    w.putString("tokenizer.chat_template", GeneratedChatFormat.of(c.arch()).template());
  }

  private void tensor(GgufWriter w, String name, DType type, List<Spec> all, String hfName,
      int[] rowOrder) {
    Spec s = spec(all, hfName);
    DType t = s.rows() == 0 ? DType.F32 : type;
    w.addTensor(name, t, s.shape(), source(t, List.of(s), new int[][] {rowOrder}));
  }

  private void fused(GgufWriter w, String name, List<Spec> all, String moePrefix, String proj) {
    List<Spec> parts = new ArrayList<>();
    for (int e = 0; e < c.numExperts(); e++) {
      parts.add(spec(all, moePrefix + "experts." + e + "." + proj + ".weight"));
    }
    Spec first = parts.get(0);
    w.addTensor(name, dtype, new long[] {parts.size(), first.rows(), first.cols()},
        source(dtype, parts, null));
  }

  /** llama.cpp's Q/K row permutation for the llama arch: new row -> HF row. */
  private int[] permutation(int heads) {
    int hd = c.headDim();
    int[] order = new int[heads * hd];
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < hd / 2; i++) {
        for (int j = 0; j < 2; j++) {
          order[h * hd + i * 2 + j] = h * hd + j * (hd / 2) + i;
        }
      }
    }
    return order;
  }
}
