package io.batchgen.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Spark standalone cluster on this machine: one Master and N Workers, each a JVM started from
 * a {@link SparkHome} exactly as {@code sbin/start-master.sh} and {@code sbin/start-worker.sh}
 * would (through Spark's launcher), all bound to one host address. Executors and cluster-mode
 * drivers are then launched by the Workers with {@code SPARK_HOME/jars/*} as their classpath, so
 * an application reaches them only as the jar it submits.
 *
 * <p>{@link #start} waits, up to the spec's timeout, until the Master reports every Worker alive
 * (its {@code /json/} page), and fails with the daemon's last log lines if one exits or the wait
 * runs out. {@link #close} stops the Workers (with the executors and drivers they run) and the
 * Master, waiting a bounded time for each. A started cluster also writes {@link #STATE_FILE} in
 * its work folder, so another JVM can {@link #attach} to it later ({@code bin/batchgen cluster
 * stop}).
 */
public final class StandaloneCluster implements AutoCloseable {
  /** The file in the work folder that records the running cluster. */
  public static final String STATE_FILE = "cluster.properties";

  private static final String MASTER_CLASS = "org.apache.spark.deploy.master.Master";
  private static final String WORKER_CLASS = "org.apache.spark.deploy.worker.Worker";
  private static final Duration STOP_WAIT = Duration.ofSeconds(30);

  /**
   * What to start.
   *
   * @param home           the Spark home every daemon runs from
   * @param workDir        logs, Worker work folders (executor and driver logs) and the state file
   * @param host           the address every daemon binds to, e.g. 127.0.0.1
   * @param workers        Workers to start (at least 1)
   * @param coresPerWorker task slots each Worker offers
   * @param memoryPerWorker memory each Worker offers to executors and drivers, e.g. {@code 4g}
   * @param masterPort     the Master's RPC port; 0 picks a free one
   * @param webUiPort      the Master's web UI port; 0 picks a free one
   * @param startTimeout   how long to wait for the Master and every Worker to be alive
   * @param detached       whether the daemons must outlive this JVM and its terminal (the CLI);
   *                       tests leave it false
   */
  public record Spec(SparkHome home, Path workDir, String host, int workers, int coresPerWorker,
      String memoryPerWorker, int masterPort, int webUiPort, Duration startTimeout,
      boolean detached) {

    public Spec {
      if (workers < 1 || coresPerWorker < 1) {
        throw new IllegalArgumentException("A cluster needs at least 1 worker with 1 core, got "
            + workers + " workers with " + coresPerWorker + " cores");
      }
    }

    /** Loopback-only defaults for tests: free ports, 2 minutes to start, not detached. */
    public static Spec local(SparkHome home, Path workDir, int workers, int coresPerWorker,
        String memoryPerWorker) {
      return new Spec(home, workDir, "127.0.0.1", workers, coresPerWorker, memoryPerWorker, 0, 0,
          Duration.ofMinutes(2), false);
    }
  }

  /** One daemon JVM: its role ({@code master}, {@code worker-1}, ...), pid and log file. */
  public record Daemon(String name, long pid, Path log) {
    Optional<ProcessHandle> handle() {
      // A recycled pid must not be mistaken for our daemon: check what the process runs.
      return ProcessHandle.of(pid).filter(h -> h.info().commandLine()
          .map(c -> c.contains("org.apache.spark.deploy")).orElse(true));
    }

    public boolean alive() {
      return handle().map(ProcessHandle::isAlive).orElse(false);
    }
  }

  private final SparkHome home;
  private final Path workDir;
  private final String masterUrl;
  private final String webUiUrl;
  private final List<Daemon> daemons;

  private StandaloneCluster(SparkHome home, Path workDir, String masterUrl, String webUiUrl,
      List<Daemon> daemons) {
    this.home = home;
    this.workDir = workDir;
    this.masterUrl = masterUrl;
    this.webUiUrl = webUiUrl;
    this.daemons = List.copyOf(daemons);
  }

  /** Starts the Master and Workers and waits until every Worker is registered and alive. */
  public static StandaloneCluster start(Spec spec) {
    Path workDir = spec.workDir().toAbsolutePath();
    List<Daemon> started = new ArrayList<>();
    try {
      Files.createDirectories(workDir.resolve("logs"));
      int port = spec.masterPort() == 0 ? freePort(spec.host()) : spec.masterPort();
      int uiPort = spec.webUiPort() == 0 ? freePort(spec.host()) : spec.webUiPort();
      String masterUrl = "spark://" + spec.host() + ":" + port;
      String webUiUrl = "http://" + spec.host() + ":" + uiPort;
      Map<String, String> env = daemonEnvironment(spec);

      started.add(launch(spec, "master", MASTER_CLASS, List.of("--host", spec.host(), "--port",
          Integer.toString(port), "--webui-port", Integer.toString(uiPort)), env));
      for (int i = 1; i <= spec.workers(); i++) {
        Path dir = workDir.resolve("worker-" + i);
        Files.createDirectories(dir);
        started.add(launch(spec, "worker-" + i, WORKER_CLASS, List.of("--host", spec.host(),
            "--webui-port", "0", "--cores", Integer.toString(spec.coresPerWorker()), "--memory",
            spec.memoryPerWorker(), "--work-dir", dir.toString(), masterUrl), env));
      }
      StandaloneCluster cluster = new StandaloneCluster(spec.home(), workDir, masterUrl, webUiUrl,
          started);
      cluster.awaitAlive(spec.workers(), spec.startTimeout());
      cluster.writeState();
      return cluster;
    } catch (IOException | RuntimeException e) {
      new StandaloneCluster(spec.home(), workDir, "", "", started).close();
      if (e instanceof IOException io) {
        throw new UncheckedIOException("Cannot start the standalone cluster in " + workDir + ": "
            + io, io);
      }
      throw (RuntimeException) e;
    }
  }

  /** The cluster recorded in {@code workDir}'s state file, if there is one. */
  public static Optional<StandaloneCluster> attach(Path workDir) {
    Path state = workDir.toAbsolutePath().resolve(STATE_FILE);
    if (!Files.isRegularFile(state)) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (var in = Files.newInputStream(state)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + state + ": " + e, e);
    }
    List<Daemon> daemons = new ArrayList<>();
    for (int i = 0; p.containsKey("daemon." + i + ".name"); i++) {
      daemons.add(new Daemon(p.getProperty("daemon." + i + ".name"),
          Long.parseLong(p.getProperty("daemon." + i + ".pid")),
          Path.of(p.getProperty("daemon." + i + ".log"))));
    }
    return Optional.of(new StandaloneCluster(SparkHome.existing(Path.of(p.getProperty("sparkHome"))),
        workDir.toAbsolutePath(), p.getProperty("masterUrl"), p.getProperty("webUiUrl"), daemons));
  }

  /** The URL applications pass as {@code --master}, e.g. {@code spark://127.0.0.1:7077}. */
  public String masterUrl() {
    return masterUrl;
  }

  /** The Master's web UI. */
  public String webUiUrl() {
    return webUiUrl;
  }

  public Path workDir() {
    return workDir;
  }

  /** The Spark home the daemons run from (and spark-submit should run from). */
  public SparkHome sparkHome() {
    return home;
  }

  public List<Daemon> daemons() {
    return daemons;
  }

  /**
   * The Master's view of the cluster ({@code /json/}): status, alive workers, cores, running
   * applications and drivers, as the raw JSON text; empty when the Master does not answer.
   */
  public Optional<String> masterJson() {
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(webUiUrl + "/json/"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Optional.of(r.body()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** Alive workers as the Master counts them, or -1 when it does not answer. */
  public int aliveWorkers() {
    return masterJson().map(json -> jsonInt(json, "aliveworkers")).orElse(-1);
  }

  /**
   * Stops every daemon, Workers first (a Worker stops the executors and drivers it runs), then
   * the Master; processes a daemon started are stopped too. Waits at most 30 s per daemon before
   * killing it forcibly. Removes the state file.
   */
  @Override
  public void close() {
    List<Daemon> order = new ArrayList<>(daemons);
    java.util.Collections.reverse(order);
    for (Daemon d : order) {
      d.handle().ifPresent(StandaloneCluster::stopTree);
    }
    try {
      Files.deleteIfExists(workDir.resolve(STATE_FILE));
    } catch (IOException e) {
      // Nothing runs any more; a stale state file is only reported as dead daemons later.
    }
  }

  private static void stopTree(ProcessHandle root) {
    List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
    tree.add(0, root);
    tree.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + STOP_WAIT.toNanos();
    for (ProcessHandle h : tree) {
      long left = deadline - System.nanoTime();
      try {
        if (left > 0) {
          h.onExit().get(left, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
      } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
        // fall through to the forcible kill
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
  }

  private void awaitAlive(int workers, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (Daemon d : daemons) {
        if (!d.alive()) {
          throw new IllegalStateException("Spark " + d.name() + " exited while the cluster was "
              + "starting; its log " + d.log() + " ends with:\n" + tail(d.log(), 30));
        }
      }
      Optional<String> json = masterJson();
      if (json.isPresent() && json.get().contains("\"ALIVE\"")
          && jsonInt(json.get(), "aliveworkers") >= workers) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("The standalone cluster did not come up within "
            + timeout.toSeconds() + " s (Master says: " + json.orElse("no answer") + "); logs in "
            + workDir.resolve("logs"));
      }
      sleepQuietly(250);
    }
  }

  private void writeState() throws IOException {
    Properties p = new Properties();
    p.setProperty("sparkHome", home.dir().toString());
    p.setProperty("masterUrl", masterUrl);
    p.setProperty("webUiUrl", webUiUrl);
    for (int i = 0; i < daemons.size(); i++) {
      Daemon d = daemons.get(i);
      p.setProperty("daemon." + i + ".name", d.name());
      p.setProperty("daemon." + i + ".pid", Long.toString(d.pid()));
      p.setProperty("daemon." + i + ".log", d.log().toString());
    }
    try (var out = Files.newOutputStream(workDir.resolve(STATE_FILE))) {
      p.store(out, "BatchGen standalone cluster (bin/batchgen cluster)");
    }
  }

  private static Map<String, String> daemonEnvironment(Spec spec) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SPARK_LOCAL_IP", spec.host());
    env.put("SPARK_DAEMON_MEMORY", "512m");
    // The daemons' own files (not the applications'): keep them in the work folder.
    env.put("SPARK_LOG_DIR", spec.workDir().resolve("logs").toString());
    env.put("SPARK_PID_DIR", spec.workDir().toString());
    return env;
  }

  private static Daemon launch(Spec spec, String name, String className, List<String> args,
      Map<String, String> env) throws IOException {
    List<String> cmd = new ArrayList<>();
    if (spec.detached()) {
      cmd.add("nohup"); // survive the terminal that ran bin/batchgen cluster start
    }
    cmd.addAll(spec.home().command(className, args, env));
    Path log = spec.workDir().toAbsolutePath().resolve("logs").resolve(name + ".log");
    Process p = SparkProcesses.start(cmd, spec.home(), env, log);
    return new Daemon(name, p.pid(), log);
  }

  static int freePort(String host) {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("No free port on " + host + ": " + e, e);
    }
  }

  static int jsonInt(String json, String field) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\"\\s*:\\s*(\\d+)").matcher(json);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  /** The last {@code lines} lines of a log file, or a note that it cannot be read. */
  public static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for the cluster", e);
    }
  }
}
