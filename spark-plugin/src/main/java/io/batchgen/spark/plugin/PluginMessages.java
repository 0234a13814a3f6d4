package io.batchgen.spark.plugin;

import io.batchgen.core.progress.RowSample;
import io.batchgen.core.progress.TaskCounts;
import io.batchgen.core.rebalance.Move;
import io.batchgen.core.runtime.AdmissionOrder;
import io.batchgen.core.runtime.FinishReason;
import io.batchgen.core.runtime.SchedulingMode;
import io.batchgen.spark.runtime.EngineSpec;
import java.util.List;

import io.batchgen.spark.plugin.PluginWire.In;
import io.batchgen.spark.plugin.PluginWire.Out;

/**
 * Messages between the executor plugins and the driver plugin, carried by Spark's plugin RPC
 * ({@code PluginContext.ask/send}). They never cross the RPC as objects: {@link PluginWire}
 * encodes each into a {@code byte[]} (see there why), so these records are plain values, not
 * {@code Serializable}.
 *
 * <p>Spark's plugin RPC runs executor to driver only: an executor asks or sends, the driver
 * answers asks. Each record states its direction.
 */
public final class PluginMessages {
  private PluginMessages() {
  }

  /**
   * A message of the plugin protocol. Its tag on the wire is registered in {@link PluginWire};
   * its fields are written by {@code write} and read back by the kind's static {@code read}.
   */
  public sealed interface Message permits Register, Welcome, LoadReport, Ping, Pong, StartFailed,
      Orders, StateChunk, FetchChunk, Ack, MoveDone, TaskProgress {
    /** Writes the fields in the order the kind's {@code read} reads them. */
    void write(Out out);
  }

  /**
   * Executor → driver, once at executor start ({@code ask}); answered by {@link Welcome}.
   *
   * @param cores      the cores the executor was given ({@link ExecutorCores})
   * @param gpuAddress the GPU Spark's resource scheduling gave the executor, or null
   */
  public record Register(String executorId, String host, long pid, int cores, String gpuAddress)
      implements Message {
    @Override
    public void write(Out out) {
      out.string(executorId).string(host).i64(pid).i32(cores).string(gpuAddress);
    }

    static Register read(In in) {
      return new Register(in.string("executorId"), in.string("host"), in.i64("pid"),
          in.count("cores"), in.nullableString("gpuAddress"));
    }
  }

  /** Driver → executor: the registration was accepted. */
  public record Welcome(long driverPid, int registeredExecutors) implements Message {
    @Override
    public void write(Out out) {
      out.i64(driverPid).i32(registeredExecutors);
    }

    static Welcome read(In in) {
      return new Welcome(in.i64("driverPid"), in.count("registeredExecutors"));
    }
  }

  /**
   * Executor → driver, periodically ({@code ask}, answered with {@link Orders}): the executor's
   * load for the rebalancer and the progress line, with the results of migrated sequences it
   * finished for other executors. Orders travel in the answers because Spark's plugin RPC only
   * lets executors call the driver.
   *
   * @param sequence        increasing per executor, so the driver can drop stale reports
   * @param queuedSequences admitted but not yet started, all runtimes together
   * @param activeSequences holding KV or parked
   * @param tokensGenerated since the runtimes started
   * @param tokensRemaining upper bound on the tokens the live sequences may still generate
   * @param migration       what this executor has moved so far
   * @param runtimes        the load of each runtime (model setting) it runs
   * @param results         finished sequences it ran for other executors (migrated in)
   */
  public record LoadReport(String executorId, long sequence, int queuedSequences,
      int activeSequences, long tokensGenerated, long tokensRemaining, MigrationCounts migration,
      List<RuntimeLoad> runtimes, List<MigratedResult> results) implements Message {

    public LoadReport {
      runtimes = List.copyOf(runtimes);
      results = List.copyOf(results);
    }

    /** A report without runtimes or results (tests, idle executors). */
    public LoadReport(String executorId, long sequence, int queuedSequences, int activeSequences,
        long tokensGenerated, long tokensRemaining) {
      this(executorId, sequence, queuedSequences, activeSequences, tokensGenerated,
          tokensRemaining, MigrationCounts.NONE, List.of(), List.of());
    }

    @Override
    public void write(Out out) {
      out.string(executorId).i64(sequence).i32(queuedSequences).i32(activeSequences)
          .i64(tokensGenerated).i64(tokensRemaining);
      migration.write(out);
      out.list(runtimes, (o, r) -> r.write(o));
      out.list(results, (o, r) -> r.write(o));
    }

    static LoadReport read(In in) {
      return new LoadReport(in.string("executorId"), in.i64("sequence"),
          in.count("queuedSequences"), in.count("activeSequences"), in.i64("tokensGenerated"),
          in.i64("tokensRemaining"), MigrationCounts.read(in),
          in.list("runtimes", RuntimeLoad::read), in.list("results", MigratedResult::read));
    }
  }

  /**
   * Moves an executor took part in.
   *
   * @param movedOut      sequences it sent to other executors
   * @param movedIn       sequences it ran for other executors
   * @param bytesOut      sequence-state bytes it sent
   * @param withKv        of the sequences sent, those that carried their KV cache
   * @param reclaimed     sequences it took back (their destination was lost or refused them)
   */
  public record MigrationCounts(long movedOut, long movedIn, long bytesOut, long withKv,
      long reclaimed) {
    public static final MigrationCounts NONE = new MigrationCounts(0, 0, 0, 0, 0);

    void write(Out out) {
      out.i64(movedOut).i64(movedIn).i64(bytesOut).i64(withKv).i64(reclaimed);
    }

    static MigrationCounts read(In in) {
      return new MigrationCounts(in.i64("movedOut"), in.i64("movedIn"), in.i64("bytesOut"),
          in.i64("withKv"), in.i64("reclaimed"));
    }
  }

  /**
   * One runtime of an executor: the engine spec it runs, its model's fingerprint, and its load as
   * the rebalancer needs it (see {@code io.batchgen.core.rebalance.ExecutorLoad}); with the
   * gauges the job report draws: KV cache blocks in use and in the pool, and the routed-expert
   * batch sizes so far ({@code RuntimeMetrics.expertBatchSizes}, power-of-two buckets); and
   * how many of its sequences stay ({@code staying}): those it hosts for other executors (they
   * do not move on) and those of jobs with option {@code rebalance=false}.
   */
  public record RuntimeLoad(EngineSpec spec, String fingerprint, int queued, int running,
      int parked, long positionsLeft, long expectedNewTokens, double tokensPerSecond,
      double prefillTokensPerSecond, long kvBytesPerPosition, double meanCachedPositions,
      int maxRunning, int kvBlocksUsed, int kvBlocksTotal, List<Long> expertBatchSizes,
      int staying) {

    public RuntimeLoad {
      expertBatchSizes = List.copyOf(expertBatchSizes);
    }

    /** A load without the report's gauges (tests, simulations). */
    public RuntimeLoad(EngineSpec spec, String fingerprint, int queued, int running, int parked,
        long positionsLeft, long expectedNewTokens, double tokensPerSecond,
        double prefillTokensPerSecond, long kvBytesPerPosition, double meanCachedPositions,
        int maxRunning) {
      this(spec, fingerprint, queued, running, parked, positionsLeft, expectedNewTokens,
          tokensPerSecond, prefillTokensPerSecond, kvBytesPerPosition, meanCachedPositions,
          maxRunning, 0, 0, List.of(), 0);
    }

    void write(Out out) {
      writeSpec(out, spec);
      out.string(fingerprint).i32(queued).i32(running).i32(parked).i64(positionsLeft)
          .i64(expectedNewTokens).f64(tokensPerSecond).f64(prefillTokensPerSecond)
          .i64(kvBytesPerPosition).f64(meanCachedPositions).i32(maxRunning).i32(kvBlocksUsed)
          .i32(kvBlocksTotal).list(expertBatchSizes, Out::i64).i32(staying);
    }

    static RuntimeLoad read(In in) {
      return new RuntimeLoad(readSpec(in), in.string("fingerprint"), in.count("queued"),
          in.count("running"), in.count("parked"), in.i64("positionsLeft"),
          in.i64("expectedNewTokens"), in.f64("tokensPerSecond"),
          in.f64("prefillTokensPerSecond"), in.i64("kvBytesPerPosition"),
          in.f64("meanCachedPositions"), in.count("maxRunning"), in.count("kvBlocksUsed"),
          in.count("kvBlocksTotal"), in.list("expertBatchSizes", i -> i.i64("bucket")),
          in.count("staying"));
    }
  }

  static void writeSpec(Out out, EngineSpec spec) {
    out.string(spec.modelPath()).string(spec.backend()).i32(spec.threads())
        .i32(spec.schedulingMode().ordinal()).i64(spec.kvCacheBytes())
        .i32(spec.maxRunningSequences()).bool(spec.kvOffload()).i64(spec.weightBudgetBytes())
        .f64(spec.weightBudgetHeapFraction()).i32(spec.admissionOrder().ordinal());
  }

  static EngineSpec readSpec(In in) {
    return new EngineSpec(in.string("spec.modelPath"), in.string("spec.backend"),
        in.i32("spec.threads"), in.enumValue("spec.schedulingMode", SchedulingMode.values()),
        in.i64("spec.kvCacheBytes"), in.count("spec.maxRunningSequences"),
        in.bool("spec.kvOffload"), in.i64("spec.weightBudgetBytes"),
        in.f64("spec.weightBudgetHeapFraction"),
        in.enumValue("spec.admissionOrder", AdmissionOrder.values()));
  }

  /**
   * A migrated sequence's result, on its way back to the executor whose task owns it.
   *
   * @param moveId     the move that carried it
   * @param owner      the executor it came from
   * @param sequenceId its id in the owner's runtime
   */
  public record MigratedResult(long moveId, String owner, String sequenceId, int[] tokens,
      FinishReason reason, String error, int promptTokens, int preemptions) {

    void write(Out out) {
      out.i64(moveId).string(owner).string(sequenceId).ints(tokens).i32(reason.ordinal())
          .string(error).i32(promptTokens).i32(preemptions);
    }

    static MigratedResult read(In in) {
      return new MigratedResult(in.i64("moveId"), in.string("owner"), in.string("sequenceId"),
          in.ints("tokens"), in.enumValue("reason", FinishReason.values()),
          in.nullableString("error"), in.count("promptTokens"), in.count("preemptions"));
    }
  }

  /**
   * Driver → executor: the answer to a {@link LoadReport}, what the executor must do now.
   *
   * @param migrateOut moves this executor is the source of: detach and upload
   * @param migrateIn  moves ready for this executor to fetch and run
   * @param results    results of sequences this executor owns that ran elsewhere
   * @param reclaim    moves whose sequences this executor must run again itself
   * @param cancel     moves this executor hosts whose owner is gone: cancel their sequences
   */
  public record Orders(List<MigrateOut> migrateOut, List<MigrateIn> migrateIn,
      List<MigratedResult> results, List<Long> reclaim, List<Long> cancel) implements Message {
    public static final Orders NONE = new Orders(List.of(), List.of(), List.of(), List.of(),
        List.of());

    public Orders {
      migrateOut = List.copyOf(migrateOut);
      migrateIn = List.copyOf(migrateIn);
      results = List.copyOf(results);
      reclaim = List.copyOf(reclaim);
      cancel = List.copyOf(cancel);
    }

    public boolean isEmpty() {
      return migrateOut.isEmpty() && migrateIn.isEmpty() && results.isEmpty()
          && reclaim.isEmpty() && cancel.isEmpty();
    }

    @Override
    public void write(Out out) {
      out.list(migrateOut, (o, m) -> m.write(o));
      out.list(migrateIn, (o, m) -> m.write(o));
      out.list(results, (o, r) -> r.write(o));
      out.list(reclaim, Out::i64);
      out.list(cancel, Out::i64);
    }

    static Orders read(In in) {
      return new Orders(in.list("migrateOut", MigrateOut::read),
          in.list("migrateIn", MigrateIn::read), in.list("results", MigratedResult::read),
          in.list("reclaim", i -> i.i64("reclaim")), in.list("cancel", i -> i.i64("cancel")));
    }
  }

  /**
   * Detach up to {@code sequences} of {@code spec}'s runtime, carrying up to about {@code work}
   * tokens of remaining work (0: no limit), and upload them for {@code to}.
   */
  public record MigrateOut(long moveId, String to, EngineSpec spec, int sequences,
      Move.Kind kind, long work) {
    void write(Out out) {
      out.i64(moveId).string(to);
      writeSpec(out, spec);
      out.i32(sequences).i32(kind.ordinal()).i64(work);
    }

    static MigrateOut read(In in) {
      return new MigrateOut(in.i64("moveId"), in.string("to"), readSpec(in),
          in.count("sequences"), in.enumValue("kind", Move.Kind.values()), in.i64("work"));
    }
  }

  /**
   * Fetch move {@code moveId}'s {@code chunks} chunks and run its sequences under {@code spec},
   * if this executor's copy of the model has {@code fingerprint}.
   */
  public record MigrateIn(long moveId, String from, EngineSpec spec, String fingerprint,
      int chunks) {
    void write(Out out) {
      out.i64(moveId).string(from);
      writeSpec(out, spec);
      out.string(fingerprint).i32(chunks);
    }

    static MigrateIn read(In in) {
      return new MigrateIn(in.i64("moveId"), in.string("from"), readSpec(in),
          in.string("fingerprint"), in.count("chunks"));
    }
  }

  /**
   * Part of a move's state: the source uploads it ({@code ask}, answered with {@link Ack}); the
   * destination gets it as the answer to {@link FetchChunk}.
   *
   * @param index chunk number from 0
   * @param last  whether it is the move's last chunk
   * @param bytes encoded snapshots ({@code SnapshotCodec} stream), at most a few MiB
   */
  public record StateChunk(long moveId, int index, boolean last, byte[] bytes)
      implements Message {
    @Override
    public void write(Out out) {
      out.i64(moveId).i32(index).bool(last).bytes(bytes);
    }

    static StateChunk read(In in) {
      return new StateChunk(in.i64("moveId"), in.count("index"), in.bool("last"),
          in.bytes("bytes"));
    }
  }

  /** Destination → driver ({@code ask}, answered with a {@link StateChunk}). */
  public record FetchChunk(long moveId, int index) implements Message {
    @Override
    public void write(Out out) {
      out.i64(moveId).i32(index);
    }

    static FetchChunk read(In in) {
      return new FetchChunk(in.i64("moveId"), in.count("index"));
    }
  }

  /**
   * Driver → executor: whether an upload was taken; when not, the source waits and sends it
   * again (the driver holds at most spark.batchgen.rebalance.bufferSize of state at once).
   */
  public record Ack(boolean accepted, String note) implements Message {
    @Override
    public void write(Out out) {
      out.bool(accepted).string(note);
    }

    static Ack read(In in) {
      return new Ack(in.bool("accepted"), in.nullableString("note"));
    }
  }

  /**
   * Executor → driver ({@code ask}, answered with null): a move's step finished. The source says
   * how many sequences it detached and uploaded (0: nothing to move); the destination says how
   * many it restored, or why it refused them ({@code ok} false: the source reclaims them).
   */
  public record MoveDone(long moveId, String executorId, boolean ok, int sequences,
      String message) implements Message {
    @Override
    public void write(Out out) {
      out.i64(moveId).string(executorId).bool(ok).i32(sequences).string(message);
    }

    static MoveDone read(In in) {
      return new MoveDone(in.i64("moveId"), in.string("executorId"), in.bool("ok"),
          in.count("sequences"), in.nullableString("message"));
    }
  }

  /** Executor (usually from a task) → driver ({@code ask}): liveness probe answered by {@link Pong}. */
  public record Ping(String executorId, long pid) implements Message {
    @Override
    public void write(Out out) {
      out.string(executorId).i64(pid);
    }

    static Ping read(In in) {
      return new Ping(in.string("executorId"), in.i64("pid"));
    }
  }

  /** Driver → executor: answer to {@link Ping}. */
  public record Pong(long driverPid, int registeredExecutors) implements Message {
    @Override
    public void write(Out out) {
      out.i64(driverPid).i32(registeredExecutors);
    }

    static Pong read(In in) {
      return new Pong(in.i64("driverPid"), in.count("registeredExecutors"));
    }
  }

  /**
   * Executor → driver ({@code ask}, answered with null), when the executor plugin cannot start:
   * the cause, before the executor exits. Spark's own notice of the executor's exit may lose its
   * reason (it races the executor's shutdown), so the driver hears the cause from here.
   *
   * @param cause what failed and which setting fixes it; no prompt text
   */
  public record StartFailed(String executorId, String host, String cause) implements Message {
    @Override
    public void write(Out out) {
      out.string(executorId).string(host).string(cause);
    }

    static StartFailed read(In in) {
      return new StartFailed(in.string("executorId"), in.string("host"), in.string("cause"));
    }
  }

  /**
   * Executor → driver, with each load report while the executor runs batchgen write tasks
   * ({@code send}, no answer): what each running task attempt has done so far, for the job's
   * progress. A task's final counts travel in its commit message instead.
   */
  public record TaskProgress(String executorId, List<TaskReport> tasks) implements Message {
    public TaskProgress {
      tasks = List.copyOf(tasks);
    }

    @Override
    public void write(Out out) {
      out.string(executorId);
      out.list(tasks, (o, t) -> t.write(o));
    }

    static TaskProgress read(In in) {
      return new TaskProgress(in.string("executorId"), in.list("tasks", TaskReport::read));
    }
  }

  /**
   * One running task attempt's counts.
   *
   * @param jobId     the batchgen write job (its output's job id)
   * @param stageId   Spark's stage of the write
   * @param partition the partition the attempt computes
   * @param attemptId Spark's task id of the attempt (unique in the application)
   */
  public record TaskReport(String jobId, int stageId, int partition, long attemptId,
      TaskCounts counts) {

    void write(Out out) {
      out.string(jobId).i32(stageId).i32(partition).i64(attemptId);
      writeSample(out, counts.finished());
      writeSample(out, counts.leading());
      out.i64(counts.failedRows()).i64(counts.skippedRows()).i64(counts.inFlightRows())
          .i64(counts.inFlightTokens());
    }

    static TaskReport read(In in) {
      return new TaskReport(in.string("jobId"), in.i32("stageId"), in.count("partition"),
          in.i64("attemptId"), new TaskCounts(readSample(in, "finished"),
          readSample(in, "leading"), in.i64("failedRows"), in.i64("skippedRows"),
          in.i64("inFlightRows"), in.i64("inFlightTokens")));
    }

    private static void writeSample(Out out, RowSample s) {
      out.i64(s.rows()).i64(s.promptTokens()).i64(s.outputTokens());
    }

    private static RowSample readSample(In in, String name) {
      return new RowSample(in.i64(name + ".rows"), in.i64(name + ".promptTokens"),
          in.i64(name + ".outputTokens"));
    }
  }
}
