package io.batchgen.cli;

import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.snapshot.SequenceSnapshot;
import io.batchgen.core.snapshot.SnapshotCodec;
import io.batchgen.engine.tools.CommandArgs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code bin/batchgen bench state}: how fast a sequence's state (a snapshot carrying its KV)
 * encodes and decodes, against the same run's bulk copy of the same floats into little-endian
 * bytes and back (the memory traffic any encoding of them needs).
 */
public final class StateBench {
  static final String USAGE = """
      Usage: bin/batchgen bench state [--mib 64] [--runs 5]

      Encodes and decodes a snapshot with MIB MiB of KV (SnapshotCodec: framed, checksummed),
      alternating with a bulk copy of the same floats to bytes and back, RUNS times each.
      Prints MB/s per run, then the summary line
        bench state: ratio=<encode/copy> encode_mb_s=... decode_mb_s=... copy_mb_s=... ...
      """;

  private StateBench() {
  }

  public static void main(String[] args) throws IOException {
    CommandArgs a = ToolArgs.parseOrExit(args, Set.of("mib", "runs"), "batchgen bench state",
        USAGE);
    if (a == null) {
      return;
    }
    int mib = (int) a.longValue("mib", 64);
    int runs = (int) a.longValue("runs", 5);
    if (mib < 1 || runs < 1) {
      throw new CommandArgs.UsageException("--mib and --runs must be at least 1");
    }
    int layers = 32;
    int kvDim = 1024;
    int position = (int) ((long) mib * (1 << 20) / (4L * 2 * layers * kvDim));
    float[] kv = new float[2 * layers * position * kvDim];
    SplittableRandom rnd = new SplittableRandom(1);
    for (int i = 0; i < kv.length; i++) {
      kv[i] = (float) rnd.nextGaussian();
    }
    int[] tokens = new int[position + 1];
    SequenceSnapshot snap = new SequenceSnapshot("bench", tokens, 1, SamplingParams.greedy(16),
        position, kv, layers, kvDim, 32_000, 0);
    double mb = 4.0 * kv.length / 1e6;
    System.out.printf(Locale.ROOT, "bench state: %.1f MB of KV (%d layers x %d positions x %d),"
        + " %d runs%n", mb, layers, position, kvDim, runs);

    List<Double> encode = new ArrayList<>();
    List<Double> decode = new ArrayList<>();
    List<Double> copy = new ArrayList<>();
    ByteBuffer bytes = ByteBuffer.allocate(4 * kv.length).order(ByteOrder.LITTLE_ENDIAN);
    float[] back = new float[kv.length];
    for (int run = 0; run <= runs; run++) { // run 0 warms up
      long t0 = System.nanoTime();
      bytes.clear();
      bytes.asFloatBuffer().put(kv);
      bytes.asFloatBuffer().get(back);
      double copyMbS = 2 * mb / ((System.nanoTime() - t0) / 1e9);

      t0 = System.nanoTime();
      byte[] encoded = SnapshotCodec.encode(snap);
      double encMbS = mb / ((System.nanoTime() - t0) / 1e9);
      t0 = System.nanoTime();
      SequenceSnapshot decoded = SnapshotCodec.decode(new ByteArrayInputStream(encoded));
      double decMbS = mb / ((System.nanoTime() - t0) / 1e9);
      if (decoded.kv()[kv.length - 1] != kv[kv.length - 1]) {
        throw new IllegalStateException("decoded KV differs from the encoded KV");
      }
      if (run > 0) {
        encode.add(encMbS);
        decode.add(decMbS);
        copy.add(copyMbS / 2);
        System.out.printf(Locale.ROOT, "run %d: encode %.0f MB/s, decode %.0f MB/s, copy %.0f"
            + " MB/s each way%n", run, encMbS, decMbS, copyMbS / 2);
      }
    }
    System.out.printf(Locale.ROOT, "bench state: ratio=%.3f encode_mb_s=%.0f decode_mb_s=%.0f"
        + " copy_mb_s=%.0f decode_ratio=%.3f encode_spread=%.0f-%.0f decode_spread=%.0f-%.0f"
        + " kv_mib=%d runs=%d%n", median(encode) / median(copy), median(encode), median(decode),
        median(copy), median(decode) / median(copy), min(encode), max(encode), min(decode),
        max(decode), mib, runs);
  }

  static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  static double min(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).min().orElse(0);
  }

  static double max(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).max().orElse(0);
  }
}
