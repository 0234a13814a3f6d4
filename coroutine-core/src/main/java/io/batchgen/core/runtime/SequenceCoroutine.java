package io.batchgen.core.runtime;

import io.batchgen.core.model.MoeCombine;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.sampling.Detokenizer;
import io.batchgen.core.sampling.SamplingParams;
import java.util.Arrays;

/**
 * One sequence as an explicit state machine (not a thread). Between steps its whole state is
 * {@link #tokens()} (prompt then generated), {@link #position()} (how many of them have KV in
 * the cache) and its sampling parameters (with the KV, which the scheduler keeps in the
 * sequence's {@link SequenceSlot}); that is what a snapshot carries.
 *
 * <p>A step processes tokens {@code [position, position + rows)}: a prefill chunk, or the one
 * token generated last. It embeds them, then for each layer awaits the layer's attention, then
 * the routed experts of every row (and the shared expert), combines them with {@link MoeCombine}
 * in router-rank order, and awaits the next layer; after the last layer, if the step reached the
 * end of the tokens, it awaits the LM head and {@link #resumeWithToken samples} one token. The
 * scheduler scatters each module's output into this object's buffers and then calls
 * {@link #resume}, which posts the next await to the {@link AwaitSink}.
 *
 * <p>A step can be abandoned at any await ({@link #abortStep()}, for preemption or snapshots):
 * {@code position} only advances when a step completes, and KV written for positions past it is
 * simply overwritten when the step is redone.
 *
 * <p>It knows nothing of scheduling (queues, KV blocks, parking): the {@link AwaitSink} it is
 * given is its slot in the scheduler. Not thread-safe: owned by the scheduler thread.
 */
final class SequenceCoroutine {
  final String id;
  final SamplingParams params;
  final int promptLength;

  private final int hiddenSize;
  private final int topK;
  private final int numLayers;
  private final boolean sharedExpert;

  private int[] tokens;
  private int numTokens;
  private int position;
  SequenceStatus status = SequenceStatus.QUEUED;
  FinishReason finishReason;
  String error;

  /** Bumped whenever queued awaits must be forgotten (abort, preemption, finish). */
  int epoch;

  // Current step.
  private boolean inStep;
  private int stepRows;
  private int stepStart;
  private int layer;
  private int pending;
  private boolean finalChunk;
  /** (rows, hidden): the residual stream of the step's rows. */
  float[] hidden = new float[0];
  /** (rows, hidden): post-attention norm, the experts' input. */
  float[] ffnInput = new float[0];
  /** (rows, topK): routed experts per row, router rank order. */
  int[] topExperts = new int[0];
  /** (rows, topK): routing weights. */
  float[] topWeights = new float[0];
  /** (rows, topK, hidden): routed experts' outputs per row and rank. */
  float[] expertOut = new float[0];
  /** (rows, hidden): shared expert output. */
  float[] sharedOut = new float[0];
  private final float[] acc;

  SequenceCoroutine(String id, int[] tokens, int promptLength, SamplingParams params,
      ModelShape shape) {
    this.id = id;
    this.params = params;
    this.promptLength = promptLength;
    this.tokens = Arrays.copyOf(tokens, tokens.length + Math.min(params.maxNewTokens(), 64));
    this.numTokens = tokens.length;
    this.hiddenSize = shape.hiddenSize();
    this.topK = shape.topK();
    this.numLayers = shape.numLayers();
    this.sharedExpert = shape.sharedExpert();
    this.acc = new float[hiddenSize];
  }

  int position() {
    return position;
  }

  /** Drops the cached KV: the next steps recompute it from the tokens. */
  void resetPosition() {
    position = 0;
  }

  /** Sets the cached positions (restore from a snapshot that carries KV). */
  void setPosition(int p) {
    position = p;
  }

  int numTokens() {
    return numTokens;
  }

  int generatedCount() {
    return numTokens - promptLength;
  }

  /** Tokens it may still generate at most: max new tokens less what it generated. */
  int budgetLeft() {
    return Math.max(0, params.maxNewTokens() - generatedCount());
  }

  /** Prompt then generated tokens (a copy). */
  int[] tokens() {
    return Arrays.copyOf(tokens, numTokens);
  }

  int[] generated() {
    return Arrays.copyOfRange(tokens, promptLength, numTokens);
  }

  boolean inStep() {
    return inStep;
  }

  int stepRows() {
    return stepRows;
  }

  int stepStart() {
    return stepStart;
  }

  int layer() {
    return layer;
  }

  boolean finalChunk() {
    return finalChunk;
  }

  /** Tokens the next step would process given a prefill chunk limit. */
  int nextStepRows(int chunk) {
    return Math.min(numTokens - position, chunk);
  }

  /**
   * Starts a step over the next {@code rows} tokens: embeds them and awaits attention of layer 0.
   * The caller has made sure the KV blocks cover {@code position + rows} positions.
   */
  void beginStep(int rows, ModuleExecutor executor, ModuleKeys keys, AwaitSink sink) {
    if (inStep) {
      throw new IllegalStateException("Sequence [" + id + "] is already in a step");
    }
    stepRows = rows;
    stepStart = position;
    finalChunk = position + rows == numTokens;
    status = position < promptLength || rows > 1 ? SequenceStatus.PREFILL : SequenceStatus.DECODE;
    ensureBuffers(rows);
    executor.embed(tokens, position, rows, hidden, 0);
    layer = 0;
    inStep = true;
    sink.await(keys.attention(0), 0, 0);
  }

  /**
   * Consumes the result of module {@code kind} for {@code row}/{@code rank} (already scattered
   * into this object's buffers) and posts the next await. For attention, called once per step
   * and layer; for experts, once per (row, rank) entry; for the shared expert once per row.
   */
  void resume(ModuleKind kind, int row, int rank, ModuleKeys keys, AwaitSink sink) {
    switch (kind) {
      case ATTENTION -> {
        pending = stepRows * (topK + (sharedExpert ? 1 : 0));
        for (int r = 0; r < stepRows; r++) {
          for (int j = 0; j < topK; j++) {
            sink.await(keys.expert(layer, topExperts[r * topK + j]), r, j);
          }
          if (sharedExpert) {
            sink.await(keys.shared(layer), r, 0);
          }
        }
      }
      case EXPERT, SHARED_EXPERT -> {
        if (--pending == 0) {
          combine();
          afterLayer(keys, sink);
        }
      }
      case LM_HEAD -> throw new IllegalArgumentException("LM head results go to resumeWithToken");
    }
  }

  private void combine() {
    int h = hiddenSize;
    for (int r = 0; r < stepRows; r++) {
      Arrays.fill(acc, 0f);
      for (int j = 0; j < topK; j++) {
        MoeCombine.accumulate(acc, 0, expertOut, (r * topK + j) * h, topWeights[r * topK + j], h);
      }
      if (sharedExpert) {
        MoeCombine.add(acc, 0, sharedOut, r * h, h);
      }
      MoeCombine.add(hidden, r * h, acc, 0, h);
    }
  }

  private void afterLayer(ModuleKeys keys, AwaitSink sink) {
    if (++layer < numLayers) {
      sink.await(keys.attention(layer), 0, 0);
    } else if (finalChunk) {
      sink.await(keys.lmHead(), stepRows - 1, 0);
    } else {
      position += stepRows;
      inStep = false;
      sink.stepDone();
    }
  }

  /**
   * Appends the token sampled from the LM head, ends the step and decides whether the sequence
   * is finished.
   */
  void resumeWithToken(int token, int[] eosTokenIds, int maxPositions, Detokenizer detokenizer,
      AwaitSink sink) {
    position += stepRows;
    inStep = false;
    if (numTokens == tokens.length) {
      tokens = Arrays.copyOf(tokens, Math.min(tokens.length * 2,
          promptLength + params.maxNewTokens() + 1));
    }
    tokens[numTokens++] = token;
    finishReason = finishCheck(token, eosTokenIds, maxPositions, detokenizer);
    if (finishReason != null) {
      status = SequenceStatus.FINISHED;
    }
    sink.stepDone();
  }

  private FinishReason finishCheck(int token, int[] eos, int maxPositions, Detokenizer detok) {
    if (params.isStopToken(token)) {
      return FinishReason.STOP;
    }
    if (!params.ignoreEos()) {
      for (int e : eos) {
        if (e == token) {
          return FinishReason.STOP;
        }
      }
    }
    if (!params.stopStrings().isEmpty() && detok != null && stopStringHit(detok)) {
      return FinishReason.STOP;
    }
    if (generatedCount() >= params.maxNewTokens() || numTokens >= maxPositions) {
      return FinishReason.LENGTH;
    }
    return null;
  }

  private boolean stopStringHit(Detokenizer detok) {
    int longest = 0;
    for (String s : params.stopStrings()) {
      longest = Math.max(longest, s.length());
    }
    // Each token normally decodes to at least one character; the slack covers tokens that are
    // fragments of one multi-byte character.
    int window = Math.min(generatedCount(), longest + 8);
    String text = detok.decode(tokens, numTokens - window, window);
    for (String s : params.stopStrings()) {
      if (text.contains(s)) {
        return true;
      }
    }
    return false;
  }

  /** Abandons the current step; its queued awaits must be invalidated by the caller (epoch). */
  void abortStep() {
    inStep = false;
    epoch++;
  }

  /** Marks the sequence failed. */
  void fail(FinishReason reason, String message) {
    inStep = false;
    epoch++;
    status = SequenceStatus.FINISHED;
    finishReason = reason;
    error = message;
  }

  private void ensureBuffers(int rows) {
    int h = hiddenSize;
    if (hidden.length < rows * h || (rows == 1 && hidden.length > 8 * h)) {
      hidden = new float[rows * h];
      ffnInput = new float[rows * h];
      topExperts = new int[rows * topK];
      topWeights = new float[rows * topK];
      expertOut = new float[rows * topK * h];
      sharedOut = sharedExpert ? new float[rows * h] : new float[0];
    }
  }

  /** Most positions this sequence can ever hold: prompt + max new tokens, within the model. */
  int maxLength(int maxPositions) {
    return Math.min(promptLength + params.maxNewTokens(), maxPositions);
  }

  /** Frees step buffers while the sequence is parked or queued. */
  void dropBuffers() {
    hidden = new float[0];
    ffnInput = new float[0];
    topExperts = new int[0];
    topWeights = new float[0];
    expertOut = new float[0];
    sharedOut = new float[0];
  }

  @Override
  public String toString() {
    return "Sequence[" + id + ", " + status + ", position=" + position + ", tokens=" + numTokens
        + "]";
  }
}
