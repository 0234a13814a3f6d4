package io.batchgen.cli;

import io.batchgen.core.rebalance.Move;
import io.batchgen.core.runtime.AdmissionOrder;
import io.batchgen.core.sim.ClusterSimulation;
import io.batchgen.core.sim.ClusterSimulation.Result;
import io.batchgen.core.sim.ClusterSimulation.Strategy;
import io.batchgen.core.sim.CostModel;
import io.batchgen.core.sim.LowerBound;
import io.batchgen.core.sim.Workload;
import io.batchgen.engine.run.CostCalibration;
import io.batchgen.engine.tools.CommandArgs;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code bin/batchgen bench rebalance}: completion time of a skewed batch job under static, hash
 * and fine-grained partitioning and under the rebalancer (started from the static placement and
 * from the hash one), in two parts and one summary line.
 *
 * <p>The <b>scale part</b> is the discrete-event cluster simulation of {@link ClusterSimulation}:
 * simulated executors with 1,000 rows each of the pinned workload ({@link Workload#pinned}), the
 * real scheduler on every executor and the real policy on the driver, per cost model:
 * {@code gpu-like} ({@link CostModel#gpuLike}, the headline) at 8, 32 and 128 executors and
 * {@code cpu-measured} (fitted in this run to the cpu backend's module calls on the generated
 * {@code bench} model, {@link CostCalibration}) at 8 and 32 ({@code --cpuExecutors 8,32,128} for
 * the full grid: a 128-executor simulation takes minutes of CPU), against the
 * {@link LowerBound}. Simulations run in parallel, one per thread, after the calibration.
 *
 * <p>The <b>real part</b> ({@link RebalanceClusterRuns}) runs the same workload, its lengths
 * scaled down, as sink jobs on {@code local-cluster[2,1,1024]}: rounds of every placement in
 * turn in one session (the baselines with option {@code rebalance=false}), every id checked
 * exactly once and migrations counted. Its {@code real_ratio} is paired: the median over rounds
 * of each round's static time divided by the same round's rebalanced time (the ratio of the
 * medians is printed too, {@code real_ratio_of_medians}).
 */
public final class RebalanceBench {
  static final String USAGE = """
      Usage: bin/batchgen bench rebalance [OPTIONS]

      Two parts over the pinned skewed workload (one seed; prompts uniform 16-512 tokens; rows
      ordered by source: the first third short answers of 1-8 tokens, the middle third chat,
      Pareto alpha 1.5 from 32 capped at 2048, the last third long-form, 512-2048) under these
      placements: static (contiguous equal row ranges), hash (by row id, the sink's default),
      fine (8 partitions per executor, pulled as tasks finish), rebalanced (static, then the
      rebalancer moves sequences) and hash+rebalanced (hash, then the rebalancer: the sink's
      defaults).

      Scale part: a discrete-event simulation of a cluster (the real scheduler on every
      simulated executor, the real rebalancing policy on the driver, module costs from a cost
      model) against the lower bound max(work / executors at full-batch efficiency, longest
      row's serial time).
        --executors 8,32,128       simulated cluster sizes, gpu-like costs (default 8,32,128)
        --cpuExecutors 8,32        simulated cluster sizes, cpu-measured costs (default 8,32;
                                   add 128 for the full grid, which doubles the run time)
        --rowsPerExecutor N        rows per executor (default 1000)
        --costs gpu-like,cpu-measured  cost models (default both; the headline is gpu-like)
        --seed N                   workload seed (default 42)
        --threads N                simulations run at once (default: available processors)
        --calibrationPreset NAME   generated model the cpu-measured costs are fitted on
                                   (default bench)
        --calibrationThreads N     cpu backend threads while calibrating (default 1: one
                                   executor core, as in the real part)
        --transportMBps X          state transport of the cpu-measured cluster, each way
                                   through the driver (default 19: bench transport's median
                                   on this machine)
        --layers N                 simulated layers (default 1; each stands for the modeled
                                   model's layers / N)
        --admission longest|arrival  every runtime's admission order, both parts (default
                                   longest: option admissionOrder=longest, the largest
                                   max_new_tokens first; arrival: the runtime's default,
                                   first come, first served)
        --reportMs N               executors' load-report interval, virtual ms (default 500)
        --rebalanceMs N            driver's policy interval, virtual ms (default 1000)

      Real part: sink jobs on local-cluster[E,1,1024] with the tiny generated model, in one
      session with the rebalancer on (the baselines opt out with option rebalance=false), round
      by round: static, hash, fine, rebalanced, hash+rebalanced, then again.
        --real on|off              run it (default on; off prints real_ratio=n/a)
        --realRows N               rows (default 9600)
        --realScale N              prompt and output lengths divided by N (default 8, so the
                                   tiny model's 512 positions hold every row)
        --realRuns N               rounds, each running every placement once (default 3)
        --realExecutors N          executor JVMs, one core each (default 2)
        --work DIR                 model and result tables (default batchgen-work/rebalance)

      The last line is
        bench rebalance: ratio=<static/rebalanced> hash_ratio=<hash/rebalanced>
          of_bound=<bound/rebalanced> real_ratio=<static/rebalanced, real> migrations=<real
          sequences moved> lost=0 duplicated=0 ... hashreb_ratio=<static/hash+rebalanced>
          hashreb_gain=<hash/hash+rebalanced> hashreb_of_bound=<bound/hash+rebalanced> ...
      with the simulated figures at the largest cluster with the gpu-like costs. real_ratio is
      paired: the median over rounds of the round's static time / the same round's rebalanced
      time (real_ratio_of_medians: the median static time / the median rebalanced time).
      """;

  private static final Set<String> OPTIONS = Set.of("executors", "cpuExecutors",
      "rowsPerExecutor", "costs",
      "seed", "threads", "calibrationPreset", "calibrationThreads", "transportMBps", "layers",
      "reportMs", "rebalanceMs", "admission", "real", "realRows", "realScale", "realRuns",
      "realExecutors",
      "work");
  static final String GPU_LIKE = "gpu-like";
  static final String CPU_MEASURED = "cpu-measured";

  /** One simulated cluster: a cost model and a size, with its workload and bound. */
  private record Cell(CostModel costs, int executors, Workload workload,
      ClusterSimulation.Settings settings, LowerBound bound) {
  }

  private RebalanceBench() {
  }

  public static void main(String[] args) throws Exception {
    int code = run(args, System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** The command line, parsed and checked. */
  private record Options(List<Integer> sizes, List<Integer> cpuSizes, List<String> costNames,
      int rowsPerExecutor,
      int threads, int layers, double reportNanos, double rebalanceNanos, double transport,
      int calibrationThreads, String calibrationPreset, long seed, AdmissionOrder admission,
      boolean real, RebalanceClusterRuns.Settings realSettings) {

    static Options parse(CommandArgs a) {
      List<Integer> sizes = clusterSizes(a, "executors", "8,32,128");
      List<Integer> cpuSizes = clusterSizes(a, "cpuExecutors", "8,32");
      List<String> costNames = List.of(a.get("costs", GPU_LIKE + "," + CPU_MEASURED).split(","));
      for (String c : costNames) {
        if (!c.equals(GPU_LIKE) && !c.equals(CPU_MEASURED)) {
          throw new CommandArgs.UsageException("--costs takes " + GPU_LIKE + " and/or "
              + CPU_MEASURED + ", got [" + c + "]");
        }
      }
      double transport = Double.parseDouble(a.get("transportMBps", "19")) * 1e6;
      if (!(transport > 0)) {
        throw new CommandArgs.UsageException("--transportMBps must be positive");
      }
      long seed = a.longValue("seed", 42);
      boolean real = a.oneOf("real", "on", Set.of("on", "off")).equals("on");
      AdmissionOrder admission = a.oneOf("admission", "longest", Set.of("longest", "arrival"))
          .equals("longest") ? AdmissionOrder.LONGEST_FIRST : AdmissionOrder.ARRIVAL;
      RebalanceClusterRuns.Settings realSettings = new RebalanceClusterRuns.Settings(
          positive("realRows", a.get("realRows", "9600"), 3),
          positive("realScale", a.get("realScale", "8"), 1),
          positive("realRuns", a.get("realRuns", "3"), 1), seed,
          positive("realExecutors", a.get("realExecutors", "2"), 2),
          Path.of(a.get("work", "batchgen-work/rebalance")),
          admission == AdmissionOrder.LONGEST_FIRST ? "longest" : "arrival");
      return new Options(sizes, cpuSizes, costNames,
          positive("rowsPerExecutor", a.get("rowsPerExecutor", "1000"), 3),
          positive("threads", a.get("threads",
              Integer.toString(Runtime.getRuntime().availableProcessors())), 1),
          positive("layers", a.get("layers", "1"), 1),
          positive("reportMs", a.get("reportMs", "500"), 1) * 1e6,
          positive("rebalanceMs", a.get("rebalanceMs", "1000"), 1) * 1e6, transport,
          positive("calibrationThreads", a.get("calibrationThreads", "1"), 1),
          a.get("calibrationPreset", "bench"), seed, admission, real, realSettings);
    }
  }

  /** Runs the benchmark; returns the exit code (0 ok, 2 usage). */
  public static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    Options o;
    try {
      CommandArgs a = CommandArgs.parse(args, OPTIONS, Set.of());
      if (a.help()) {
        out.print(USAGE);
        return 0;
      }
      o = Options.parse(a);
    } catch (CommandArgs.UsageException | NumberFormatException e) {
      err.println("batchgen bench rebalance: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }

    Map<String, CostModel> models = new LinkedHashMap<>();
    for (String name : o.costNames()) {
      if (name.equals(GPU_LIKE)) {
        models.put(name, CostModel.gpuLike());
      } else {
        out.println("bench rebalance: calibrating the cpu backend ...");
        CostCalibration.Calibration cal = CostCalibration.measure(o.calibrationPreset(), "cpu",
            o.calibrationThreads(), o.transport(), Duration.ofSeconds(3));
        out.println(CostCalibration.describe(cal));
        models.put(name, cal.model());
      }
    }
    for (CostModel m : models.values()) {
      out.println(m.describeCosts());
    }
    out.printf(Locale.ROOT, "workload: pinned, seed %d, %d rows per executor: prompts uniform"
        + " 16-512, outputs by source (first third 1-8, middle third Pareto 1.5 from 32 capped"
        + " at 2048, last third 512-2048); admission %s%n", o.seed(), o.rowsPerExecutor(),
        o.admission());

    List<Cell> cells = new ArrayList<>();
    for (CostModel m : models.values()) {
      for (int e : m.name().equals(GPU_LIKE) ? o.sizes() : o.cpuSizes()) {
        Workload w = Workload.pinned(e * o.rowsPerExecutor(), o.seed());
        ClusterSimulation.Settings s = ClusterSimulation.Settings.defaults(e, m, w, o.layers())
            .withIntervals(o.reportNanos(), o.rebalanceNanos());
        s = s.withRuntime(s.runtime().withAdmissionOrder(o.admission()));
        cells.add(new Cell(m, e, w, s, LowerBound.of(w, m, s.runtime(), e)));
      }
    }
    long wall0 = System.nanoTime();
    Map<Cell, Map<Strategy, Result>> results = simulate(cells, o.threads(), out);
    double wallSeconds = (System.nanoTime() - wall0) / 1e9;
    printTable(cells, results, out);

    RebalanceClusterRuns.Result real = null;
    if (o.real()) {
      real = RebalanceClusterRuns.run(o.realSettings(), out);
      printReal(real, out);
    }
    out.println(summary(cells, results, real, o.rowsPerExecutor(), o.seed(), wallSeconds)
        + " admission=" + (o.admission() == AdmissionOrder.LONGEST_FIRST ? "longest"
            : "arrival"));
    return 0;
  }

  private static List<Integer> clusterSizes(CommandArgs a, String option, String dflt) {
    List<Integer> sizes = new ArrayList<>();
    for (String s : a.get(option, dflt).split(",")) {
      sizes.add(positive(option, s.trim(), 2));
    }
    return sizes;
  }

  private static int positive(String option, String value, int least) {
    int v;
    try {
      v = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new CommandArgs.UsageException("--" + option + " must be an integer, got [" + value
          + "]");
    }
    if (v < least) {
      throw new CommandArgs.UsageException("--" + option + " must be at least " + least
          + ", got " + v);
    }
    return v;
  }

  /** Runs every (cell, strategy) simulation, {@code threads} at a time, largest first. */
  private static Map<Cell, Map<Strategy, Result>> simulate(List<Cell> cells, int threads,
      PrintStream out) {
    record Job(Cell cell, Strategy strategy) {
    }
    List<Job> jobs = new ArrayList<>();
    for (Cell c : cells) {
      for (Strategy s : Strategy.values()) {
        jobs.add(new Job(c, s));
      }
    }
    jobs.sort((x, y) -> Integer.compare(y.cell().executors(), x.cell().executors()));
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "bench-rebalance");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<Result>> futures = new ArrayList<>();
      for (Job j : jobs) {
        futures.add(pool.submit(() -> {
          Result r = ClusterSimulation.run(j.cell().workload(), j.cell().settings(),
              j.strategy());
          synchronized (out) {
            out.printf(Locale.ROOT, "  simulated %-12s %4d executors %-10s %8.1f s in %.1f s"
                + " of wall time%n", j.cell().costs().name(), j.cell().executors(),
                j.strategy().label(), r.makespanNanos() / 1e9, r.wallNanos() / 1e9);
          }
          return r;
        }));
      }
      Map<Cell, Map<Strategy, Result>> results = new LinkedHashMap<>();
      for (int i = 0; i < jobs.size(); i++) {
        Result r = futures.get(i).get();
        results.computeIfAbsent(jobs.get(i).cell(), k -> new LinkedHashMap<>())
            .put(jobs.get(i).strategy(), r);
      }
      return results;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("bench rebalance was interrupted", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException re ? re
          : new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private static void printTable(List<Cell> cells, Map<Cell, Map<Strategy, Result>> results,
      PrintStream out) {
    out.println();
    out.println("completion time (virtual seconds) and ratios to the rebalancer's:");
    out.printf(Locale.ROOT, "%-12s %5s %7s %9s %9s %9s %11s %9s %9s %7s %7s %7s %9s %8s %15s"
        + " %19s %9s %7s%n", "costs", "execs", "rows", "static", "hash", "fine", "rebalanced",
        "hash+reb", "bound", "st/reb", "hs/reb", "fn/reb", "bound/reb", "hs/h+r", "moves q/kv/rc",
        "seqs moved q/kv/rc", "GB moved", "busy");
    for (Cell c : cells) {
      Map<Strategy, Result> r = results.get(c);
      Result reb = r.get(Strategy.REBALANCED);
      double rb = reb.makespanNanos();
      double hashReb = r.get(Strategy.HASH_REBALANCED).makespanNanos();
      out.printf(Locale.ROOT, "%-12s %5d %7d %9.1f %9.1f %9.1f %11.1f %9.1f %9.1f %7.2f %7.2f"
          + " %7.2f %9.2f %8.2f %15s %19s %9.2f %7.2f%n", c.costs().name(), c.executors(),
          c.workload().rows(), seconds(r.get(Strategy.STATIC)), seconds(r.get(Strategy.HASH)),
          seconds(r.get(Strategy.FINE)), rb / 1e9, hashReb / 1e9, c.bound().nanos() / 1e9,
          r.get(Strategy.STATIC).makespanNanos() / rb, r.get(Strategy.HASH).makespanNanos() / rb,
          r.get(Strategy.FINE).makespanNanos() / rb, c.bound().nanos() / rb,
          r.get(Strategy.HASH).makespanNanos() / hashReb, kinds(reb.moves()),
          kinds(reb.sequencesMoved()), reb.bytesMoved() / 1e9, reb.busyFraction());
    }
    out.println("(rebalanced = the static ranges with the rebalancer on; hash+reb = the sink's"
        + " default hash clustering with it on; bound = max(work at full-batch efficiency /"
        + " executors, longest row alone); moves, GB and busy are the rebalanced run's)");
  }

  private static double seconds(Result r) {
    return r.makespanNanos() / 1e9;
  }

  private static String kinds(Map<Move.Kind, Long> m) {
    return m.get(Move.Kind.QUEUED) + "/" + m.get(Move.Kind.IN_FLIGHT_WITH_KV) + "/"
        + m.get(Move.Kind.IN_FLIGHT_RECOMPUTE);
  }

  /**
   * The real part's table: median and every run per placement, with its ratio to the
   * rebalancer's time, paired (the median of the rounds' ratios) and of the medians.
   */
  private static void printReal(RebalanceClusterRuns.Result real, PrintStream out) {
    out.println();
    out.println("real part: completion time (wall seconds; median and every run, round by"
        + " round), ratio to the rebalancer's: paired (median of each round's ratio) and of the"
        + " medians:");
    for (RebalanceClusterRuns.Placement p : RebalanceClusterRuns.PLACEMENTS) {
      RebalanceClusterRuns.Outcome o = real.get(p.label());
      StringBuilder runs = new StringBuilder();
      for (double s : o.seconds()) {
        runs.append(runs.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", s));
      }
      out.printf(Locale.ROOT, "  %-15s %7.1f s  (runs %s)  paired x%.2f, of medians x%.2f"
          + "  migrated %d, lost %d, duplicated %d, errors %d%n", p.label(), o.median(), runs,
          real.pairedRatio(p.label()), real.ratioOfMedians(p.label()), o.migrations(), o.lost(),
          o.duplicated(), o.errors());
    }
  }

  /**
   * The summary line: the simulated headline at the largest cluster (gpu-like costs when run),
   * the real part's ratio; lost and duplicated over both parts; {@code migrations} the real
   * part's sequences moved (all rebalanced runs), {@code sim_migrations} the simulation's.
   */
  static String summary(List<Cell> cells, Map<Cell, Map<Strategy, Result>> results,
      RebalanceClusterRuns.Result real, int rowsPerExecutor, long seed, double wallSeconds) {
    Cell head = headline(cells, GPU_LIKE);
    Cell cpu = headline(cells, CPU_MEASURED);
    long lost = 0;
    long duplicated = 0;
    for (Map<Strategy, Result> r : results.values()) {
      for (Result x : r.values()) {
        lost += x.lost();
        duplicated += x.duplicated();
      }
    }
    String realRatio = "n/a";
    String migrations = "n/a";
    String realTail = "";
    if (real != null) {
      for (RebalanceClusterRuns.Outcome o : real.outcomes().values()) {
        lost += o.lost();
        duplicated += o.duplicated();
      }
      realRatio = String.format(Locale.ROOT, "%.3f", real.pairedRatio("static"));
      migrations = Long.toString(real.get("rebalanced").migrations());
      realTail = String.format(Locale.ROOT, " real_hash_ratio=%.3f real_fine_ratio=%.3f"
          + " real_hashreb_ratio=%.3f real_hashreb_gain=%.3f real_hashreb_migrations=%d"
          + " real_ratio_of_medians=%.3f real_rebalanced_s=%.1f real_errors=%d",
          real.pairedRatio("hash"), real.pairedRatio("fine"),
          real.pairedRatio("static", "hash+rebalanced"),
          real.pairedRatio("hash", "hash+rebalanced"), real.get("hash+rebalanced").migrations(),
          real.ratioOfMedians("static"),
          real.get("rebalanced").median(), real.outcomes().values().stream()
              .mapToLong(RebalanceClusterRuns.Outcome::errors).sum());
    }
    Map<Strategy, Result> h = results.get(head);
    Result reb = h.get(Strategy.REBALANCED);
    double rb = reb.makespanNanos();
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
        "bench rebalance: ratio=%.3f hash_ratio=%.3f of_bound=%.3f real_ratio=%s migrations=%s"
        + " lost=%d duplicated=%d fine_ratio=%.3f sim_migrations=%d sim_moves=%d"
        + " kv_sequences=%d recompute_sequences=%d gb_moved=%.2f costs=%s executors=%d",
        h.get(Strategy.STATIC).makespanNanos() / rb, h.get(Strategy.HASH).makespanNanos() / rb,
        head.bound().nanos() / rb, realRatio, migrations, lost, duplicated,
        h.get(Strategy.FINE).makespanNanos() / rb, reb.totalSequencesMoved(), reb.totalMoves(),
        reb.sequencesMoved().get(Move.Kind.IN_FLIGHT_WITH_KV),
        reb.sequencesMoved().get(Move.Kind.IN_FLIGHT_RECOMPUTE), reb.bytesMoved() / 1e9,
        head.costs().name(), head.executors()));
    // The sink's default: hash clustering with the rebalancer on, against static and plain hash.
    double hr = h.get(Strategy.HASH_REBALANCED).makespanNanos();
    sb.append(String.format(Locale.ROOT, " hashreb_ratio=%.3f hashreb_gain=%.3f"
        + " hashreb_of_bound=%.3f", h.get(Strategy.STATIC).makespanNanos() / hr,
        h.get(Strategy.HASH).makespanNanos() / hr, head.bound().nanos() / hr));
    if (cpu != null && cpu != head) {
      Map<Strategy, Result> c = results.get(cpu);
      double cr = c.get(Strategy.REBALANCED).makespanNanos();
      sb.append(String.format(Locale.ROOT, " cpu_ratio=%.3f cpu_hash_ratio=%.3f"
          + " cpu_of_bound=%.3f cpu_hashreb_gain=%.3f cpu_executors=%d",
          c.get(Strategy.STATIC).makespanNanos() / cr, c.get(Strategy.HASH).makespanNanos() / cr,
          cpu.bound().nanos() / cr, c.get(Strategy.HASH).makespanNanos()
              / c.get(Strategy.HASH_REBALANCED).makespanNanos(), cpu.executors()));
    }
    sb.append(realTail);
    sb.append(String.format(Locale.ROOT, " rows_per_executor=%d seed=%d sim_wall_s=%.0f",
        rowsPerExecutor, seed, wallSeconds));
    return sb.toString();
  }

  /** The largest cluster run with {@code costs}; with other costs only, the first model's. */
  private static Cell headline(List<Cell> cells, String costs) {
    Cell best = null;
    for (Cell c : cells) {
      if (c.costs().name().equals(costs)
          && (best == null || c.executors() > best.executors())) {
        best = c;
      }
    }
    if (best != null || !costs.equals(GPU_LIKE)) {
      return best;
    }
    for (Cell c : cells) {
      if (c.costs().name().equals(cells.get(0).costs().name())
          && (best == null || c.executors() > best.executors())) {
        best = c;
      }
    }
    return best;
  }
}
