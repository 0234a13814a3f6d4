package io.batchgen.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.format.gguf.GgufFile;
import io.batchgen.engine.format.gguf.GgufWriter;
import io.batchgen.engine.forward.SimpleForward;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Config features that change the math: RoPE scaling types (YaRN read, the rest refused) and
 * sliding windows / dense layers, which the backends do not implement and must refuse loudly.
 */
class ConfigFeatureChecksTest {
  @TempDir
  static Path tmp;
  static Path mixtral;
  static Path qwen2;
  static Path qwen2Moe;
  private static int dirs;

  @BeforeAll
  static void writeModels() {
    mixtral = TinyModels.write("tiny", "mixtral", "f32", 1, tmp.resolve("mixtral"));
    qwen2 = TinyModels.write("tiny", "qwen2", "f32", 1, tmp.resolve("qwen2"));
    qwen2Moe = TinyModels.write("tiny", "qwen2_moe", "f32", 1, tmp.resolve("qwen2_moe"));
  }

  /** A copy of {@code model}'s directory whose config.json is edited by {@code edit}. */
  private static Path edited(Path model, Consumer<JsonObject> edit) throws IOException {
    Path dir = tmp.resolve("edited-" + dirs++);
    Files.createDirectories(dir);
    try (var files = Files.list(model)) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    Path cfg = dir.resolve("config.json");
    JsonObject j = JsonParser.parseString(Files.readString(cfg)).getAsJsonObject();
    edit.accept(j);
    Files.writeString(cfg, j.toString(), StandardCharsets.UTF_8);
    return dir;
  }

  private static JsonObject rope(String type) {
    JsonObject r = new JsonObject();
    r.addProperty("rope_type", type);
    r.addProperty("factor", 4.0);
    return r;
  }

  // ---- RoPE scaling (Hugging Face) ----

  @Test
  void yarnIsReadWithHfDefaults() throws IOException {
    Path dir = edited(mixtral, j -> {
      JsonObject r = rope("yarn");
      r.addProperty("original_max_position_embeddings", 128);
      j.add("rope_scaling", r);
    });
    RopeScaling.Yarn y = (RopeScaling.Yarn) HfCheckpoint.parseConfig(dir).ropeScaling();
    assertThat(y.factor()).isEqualTo(4.0);
    assertThat(y.originalMaxPositions()).isEqualTo(128);
    assertThat(y.betaFast()).isEqualTo(32.0);
    assertThat(y.betaSlow()).isEqualTo(1.0);
    assertThat(y.truncate()).isTrue();
    assertThat(y.attentionFactor()).isCloseTo(1 + 0.1 * Math.log(4), within(1e-12));
    // 128 * 4 = 512 = max_position_embeddings: the context stays
    assertThat(HfCheckpoint.parseConfig(dir).maxPositions()).isEqualTo(512);
    Path stretched = edited(mixtral, j -> {
      JsonObject r = rope("yarn");
      r.addProperty("original_max_position_embeddings", 512);
      j.add("rope_scaling", r);
    });
    assertThat(HfCheckpoint.parseConfig(stretched).maxPositions()).isEqualTo(2048);
  }

  @Test
  void yarnAttentionFactorComesFromTheConfigOrFromMscaleRatio() throws IOException {
    Path explicit = edited(mixtral, j -> {
      JsonObject r = rope("yarn");
      r.addProperty("attention_factor", 1.5);
      r.addProperty("beta_fast", 16);
      r.addProperty("beta_slow", 2);
      r.addProperty("truncate", false);
      j.add("rope_scaling", r);
    });
    RopeScaling.Yarn y = (RopeScaling.Yarn) HfCheckpoint.parseConfig(explicit).ropeScaling();
    assertThat(y.attentionFactor()).isEqualTo(1.5);
    assertThat(y.betaFast()).isEqualTo(16.0);
    assertThat(y.betaSlow()).isEqualTo(2.0);
    assertThat(y.truncate()).isFalse();
    assertThat(y.originalMaxPositions()).isEqualTo(512); // max_position_embeddings
    Path ratio = edited(mixtral, j -> {
      JsonObject r = rope("yarn");
      r.addProperty("mscale", 1.0);
      r.addProperty("mscale_all_dim", 0.5);
      j.add("rope_scaling", r);
    });
    // (0.1 * 1 * ln 4 + 1) / (0.1 * 0.5 * ln 4 + 1) = 1.138629 / 1.069315
    assertThat(((RopeScaling.Yarn) HfCheckpoint.parseConfig(ratio).ropeScaling())
        .attentionFactor()).isCloseTo(1.0648216, within(1e-6));
  }

  @Test
  void yarnModelRunsTheSameOnBothBackendsAndDiffersFromPlainRope() throws IOException {
    Path dir = edited(mixtral, j -> {
      JsonObject r = rope("yarn");
      r.addProperty("original_max_position_embeddings", 16);
      j.add("rope_scaling", r);
    });
    int[] tokens = {1, 2, 3, 400, 5, 6, 7, 8};
    try (LoadedModel y = ModelLoader.load(dir); LoadedModel p = ModelLoader.load(mixtral);
        ModuleExecutor ref = Backends.create("reference", y, 1);
        ModuleExecutor cpu = Backends.create("cpu", y, 1);
        ModuleExecutor plain = Backends.create("reference", p, 1)) {
      float[] a = SimpleForward.logits(ref, tokens);
      float[] b = SimpleForward.logits(cpu, tokens);
      float[] c = SimpleForward.logits(plain, tokens);
      double maxDiff = 0;
      double maxPlainDiff = 0;
      for (int i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        maxPlainDiff = Math.max(maxPlainDiff, Math.abs(a[i] - c[i]));
      }
      assertThat(maxDiff).isLessThan(1e-3);
      assertThat(maxPlainDiff).isGreaterThan(1e-3);
    }
  }

  @Test
  void dynamicAndUnknownRopeTypesAreRefused() throws IOException {
    Path dynamic = edited(mixtral, j -> j.add("rope_scaling", rope("dynamic")));
    assertThatThrownBy(() -> HfCheckpoint.parseConfig(dynamic))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(dynamic.resolve("config.json").toString())
        .hasMessageContaining("key [rope_scaling] has rope_type [dynamic] (dynamic NTK")
        .hasMessageContaining("supported: default, linear, llama3, yarn");
    Path longrope = edited(mixtral, j -> {
      JsonObject r = new JsonObject();
      r.addProperty("type", "longrope"); // the older spelling of rope_type
      j.add("rope_scaling", r);
    });
    assertThatThrownBy(() -> HfCheckpoint.parseConfig(longrope))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("config.json: key [rope_scaling] has rope_type [longrope], which is"
            + " not supported; supported: default, linear, llama3, yarn");
    Path noFactor = edited(mixtral, j -> {
      JsonObject r = new JsonObject();
      r.addProperty("rope_type", "yarn");
      j.add("rope_scaling", r);
    });
    assertThatThrownBy(() -> HfCheckpoint.parseConfig(noFactor))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("key [rope_scaling.factor] must be a number >= 1 for rope_type"
            + " yarn, got none");
    Path partial = edited(mixtral, j -> j.addProperty("partial_rotary_factor", 0.5));
    assertThatThrownBy(() -> HfCheckpoint.parseConfig(partial))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("partial_rotary_factor 0.5 (RoPE on part of each head) is not"
            + " supported");
  }

  @Test
  void transformersV5RopeParametersAreRead() throws IOException {
    Path plain = edited(qwen2, j -> {
      j.remove("rope_theta");
      JsonObject r = new JsonObject();
      r.addProperty("rope_type", "default");
      r.addProperty("rope_theta", 123456.0);
      j.add("rope_parameters", r);
    });
    ModelConfig c = HfCheckpoint.parseConfig(plain);
    assertThat(c.ropeTheta()).isEqualTo(123456.0);
    assertThat(c.ropeScaling()).isNull();
    Path yarn = edited(qwen2, j -> {
      j.remove("rope_theta");
      JsonObject r = rope("yarn");
      r.addProperty("rope_theta", 1e6);
      j.add("rope_parameters", r);
    });
    assertThat(HfCheckpoint.parseConfig(yarn).ropeScaling()).isInstanceOf(RopeScaling.Yarn.class);
  }

  // ---- sliding windows and dense layers ----

  @Test
  void mixtralSlidingWindowShorterThanTheContextIsRefused() throws IOException {
    Path dir = edited(mixtral, j -> j.addProperty("sliding_window", 256));
    assertThatThrownBy(() -> HfCheckpoint.parseConfig(dir))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(dir.resolve("config.json") + ": key [sliding_window] is 256,"
            + " smaller than the model's context of 512 positions.")
        .hasMessageContaining("Sliding-window attention is not supported")
        .hasMessageContaining("set max_position_embeddings to at most 256");
    // a window covering the whole context never applies; so does null (Mixtral's own config)
    Path covering = edited(mixtral, j -> j.addProperty("sliding_window", 512));
    assertThat(HfCheckpoint.parseConfig(covering).maxPositions()).isEqualTo(512);
    Path nullWindow = edited(mixtral, j -> j.add("sliding_window", null));
    assertThat(HfCheckpoint.parseConfig(nullWindow).maxPositions()).isEqualTo(512);
    // and following the message's fix loads, with the context cut to the window
    Path fixed = edited(mixtral, j -> {
      j.addProperty("sliding_window", 256);
      j.addProperty("max_position_embeddings", 256);
    });
    assertThat(HfCheckpoint.parseConfig(fixed).maxPositions()).isEqualTo(256);
  }

  @Test
  void qwenSlidingWindowCountsOnlyWhenEnabledOnSomeLayer() throws IOException {
    Path on = edited(qwen2, j -> {
      j.addProperty("use_sliding_window", true);
      j.addProperty("sliding_window", 128);
      j.addProperty("max_window_layers", 1); // layer 1 of 2 slides
    });
    assertThatThrownBy(() -> HfCheckpoint.parseConfig(on))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("config.json: key [use_sliding_window] is true with sliding_window"
            + " 128, smaller than the model's context of 512 positions (layers from"
            + " max_window_layers 1 on use it).");
    Path off = edited(qwen2, j -> {
      j.addProperty("use_sliding_window", false);
      j.addProperty("sliding_window", 128);
    });
    assertThat(HfCheckpoint.parseConfig(off).maxPositions()).isEqualTo(512);
    Path noLayer = edited(qwen2, j -> { // default max_window_layers 28 >= 2 layers
      j.addProperty("use_sliding_window", true);
      j.addProperty("sliding_window", 128);
    });
    assertThat(HfCheckpoint.parseConfig(noLayer).maxPositions()).isEqualTo(512);
    Path typed = edited(qwen2Moe, j -> {
      j.addProperty("use_sliding_window", true);
      j.addProperty("sliding_window", 128);
      JsonArray types = new JsonArray();
      types.add("full_attention");
      types.add("sliding_attention");
      j.add("layer_types", types);
    });
    assertThatThrownBy(() -> HfCheckpoint.parseConfig(typed))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("key [use_sliding_window] is true with sliding_window 128");
  }

  @Test
  void denseLayersInsideMoeModelsAreRefused() throws IOException {
    Path step = edited(qwen2Moe, j -> j.addProperty("decoder_sparse_step", 2));
    assertThatThrownBy(() -> HfCheckpoint.parseConfig(step))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(step.resolve("config.json") + ": key [decoder_sparse_step] is 2:"
            + " layers whose index + 1 is not a multiple of it would be dense MLPs");
    Path mlpOnly = edited(qwen2Moe, j -> {
      JsonArray layers = new JsonArray();
      layers.add(0);
      j.add("mlp_only_layers", layers);
    });
    assertThatThrownBy(() -> HfCheckpoint.parseConfig(mlpOnly))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("config.json: key [mlp_only_layers] is [0]: dense MLP layers in an"
            + " MoE model are not supported; only an empty list is");
  }

  // ---- GGUF ----

  private static GgufFile gguf(String name, Consumer<GgufWriter> metadata) throws IOException {
    Path f = tmp.resolve(name + ".gguf");
    new TinyModelWriter(TinyModels.config("tiny", "qwen2"), 1, DType.F32).writeGguf(f, metadata);
    return GgufFile.open(f);
  }

  @Test
  void ggufYarnKeysAreRead() throws IOException {
    GgufFile g = gguf("yarn", w -> w.putString("qwen2.rope.scaling.type", "yarn")
        .putF32("qwen2.rope.scaling.factor", 4f)
        .putU32("qwen2.rope.scaling.original_context_length", 128)
        .putF32("qwen2.rope.scaling.yarn_beta_fast", 16f));
    RopeScaling.Yarn y = (RopeScaling.Yarn) GgufCheckpoint.parseConfig(g).ropeScaling();
    assertThat(y.factor()).isEqualTo(4.0);
    assertThat(y.originalMaxPositions()).isEqualTo(128);
    assertThat(y.betaFast()).isEqualTo(16.0);
    assertThat(y.betaSlow()).isEqualTo(1.0);
    assertThat(y.attentionFactor()).isCloseTo(1 + 0.1 * Math.log(4), within(1e-12));
    assertThat(GgufCheckpoint.parseConfig(g).maxPositions()).isEqualTo(512); // max(512, 128 * 4)
    GgufFile linear = gguf("linear", w -> w.putF32("qwen2.rope.scale_linear", 2f));
    assertThat(GgufCheckpoint.parseConfig(linear).ropeScaling())
        .isEqualTo(RopeScaling.linear(2));
  }

  @Test
  void ggufUnsupportedRopeAndWindowKeysAreRefused() throws IOException {
    GgufFile longrope = gguf("longrope",
        w -> w.putString("qwen2.rope.scaling.type", "longrope"));
    assertThatThrownBy(() -> GgufCheckpoint.parseConfig(longrope))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("longrope.gguf: metadata [qwen2.rope.scaling.type] is [longrope],"
            + " which is not supported; supported: none, linear, yarn");
    GgufFile logMul = gguf("logmul", w -> w.putString("qwen2.rope.scaling.type", "yarn")
        .putF32("qwen2.rope.scaling.factor", 4f)
        .putF32("qwen2.rope.scaling.yarn_log_multiplier", 0.1f));
    assertThatThrownBy(() -> GgufCheckpoint.parseConfig(logMul))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("metadata [qwen2.rope.scaling.yarn_log_multiplier] is");
    GgufFile window = gguf("window", w -> w.putU32("qwen2.attention.sliding_window", 64));
    assertThatThrownBy(() -> GgufCheckpoint.parseConfig(window))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("window.gguf: metadata [qwen2.attention.sliding_window] is 64,"
            + " smaller than the model's context of 512 positions; sliding-window attention is"
            + " not supported");
  }
}
