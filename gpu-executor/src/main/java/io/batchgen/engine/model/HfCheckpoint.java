package io.batchgen.engine.model;

import com.google.gson.JsonElement;
import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.format.safetensors.SafetensorsFile;
import io.batchgen.engine.model.ModelConfig.QkNorm;
import io.batchgen.engine.model.ModelConfig.RopeStyle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Reads a Hugging Face model directory: config.json, generation_config.json, safetensors. */
final class HfCheckpoint {
  private HfCheckpoint() {
  }

  static ModelConfig parseConfig(Path dir) {
    Json c = Json.read(dir.resolve("config.json"));
    String type = c.string("model_type", null);
    if (type == null) {
      throw ModelFormatException.of(c.file(), "key [model_type] is missing; supported: "
          + Architecture.supportedHfNames());
    }
    Architecture arch = Architecture.fromHf(type);
    if (arch == null) {
      throw ModelFormatException.of(c.file(), "model_type [" + type + "] is not supported;"
          + " supported: " + Architecture.supportedHfNames()
          + ". Point option 'model' at a checkpoint of a supported architecture.");
    }
    int hidden = c.requiredInt("hidden_size");
    int heads = c.requiredInt("num_attention_heads");
    int kvHeads = c.integer("num_key_value_heads", heads);
    int headDim = c.integer("head_dim", heads > 0 ? hidden / Math.max(heads, 1) : 0);
    int layers = c.requiredInt("num_hidden_layers");
    int vocab = c.requiredInt("vocab_size");
    int maxPos = c.integer("max_position_embeddings", 4096);
    Json ropeParams = c.object("rope_parameters"); // transformers v5 spelling
    double theta = c.number("rope_theta", ropeParams != null
        ? ropeParams.number("rope_theta", Double.NaN) : Double.NaN);
    if (Double.isNaN(theta)) {
      theta = arch == Architecture.MIXTRAL ? 1e6 : 10000.0;
    }
    float eps = (float) c.number("rms_norm_eps", 1e-6);
    boolean tie = c.bool("tie_word_embeddings", false);
    positive(c, "hidden_size", hidden);
    positive(c, "num_attention_heads", heads);
    positive(c, "num_key_value_heads", kvHeads);
    positive(c, "head_dim", headDim);
    positive(c, "num_hidden_layers", layers);
    positive(c, "vocab_size", vocab);
    positive(c, "max_position_embeddings", maxPos);
    if (heads % kvHeads != 0) {
      throw ModelFormatException.of(c.file(), "num_attention_heads " + heads
          + " is not a multiple of num_key_value_heads " + kvHeads);
    }
    if (headDim % 2 != 0) {
      throw ModelFormatException.of(c.file(), "head_dim " + headDim + " must be even for RoPE");
    }
    if (c.bool("mlp_bias", false)) {
      throw ModelFormatException.of(c.file(), "mlp_bias=true is not supported");
    }
    RopeScaling scaling = ropeScaling(c, maxPos);
    maxPos = contextWith(scaling, maxPos);
    checkSlidingWindow(c, arch, layers, maxPos);
    double partialRotary = c.number("partial_rotary_factor", 1.0);
    if (partialRotary != 1.0) {
      throw ModelFormatException.of(c.file(), "partial_rotary_factor " + partialRotary
          + " (RoPE on part of each head) is not supported; only 1.0 is");
    }
    int experts = 1;
    int topK = 1;
    int expertFfn;
    boolean normTopk = false;
    int sharedFfn = 0;
    QkNorm qkNorm = QkNorm.NONE;
    boolean bias = c.bool("attention_bias", false);
    float clip = 0;
    switch (arch) {
      case MIXTRAL -> {
        experts = c.requiredInt("num_local_experts");
        topK = c.requiredInt("num_experts_per_tok");
        expertFfn = c.requiredInt("intermediate_size");
        normTopk = true;
      }
      case QWEN2_MOE, QWEN3_MOE -> {
        experts = c.requiredInt("num_experts");
        topK = c.requiredInt("num_experts_per_tok");
        expertFfn = c.requiredInt("moe_intermediate_size");
        normTopk = c.bool("norm_topk_prob", false);
        checkEveryLayerSparse(c);
        if (arch == Architecture.QWEN2_MOE) {
          sharedFfn = c.requiredInt("shared_expert_intermediate_size");
          bias = true;
        } else {
          qkNorm = QkNorm.PER_HEAD;
        }
      }
      case OLMOE -> {
        experts = c.requiredInt("num_experts");
        topK = c.requiredInt("num_experts_per_tok");
        expertFfn = c.requiredInt("intermediate_size");
        normTopk = c.bool("norm_topk_prob", false);
        qkNorm = QkNorm.FULL;
        clip = (float) c.number("clip_qkv", 0);
      }
      case LLAMA -> expertFfn = c.requiredInt("intermediate_size");
      case QWEN2 -> {
        expertFfn = c.requiredInt("intermediate_size");
        bias = true;
      }
      case QWEN3 -> {
        expertFfn = c.requiredInt("intermediate_size");
        qkNorm = QkNorm.PER_HEAD;
      }
      default -> throw new IllegalStateException("unreachable " + arch);
    }
    positive(c, "experts", experts);
    positive(c, "intermediate size", expertFfn);
    if (topK <= 0 || topK > experts) {
      throw ModelFormatException.of(c.file(), "num_experts_per_tok " + topK
          + " must be in [1, " + experts + "]");
    }
    int[] eos = c.intOrList("eos_token_id");
    Path gen = dir.resolve("generation_config.json");
    if (Files.exists(gen)) {
      int[] genEos = Json.read(gen).intOrList("eos_token_id");
      if (genEos.length > 0) {
        eos = genEos;
      }
    }
    int bos = c.integer("bos_token_id", -1);
    return new ModelConfig(arch, vocab, hidden, layers, heads, kvHeads, headDim, experts, topK,
        expertFfn, normTopk, sharedFfn, eps, theta, scaling, RopeStyle.HALF, qkNorm, bias, clip,
        tie, maxPos, eos, bos);
  }

  /** {@code rope_type} values {@link #ropeScaling} accepts, for error messages. */
  static final String SUPPORTED_ROPE_TYPES = "default, linear, llama3, yarn";

  private static RopeScaling ropeScaling(Json c, int maxPos) {
    String key = "rope_scaling";
    Json s = c.object(key);
    if (s == null) {
      key = "rope_parameters";
      s = c.object(key);
      if (s != null && !s.has("rope_type") && !s.has("type")) {
        if (s.has("rope_theta")) {
          return null; // transformers v5 spelling of plain RoPE
        }
        throw ModelFormatException.of(c.file(), "key [rope_parameters] has no rope_type (RoPE"
            + " parameters per layer type are not supported); supported rope_type: "
            + SUPPORTED_ROPE_TYPES);
      }
    }
    if (s == null) {
      return null;
    }
    String type = s.string("rope_type", s.string("type", "default"));
    return switch (type) {
      case "default" -> null;
      case "linear" -> RopeScaling.linear(s.number("factor", 1));
      case "llama3" -> new RopeScaling.Llama3(s.number("factor", 8),
          s.number("low_freq_factor", 1), s.number("high_freq_factor", 4),
          s.integer("original_max_position_embeddings", 8192));
      case "yarn" -> yarn(c, key, s, maxPos);
      case "dynamic" -> throw ModelFormatException.of(c.file(), "key [" + key + "] has rope_type"
          + " [dynamic] (dynamic NTK: frequencies that change with the sequence length), which is"
          + " not supported; supported: " + SUPPORTED_ROPE_TYPES + ". Remove " + key + " to run"
          + " with plain RoPE up to the original context length.");
      default -> throw ModelFormatException.of(c.file(), "key [" + key + "] has rope_type ["
          + type + "], which is not supported; supported: " + SUPPORTED_ROPE_TYPES);
    };
  }

  /**
   * The longest sequence: YaRN exists to stretch the original context {@code factor} times, so
   * its sequences may run to {@code original * factor} even where the config's
   * {@code max_position_embeddings} still names the original length (as Qwen's do).
   */
  static int contextWith(RopeScaling scaling, int maxPos) {
    if (scaling instanceof RopeScaling.Yarn y) {
      double stretched = Math.floor(y.originalMaxPositions() * y.factor());
      return (int) Math.max(maxPos, Math.min(stretched, Integer.MAX_VALUE));
    }
    return maxPos;
  }

  /** YaRN exactly as transformers' {@code _compute_yarn_parameters} reads its config. */
  private static RopeScaling yarn(Json c, String key, Json s, int maxPos) {
    if (!s.has("factor") || s.number("factor", 0) < 1) {
      throw ModelFormatException.of(c.file(), "key [" + key + ".factor] must be a number >= 1"
          + " for rope_type yarn, got " + (s.has("factor") ? s.number("factor", 0) : "none"));
    }
    double factor = s.number("factor", 1);
    int original = s.integer("original_max_position_embeddings", 0);
    if (original <= 0) {
      original = maxPos; // HF: `... or config.max_position_embeddings`
    }
    double betaFast = s.number("beta_fast", 0);
    double betaSlow = s.number("beta_slow", 0);
    double attention;
    if (s.has("attention_factor")) {
      attention = s.number("attention_factor", 1);
      if (!(attention > 0)) {
        throw ModelFormatException.of(c.file(), "key [" + key + ".attention_factor] must be"
            + " positive, got " + attention);
      }
    } else {
      double mscale = s.number("mscale", 0);
      double mscaleAllDim = s.number("mscale_all_dim", 0);
      attention = mscale != 0 && mscaleAllDim != 0
          ? RopeScaling.Yarn.mscale(factor, mscale) / RopeScaling.Yarn.mscale(factor, mscaleAllDim)
          : RopeScaling.Yarn.mscale(factor, 1);
    }
    // Python's `x or default`: a missing or zero beta takes the paper's value.
    return new RopeScaling.Yarn(factor, original, betaFast != 0 ? betaFast : 32,
        betaSlow != 0 ? betaSlow : 1, attention, s.bool("truncate", true));
  }

  /**
   * Sliding-window attention is not implemented (every backend attends over the whole context), so
   * a window that can take effect is a load error; one at least as long as the context is a no-op.
   * Mixtral/Mistral apply {@code sliding_window} whenever it is set; the Qwen families only with
   * {@code use_sliding_window: true}, and only on layers from {@code max_window_layers} on.
   */
  private static void checkSlidingWindow(Json c, Architecture arch, int layers, int maxPos) {
    if (!c.has("sliding_window")) {
      return;
    }
    int window = c.integer("sliding_window", 0);
    if (window >= maxPos) {
      return;
    }
    String fix = " Sliding-window attention is not supported: attention here always spans the"
        + " whole sequence. To run the model exactly within its window, set"
        + " max_position_embeddings to at most " + window + ".";
    switch (arch) {
      case MIXTRAL -> throw ModelFormatException.of(c.file(), "key [sliding_window] is " + window
          + ", smaller than the model's context of " + maxPos + " positions." + fix);
      case QWEN2, QWEN2_MOE, QWEN3, QWEN3_MOE -> {
        if (!c.bool("use_sliding_window", false)) {
          return; // HF ignores the window unless use_sliding_window is set
        }
        int from = c.integer("max_window_layers", 28);
        boolean anySliding = from < layers;
        if (c.has("layer_types") && c.raw().get("layer_types").isJsonArray()) {
          anySliding = c.raw().get("layer_types").toString().contains("\"sliding_attention\"");
        }
        if (anySliding) {
          throw ModelFormatException.of(c.file(), "key [use_sliding_window] is true with"
              + " sliding_window " + window + ", smaller than the model's context of " + maxPos
              + " positions (layers from max_window_layers " + from + " on use it)." + fix);
        }
      }
      default -> {
        // Llama and OLMoE have no sliding window; HF ignores the key for them.
      }
    }
  }

  /**
   * Qwen2-MoE/Qwen3-MoE can interleave dense MLP layers ({@code decoder_sparse_step},
   * {@code mlp_only_layers}); the module API gives every layer the same experts, so such
   * checkpoints are refused rather than run with the wrong MLPs.
   */
  private static void checkEveryLayerSparse(Json c) {
    int step = c.integer("decoder_sparse_step", 1);
    if (step != 1) {
      throw ModelFormatException.of(c.file(), "key [decoder_sparse_step] is " + step
          + ": layers whose index + 1 is not a multiple of it would be dense MLPs between the MoE"
          + " layers, which is not supported; only decoder_sparse_step 1 (every layer MoE) is");
    }
    if (c.has("mlp_only_layers")) {
      var v = c.raw().get("mlp_only_layers");
      if (!v.isJsonArray()) {
        throw c.bad("mlp_only_layers", "a list of layer indices", v);
      }
      if (v.getAsJsonArray().size() > 0) {
        throw ModelFormatException.of(c.file(), "key [mlp_only_layers] is " + v + ": dense MLP"
            + " layers in an MoE model are not supported; only an empty list is");
      }
    }
  }

  private static void positive(Json c, String key, int v) {
    if (v <= 0) {
      throw ModelFormatException.of(c.file(), "key [" + key + "] must be positive, got " + v);
    }
  }

  /** Opens the safetensors files of {@code dir}, following the index when there is one. */
  static TensorTable openTensors(Path dir) {
    TensorTable table = new TensorTable(dir);
    List<Path> files = new ArrayList<>();
    Path index = dir.resolve("model.safetensors.index.json");
    if (Files.exists(index)) {
      Json idx = Json.read(index);
      Json map = idx.object("weight_map");
      if (map == null) {
        throw ModelFormatException.of(index, "key [weight_map] is missing");
      }
      TreeSet<String> names = new TreeSet<>();
      for (Map.Entry<String, JsonElement> e : map.raw().entrySet()) {
        if (!e.getValue().isJsonPrimitive()) {
          throw map.bad(e.getKey(), "a file name", e.getValue());
        }
        names.add(e.getValue().getAsString());
      }
      for (String n : names) {
        Path p = dir.resolve(n).normalize();
        if (!p.startsWith(dir.normalize())) {
          throw ModelFormatException.of(index, "weight_map names [" + n
              + "] outside the model directory");
        }
        if (!Files.exists(p)) {
          throw ModelFormatException.of(p, "shard listed in " + index.getFileName()
              + " is missing");
        }
        files.add(p);
      }
    } else {
      try {
        files.addAll(SafetensorsFile.list(dir));
      } catch (IOException e) {
        throw ModelFormatException.of(dir, "cannot list directory: " + e.getMessage(), e);
      }
      if (files.isEmpty()) {
        throw ModelFormatException.of(dir, "no *.safetensors files (and no"
            + " model.safetensors.index.json) in the model directory");
      }
    }
    for (Path f : files) {
      SafetensorsFile st = SafetensorsFile.open(f);
      st.tensors().values().forEach(t -> table.add(f, t));
    }
    return table;
  }

  static ModelWeights weights(ModelConfig c, TensorTable t) {
    int h = c.hiddenSize();
    WeightTensor embed = t.matrix("model.embed_tokens.weight", c.vocabSize(), h,
        "vocab_size x hidden_size");
    List<LayerWeights> layers = new ArrayList<>();
    for (int l = 0; l < c.numLayers(); l++) {
      String p = "model.layers." + l + ".";
      String a = p + "self_attn.";
      float[] bq = null;
      float[] bk = null;
      float[] bv = null;
      if (c.attentionBias()) {
        bq = t.vector(a + "q_proj.bias", c.qDim(), "attention bias");
        bk = t.vector(a + "k_proj.bias", c.kvDim(), "attention bias");
        bv = t.vector(a + "v_proj.bias", c.kvDim(), "attention bias");
      }
      float[] qn = null;
      float[] kn = null;
      if (c.qkNorm() == QkNorm.PER_HEAD) {
        qn = t.vector(a + "q_norm.weight", c.headDim(), "per-head QK norm");
        kn = t.vector(a + "k_norm.weight", c.headDim(), "per-head QK norm");
      } else if (c.qkNorm() == QkNorm.FULL) {
        qn = t.vector(a + "q_norm.weight", c.qDim(), "QK norm");
        kn = t.vector(a + "k_norm.weight", c.kvDim(), "QK norm");
      }
      WeightTensor router = null;
      List<ExpertWeights> experts = new ArrayList<>();
      ExpertWeights shared = null;
      float[] sharedGate = null;
      int f = c.expertFfnSize();
      if (c.arch() == Architecture.MIXTRAL) {
        String m = p + "block_sparse_moe.";
        router = t.matrix(m + "gate.weight", c.numExperts(), h, "router: experts x hidden");
        for (int e = 0; e < c.numExperts(); e++) {
          String x = m + "experts." + e + ".";
          experts.add(new ExpertWeights(t.matrix(x + "w1.weight", f, h, "expert gate"),
              t.matrix(x + "w3.weight", f, h, "expert up"),
              t.matrix(x + "w2.weight", h, f, "expert down")));
        }
      } else if (c.arch().moe()) {
        String m = p + "mlp.";
        router = t.matrix(m + "gate.weight", c.numExperts(), h, "router: experts x hidden");
        for (int e = 0; e < c.numExperts(); e++) {
          experts.add(mlp(t, m + "experts." + e + ".", f, h));
        }
        if (c.sharedExpert()) {
          shared = mlp(t, m + "shared_expert.", c.sharedExpertFfnSize(), h);
          sharedGate = t.vector(m + "shared_expert_gate.weight", h, "shared expert gate");
        }
      } else {
        experts.add(mlp(t, p + "mlp.", f, h));
      }
      layers.add(new LayerWeights(
          t.vector(p + "input_layernorm.weight", h, "input norm"),
          t.matrix(a + "q_proj.weight", c.qDim(), h, "heads*head_dim x hidden"),
          t.matrix(a + "k_proj.weight", c.kvDim(), h, "kv_heads*head_dim x hidden"),
          t.matrix(a + "v_proj.weight", c.kvDim(), h, "kv_heads*head_dim x hidden"),
          t.matrix(a + "o_proj.weight", h, c.qDim(), "hidden x heads*head_dim"),
          bq, bk, bv, qn, kn,
          t.vector(p + "post_attention_layernorm.weight", h, "post-attention norm"),
          router, List.copyOf(experts), shared, sharedGate));
    }
    float[] norm = t.vector("model.norm.weight", h, "final norm");
    WeightTensor head = c.tieWordEmbeddings() && !t.has("lm_head.weight") ? embed
        : t.matrix("lm_head.weight", c.vocabSize(), h, "vocab_size x hidden_size");
    return new ModelWeights(embed, List.copyOf(layers), norm, head);
  }

  private static ExpertWeights mlp(TensorTable t, String prefix, int f, int h) {
    return new ExpertWeights(t.matrix(prefix + "gate_proj.weight", f, h, "FFN gate"),
        t.matrix(prefix + "up_proj.weight", f, h, "FFN up"),
        t.matrix(prefix + "down_proj.weight", h, f, "FFN down"));
  }
}
