package io.batchgen.engine.format;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of both checkpoint parsers through the full loader: every mutated file
 * must either load or fail with a {@link ModelFormatException}; any other exception or error
 * (out of memory, index out of bounds, a JVM crash) fails the test and prints the seed and
 * iteration to replay. Bounded in iterations and in time so the default suite stays fast.
 */
class ParserFuzzTest {
  static final long SEED = 20261127L;
  static final int MAX_ITERATIONS = 600;
  static final long MAX_MILLIS = 6_000;

  @TempDir
  Path tmp;

  @Test
  void ggufMutationsFailCleanly() throws IOException {
    Path good = TinyModels.writeGguf("tiny", "qwen2_moe", "q8_0", 1, tmp.resolve("good.gguf"));
    byte[] base = Files.readAllBytes(good);
    int headerEnd = (int) Math.min(base.length, 24_000);
    Path target = tmp.resolve("fuzz.gguf");
    int outcomes = run(base, headerEnd, target, () -> target);
    assertThat(outcomes).isGreaterThan(50);
  }

  @Test
  void safetensorsMutationsFailCleanly() throws IOException {
    Path dir = TinyModels.write("tiny", "mixtral", "bf16", 1, tmp.resolve("hf"));
    Path st = dir.resolve("model.safetensors");
    byte[] base = Files.readAllBytes(st);
    long headerLen = ByteBuffer.wrap(base).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    int outcomes = run(base, (int) (8 + headerLen), st, () -> dir);
    assertThat(outcomes).isGreaterThan(50);
  }

  private interface Target {
    Path path();
  }

  /** Returns the number of iterations run. */
  private int run(byte[] base, int headerEnd, Path file, Target load) throws IOException {
    SplittableRandom rnd = new SplittableRandom(SEED);
    long deadline = System.currentTimeMillis() + MAX_MILLIS;
    int loaded = 0;
    int rejected = 0;
    int i = 0;
    for (; i < MAX_ITERATIONS && System.currentTimeMillis() < deadline; i++) {
      byte[] m = mutate(base, headerEnd, rnd);
      Files.write(file, m);
      try (LoadedModel model = ModelLoader.load(load.path())) {
        assertThat(model.shape()).isNotNull();
        loaded++;
      } catch (ModelFormatException e) {
        assertThat(e.getMessage()).as("iteration " + i).contains(file.getFileName().toString()
            .equals("model.safetensors") ? "" : file.toString());
        rejected++;
      } catch (Throwable t) {
        throw new AssertionError("seed " + SEED + " iteration " + i + ": " + t, t);
      }
    }
    assertThat(rejected).as("mutations rejected").isGreaterThan(0);
    return loaded + rejected;
  }

  private static byte[] mutate(byte[] base, int headerEnd, SplittableRandom rnd) {
    byte[] m = base.clone();
    switch (rnd.nextInt(5)) {
      case 0 -> { // flip a few bytes in the header
        int n = 1 + rnd.nextInt(8);
        for (int j = 0; j < n; j++) {
          m[rnd.nextInt(headerEnd)] ^= (byte) (1 + rnd.nextInt(255));
        }
      }
      case 1 -> { // an interesting 64-bit or 32-bit value at a random header offset
        long[] values = {0, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 31, 1L << 32, 1L << 40,
            base.length, base.length + 1L, 255, 65536};
        int at = rnd.nextInt(Math.max(1, headerEnd - 8));
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        if (rnd.nextBoolean()) {
          b.putLong(at, values[rnd.nextInt(values.length)]);
        } else {
          b.putInt(at, (int) values[rnd.nextInt(values.length)]);
        }
      }
      case 2 -> { // truncate anywhere
        return java.util.Arrays.copyOf(m, rnd.nextInt(base.length));
      }
      case 3 -> { // cut a slice out of the header
        int from = rnd.nextInt(headerEnd);
        int len = 1 + rnd.nextInt(Math.min(64, base.length - from));
        byte[] out = new byte[base.length - len];
        System.arraycopy(m, 0, out, 0, from);
        System.arraycopy(m, from + len, out, from, base.length - from - len);
        return out;
      }
      default -> { // random printable bytes (JSON-ish corruption)
        int at = rnd.nextInt(headerEnd);
        int len = Math.min(1 + rnd.nextInt(16), headerEnd - at);
        String alphabet = "{}[]\",:0123456789-eE. aZ";
        for (int j = 0; j < len; j++) {
          m[at + j] = (byte) alphabet.charAt(rnd.nextInt(alphabet.length()));
        }
      }
    }
    return m;
  }
}
