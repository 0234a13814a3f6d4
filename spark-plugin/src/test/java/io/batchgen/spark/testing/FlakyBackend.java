package io.batchgen.spark.testing;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.RowBatch;
import io.batchgen.engine.backend.BackendProvider;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.model.LoadedModel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Backend {@code flaky}: the cpu backend with an injected failure. Once the LM head has seen a
 * given number of rows in this JVM (about one per generated token), each call throws, a given
 * number of times in all (a runtime that failed is replaced, and the replacement counts on);
 * then it works again. Tests set the plan with {@link #plan} before a job and {@link #reset}
 * after; local-mode executors share the JVM.
 */
public final class FlakyBackend implements BackendProvider {
  private static final AtomicInteger LM_HEAD_ROWS = new AtomicInteger();
  private static final AtomicInteger FAILURES_LEFT = new AtomicInteger();
  private static final AtomicInteger FAILED = new AtomicInteger();
  private static volatile int failFromRow = Integer.MAX_VALUE;

  /** Fail the LM-head calls that reach row {@code row} from now, {@code times} calls in all. */
  public static void plan(int row, int times) {
    LM_HEAD_ROWS.set(0);
    FAILED.set(0);
    FAILURES_LEFT.set(times);
    failFromRow = row;
  }

  public static void reset() {
    plan(Integer.MAX_VALUE, 0);
  }

  /** Failures injected since the last {@link #plan}. */
  public static int failed() {
    return FAILED.get();
  }

  @Override
  public String name() {
    return "flaky";
  }

  @Override
  public ModuleExecutor create(LoadedModel model, int threads) {
    return new Flaky(Backends.create("cpu", model, threads));
  }

  private static final class Flaky implements ModuleExecutor {
    private final ModuleExecutor cpu;

    Flaky(ModuleExecutor cpu) {
      this.cpu = cpu;
    }

    @Override
    public ModelShape shape() {
      return cpu.shape();
    }

    @Override
    public String describe() {
      return "flaky(" + cpu.describe() + ")";
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
      if (LM_HEAD_ROWS.addAndGet(batch.rows()) >= failFromRow
          && FAILURES_LEFT.getAndDecrement() > 0) {
        FAILED.incrementAndGet();
        throw new IllegalStateException("injected device failure (test backend 'flaky')");
      }
      cpu.lmHead(batch);
    }

    @Override
    public void close() {
      cpu.close();
    }
  }
}
