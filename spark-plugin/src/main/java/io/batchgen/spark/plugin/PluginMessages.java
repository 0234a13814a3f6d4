package io.batchgen.spark.plugin;

import java.io.Serializable;

/**
 * Messages between the executor plugins and the driver plugin, carried by Spark's plugin RPC
 * ({@code PluginContext.ask/send}). Plain serializable records: they cross JVMs.
 */
public final class PluginMessages {
  private PluginMessages() {
  }

  /** Executor → driver, once at executor start ({@code ask}); answered by {@link Welcome}. */
  public record Register(String executorId, String host, long pid, int cores, String gpuAddress)
      implements Serializable {
  }

  /** Driver → executor: the registration was accepted. */
  public record Welcome(long driverPid, int registeredExecutors) implements Serializable {
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
      int activeSequences, long tokensGenerated, long tokensRemaining) implements Serializable {
  }

  /** Executor (usually from a task) → driver ({@code ask}): liveness probe answered by {@link Pong}. */
  public record Ping(String executorId, long pid) implements Serializable {
  }

  /** Driver → executor: answer to {@link Ping}. */
  public record Pong(long driverPid, int registeredExecutors) implements Serializable {
  }
}
