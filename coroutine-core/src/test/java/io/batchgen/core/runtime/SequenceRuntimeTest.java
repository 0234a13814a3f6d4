package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.snapshot.SequenceSnapshot;
import io.batchgen.core.snapshot.SnapshotCodec;
import io.batchgen.core.testing.RecordingExecutor;
import io.batchgen.core.testing.ReferenceGenerator;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The threaded API: many submitters, bounded result streams, cancel, failures, migration. */
class SequenceRuntimeTest {

  private static RuntimeConfig config() {
    return Harness.config(SchedulingMode.COROUTINE);
  }

  @Test
  void manySubmittingThreadsEachGetTheirResultsThroughBoundedQueues() throws Exception {
    List<int[]> prompts = Harness.prompts(12, 60, 16, TinyMoeExecutor.VOCAB);
    TinyMoeExecutor model = new TinyMoeExecutor(3, true);
    try (SequenceRuntime rt = new SequenceRuntime(model, config())) {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<Map<String, int[]>>> futures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        futures.add(pool.submit(() -> {
          ResultQueue q = rt.newResultQueue(3);
          Map<String, int[]> mine = new ConcurrentHashMap<>();
          for (int i = thread; i < prompts.size(); i += 4) {
            q.submit(new GenerationRequest("p" + i, prompts.get(i), SamplingParams.greedy(5)));
            if (i >= thread + 8) {
              SequenceResult r = q.take();
              mine.put(r.id(), r.tokens());
            }
          }
          while (mine.size() < prompts.size() / 4) {
            SequenceResult r = q.poll(Duration.ofSeconds(30));
            assertThat(r).as("result within 30 s").isNotNull();
            mine.put(r.id(), r.tokens());
          }
          return mine;
        }));
      }
      int total = 0;
      for (int t = 0; t < 4; t++) {
        Map<String, int[]> mine = futures.get(t).get(60, TimeUnit.SECONDS);
        assertThat(mine).hasSize(15);
        for (Map.Entry<String, int[]> e : mine.entrySet()) {
          int i = Integer.parseInt(e.getKey().substring(1));
          assertThat(i % 4).isEqualTo(t);
          assertThat(e.getValue()).as(e.getKey()).containsExactly(
              ReferenceGenerator.greedy(new TinyMoeExecutor(3, true), prompts.get(i), 5));
          total += e.getValue().length;
        }
      }
      pool.shutdown();
      int expectedTokens = total;
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        RuntimeMetrics m = rt.metrics();
        assertThat(m.finishedSequences()).isEqualTo(60);
        assertThat(m.generatedTokens()).isEqualTo(expectedTokens);
        assertThat(m.kvBlocksUsed()).isZero();
      });
      RuntimeMetrics m = rt.metrics();
      assertThat(m.meanExpertBatchRows()).isGreaterThan(1);
      assertThat(m.batches().get(ModuleKind.SHARED_EXPERT)).isPositive();
      assertThat(m.prefillTokens()).isGreaterThanOrEqualTo(
          prompts.stream().mapToInt(p -> p.length).sum());
      assertThat(m.kvBlocksPeak()).isPositive();
    }
  }

  @Test
  void cancelAndCloseDeliverCancelledResults() throws Exception {
    RecordingExecutor ex = new RecordingExecutor(new TinyMoeExecutor(3, false));
    CountDownLatch gate = new CountDownLatch(1);
    AtomicInteger heads = new AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<SequenceRuntime> runtime =
        new java.util.concurrent.atomic.AtomicReference<>();
    ex.failWhen(c -> {
      if (c.key().kind() == ModuleKind.LM_HEAD) {
        int n = heads.incrementAndGet();
        if (n == 3) {
          try {
            gate.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        } else if (n == 12) {
          // hold "other" mid-generation until the test closes the runtime
          while (!runtime.get().isClosing()) {
            Thread.onSpinWait();
          }
        }
      }
      return false;
    });
    SequenceRuntime rt = new SequenceRuntime(ex, config());
    runtime.set(rt);
    Map<String, SequenceResult> results = new ConcurrentHashMap<>();
    rt.submit(new GenerationRequest("long", new int[] {1, 2, 3}, SamplingParams.greedy(200)
        .withIgnoreEos(true)), r -> results.put(r.id(), r));
    rt.submit(new GenerationRequest("other", new int[] {4}, SamplingParams.greedy(200)
        .withIgnoreEos(true)), r -> results.put(r.id(), r));
    await().atMost(Duration.ofSeconds(10)).until(() -> heads.get() >= 3);
    rt.cancel("long");
    rt.cancel("no-such-id");
    gate.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> results.containsKey("long"));
    assertThat(results.get("long").reason()).isEqualTo(FinishReason.CANCELLED);
    assertThat(results.get("long").tokens().length).isLessThan(200);
    rt.close();
    assertThat(results.get("other").reason()).isEqualTo(FinishReason.CANCELLED);
    assertThat(results.get("other").tokens().length).isLessThan(200);
    assertThatThrownBy(() -> rt.submit(new GenerationRequest("late", new int[] {1},
        SamplingParams.greedy(1)), r -> { })).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    rt.close(); // idempotent
  }

  @Test
  void aFailingModuleFailsTheRuntimeAndEveryWaitingCallerPromptly() throws Exception {
    RecordingExecutor ex = new RecordingExecutor(new TinyMoeExecutor(3, false));
    ModuleKey broken = ModuleKey.expert(1, 2);
    ex.failWhen(c -> c.key().equals(broken));
    List<int[]> prompts = Harness.prompts(5, 16, 10, TinyMoeExecutor.VOCAB);
    try (SequenceRuntime rt = new SequenceRuntime(ex, config())) {
      ResultQueue q = rt.newResultQueue(prompts.size());
      ResultQueue idle = rt.newResultQueue(1);
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> {
        // The runtime may fail while these are still being submitted: submit throws then.
        for (int i = 0; i < prompts.size(); i++) {
          q.submit(new GenerationRequest("p" + i, prompts.get(i), SamplingParams.greedy(6)));
        }
        for (int i = 0; i < prompts.size(); i++) {
          q.take();
        }
      }).isInstanceOf(RuntimeFailedException.class)
          .hasMessageContaining("module expert[1,2] failed on")
          .hasMessageContaining("injected failure");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
      assertThat(rt.failure()).isNotNull();
      // Every other caller is told too, and new work is refused with the cause.
      assertThatThrownBy(() -> idle.poll(Duration.ZERO))
          .isInstanceOf(RuntimeFailedException.class);
      assertThatThrownBy(() -> q.submit(new GenerationRequest("late", prompts.get(0),
          SamplingParams.greedy(2)))).isInstanceOf(RuntimeFailedException.class)
          .hasMessageContaining("injected failure");
    }
  }

  @Test
  void aCallerStillWaitingWhenTheRuntimeClosesIsToldSo() throws Exception {
    RecordingExecutor ex = new RecordingExecutor(new TinyMoeExecutor(3, false));
    SequenceRuntime rt = new SequenceRuntime(ex, config());
    ResultQueue q = rt.newResultQueue(4);
    q.submit(new GenerationRequest("a", new int[] {1, 2, 3}, SamplingParams.greedy(500)
        .withIgnoreEos(true)));
    rt.close();
    // The live sequence was cancelled and delivered; after it, nothing more is owed.
    assertThat(q.take().reason()).isEqualTo(FinishReason.CANCELLED);
    assertThat(q.poll(Duration.ofMillis(300))).isNull();
    assertThatThrownBy(() -> q.submit(new GenerationRequest("b", new int[] {1},
        SamplingParams.greedy(1)))).isInstanceOf(RuntimeFailedException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void aSequenceMigratesMidDecodeBetweenRuntimesAsBytes() throws Exception {
    int[] prompt = {9, 8, 7, 6, 5, 4, 3};
    RecordingExecutor ex = new RecordingExecutor(new TinyMoeExecutor(8, true));
    CountDownLatch gate = new CountDownLatch(1);
    AtomicInteger heads = new AtomicInteger();
    ex.failWhen(c -> {
      if (c.key().kind() == ModuleKind.LM_HEAD && heads.incrementAndGet() == 6) {
        try {
          gate.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return false;
    });
    Map<String, SequenceResult> atSource = new ConcurrentHashMap<>();
    byte[] bytes;
    try (SequenceRuntime source = new SequenceRuntime(ex, config())) {
      source.submit(new GenerationRequest("m", prompt, SamplingParams.greedy(20)
          .withIgnoreEos(true)), r -> atSource.put(r.id(), r));
      await().atMost(Duration.ofSeconds(10)).until(() -> heads.get() >= 6);
      var pending = source.snapshot("m", true, true);
      gate.countDown();
      SequenceSnapshot snap = pending.get(10, TimeUnit.SECONDS);
      assertThat(snap.generated()).hasSize(6);
      assertThat(snap.hasKv()).isTrue();
      bytes = SnapshotCodec.encode(snap);
      assertThatThrownBy(() -> source.snapshot("m", false, true).join())
          .hasMessageContaining("No live sequence [m]");
    }
    assertThat(atSource).isEmpty();
    try (SequenceRuntime dest = new SequenceRuntime(new TinyMoeExecutor(8, true), config())) {
      ResultQueue q = dest.newResultQueue(1);
      q.restore(SnapshotCodec.decode(bytes));
      SequenceResult r = q.poll(Duration.ofSeconds(30));
      assertThat(r.tokens()).containsExactly(
          ReferenceGenerator.greedy(new TinyMoeExecutor(8, true), prompt, 20));
    }
  }

  @Test
  void stopStringsNeedADetokenizer() {
    try (SequenceRuntime rt = new SequenceRuntime(new TinyMoeExecutor(1, false), config())) {
      assertThatThrownBy(() -> rt.submit(new GenerationRequest("s", new int[] {1},
          SamplingParams.greedy(3).withStopStrings(List.of("x"))), r -> { }))
          .hasMessageContaining("Detokenizer");
    }
  }

  @Test
  void aKvBudgetBelowOneBlockPerLayerIsRefusedAtConstruction() {
    assertThatThrownBy(() -> new SequenceRuntime(new TinyMoeExecutor(1, false),
        config().withKv(4, 100, 0))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("raise the KV cache budget");
  }
}
