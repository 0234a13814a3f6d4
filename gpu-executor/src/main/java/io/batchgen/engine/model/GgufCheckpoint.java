package io.batchgen.engine.model;

import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.format.TensorInfo;
import io.batchgen.engine.format.gguf.GgufFile;
import io.batchgen.engine.model.ModelConfig.QkNorm;
import io.batchgen.engine.model.ModelConfig.RopeStyle;
import io.batchgen.engine.tokenizer.ByteLevelBpeTokenizer;
import io.batchgen.engine.tokenizer.SentencePieceBpeTokenizer;
import io.batchgen.engine.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps a llama.cpp GGUF file onto {@link ModelConfig} and {@link ModelWeights}: metadata keys
 * {@code <arch>.*}, tensor names {@code blk.<l>.*}, fused {@code *_exps} expert tensors sliced per
 * expert. For the llama architecture (Mixtral included) llama.cpp's converter permutes the Q and K
 * rows so that RoPE rotates adjacent pairs; the config says so with {@link RopeStyle#INTERLEAVED}.
 */
final class GgufCheckpoint {
  private GgufCheckpoint() {
  }

  static ModelConfig parseConfig(GgufFile g) {
    String archName = str(g, "general.architecture");
    Architecture arch = switch (archName) {
      case "llama" -> optLong(g, "llama.expert_count", 0) > 1 ? Architecture.MIXTRAL
          : Architecture.LLAMA;
      case "qwen2moe" -> Architecture.QWEN2_MOE;
      case "qwen3moe" -> Architecture.QWEN3_MOE;
      case "olmoe" -> Architecture.OLMOE;
      case "qwen2" -> Architecture.QWEN2;
      case "qwen3" -> Architecture.QWEN3;
      default -> throw ModelFormatException.of(g.path(), "general.architecture [" + archName
          + "] is not supported; supported: llama (incl. Mixtral), qwen2moe, qwen3moe, olmoe,"
          + " qwen2, qwen3");
    };
    String a = archName + ".";
    int hidden = req(g, a + "embedding_length");
    int layers = req(g, a + "block_count");
    int heads = req(g, a + "attention.head_count");
    int kvHeads = (int) optLong(g, a + "attention.head_count_kv", heads);
    int headDim = (int) optLong(g, a + "attention.key_length", hidden / Math.max(heads, 1));
    int maxPos = (int) optLong(g, a + "context_length", 4096);
    float eps = (float) optDouble(g, a + "attention.layer_norm_rms_epsilon", 1e-6);
    double theta = optDouble(g, a + "rope.freq_base", 10000.0);
    TensorInfo embed = g.tensors().get("token_embd.weight");
    if (embed == null || embed.shape().length != 2) {
      throw ModelFormatException.of(g.path(), "tensor [token_embd.weight] is missing or not 2-D");
    }
    int vocab = (int) optLong(g, a + "vocab_size", embed.shape()[0]);
    int experts = 1;
    int topK = 1;
    int ffn;
    int sharedFfn = 0;
    boolean normTopk = false;
    if (arch.moe()) {
      experts = req(g, a + "expert_count");
      topK = req(g, a + "expert_used_count");
      ffn = arch == Architecture.MIXTRAL || arch == Architecture.OLMOE
          ? req(g, a + "feed_forward_length") : req(g, a + "expert_feed_forward_length");
      boolean dflt = arch == Architecture.MIXTRAL || arch == Architecture.QWEN3_MOE;
      normTopk = optBool(g, a + "expert_weights_norm", dflt);
      if (arch == Architecture.QWEN2_MOE) {
        sharedFfn = req(g, a + "expert_shared_feed_forward_length");
      }
    } else {
      ffn = req(g, a + "feed_forward_length");
    }
    if (hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0
        || headDim % 2 != 0 || heads % kvHeads != 0 || ffn <= 0 || vocab <= 0 || maxPos <= 0
        || experts <= 0 || topK <= 0 || topK > experts) {
      throw ModelFormatException.of(g.path(), "inconsistent hyper-parameters: hidden=" + hidden
          + ", layers=" + layers + ", heads=" + heads + ", kvHeads=" + kvHeads + ", headDim="
          + headDim + ", ffn=" + ffn + ", vocab=" + vocab + ", experts=" + experts + ", topK="
          + topK);
    }
    RopeScaling scaling = ropeScaling(g, a, maxPos);
    maxPos = HfCheckpoint.contextWith(scaling, maxPos);
    long window = optLong(g, a + "attention.sliding_window", 0);
    if (window > 0 && window < maxPos) {
      throw ModelFormatException.of(g.path(), "metadata [" + a + "attention.sliding_window] is "
          + window + ", smaller than the model's context of " + maxPos + " positions;"
          + " sliding-window attention is not supported (attention here always spans the whole"
          + " sequence)");
    }
    if (g.tensors().containsKey("rope_freqs.weight")) {
      throw ModelFormatException.of(g.path(), "tensor [rope_freqs.weight] (llama3 RoPE scaling)"
          + " is not supported");
    }
    QkNorm qk = QkNorm.NONE;
    TensorInfo qn = g.tensors().get("blk.0.attn_q_norm.weight");
    if (qn != null) {
      qk = qn.elements() == headDim ? QkNorm.PER_HEAD : QkNorm.FULL;
    }
    boolean bias = g.tensors().containsKey("blk.0.attn_q.bias");
    float clip = (float) optDouble(g, a + "attention.clamp_kqv", 0);
    boolean tied = !g.tensors().containsKey("output.weight");
    RopeStyle style = archName.equals("llama") ? RopeStyle.INTERLEAVED : RopeStyle.HALF;
    long eos = optLong(g, "tokenizer.ggml.eos_token_id", -1);
    int bos = (int) optLong(g, "tokenizer.ggml.bos_token_id", -1);
    return new ModelConfig(arch, vocab, hidden, layers, heads, kvHeads, headDim, experts, topK,
        ffn, normTopk, sharedFfn, eps, theta, scaling, style, qk, bias, clip, tied, maxPos,
        eos >= 0 ? new int[] {(int) eos} : new int[0], bos);
  }

  /** {@code <arch>.rope.scaling.type} values {@link #ropeScaling} accepts. */
  static final String SUPPORTED_ROPE_TYPES = "none, linear, yarn";

  /**
   * RoPE scaling from llama.cpp's keys. As llama.cpp reads them, the factor is
   * {@code rope.scaling.factor} (or the older {@code rope.scale_linear}) and an absent type means
   * linear. YaRN takes {@code original_context_length} and {@code yarn_beta_fast/slow}; the keys
   * that change YaRN's magnitude or ramp away from Hugging Face's default definition are refused,
   * since llama.cpp's meaning of them differs between versions.
   */
  private static RopeScaling ropeScaling(GgufFile g, String a, int maxPos) {
    String typeKey = a + "rope.scaling.type";
    String type = optStr(g, typeKey, "linear");
    double factor = optDouble(g, a + "rope.scaling.factor",
        optDouble(g, a + "rope.scale_linear", 1));
    if (factor == 0) {
      factor = 1; // llama.cpp: 0 means unset
    }
    if (!(factor > 0)) {
      throw ModelFormatException.of(g.path(), "metadata [" + a + "rope.scaling.factor] must be"
          + " positive, got " + factor);
    }
    return switch (type) {
      case "none" -> null;
      case "linear" -> factor == 1 ? null : RopeScaling.linear(factor);
      case "yarn" -> {
        refuse(g, a + "rope.scaling.yarn_ext_factor", 1);
        refuse(g, a + "rope.scaling.yarn_attn_factor", Double.NaN);
        refuse(g, a + "rope.scaling.attn_factor", 1);
        refuse(g, a + "rope.scaling.yarn_log_multiplier", 0);
        if (factor < 1) {
          throw ModelFormatException.of(g.path(), "metadata [" + a + "rope.scaling.factor] must"
              + " be >= 1 for YaRN, got " + factor);
        }
        long original = optLong(g, a + "rope.scaling.original_context_length", 0);
        yield new RopeScaling.Yarn(factor, original > 0 ? (int) original : maxPos,
            optDouble(g, a + "rope.scaling.yarn_beta_fast", 32),
            optDouble(g, a + "rope.scaling.yarn_beta_slow", 1),
            RopeScaling.Yarn.mscale(factor, 1), true);
      }
      default -> throw ModelFormatException.of(g.path(), "metadata [" + typeKey + "] is ["
          + type + "], which is not supported; supported: " + SUPPORTED_ROPE_TYPES);
    };
  }

  /** Fails when {@code key} is present with a value other than {@code neutral} (NaN: any). */
  private static void refuse(GgufFile g, String key, double neutral) {
    Object v = g.metadata().get(key);
    if (v != null && !(v instanceof Double d && d == neutral)) {
      throw ModelFormatException.of(g.path(), "metadata [" + key + "] is " + v + "; YaRN is"
          + " supported only with the Hugging Face default for it (" + (Double.isNaN(neutral)
              ? "key absent" : String.valueOf(neutral)) + ")");
    }
  }

  static ModelWeights weights(ModelConfig c, GgufFile g) {
    TensorTable t = new TensorTable(g.path());
    g.tensors().values().forEach(x -> t.add(g.path(), x));
    int h = c.hiddenSize();
    WeightTensor embed = t.matrix("token_embd.weight", c.vocabSize(), h, "vocab x embedding");
    List<LayerWeights> layers = new ArrayList<>();
    for (int l = 0; l < c.numLayers(); l++) {
      String p = "blk." + l + ".";
      float[] bq = null;
      float[] bk = null;
      float[] bv = null;
      if (c.attentionBias()) {
        bq = t.vector(p + "attn_q.bias", c.qDim(), "attention bias");
        bk = t.vector(p + "attn_k.bias", c.kvDim(), "attention bias");
        bv = t.vector(p + "attn_v.bias", c.kvDim(), "attention bias");
      }
      float[] qn = null;
      float[] kn = null;
      if (c.qkNorm() != QkNorm.NONE) {
        boolean perHead = c.qkNorm() == QkNorm.PER_HEAD;
        qn = t.vector(p + "attn_q_norm.weight", perHead ? c.headDim() : c.qDim(), "QK norm");
        kn = t.vector(p + "attn_k_norm.weight", perHead ? c.headDim() : c.kvDim(), "QK norm");
      }
      WeightTensor router = null;
      List<ExpertWeights> experts = new ArrayList<>();
      ExpertWeights shared = null;
      float[] sharedGate = null;
      int f = c.expertFfnSize();
      if (c.arch().moe()) {
        int e = c.numExperts();
        router = t.matrix(p + "ffn_gate_inp.weight", e, h, "router: experts x embedding");
        WeightTensor gate = t.matrix(p + "ffn_gate_exps.weight", e * f, h, "experts x ffn x emb");
        WeightTensor up = t.matrix(p + "ffn_up_exps.weight", e * f, h, "experts x ffn x emb");
        WeightTensor down = t.matrix(p + "ffn_down_exps.weight", e * h, f, "experts x emb x ffn");
        for (int x = 0; x < e; x++) {
          experts.add(new ExpertWeights(gate.rowSlice(gate.name() + "[" + x + "]", x * f, f),
              up.rowSlice(up.name() + "[" + x + "]", x * f, f),
              down.rowSlice(down.name() + "[" + x + "]", x * h, h)));
        }
        if (c.sharedExpert()) {
          int s = c.sharedExpertFfnSize();
          shared = new ExpertWeights(t.matrix(p + "ffn_gate_shexp.weight", s, h, "shared gate"),
              t.matrix(p + "ffn_up_shexp.weight", s, h, "shared up"),
              t.matrix(p + "ffn_down_shexp.weight", h, s, "shared down"));
          sharedGate = t.vector(p + "ffn_gate_inp_shexp.weight", h, "shared expert gate");
        }
      } else {
        experts.add(new ExpertWeights(t.matrix(p + "ffn_gate.weight", f, h, "FFN gate"),
            t.matrix(p + "ffn_up.weight", f, h, "FFN up"),
            t.matrix(p + "ffn_down.weight", h, f, "FFN down")));
      }
      layers.add(new LayerWeights(
          t.vector(p + "attn_norm.weight", h, "attention norm"),
          t.matrix(p + "attn_q.weight", c.qDim(), h, "heads*head_dim x embedding"),
          t.matrix(p + "attn_k.weight", c.kvDim(), h, "kv_heads*head_dim x embedding"),
          t.matrix(p + "attn_v.weight", c.kvDim(), h, "kv_heads*head_dim x embedding"),
          t.matrix(p + "attn_output.weight", h, c.qDim(), "embedding x heads*head_dim"),
          bq, bk, bv, qn, kn,
          t.vector(p + "ffn_norm.weight", h, "FFN norm"),
          router, List.copyOf(experts), shared, sharedGate));
    }
    float[] norm = t.vector("output_norm.weight", h, "output norm");
    WeightTensor head = c.tieWordEmbeddings() ? embed
        : t.matrix("output.weight", c.vocabSize(), h, "vocab x embedding");
    return new ModelWeights(embed, List.copyOf(layers), norm, head);
  }

  /** GGUF keys of special token ids, by the template variable holding the token's text. */
  private static final Map<String, String> SPECIAL_TOKEN_IDS = Map.of(
      "bos_token", "tokenizer.ggml.bos_token_id", "eos_token", "tokenizer.ggml.eos_token_id",
      "unk_token", "tokenizer.ggml.unknown_token_id",
      "pad_token", "tokenizer.ggml.padding_token_id",
      "sep_token", "tokenizer.ggml.seperator_token_id",
      "cls_token", "tokenizer.ggml.cls_token_id", "mask_token", "tokenizer.ggml.mask_token_id");

  /**
   * The chat templates of the file ({@code tokenizer.chat_template} as {@code default},
   * {@code tokenizer.chat_template.NAME} by name) and its special tokens' texts; no templates
   * when it has none.
   */
  static EmbeddedChatTemplates chatTemplates(GgufFile g) {
    Map<String, String> templates = new LinkedHashMap<>();
    String prefix = "tokenizer.chat_template";
    for (Map.Entry<String, Object> e : g.metadata().entrySet()) {
      if (e.getValue() instanceof String source) {
        if (e.getKey().equals(prefix)) {
          templates.put("default", source);
        } else if (e.getKey().startsWith(prefix + ".")) {
          templates.put(e.getKey().substring(prefix.length() + 1), source);
        }
      }
    }
    Map<String, String> special = new LinkedHashMap<>();
    Object tokens = g.metadata().get("tokenizer.ggml.tokens");
    if (tokens instanceof List<?> list) {
      for (Map.Entry<String, String> e : SPECIAL_TOKEN_IDS.entrySet()) {
        Object id = g.metadata().get(e.getValue());
        if (id instanceof Long n && n >= 0 && n < list.size()
            && list.get(n.intValue()) instanceof String text) {
          special.put(e.getKey(), text);
        }
      }
    }
    return new EmbeddedChatTemplates(templates, special);
  }

  /** Tokenizer models {@link #tokenizer} understands, for error messages. */
  static final String SUPPORTED_TOKENIZERS = "gpt2 (byte-level BPE), llama (SentencePiece BPE)";

  static TextTokenizer tokenizer(GgufFile g) {
    String model = optStr(g, "tokenizer.ggml.model", null);
    if (model == null) {
      throw ModelFormatException.of(g.path(), "metadata [tokenizer.ggml.model] is missing, so the"
          + " file has no usable vocabulary; supported: " + SUPPORTED_TOKENIZERS
          + ". Pass token ids instead of text.");
    }
    return switch (model) {
      case "gpt2" -> byteLevelBpe(g);
      case "llama" -> sentencePiece(g);
      default -> throw ModelFormatException.of(g.path(), "metadata [tokenizer.ggml.model] is ["
          + model + "], which is not supported; supported: " + SUPPORTED_TOKENIZERS
          + ". Pass token ids instead of text, or convert the model with one of these"
          + " vocabularies.");
    };
  }

  private static TextTokenizer byteLevelBpe(GgufFile g) {
    List<String> tokens = strings(g, "tokenizer.ggml.tokens");
    List<String> merges = strings(g, "tokenizer.ggml.merges");
    Object types = g.metadata().get("tokenizer.ggml.token_type");
    int[] tokenTypes = new int[tokens.size()];
    if (types instanceof List<?> list && list.size() == tokens.size()) {
      for (int i = 0; i < tokenTypes.length; i++) {
        tokenTypes[i] = list.get(i) instanceof Long n ? n.intValue() : 1;
      }
    }
    long eos = optLong(g, "tokenizer.ggml.eos_token_id", -1);
    long bos = optLong(g, "tokenizer.ggml.bos_token_id", -1);
    boolean addBos = optBool(g, "tokenizer.ggml.add_bos_token", false);
    boolean addEos = optBool(g, "tokenizer.ggml.add_eos_token", false);
    return new ByteLevelBpeTokenizer(tokens, merges, tokenTypes,
        eos >= 0 ? new int[] {(int) eos} : new int[0], addBos ? (int) bos : -1,
        addEos ? (int) eos : -1);
  }

  /**
   * The SentencePiece vocabulary llama.cpp's converter writes for Llama-2-family models, with
   * llama.cpp's defaults for absent keys: BOS 1, EOS 2, unknown 0, BOS added, space prefix on,
   * scores 0, every token normal (byte tokens recognised by their {@code <0xNN>} spelling).
   */
  private static TextTokenizer sentencePiece(GgufFile g) {
    List<String> tokens = strings(g, "tokenizer.ggml.tokens");
    int n = tokens.size();
    float[] scores = new float[n];
    Object s = g.metadata().get("tokenizer.ggml.scores");
    if (s != null) {
      List<?> list = array(g, "tokenizer.ggml.scores", s, n);
      for (int i = 0; i < n; i++) {
        if (!(list.get(i) instanceof Double d)) {
          throw ModelFormatException.of(g.path(), "metadata [tokenizer.ggml.scores] holds a"
              + " non-float at index " + i);
        }
        scores[i] = d.floatValue();
      }
    }
    int[] types = new int[n];
    Object t = g.metadata().get("tokenizer.ggml.token_type");
    if (t != null) {
      List<?> list = array(g, "tokenizer.ggml.token_type", t, n);
      for (int i = 0; i < n; i++) {
        if (!(list.get(i) instanceof Long v)) {
          throw ModelFormatException.of(g.path(), "metadata [tokenizer.ggml.token_type] holds a"
              + " non-integer at index " + i);
        }
        types[i] = v.intValue();
      }
    } else {
      for (int i = 0; i < n; i++) {
        types[i] = tokens.get(i).matches("<0x[0-9A-Fa-f]{2}>")
            ? SentencePieceBpeTokenizer.TYPE_BYTE : SentencePieceBpeTokenizer.TYPE_NORMAL;
      }
    }
    int bos = tokenId(g, "tokenizer.ggml.bos_token_id", 1, n);
    int eos = tokenId(g, "tokenizer.ggml.eos_token_id", 2, n);
    int unk = tokenId(g, "tokenizer.ggml.unknown_token_id", 0, n);
    boolean addBos = optBool(g, "tokenizer.ggml.add_bos_token", true);
    if (addBos && bos < 0) {
      throw ModelFormatException.of(g.path(), "metadata [tokenizer.ggml.add_bos_token] is true"
          + " but there is no BOS token (tokenizer.ggml.bos_token_id)");
    }
    boolean addEos = optBool(g, "tokenizer.ggml.add_eos_token", false);
    boolean spacePrefix = optBool(g, "tokenizer.ggml.add_space_prefix", true);
    return new SentencePieceBpeTokenizer(tokens, scores, types,
        new SentencePieceBpeTokenizer.Options(bos, eos, unk, addBos, addEos, spacePrefix));
  }

  private static List<?> array(GgufFile g, String key, Object v, int tokens) {
    if (!(v instanceof List<?> list) || list.size() != tokens) {
      throw ModelFormatException.of(g.path(), "metadata [" + key + "] must be an array with one"
          + " entry per token (" + tokens + "), got " + (v instanceof List<?> l
              ? l.size() + " entries" : v));
    }
    return list;
  }

  /** A special token id: {@code dflt} when absent, -1 for none; must lie inside the vocab. */
  private static int tokenId(GgufFile g, String key, int dflt, int tokens) {
    long id = optLong(g, key, dflt);
    if (id >= tokens) {
      throw ModelFormatException.of(g.path(), "metadata [" + key + "] is " + id
          + ", outside the " + tokens + "-token vocabulary");
    }
    return (int) id;
  }

  private static List<String> strings(GgufFile g, String key) {
    Object v = g.metadata().get(key);
    if (!(v instanceof List<?> list)) {
      throw ModelFormatException.of(g.path(), "metadata [" + key + "] is missing or not an array");
    }
    List<String> out = new ArrayList<>(list.size());
    for (Object o : list) {
      if (!(o instanceof String s)) {
        throw ModelFormatException.of(g.path(), "metadata [" + key + "] holds a non-string");
      }
      out.add(s);
    }
    return out;
  }

  private static String str(GgufFile g, String key) {
    Object v = g.metadata().get(key);
    if (!(v instanceof String s)) {
      throw ModelFormatException.of(g.path(), "metadata [" + key + "] is missing or not a string");
    }
    return s;
  }

  private static String optStr(GgufFile g, String key, String dflt) {
    Object v = g.metadata().get(key);
    return v instanceof String s ? s : dflt;
  }

  private static int req(GgufFile g, String key) {
    Object v = g.metadata().get(key);
    if (!(v instanceof Long n) || n < 0 || n > Integer.MAX_VALUE) {
      throw ModelFormatException.of(g.path(), "metadata [" + key + "] is missing or not a"
          + " non-negative 32-bit integer (got " + v + ")");
    }
    return n.intValue();
  }

  private static long optLong(GgufFile g, String key, long dflt) {
    Object v = g.metadata().get(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Long n) || n < -1 || n > Integer.MAX_VALUE) {
      throw ModelFormatException.of(g.path(), "metadata [" + key + "] must be an integer, got "
          + v);
    }
    return n;
  }

  private static double optDouble(GgufFile g, String key, double dflt) {
    Object v = g.metadata().get(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Double d) || d.isNaN()) {
      throw ModelFormatException.of(g.path(), "metadata [" + key + "] must be a float, got " + v);
    }
    return d;
  }

  private static boolean optBool(GgufFile g, String key, boolean dflt) {
    Object v = g.metadata().get(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Boolean b)) {
      throw ModelFormatException.of(g.path(), "metadata [" + key + "] must be a bool, got " + v);
    }
    return b;
  }
}
