package io.batchgen.engine.run;

import io.batchgen.core.runtime.SequenceResult;
import io.batchgen.core.runtime.ResultQueue;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.snapshot.SnapshotCodec;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The far side of {@link CrossJvmResumeTest}, run in a JVM of its own: opens the model on the
 * cpu backend with KV blocks of {@code blockSize} positions, restores every snapshot of the file
 * (decoded as a stream), runs them to the end and prints {@code id: tokens} lines.
 *
 * <p>Usage: {@code ResumeMain MODEL SNAPSHOTS_FILE BLOCK_SIZE COUNT}
 */
public final class ResumeMain {
  private ResumeMain() {
  }

  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    int blockSize = Integer.parseInt(args[2]);
    int count = Integer.parseInt(args[3]);
    RuntimeConfig config = RuntimeConfig.defaults().withKv(blockSize, 64L << 20, 64L << 20);
    try (Engine engine = Engine.open(model, "cpu", 2, config);
         InputStream in = Files.newInputStream(Path.of(args[1]))) {
      ResultQueue queue = engine.newResultQueue(count);
      for (int i = 0; i < count; i++) {
        queue.restore(SnapshotCodec.decode(in));
      }
      List<SequenceResult> results = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        results.add(queue.poll(Duration.ofMinutes(2)));
      }
      for (SequenceResult r : results) {
        System.out.println(r.id() + ": " + IntStream.of(r.tokens()).mapToObj(Integer::toString)
            .collect(Collectors.joining(",")) + " blocks=" + blockSize + " reason=" + r.reason());
      }
    }
  }
}
