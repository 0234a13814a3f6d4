package io.batchgen.core.testing;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.ExpertGroups;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.model.RowBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;

/**
 * Wraps an executor and records every module call: which module, how many rows, the attention
 * segments and the routing it produced. Can also fail chosen calls.
 */
public final class RecordingExecutor implements ModuleExecutor {

  /**
   * One module call.
   *
   * @param key        the module
   * @param rows       rows in the batch
   * @param segPositions attention only: first position of each segment
   * @param segRows    attention only: rows of each segment
   * @param topExperts attention only: routing output, {@code (rows, topK)}
   */
  public record Call(ModuleKey key, int rows, int[] segPositions, int[] segRows,
      int[] topExperts) {
  }

  private final ModuleExecutor delegate;
  private final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
  private volatile Predicate<Call> failWhen = c -> false;
  private final boolean groupsExperts;
  private final List<int[]> groupCalls = Collections.synchronizedList(new ArrayList<>());

  public RecordingExecutor(ModuleExecutor delegate) {
    this(delegate, false);
  }

  /**
   * With {@code groupsExperts}, says it runs every expert of a layer in one call
   * ({@link ModuleExecutor#groupsExperts}); each such call is recorded in {@link #groupCalls()}
   * (its experts, in order) and then runs one recorded {@link #expert} call per group.
   */
  public RecordingExecutor(ModuleExecutor delegate, boolean groupsExperts) {
    this.delegate = delegate;
    this.groupsExperts = groupsExperts;
  }

  /** The grouped expert calls so far: the experts of each, in order. */
  public List<int[]> groupCalls() {
    synchronized (groupCalls) {
      return new ArrayList<>(groupCalls);
    }
  }

  @Override
  public boolean groupsExperts() {
    return groupsExperts;
  }

  @Override
  public void experts(int layer, ExpertGroups groups) {
    int[] experts = new int[groups.groups()];
    for (int g = 0; g < experts.length; g++) {
      experts[g] = groups.groupExpert(g);
    }
    groupCalls.add(experts);
    ModuleExecutor.expertsOneByOne(this, layer, groups);
  }

  public List<Call> calls() {
    synchronized (calls) {
      return new ArrayList<>(calls);
    }
  }

  /** Makes calls matching {@code p} throw (before running). */
  public void failWhen(Predicate<Call> p) {
    failWhen = p;
  }

  private void record(Call c) {
    calls.add(c);
    if (failWhen.test(c)) {
      throw new IllegalStateException("injected failure in " + c.key());
    }
  }

  @Override
  public ModelShape shape() {
    return delegate.shape();
  }

  @Override
  public String describe() {
    return "recording(" + delegate.describe() + ")";
  }

  @Override
  public KvStore createKvStore(int numBlocks, int blockSize) {
    return delegate.createKvStore(numBlocks, blockSize);
  }

  @Override
  public long kvBytesPerBlock(int blockSize) {
    return delegate.kvBytesPerBlock(blockSize);
  }

  @Override
  public void embed(int[] tokens, int offset, int count, float[] out, int outOffset) {
    delegate.embed(tokens, offset, count, out, outOffset);
  }

  @Override
  public void attention(AttentionBatch batch) {
    int n = batch.segments();
    int[] pos = new int[n];
    int[] rows = new int[n];
    for (int s = 0; s < n; s++) {
      pos[s] = batch.segmentPosition(s);
      rows[s] = batch.segmentRowCount(s);
    }
    ModuleKey key = ModuleKey.attention(batch.layer());
    if (failWhen.test(new Call(key, batch.rows(), pos, rows, null))) {
      calls.add(new Call(key, batch.rows(), pos, rows, null));
      throw new IllegalStateException("injected failure in " + key);
    }
    delegate.attention(batch);
    calls.add(new Call(key, batch.rows(), pos, rows,
        Arrays.copyOf(batch.topExperts(), batch.rows() * batch.topK())));
  }

  @Override
  public void expert(int layer, int expert, RowBatch batch) {
    record(new Call(ModuleKey.expert(layer, expert), batch.rows(), null, null, null));
    delegate.expert(layer, expert, batch);
  }

  @Override
  public void sharedExpert(int layer, RowBatch batch) {
    record(new Call(ModuleKey.sharedExpert(layer), batch.rows(), null, null, null));
    delegate.sharedExpert(layer, batch);
  }

  @Override
  public void lmHead(RowBatch batch) {
    record(new Call(ModuleKey.lmHead(), batch.rows(), null, null, null));
    delegate.lmHead(batch);
  }

  @Override
  public void close() {
    delegate.close();
  }
}
