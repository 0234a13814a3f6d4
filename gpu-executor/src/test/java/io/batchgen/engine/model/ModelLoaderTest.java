package io.batchgen.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.forward.SimpleForward;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLoaderTest {
  @TempDir
  Path tmp;

  @Test
  void loadsEveryArchitectureWithItsShape() {
    for (String arch : TinyModels.ARCHS.split(", ")) {
      try (LoadedModel m = ModelLoader.load(TinyModels.write("tiny", arch, "bf16", 1,
          tmp.resolve(arch)))) {
        ModelShape s = m.shape();
        boolean moe = !arch.equals("llama") && !arch.equals("qwen2") && !arch.equals("qwen3");
        assertThat(s.numExperts()).as(arch).isEqualTo(moe ? 8 : 1);
        assertThat(s.topK()).as(arch).isEqualTo(moe ? 2 : 1);
        assertThat(s.sharedExpert()).as(arch).isEqualTo(arch.equals("qwen2_moe"));
        assertThat(s.numLayers()).isEqualTo(2);
        assertThat(s.hiddenSize()).isEqualTo(64);
        assertThat(s.numKvHeads()).isEqualTo(2);
        assertThat(s.headDim()).isEqualTo(16);
        assertThat(s.vocabSize()).isEqualTo(512);
        assertThat(s.eosTokenIds()).containsExactly(511);
        assertThat(m.format()).isEqualTo("hf");
        assertThat(m.config().arch().hfName()).isEqualTo(arch);
      }
    }
  }

  @Test
  void shardedCheckpointGivesTheSameLogits() {
    Path one = TinyModels.write("tiny", "mixtral", "f32", 2, tmp.resolve("one"));
    Path many = TinyModels.writeSharded("tiny", "mixtral", "f32", 2, tmp.resolve("many"), 200_000);
    assertThat(many.resolve("model.safetensors.index.json")).exists();
    try (LoadedModel a = ModelLoader.load(one); LoadedModel b = ModelLoader.load(many);
        ModuleExecutor ea = Backends.create("cpu", a, 1);
        ModuleExecutor eb = Backends.create("cpu", b, 1)) {
      int[] tokens = {1, 2, 3, 400, 5};
      assertThat(SimpleForward.logits(eb, tokens)).containsExactly(
          SimpleForward.logits(ea, tokens));
    }
  }

  @Test
  void unknownArchitectureListsSupported() throws IOException {
    Path dir = TinyModels.write("tiny", "llama", "f32", 1, tmp.resolve("m"));
    Path cfg = dir.resolve("config.json");
    Files.writeString(cfg, Files.readString(cfg).replace("\"llama\"", "\"gpt2\""));
    assertThatThrownBy(() -> ModelLoader.load(dir)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(cfg.toString())
        .hasMessageContaining("model_type [gpt2] is not supported; supported: mixtral,"
            + " qwen2_moe, qwen3_moe, olmoe, llama, qwen2, qwen3");
  }

  @Test
  void shapeMismatchWithConfigNamesTensorAndFile() throws IOException {
    Path dir = TinyModels.write("tiny", "qwen3_moe", "f32", 1, tmp.resolve("m"));
    Path cfg = dir.resolve("config.json");
    Files.writeString(cfg, Files.readString(cfg).replace("\"moe_intermediate_size\": 64",
        "\"moe_intermediate_size\": 96"));
    assertThatThrownBy(() -> ModelLoader.load(dir)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("model.safetensors")
        .hasMessageContaining("tensor [model.layers.0.mlp.experts.0.gate_proj.weight] has shape"
            + " [64, 64] but the config implies [96, 64]");
  }

  @Test
  void missingFilesAreNamed() throws IOException {
    assertThatThrownBy(() -> ModelLoader.load(tmp.resolve("absent")))
        .isInstanceOf(ModelFormatException.class).hasMessageContaining("does not exist");
    Path dir = TinyModels.write("tiny", "olmoe", "f32", 1, tmp.resolve("m"));
    Files.delete(dir.resolve("model.safetensors"));
    assertThatThrownBy(() -> ModelLoader.load(dir)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("no *.safetensors files");
    Path sharded = TinyModels.writeSharded("tiny", "olmoe", "f32", 1, tmp.resolve("s"), 100_000);
    Path second;
    try (var files = Files.list(sharded)) {
      second = files.filter(p -> p.getFileName().toString().startsWith("model-00002-of-"))
          .findFirst().orElseThrow();
    }
    Files.delete(second);
    assertThatThrownBy(() -> ModelLoader.load(sharded)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(second + ": shard listed in model.safetensors.index.json is"
            + " missing");
    Path noTok = TinyModels.write("tiny", "olmoe", "f32", 1, tmp.resolve("t"));
    Files.delete(noTok.resolve("tokenizer.json"));
    try (LoadedModel m = ModelLoader.load(noTok)) {
      assertThatThrownBy(m::tokenizer).isInstanceOf(ModelFormatException.class)
          .hasMessageContaining("tokenizer.json: file not found");
    }
  }

  @Test
  void truncatedWeightsFileFailsCleanly() throws IOException {
    Path dir = TinyModels.write("tiny", "mixtral", "bf16", 1, tmp.resolve("m"));
    Path st = dir.resolve("model.safetensors");
    byte[] b = Files.readAllBytes(st);
    Files.write(st, java.util.Arrays.copyOf(b, b.length - 100));
    assertThatThrownBy(() -> ModelLoader.load(dir)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(st.toString()).hasMessageContaining("outside the");
  }

  @Test
  void ggufUnknownArchitectureListsSupported() throws IOException {
    Path f = TinyModels.writeGguf("tiny", "qwen2", "f32", 1, tmp.resolve("m.gguf"));
    byte[] b = Files.readAllBytes(f);
    String s = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
    int at = s.indexOf("qwen2");
    b[at + 4] = 'x'; // general.architecture = "qwenx"
    Files.write(f, b);
    assertThatThrownBy(() -> ModelLoader.load(f)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("general.architecture [qwenx] is not supported");
  }
}
