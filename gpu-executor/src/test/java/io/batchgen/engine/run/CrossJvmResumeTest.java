package io.batchgen.engine.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.RowBatch;
import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.SequenceRuntime;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.snapshot.SequenceSnapshot;
import io.batchgen.core.snapshot.SnapshotCodec;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Migration as it happens between executors, on the real cpu backend: sequences are snapshotted
 * mid-decode (with their KV), encoded to a file, and resumed by another JVM whose runtime uses a
 * different KV block size; the continuation equals an uninterrupted run token for token, greedy
 * and seeded.
 */
class CrossJvmResumeTest {
  @TempDir
  Path dir;

  private static List<GenerationRequest> requests(int vocab) {
    List<GenerationRequest> out = new ArrayList<>();
    java.util.Random r = new java.util.Random(9);
    for (int i = 0; i < 2; i++) {
      int[] p = new int[20 + 7 * i];
      for (int j = 0; j < p.length; j++) {
        p[j] = 1 + r.nextInt(vocab - 2);
      }
      SamplingParams s = i == 0 ? SamplingParams.greedy(40).withIgnoreEos(true)
          : SamplingParams.seeded(0.9, 77, 40).withTopK(20).withIgnoreEos(true);
      out.add(new GenerationRequest(i == 0 ? "greedy" : "seeded", p, s));
    }
    return out;
  }

  @Test
  void aSnapshotTakenMidDecodeResumesInAnotherJvmWithAnotherBlockSize() throws Exception {
    Path model = TinyModels.write("tiny", "mixtral", "f32", 21, dir.resolve("model"));
    Map<String, String> uninterrupted = new HashMap<>();
    List<GenerationRequest> work;
    try (Engine engine = Engine.open(model, "cpu", 2,
        RuntimeConfig.defaults().withKv(16, 64L << 20, 64L << 20))) {
      work = requests(engine.shape().vocabSize());
      engine.generate(work, 4, r -> uninterrupted.put(r.id(), join(r.tokens())));
    }

    // The source: block size 16; the LM head blocks at its 12th call until the snapshot is asked.
    Path file = dir.resolve("snapshots.bin");
    List<SequenceSnapshot> snaps;
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger heads = new AtomicInteger();
    try (LoadedModel loaded = ModelLoader.load(model);
         ModuleExecutor cpu = Backends.create("cpu", loaded, 2);
         SequenceRuntime source = new SequenceRuntime(new Gate(cpu, () -> {
           if (heads.incrementAndGet() == 12) {
             await(release);
           }
         }), RuntimeConfig.defaults().withKv(16, 64L << 20, 64L << 20))) {
      Map<String, Object> never = new HashMap<>();
      for (GenerationRequest r : work) {
        source.submit(r, res -> never.put(res.id(), res));
      }
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
          .until(() -> heads.get() >= 12);
      var pending = source.snapshotAll(List.of("greedy", "seeded"), true, true);
      release.countDown();
      snaps = pending.get(60, TimeUnit.SECONDS);
      assertThat(never).as("detached sequences deliver nothing at the source").isEmpty();
    }
    assertThat(snaps).hasSize(2).allSatisfy(s -> {
      assertThat(s.hasKv()).isTrue();
      assertThat(s.generated().length).isBetween(1, 39);
    });
    try (OutputStream out = Files.newOutputStream(file)) {
      for (SequenceSnapshot s : snaps) {
        SnapshotCodec.encode(s, out);
      }
    }

    Map<String, String> resumed = new HashMap<>();
    for (String line : runJvm(ResumeMain.class, model.toString(), file.toString(), "8", "2")) {
      if (line.contains(" blocks=")) {
        String id = line.substring(0, line.indexOf(": "));
        resumed.put(id, line.substring(line.indexOf(": ") + 2, line.indexOf(" blocks=")));
        assertThat(line).endsWith("blocks=8 reason=LENGTH");
      }
    }
    assertThat(resumed).isEqualTo(uninterrupted);
  }

  private static String join(int[] tokens) {
    return IntStream.of(tokens).mapToObj(Integer::toString).collect(Collectors.joining(","));
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Runs {@code main} in a new JVM with this JVM's classpath and flags; returns its stdout. */
  private static List<String> runJvm(Class<?> main, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("-XX:+IgnoreUnrecognized")) {
        cmd.add(a);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> lines = new String(p.getInputStream().readAllBytes()).lines().toList();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(String.join("\n", lines)).isZero();
    return lines;
  }

  /** The cpu backend with a hook before every LM-head call. */
  private record Gate(ModuleExecutor cpu, Runnable beforeLmHead) implements ModuleExecutor {
    @Override
    public ModelShape shape() {
      return cpu.shape();
    }

    @Override
    public String describe() {
      return "gated(" + cpu.describe() + ")";
    }

    @Override
    public KvStore createKvStore(int numBlocks, int blockSize) {
      return cpu.createKvStore(numBlocks, blockSize);
    }

    @Override
    public long kvBytesPerBlock(int blockSize) {
      return cpu.kvBytesPerBlock(blockSize);
    }

    @Override
    public void embed(int[] tokens, int offset, int count, float[] out, int outOffset) {
      cpu.embed(tokens, offset, count, out, outOffset);
    }

    @Override
    public void attention(AttentionBatch batch) {
      cpu.attention(batch);
    }

    @Override
    public void expert(int layer, int expert, RowBatch batch) {
      cpu.expert(layer, expert, batch);
    }

    @Override
    public void sharedExpert(int layer, RowBatch batch) {
      cpu.sharedExpert(layer, batch);
    }

    @Override
    public void lmHead(RowBatch batch) {
      beforeLmHead.run();
      cpu.lmHead(batch);
    }

    @Override
    public void close() {
      cpu.close();
    }
  }
}
