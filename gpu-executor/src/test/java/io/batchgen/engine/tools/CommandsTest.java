package io.batchgen.engine.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandsTest {
  @TempDir
  Path tmp;

  private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  private String err() {
    return errBytes.toString(StandardCharsets.UTF_8);
  }

  private String out() {
    return outBytes.toString(StandardCharsets.UTF_8);
  }

  static float[] readLogits(Path f) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
    float[] v = new float[b.remaining() / 4];
    b.asFloatBuffer().get(v);
    return v;
  }

  @Test
  void makeModelThenLogitsOnBothBackendsAndFormats() throws IOException {
    Path hf = tmp.resolve("hf");
    assertThat(MakeModelCommand.run(new String[] {"--preset", "tiny", "--arch", "qwen3_moe",
        "--dtype", "f32", "--format", "hf", "--seed", "4", "--out", hf.toString()}, out, err))
        .as(err()).isZero();
    assertThat(hf.resolve("config.json")).exists();
    assertThat(hf.resolve("tokenizer.json")).exists();
    Path gguf = tmp.resolve("m.gguf");
    assertThat(MakeModelCommand.run(new String[] {"--arch", "qwen3_moe", "--dtype", "f32",
        "--format", "gguf", "--seed", "4", "--out", gguf.toString()}, out, err)).as(err())
        .isZero();
    assertThat(out()).contains("make-model: wrote tiny qwen3_moe f32 gguf (seed 4");

    Path cpu = tmp.resolve("cpu.bin");
    Path ref = tmp.resolve("ref.bin");
    Path gg = tmp.resolve("gguf.bin");
    String tokens = "1,2,3,300,17";
    assertThat(LogitsCommand.run(new String[] {"--model", hf.toString(), "--tokens", tokens,
        "--out", cpu.toString()}, out, err)).as(err()).isZero();
    assertThat(LogitsCommand.run(new String[] {"--model", hf.toString(), "--tokens", tokens,
        "--out", ref.toString(), "--backend", "reference"}, out, err)).as(err()).isZero();
    assertThat(LogitsCommand.run(new String[] {"logits", "--model", gguf.toString(), "--tokens",
        tokens, "--out", gg.toString(), "--threads", "1"}, out, err)).as(err()).isZero();
    assertThat(Files.size(cpu)).isEqualTo(5L * 512 * 4);
    float[] a = readLogits(cpu);
    float[] b = readLogits(ref);
    float[] c = readLogits(gg);
    float scale = 0;
    for (float v : b) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int i = 0; i < a.length; i++) {
      assertThat(Math.abs(a[i] - b[i])).isLessThanOrEqualTo(2e-4f * scale);
      assertThat(Math.abs(c[i] - a[i])).isLessThanOrEqualTo(1e-4f * scale);
    }
    assertThat(out()).contains("logits: wrote 5 x 512 float32 LE");
  }

  @Test
  void badArgumentsExitTwoWithAClearMessage() {
    assertThat(MakeModelCommand.run(new String[] {"--arch", "gpt2", "--out", "x"}, out, err))
        .isEqualTo(2);
    assertThat(err()).contains("Option --arch must be one of").contains("gpt2")
        .contains("Usage: batchgen make-model");
    assertThat(MakeModelCommand.run(new String[] {"--dtype", "q8_0", "--out", "x"}, out, err))
        .isEqualTo(2);
    assertThat(MakeModelCommand.run(new String[] {"--preset", "tiny"}, out, err)).isEqualTo(2);
    assertThat(err()).contains("Missing required option --out");
    assertThat(LogitsCommand.run(new String[] {"--model", "m", "--tokens", "1,x", "--out", "f"},
        out, err)).isEqualTo(2);
    assertThat(err()).contains("Option --tokens must be comma-separated integer ids, got [x]");
    assertThat(LogitsCommand.run(new String[] {"--bogus", "1"}, out, err)).isEqualTo(2);
    assertThat(err()).contains("Unknown option --bogus");
    assertThat(KernelBench.run(new String[] {"bench", "kernels", "--runs", "2"}, out, err))
        .isEqualTo(2);
    assertThat(err()).contains("Option --runs must be in [5, 1000], got 2");
    assertThat(KernelBench.run(new String[] {"bench", "kernels", "--species", "1024"}, out, err))
        .isEqualTo(2);
    assertThat(err()).contains("Option --species: Unknown vector width [1024]; supported:"
        + " preferred, 128, 256, 512");
  }

  @Test
  void tokenOutsideVocabularyAndMissingModelAreReported() {
    Path hf = tmp.resolve("hf");
    assertThat(MakeModelCommand.run(new String[] {"--out", hf.toString()}, out, err)).isZero();
    assertThat(LogitsCommand.run(new String[] {"--model", hf.toString(), "--tokens", "1,512",
        "--out", tmp.resolve("o").toString()}, out, err)).isEqualTo(2);
    assertThat(err()).contains("Token #1 = 512 is outside the model's vocabulary [0, 512)");
    assertThat(LogitsCommand.run(new String[] {"--model", tmp.resolve("none").toString(),
        "--tokens", "1", "--out", tmp.resolve("o").toString()}, out, err)).isEqualTo(1);
    assertThat(err()).contains("model path does not exist");
  }

  @Test
  void makeModelAroundARealTokenizerTakesItsVocabularyAndTemplates() throws IOException {
    Path qwen = Path.of(System.getProperty("batchgen.tokenizers.dir", "target/tokenizers"),
        "qwen2_moe");
    Path model = tmp.resolve("qwen-tiny");

    assertThat(MakeModelCommand.run(new String[] {"--arch", "qwen2_moe", "--dtype", "f32",
        "--tokenizer", qwen.toString(), "--out", model.toString()}, out, err)).as(err()).isZero();

    String config = Files.readString(model.resolve("config.json"));
    assertThat(config).contains("\"vocab_size\": 151646", "\"eos_token_id\": 151645",
        "\"model_type\": \"qwen2_moe\"");
    assertThat(model.resolve("tokenizer.json")).hasSameBinaryContentAs(
        qwen.resolve("tokenizer.json"));
    assertThat(Files.readString(model.resolve("tokenizer_config.json"))).contains("chat_template");
    try (io.batchgen.engine.model.LoadedModel m = io.batchgen.engine.model.ModelLoader.load(model)) {
      assertThat(m.tokenizer().encode("Hello world")).containsExactly(9707, 1879);
      assertThat(m.config().vocabSize()).isEqualTo(151646);
    }
    assertThat(MakeModelCommand.run(new String[] {"--format", "gguf", "--tokenizer",
        qwen.toString(), "--out", tmp.resolve("g").toString()}, out, err)).isEqualTo(2);
    assertThat(err()).contains("--tokenizer needs --format hf");
  }

  @Test
  void kernelCeilingsAloneAreOneLineOfFigures() {
    assertThat(KernelBench.run(new String[] {"ceilings", "--species", "128"}, out, err)).isZero();
    assertThat(out()).matches("bench kernels ceilings: fma_t1_gflops=[0-9.]+ fma_t2_gflops=[0-9.]+"
        + " read_t1_gbs=[0-9.]+ read_t2_gbs=[0-9.]+ species=128\\R");
  }

  @Test
  void helpPrintsUsage() {
    assertThat(MakeModelCommand.run(new String[] {"--help"}, out, err)).isZero();
    assertThat(LogitsCommand.run(new String[] {"--help"}, out, err)).isZero();
    assertThat(KernelBench.run(new String[] {"bench", "kernels", "--help"}, out, err)).isZero();
    assertThat(out()).contains("Usage: batchgen make-model").contains("Usage: batchgen logits")
        .contains("Usage: batchgen bench kernels");
  }
}
