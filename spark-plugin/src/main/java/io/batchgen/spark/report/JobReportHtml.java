package io.batchgen.spark.report;

import io.batchgen.core.runtime.RuntimeMetrics;
import io.batchgen.spark.plugin.JobTelemetry.Sample;
import io.batchgen.spark.plugin.MoveStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A {@link JobReport} as one self-contained HTML page: inline CSS and SVG charts
 * ({@link SvgChart}), no script and nothing fetched from the network. Sections: the job's
 * totals, tokens/s per executor over time, the routed-expert batch sizes, KV cache use over
 * time, finish reasons, errors, migrations and the slowest partitions.
 */
public final class JobReportHtml {
  /** Partitions listed in "slowest partitions". */
  static final int SLOWEST = 10;

  private JobReportHtml() {
  }

  /** The page. */
  public static String render(JobReport r) {
    JobReport.Job job = r.job();
    StringBuilder h = new StringBuilder(32_768);
    h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
        + "batchgen job ").append(Html.escape(job.jobId())).append("</title>\n<style>\n"
        + "body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}"
        + "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}"
        + "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;"
        + "padding:3px 8px;text-align:left}th{background:#f3f3f3}td.n{text-align:right}"
        + "figure{margin:8px 0}figcaption{font-size:12px;color:#555}"
        + "p.note{font-size:13px;color:#555}code{font-size:12px}\n</style>\n</head>\n<body>\n");
    h.append("<h1>batchgen job ").append(Html.escape(job.jobId())).append("</h1>\n");
    summary(h, job);
    h.append("<h2>Throughput</h2>\n").append(SvgChart.lines("tokens-per-second",
        "Generated tokens per second, per executor", "seconds since the job started",
        "tokens/s", tokensPerSecond(r), "no load reports arrived during the job"));
    h.append("<h2>Expert batches</h2>\n");
    long[] sizes = expertBatchSizes(r);
    List<String> labels = new ArrayList<>();
    double[] counts = new double[sizes.length];
    for (int b = 0; b < sizes.length; b++) {
      labels.add(RuntimeMetrics.expertBatchBucketLabel(b));
      counts[b] = sizes[b];
    }
    h.append(SvgChart.bars("expert-batch-sizes", "Routed-expert module batches by size"
        + " (rows per batch), all executors", "rows in the batch", "batches", labels,
        List.of("batches"), List.of(counts), "no routed-expert batches ran (a dense model, or"
        + " no load reports)"));
    h.append("<p class=\"note\">Expert-level batching gathers the tokens of every waiting"
        + " sequence that routes to one expert: larger batches read each expert's weights for"
        + " more tokens.</p>\n");
    h.append("<h2>KV cache</h2>\n").append(SvgChart.lines("kv-use", "KV cache blocks in use,"
        + " per executor (% of its pool)", "seconds since the job started", "% in use",
        kvUse(r), "no KV cache use was reported during the job"));
    finishReasons(h, r);
    errors(h, r);
    migrations(h, r);
    slowest(h, r);
    h.append("<p class=\"note\">Written by ").append(Html.escape(job.engineVersion()))
        .append(" when the job committed, ").append(Instant.ofEpochMilli(job.endMillis()))
        .append(". Load samples come from the executors' load reports"
            + " (spark.batchgen.rebalance.loadReportInterval).</p>\n</body>\n</html>\n");
    return h.toString();
  }

  private static void summary(StringBuilder h, JobReport.Job job) {
    h.append("<table>\n");
    row(h, "output", "<code>" + Html.escape(job.output()) + "</code>");
    row(h, "model", "<code>" + Html.escape(job.model()) + "</code>");
    row(h, "mode", Html.escape(job.mode()));
    row(h, "started / committed", Instant.ofEpochMilli(job.startMillis()) + " / "
        + Instant.ofEpochMilli(job.endMillis()));
    row(h, "time", String.format(Locale.ROOT, "%.1f s", job.seconds()));
    row(h, "rows", SvgChart.number(job.rows()) + " (" + SvgChart.number(job.failedRows())
        + " failed" + (job.skippedRows() > 0 ? ", " + SvgChart.number(job.skippedRows())
        + " finished by earlier runs" : "") + ")");
    row(h, "prompt tokens", SvgChart.number(job.promptTokens()));
    row(h, "generated tokens", SvgChart.number(job.generatedTokens()));
    row(h, "tokens/s (whole job)", SvgChart.number(job.generatedTokens()
        / Math.max(job.seconds(), 1e-3)));
    h.append("</table>\n");
  }

  private static void row(StringBuilder h, String name, String valueHtml) {
    h.append("<tr><th>").append(Html.escape(name)).append("</th><td>").append(valueHtml)
        .append("</td></tr>\n");
  }

  /** Per executor, tokens/s between consecutive samples, at the later one's time. */
  static List<SvgChart.Series> tokensPerSecond(JobReport r) {
    long start = r.job().startMillis();
    List<SvgChart.Series> out = new ArrayList<>();
    r.telemetry().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      List<double[]> points = new ArrayList<>();
      List<Sample> s = e.getValue();
      for (int i = 1; i < s.size(); i++) {
        double dt = (s.get(i).timeMillis() - s.get(i - 1).timeMillis()) / 1000.0;
        if (dt > 0 && s.get(i).timeMillis() >= start) {
          long tokens = Math.max(0, s.get(i).tokensGenerated() - s.get(i - 1).tokensGenerated());
          points.add(new double[] {(s.get(i).timeMillis() - start) / 1000.0, tokens / dt});
        }
      }
      out.add(new SvgChart.Series("executor " + e.getKey(), points));
    });
    return out;
  }

  /** Per executor, the percentage of its KV blocks in use at each sample of the job. */
  static List<SvgChart.Series> kvUse(JobReport r) {
    long start = r.job().startMillis();
    List<SvgChart.Series> out = new ArrayList<>();
    r.telemetry().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      List<double[]> points = new ArrayList<>();
      for (Sample s : e.getValue()) {
        if (s.kvBlocksTotal() > 0 && s.timeMillis() >= start) {
          points.add(new double[] {(s.timeMillis() - start) / 1000.0,
              100.0 * s.kvBlocksUsed() / s.kvBlocksTotal()});
        }
      }
      out.add(new SvgChart.Series("executor " + e.getKey(), points));
    });
    return out;
  }

  /** Expert batches run during the job, all executors: last sample less the first. */
  static long[] expertBatchSizes(JobReport r) {
    long[] total = new long[RuntimeMetrics.EXPERT_BATCH_BUCKETS];
    for (List<Sample> s : r.telemetry().values()) {
      long[] first = s.get(0).expertBatchSizes();
      long[] last = s.get(s.size() - 1).expertBatchSizes();
      boolean restarted = false;
      for (int b = 0; b < total.length; b++) {
        restarted |= last[b] < first[b];
      }
      for (int b = 0; b < total.length; b++) {
        // A runtime replaced during the job restarted its counts: take them as they are.
        total[b] += restarted || s.size() == 1 ? last[b] : last[b] - first[b];
      }
    }
    return total;
  }

  private static void finishReasons(StringBuilder h, JobReport r) {
    Map<String, Long> reasons = new LinkedHashMap<>();
    for (String k : List.of("stop", "length", "error")) {
      reasons.put(k, r.finishReasons().getOrDefault(k, 0L));
    }
    h.append("<h2>Finish reasons</h2>\n").append(SvgChart.bars("finish-reasons",
        "Rows by finish reason", "finish reason", "rows", new ArrayList<>(reasons.keySet()),
        List.of("rows"), List.of(reasons.values().stream().mapToDouble(Long::doubleValue)
            .toArray()), "no rows were written"));
  }

  private static void errors(StringBuilder h, JobReport r) {
    h.append("<h2>Errors</h2>\n");
    long failed = r.job().failedRows();
    if (failed == 0) {
      h.append("<p>No row failed.</p>\n");
      return;
    }
    h.append("<p>").append(SvgChart.number(failed)).append(" row(s) failed and were written"
        + " with their error (onError=record). Some of them:</p>\n<table>\n<tr><th>error</th>"
        + "</tr>\n");
    r.sampleErrors().stream().limit(20).forEach(e -> h.append("<tr><td>")
        .append(Html.escape(e)).append("</td></tr>\n"));
    h.append("</table>\n");
  }

  private static void migrations(StringBuilder h, JobReport r) {
    h.append("<h2>Migrations</h2>\n");
    List<String> executors = new ArrayList<>(r.telemetry().keySet());
    executors.sort(null);
    double[] out = new double[executors.size()];
    double[] in = new double[executors.size()];
    for (int i = 0; i < executors.size(); i++) {
      List<Sample> s = r.telemetry().get(executors.get(i));
      out[i] = Math.max(0, s.get(s.size() - 1).movedOut() - s.get(0).movedOut());
      in[i] = Math.max(0, s.get(s.size() - 1).movedIn() - s.get(0).movedIn());
    }
    h.append(SvgChart.bars("migrations", "Sequences moved between executors during the job",
        "executor", "sequences", executors, List.of("moved out", "moved in"), List.of(out, in),
        "no sequence moved during the job"));
    List<MoveStatus> moves = r.moves();
    if (moves.isEmpty()) {
      h.append("<p>The rebalancer ordered no move during the job.</p>\n");
      return;
    }
    h.append("<table>\n<tr><th>move</th><th>from</th><th>to</th><th>kind</th><th>state</th>"
        + "<th>sequences</th><th>bytes</th><th>ordered to hosted (s)</th></tr>\n");
    moves.stream().limit(50).forEach(m -> h.append("<tr><td class=\"n\">").append(m.moveId())
        .append("</td><td>").append(Html.escape(m.from())).append("</td><td>")
        .append(Html.escape(m.to())).append("</td><td>").append(m.kind()).append("</td><td>")
        .append(Html.escape(m.state())).append("</td><td class=\"n\">").append(m.sequences())
        .append("</td><td class=\"n\">").append(SvgChart.number(m.bytes()))
        .append("</td><td class=\"n\">").append(Double.isNaN(m.timing().toHosted()) ? "-"
            : String.format(Locale.ROOT, "%.2f", m.timing().toHosted())).append("</td></tr>\n"));
    h.append("</table>\n");
    if (moves.size() > 50) {
      h.append("<p class=\"note\">").append(moves.size() - 50).append(" more moves not"
          + " listed.</p>\n");
    }
  }

  private static void slowest(StringBuilder h, JobReport r) {
    h.append("<h2>Slowest partitions</h2>\n");
    List<JobReport.Partition> parts = new ArrayList<>(r.partitions());
    parts.sort(Comparator.comparingDouble(JobReport.Partition::seconds).reversed());
    if (parts.isEmpty()) {
      h.append("<p>No write task committed.</p>\n");
      return;
    }
    h.append("<table>\n<tr><th>partition</th><th>executor</th><th>seconds</th><th>rows</th>"
        + "<th>failed</th><th>tokens</th><th>tokens/s</th></tr>\n");
    for (JobReport.Partition p : parts.subList(0, Math.min(SLOWEST, parts.size()))) {
      h.append("<tr><td class=\"n\">").append(p.partition()).append("</td><td>")
          .append(Html.escape(p.executor())).append("</td><td class=\"n\">")
          .append(String.format(Locale.ROOT, "%.2f", p.seconds())).append("</td><td class=\"n\">")
          .append(p.rows()).append("</td><td class=\"n\">").append(p.failedRows())
          .append("</td><td class=\"n\">").append(p.generatedTokens())
          .append("</td><td class=\"n\">").append(SvgChart.number(p.generatedTokens()
              / Math.max(p.seconds(), 1e-3))).append("</td></tr>\n");
    }
    h.append("</table>\n<p class=\"note\">").append(parts.size()).append(" partitions in all.")
        .append("</p>\n");
  }
}
