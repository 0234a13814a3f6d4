package io.batchgen.spark.plugin;

import io.batchgen.core.rebalance.BalancingPolicy;
import io.batchgen.core.rebalance.RebalancePolicy;
import io.batchgen.spark.config.BatchGenConfig;
import io.batchgen.spark.config.ResolvedConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.spark.SparkConf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The driver-side rebalancer: every {@code spark.batchgen.rebalance.interval} it drops executors
 * that stopped reporting (they are lost for routing, whatever Spark still thinks), then, when
 * rebalancing is enabled, runs the policy through the {@link MigrationCoordinator}.
 *
 * <p>Lifecycle: created by the driver plugin's init, closed by its shutdown; one thread.
 */
final class Rebalancer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Rebalancer.class);

  /**
   * The rebalancer's settings, from the session conf.
   *
   * @param enabled          whether moves are planned at all
   * @param intervalMs       how often
   * @param executorTimeoutMs silence after which an executor counts as lost
   * @param bufferBytes      state the driver holds in transit at most
   * @param policy           the policy instance
   */
  record Settings(boolean enabled, long intervalMs, long executorTimeoutMs, long bufferBytes,
      RebalancePolicy policy) {

    static Settings fromSparkConf(SparkConf conf) {
      Map<String, String> batchgen = new HashMap<>();
      for (Tuple2<String, String> kv : conf.getAllWithPrefix("spark.batchgen.")) {
        batchgen.put("spark.batchgen." + kv._1(), kv._2());
      }
      ResolvedConfig c = ResolvedConfig.resolve(Map.of(), batchgen);
      BalancingPolicy.Settings s = new BalancingPolicy.Settings(
          c.get(BatchGenConfig.REBALANCE_MIN_IMBALANCE_MS) / 1000.0,
          c.get(BatchGenConfig.REBALANCE_IMBALANCE_RATIO),
          c.get(BatchGenConfig.REBALANCE_COOLDOWN_MS) * 1_000_000L,
          c.get(BatchGenConfig.REBALANCE_TAIL_SEQUENCES),
          BalancingPolicy.Settings.defaults().maxMovesPerRound());
      return new Settings(c.get(BatchGenConfig.REBALANCE_ENABLED),
          c.get(BatchGenConfig.REBALANCE_INTERVAL_MS),
          c.get(BatchGenConfig.EXECUTOR_TIMEOUT_MS),
          c.get(BatchGenConfig.REBALANCE_BUFFER_BYTES),
          policy(c.get(BatchGenConfig.REBALANCE_POLICY), s));
    }

    /** The policy class, built with the settings when it takes them, else with no arguments. */
    static RebalancePolicy policy(String className, BalancingPolicy.Settings s) {
      try {
        Class<?> c = Class.forName(className, true,
            Thread.currentThread().getContextClassLoader());
        if (!RebalancePolicy.class.isAssignableFrom(c)) {
          throw new IllegalArgumentException(className + " does not implement "
              + RebalancePolicy.class.getName());
        }
        try {
          return (RebalancePolicy) c.getConstructor(BalancingPolicy.Settings.class)
              .newInstance(s);
        } catch (NoSuchMethodException e) {
          return (RebalancePolicy) c.getConstructor().newInstance();
        }
      } catch (ReflectiveOperationException | RuntimeException e) {
        throw new IllegalArgumentException("spark.batchgen.rebalance.policy = " + className
            + " cannot be used: " + e + ". Name a class implementing "
            + RebalancePolicy.class.getName() + " with a public constructor taking "
            + "BalancingPolicy.Settings or none.", e);
      }
    }
  }

  private final Settings settings;
  private final MigrationCoordinator coordinator;
  private final Consumer<String> lost;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
      r -> {
        Thread t = new Thread(r, "batchgen-rebalancer");
        t.setDaemon(true);
        return t;
      });

  /** @param lost told of every executor that stopped reporting (the registry drops it) */
  Rebalancer(Settings settings, MigrationCoordinator coordinator, Consumer<String> lost) {
    this.settings = settings;
    this.coordinator = coordinator;
    this.lost = lost;
    thread.scheduleWithFixedDelay(this::round, settings.intervalMs(), settings.intervalMs(),
        TimeUnit.MILLISECONDS);
  }

  private void round() {
    try {
      long now = System.nanoTime();
      for (String id : coordinator.silentSince(now, settings.executorTimeoutMs() * 1_000_000L)) {
        LOG.warn("Executor {} sent no load report for {} ms; treating it as lost", id,
            settings.executorTimeoutMs());
        coordinator.executorLost(id);
        lost.accept(id);
      }
      if (settings.enabled()) {
        coordinator.rebalance(now);
      }
    } catch (RuntimeException e) {
      LOG.warn("Rebalancing round failed: {}", e.toString(), e);
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
