package io.batchgen.spark.plugin;

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
  public sealed interface Message permits Register, Welcome, LoadReport, Ping, Pong, StartFailed {
    /** Writes the fields in the order the kind's {@code read} reads them. */
    void write(Out out);
  }

  /**
   * Executor → driver, once at executor start ({@code ask}); answered by {@link Welcome}.
   *
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
   * Executor → driver, periodically ({@code send}, fire-and-forget): the executor's load, for the
   * rebalancer and the progress line.
   *
   * @param sequence        increasing per executor, so the driver can drop stale reports
   * @param queuedSequences admitted but not yet started
   * @param activeSequences in prefill or decode
   * @param tokensGenerated since the runtime started
   * @param tokensRemaining upper bound on the tokens the executor's accepted sequences may still
   *                        generate (their max new tokens, less what they generated)
   */
  public record LoadReport(String executorId, long sequence, int queuedSequences,
      int activeSequences, long tokensGenerated, long tokensRemaining) implements Message {
    @Override
    public void write(Out out) {
      out.string(executorId).i64(sequence).i32(queuedSequences).i32(activeSequences)
          .i64(tokensGenerated).i64(tokensRemaining);
    }

    static LoadReport read(In in) {
      return new LoadReport(in.string("executorId"), in.i64("sequence"),
          in.count("queuedSequences"), in.count("activeSequences"), in.i64("tokensGenerated"),
          in.i64("tokensRemaining"));
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
}
