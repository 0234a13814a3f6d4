package io.batchgen.io.state;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * Throughput of the state codec, a program (not a test): encodes and decodes 16 sequences of 32
 * KV blocks of (2, 16, 8, 128) floats = 64 MiB of KV, five times, and prints MB/s each way.
 * Numbers are noisy on a shared machine. Run after {@code ./mvnw -o -pl arrow-io test-compile}:
 * {@code java --add-opens=java.base/java.nio=ALL-UNNAMED -cp "$(./mvnw -o -q -pl arrow-io
 * dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout)
 * :arrow-io/target/classes:arrow-io/target/test-classes" io.batchgen.io.state.StateCodecBench}.
 */
public final class StateCodecBench {

  public static void main(String[] args) {
    int floatsPerBlock = 2 * 16 * 8 * 128;
    Random r = new Random(1);
    List<SequenceState> states = new ArrayList<>();
    for (int s = 0; s < 16; s++) {
      List<float[]> blocks = new ArrayList<>();
      for (int b = 0; b < 32; b++) {
        float[] block = new float[floatsPerBlock];
        for (int i = 0; i < block.length; i++) {
          block[i] = r.nextFloat();
        }
        blocks.add(block);
      }
      byte[] meta = new byte[4096];
      r.nextBytes(meta);
      states.add(new SequenceState("seq-" + s, 1, meta, blocks));
    }
    double mb = 16.0 * 32 * floatsPerBlock * 4 / 1e6;
    try (BufferAllocator allocator = new RootAllocator()) {
      StateCodec codec = new StateCodec(allocator, floatsPerBlock);
      for (int round = 0; round < 5; round++) {
        long t0 = System.nanoTime();
        byte[] bytes = codec.encode(states);
        long t1 = System.nanoTime();
        List<SequenceState> back = codec.decode(bytes);
        long t2 = System.nanoTime();
        if (!back.equals(states)) {
          throw new AssertionError("round trip differs");
        }
        System.out.printf("round %d: %.0f MB KV, %d bytes on the wire, encode %.0f MB/s,"
            + " decode+validate %.0f MB/s%n", round, mb, bytes.length, mb / ((t1 - t0) / 1e9),
            mb / ((t2 - t1) / 1e9));
      }
    }
  }
}
