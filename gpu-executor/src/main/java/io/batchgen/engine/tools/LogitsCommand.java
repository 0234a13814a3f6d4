package io.batchgen.engine.tools;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.forward.SimpleForward;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * {@code batchgen logits}: runs token ids through a model and writes the logits of every position
 * as float32 little-endian, {@code (n_tokens, vocab)} row-major. A debugging tool and a conformance
 * hook: compare its output with another implementation's.
 */
public final class LogitsCommand {
  static final String USAGE = """
      Usage: batchgen logits --model PATH --tokens 1,2,3 --out FILE
                 [--backend cpu|reference] [--threads N]

      Runs the token ids through the model (a Hugging Face directory or a .gguf file) and writes
      float32 little-endian logits for every position: n_tokens x vocab, row-major.
      Defaults: --backend cpu --threads = available processors.
      """;

  private LogitsCommand() {
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the command; returns the process exit code (0 ok, 2 bad arguments, 1 failure). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      CommandArgs a = CommandArgs.parse(args, Set.of("model", "tokens", "out", "backend",
          "threads"), Set.of("logits"));
      if (a.help()) {
        out.print(USAGE);
        return 0;
      }
      Path model = Path.of(a.required("model"));
      int[] tokens = parseTokens(a.required("tokens"));
      Path file = Path.of(a.required("out"));
      String backend = a.oneOf("backend", "cpu", Set.of("cpu", "reference"));
      long threads = a.longValue("threads", Runtime.getRuntime().availableProcessors());
      if (threads < 1 || threads > 1024) {
        throw new CommandArgs.UsageException("Option --threads must be in [1, 1024], got "
            + threads);
      }
      try (LoadedModel m = ModelLoader.load(model);
          ModuleExecutor ex = Backends.create(backend, m, (int) threads)) {
        int vocab = m.config().vocabSize();
        for (int i = 0; i < tokens.length; i++) {
          if (tokens[i] < 0 || tokens[i] >= vocab) {
            throw new CommandArgs.UsageException("Token #" + i + " = " + tokens[i]
                + " is outside the model's vocabulary [0, " + vocab + ")");
          }
        }
        if (tokens.length > m.config().maxPositions()) {
          throw new CommandArgs.UsageException(tokens.length + " tokens exceed the model's "
              + m.config().maxPositions() + " positions");
        }
        float[] logits = SimpleForward.logits(ex, tokens);
        write(file, logits);
        int last = SimpleForward.argmax(logits, (tokens.length - 1) * vocab, vocab);
        out.printf("logits: wrote %d x %d float32 LE to %s (%s, %s; argmax at last position:"
            + " %d)%n", tokens.length, vocab, file, ex.describe(), m, last);
      }
      return 0;
    } catch (CommandArgs.UsageException e) {
      err.println("logits: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (Exception e) {
      err.println("logits: failed: " + e.getMessage());
      return 1;
    }
  }

  static int[] parseTokens(String s) {
    String[] parts = s.split(",");
    int[] out = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        out[i] = Integer.parseInt(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new CommandArgs.UsageException("Option --tokens must be comma-separated integer"
            + " ids, got [" + parts[i] + "] at #" + i);
      }
    }
    if (out.length == 0) {
      throw new CommandArgs.UsageException("Option --tokens needs at least one id");
    }
    return out;
  }

  private static void write(Path file, float[] logits) throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    try (OutputStream os = Files.newOutputStream(file)) {
      for (float f : logits) {
        if (!b.hasRemaining()) {
          os.write(b.array(), 0, b.position());
          b.clear();
        }
        b.putFloat(f);
      }
      os.write(b.array(), 0, b.position());
    }
  }
}
