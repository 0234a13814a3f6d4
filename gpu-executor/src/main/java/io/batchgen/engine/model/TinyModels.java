package io.batchgen.engine.model;

import io.batchgen.engine.model.ModelConfig.QkNorm;
import io.batchgen.engine.model.ModelConfig.RopeStyle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.batchgen.engine.tokenizer.HfTextTokenizer;
import java.util.Locale;

/**
 * Deterministic random-weight models for tests, benchmarks and the out-of-the-box demo: the same
 * {@code (preset, arch, dtype, seed)} always gives the same weights, in either format. No weights
 * are ever downloaded.
 *
 * <p>Presets: {@code tiny} (seconds to run; unit tests), {@code bench} (Mixtral-style: hidden 512,
 * 8 layers, 8 heads, 2 KV heads, head dim 64, 16 experts top-2, expert FFN 1024, vocab 32000) and
 * {@code bench-fine} (Qwen3-MoE-style fine-grained: 64 experts top-8, expert FFN 256).
 */
public final class TinyModels {
  /** Architecture names accepted by {@link #write}. */
  public static final String ARCHS = "mixtral, qwen2_moe, qwen3_moe, olmoe, llama, qwen2, qwen3";

  private TinyModels() {
  }

  /**
   * Sizes of a preset.
   *
   * @param denseFfn  intermediate width used when the architecture is dense
   * @param sharedFfn shared-expert width (Qwen2-MoE)
   */
  public record Preset(String name, int hidden, int layers, int heads, int kvHeads, int headDim,
      int experts, int topK, int expertFfn, int sharedFfn, int denseFfn, int vocab,
      int maxPositions) {
  }

  public static Preset preset(String name) {
    return switch (name) {
      case "tiny" -> new Preset("tiny", 64, 2, 4, 2, 16, 8, 2, 64, 128, 128, 512, 512);
      case "bench" -> new Preset("bench", 512, 8, 8, 2, 64, 16, 2, 1024, 1024, 2048, 32000, 4096);
      case "bench-fine" -> new Preset("bench-fine", 512, 8, 8, 2, 64, 64, 8, 256, 1024, 2048,
          32000, 4096);
      default -> throw new IllegalArgumentException("Unknown preset [" + name
          + "]; supported: tiny, bench, bench-fine");
    };
  }

  /** The config a preset gives for {@code arch} (an HF model_type name). */
  public static ModelConfig config(String presetName, String arch) {
    Preset p = preset(presetName);
    Architecture a = Architecture.fromHf(arch.toLowerCase(Locale.ROOT));
    if (a == null) {
      throw new IllegalArgumentException("Unknown arch [" + arch + "]; supported: " + ARCHS);
    }
    int experts = a.moe() ? p.experts() : 1;
    int topK = a.moe() ? p.topK() : 1;
    int ffn = a.moe() ? p.expertFfn() : p.denseFfn();
    boolean normTopk = a == Architecture.MIXTRAL || a == Architecture.QWEN3_MOE;
    int shared = a == Architecture.QWEN2_MOE ? p.sharedFfn() : 0;
    QkNorm qk = switch (a) {
      case QWEN3, QWEN3_MOE -> QkNorm.PER_HEAD;
      case OLMOE -> QkNorm.FULL;
      default -> QkNorm.NONE;
    };
    boolean bias = a == Architecture.QWEN2 || a == Architecture.QWEN2_MOE;
    double theta = a == Architecture.MIXTRAL ? 1e6 : 10000.0;
    float eps = a == Architecture.MIXTRAL || a == Architecture.OLMOE ? 1e-5f : 1e-6f;
    boolean tie = a == Architecture.QWEN3;
    int eos = p.vocab() - 1;
    return new ModelConfig(a, p.vocab(), p.hidden(), p.layers(), p.heads(), p.kvHeads(),
        p.headDim(), experts, topK, ffn, normTopk, shared, eps, theta, null, RopeStyle.HALF, qk,
        bias, 0f, tie, p.maxPositions(), new int[] {eos}, -1);
  }

  /**
   * Writes a Hugging Face model directory ({@code config.json}, {@code generation_config.json},
   * {@code tokenizer.json}, {@code tokenizer_config.json}, {@code model.safetensors}).
   *
   * @param dtype {@code f32}, {@code bf16} or {@code f16}
   * @return {@code dir}
   */
  public static Path write(String preset, String arch, String dtype, long seed, Path dir) {
    try {
      Files.createDirectories(dir);
      new TinyModelWriter(config(preset, arch), seed, dtype(dtype, false)).writeHf(dir, 0);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write model to " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes a Hugging Face model directory around a real tokenizer: the preset's and
   * architecture's random weights, with the vocabulary size and end-of-sequence ids of the
   * tokenizer in {@code tokenizerDir} (tokenizer.json and tokenizer_config.json), whose files
   * and chat templates are copied in, so the model takes that family's prompts.
   *
   * @throws IllegalArgumentException when {@code tokenizerDir} holds no Hugging Face tokenizer
   */
  public static Path writeWithTokenizer(String preset, String arch, String dtype, long seed,
      Path tokenizerDir, Path dir) {
    ModelConfig base = config(preset, arch);
    if (!Files.isDirectory(tokenizerDir)) {
      throw new IllegalArgumentException("--tokenizer needs a directory with tokenizer.json and"
          + " tokenizer_config.json, got [" + tokenizerDir + "]");
    }
    int[] sizeAndEos = HfTextTokenizer.vocabSizeAndEos(tokenizerDir);
    int vocab = sizeAndEos[0];
    if (sizeAndEos[1] < 0) {
      throw new IllegalArgumentException("The tokenizer in [" + tokenizerDir + "] names no"
          + " eos_token in tokenizer_config.json that is in its vocabulary; the model would"
          + " never stop");
    }
    int[] eos = {sizeAndEos[1]};
    ModelConfig c = new ModelConfig(base.arch(), vocab, base.hiddenSize(), base.numLayers(),
        base.numHeads(), base.numKvHeads(), base.headDim(), base.numExperts(), base.topK(),
        base.expertFfnSize(), base.normTopkProb(), base.sharedExpertFfnSize(), base.rmsEps(),
        base.ropeTheta(), base.ropeScaling(), base.ropeStyle(), base.qkNorm(),
        base.attentionBias(), base.clipQkv(), base.tieWordEmbeddings(), base.maxPositions(), eos,
        base.bosTokenId());
    try {
      Files.createDirectories(dir);
      new TinyModelWriter(c, seed, dtype(dtype, false)).writeHf(dir, 0, tokenizerDir);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write model to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Like {@link #write} but splits the weights into shards of about {@code shardBytes}. */
  public static Path writeSharded(String preset, String arch, String dtype, long seed, Path dir,
      long shardBytes) {
    try {
      Files.createDirectories(dir);
      new TinyModelWriter(config(preset, arch), seed, dtype(dtype, false)).writeHf(dir,
          shardBytes);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write model to " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes the same model as one GGUF v3 file, named and laid out as llama.cpp's converter
   * writes it.
   *
   * @param dtype {@code f32}, {@code bf16}, {@code f16} or {@code q8_0}
   * @return {@code file}
   */
  public static Path writeGguf(String preset, String arch, String dtype, long seed, Path file) {
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      new TinyModelWriter(config(preset, arch), seed, dtype(dtype, true)).writeGguf(file);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write model to " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Like {@link #writeGguf} with a chat template in the file ({@code tokenizer.chat_template}),
   * so the GGUF model takes chat prompts.
   */
  public static Path writeGgufWithChatTemplate(String preset, String arch, String dtype,
      long seed, Path file, String chatTemplate) {
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      TinyModelWriter w = new TinyModelWriter(config(preset, arch), seed, dtype(dtype, true));
      w.writeGguf(file, g -> {
        w.gpt2Vocab(g);
        g.putString("tokenizer.chat_template", chatTemplate);
      });
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write model to " + file + ": " + e.getMessage(), e);
    }
  }

  static io.batchgen.engine.format.DType dtype(String name, boolean gguf) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "f32" -> io.batchgen.engine.format.DType.F32;
      case "bf16" -> io.batchgen.engine.format.DType.BF16;
      case "f16" -> io.batchgen.engine.format.DType.F16;
      case "q8_0" -> {
        if (!gguf) {
          throw new IllegalArgumentException("dtype q8_0 needs --format gguf");
        }
        yield io.batchgen.engine.format.DType.Q8_0;
      }
      default -> throw new IllegalArgumentException("Unknown dtype [" + name
          + "]; supported: f32, bf16, f16" + (gguf ? ", q8_0" : ""));
    };
  }
}
