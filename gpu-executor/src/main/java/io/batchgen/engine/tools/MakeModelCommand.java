package io.batchgen.engine.tools;

import io.batchgen.engine.model.TinyModels;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code batchgen make-model}: writes a deterministic random-weight model from a seed, as a Hugging
 * Face directory (with a byte-level BPE tokenizer.json) or as one GGUF v3 file.
 */
public final class MakeModelCommand {
  static final String USAGE = """
      Usage: batchgen make-model --out PATH [--preset tiny|bench|bench-fine]
                 [--arch mixtral|qwen2_moe|qwen3_moe|olmoe|llama|qwen2|qwen3]
                 [--dtype f32|bf16|f16|q8_0] [--format hf|gguf] [--seed N]
                 [--tokenizer DIR] [--chat-template FILE]

      Writes a random-weight model that is the same for the same options: a Hugging Face
      directory (config.json, model.safetensors, tokenizer.json, ...) or a GGUF file (q8_0 only
      with --format gguf). For gguf, --out may name the .gguf file or a directory to put
      model.gguf in. Defaults: --preset tiny --arch mixtral --dtype bf16 --format hf --seed 1.

      --tokenizer DIR builds the model around a real tokenizer: DIR's tokenizer.json,
      tokenizer_config.json and chat templates are copied in, and the vocabulary size and
      end-of-sequence id are taken from them, so the whole pipeline runs with that model
      family's prompts (Hugging Face format only). --chat-template FILE puts a Jinja chat
      template in the model (chat_template.jinja, or tokenizer.chat_template in a GGUF file).
      """;

  private MakeModelCommand() {
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the command; returns the process exit code (0 ok, 2 bad arguments, 1 failure). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    CommandArgs a;
    try {
      a = CommandArgs.parse(args, Set.of("preset", "arch", "dtype", "format", "seed", "out",
          "tokenizer", "chat-template"),
          Set.of("make-model"));
      if (a.help()) {
        out.print(USAGE);
        return 0;
      }
      String preset = a.oneOf("preset", "tiny", Set.of("tiny", "bench", "bench-fine"));
      String arch = a.oneOf("arch", "mixtral", new LinkedHashSet<>(List.of(
          TinyModels.ARCHS.split(", "))));
      String format = a.oneOf("format", "hf", Set.of("hf", "gguf"));
      String dtype = a.oneOf("dtype", "bf16", format.equals("gguf")
          ? Set.of("f32", "bf16", "f16", "q8_0") : Set.of("f32", "bf16", "f16"));
      long seed = a.longValue("seed", 1);
      Path outPath = Path.of(a.required("out"));
      long start = System.nanoTime();
      Path written;
      String tokenizer = a.get("tokenizer", null);
      if (tokenizer != null && !format.equals("hf")) {
        throw new CommandArgs.UsageException("--tokenizer needs --format hf");
      }
      String template = a.get("chat-template", null) == null ? null
          : Files.readString(Path.of(a.get("chat-template", null)));
      if (tokenizer != null) {
        written = TinyModels.writeWithTokenizer(preset, arch, dtype, seed, Path.of(tokenizer),
            outPath);
      } else if (format.equals("gguf") && template != null) {
        Path file = outPath.toString().endsWith(".gguf") ? outPath : outPath.resolve("model.gguf");
        written = TinyModels.writeGgufWithChatTemplate(preset, arch, dtype, seed, file, template);
      } else if (format.equals("hf")) {
        written = TinyModels.write(preset, arch, dtype, seed, outPath);
      } else {
        Path file = outPath.toString().endsWith(".gguf") ? outPath : outPath.resolve("model.gguf");
        written = TinyModels.writeGguf(preset, arch, dtype, seed, file);
      }
      if (format.equals("hf") && template != null) {
        Files.writeString(written.resolve("chat_template.jinja"), template);
      }
      long bytes;
      try (var files = Files.walk(written)) {
        bytes = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
      }
      out.printf("make-model: wrote %s %s %s %s (seed %d, %.1f MB%s) to %s in %.1f s%n", preset,
          arch, dtype, format, seed, bytes / 1e6,
          tokenizer == null ? "" : ", tokenizer of " + tokenizer, written,
          (System.nanoTime() - start) / 1e9);
      return 0;
    } catch (CommandArgs.UsageException e) {
      err.println("make-model: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (Exception e) {
      err.println("make-model: failed: " + e.getMessage());
      return 1;
    }
  }
}
