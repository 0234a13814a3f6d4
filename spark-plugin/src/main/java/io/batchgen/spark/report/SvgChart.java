package io.batchgen.spark.report;

import java.util.List;
import java.util.Locale;

/**
 * Line and bar charts as inline SVG: no script, no fonts or styles from the network, so a report
 * opens the same anywhere, offline. Each chart is a {@code <figure class="chart">} whose
 * {@code <svg>} carries {@code data-series} and {@code data-points} (what it draws), and each mark
 * carries its values ({@code data-name}, {@code data-value}), so tests and tools can read what a
 * browser draws.
 */
final class SvgChart {
  static final String[] PALETTE = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
      "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
  private static final int WIDTH = 720;
  private static final int HEIGHT = 300;
  private static final int LEFT = 64;
  private static final int RIGHT = 16;
  private static final int TOP = 16;
  private static final int BOTTOM = 48;

  /** One line of a line chart: points {x, y}, x increasing. */
  record Series(String name, List<double[]> points) {
    Series {
      points = List.copyOf(points);
    }
  }

  private SvgChart() {
  }

  /** A line chart; an empty chart says {@code empty} instead. */
  static String lines(String id, String title, String xLabel, String yLabel,
      List<Series> series, String empty) {
    int points = series.stream().mapToInt(s -> s.points().size()).sum();
    if (points == 0) {
      return emptyChart(id, title, empty);
    }
    double minX = Double.MAX_VALUE;
    double maxX = -Double.MAX_VALUE;
    double maxY = 0;
    for (Series s : series) {
      for (double[] p : s.points()) {
        minX = Math.min(minX, p[0]);
        maxX = Math.max(maxX, p[0]);
        maxY = Math.max(maxY, p[1]);
      }
    }
    Axis x = Axis.of(Math.min(0, minX), maxX <= minX ? minX + 1 : maxX);
    Axis y = Axis.of(0, maxY <= 0 ? 1 : maxY);
    StringBuilder svg = open(id, title, series.size(), points);
    frame(svg, x, y, xLabel, yLabel);
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      String color = PALETTE[i % PALETTE.length];
      StringBuilder path = new StringBuilder();
      for (double[] p : s.points()) {
        path.append(path.length() == 0 ? "M" : " L").append(fmt(px(x, p[0]))).append(' ')
            .append(fmt(py(y, p[1])));
      }
      svg.append("<path class=\"series\" data-name=\"").append(Html.escape(s.name()))
          .append("\" data-points=\"").append(s.points().size()).append("\" d=\"").append(path)
          .append("\" fill=\"none\" stroke=\"").append(color)
          .append("\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n");
      if (s.points().size() <= 60) {
        for (double[] p : s.points()) {
          svg.append("<circle cx=\"").append(fmt(px(x, p[0]))).append("\" cy=\"")
              .append(fmt(py(y, p[1]))).append("\" r=\"2.5\" fill=\"").append(color)
              .append("\"><title>").append(Html.escape(s.name())).append(": ")
              .append(number(p[1])).append(" at ").append(number(p[0])).append("</title>"
                  + "</circle>\n");
        }
      }
    }
    legend(svg, series.stream().map(Series::name).toList());
    return close(svg, title);
  }

  /**
   * Bars, one group per label, one bar per series in each group ({@code values.get(s)[g]}); an
   * empty or all-zero chart says {@code empty} instead.
   */
  static String bars(String id, String title, String xLabel, String yLabel, List<String> labels,
      List<String> seriesNames, List<double[]> values, String empty) {
    double maxY = 0;
    int points = 0;
    for (double[] v : values) {
      for (double d : v) {
        maxY = Math.max(maxY, d);
        points++;
      }
    }
    if (labels.isEmpty() || maxY <= 0) {
      return emptyChart(id, title, empty);
    }
    Axis y = Axis.of(0, maxY);
    StringBuilder svg = open(id, title, values.size(), points);
    frame(svg, null, y, xLabel, yLabel);
    double groupWidth = (WIDTH - LEFT - RIGHT) / (double) labels.size();
    double barWidth = Math.max(1, groupWidth * 0.8 / values.size());
    for (int g = 0; g < labels.size(); g++) {
      double groupLeft = LEFT + g * groupWidth + groupWidth * 0.1;
      for (int s = 0; s < values.size(); s++) {
        double v = values.get(s)[g];
        double top = py(y, v);
        svg.append("<rect class=\"bar\" data-name=\"").append(Html.escape(seriesNames.get(s)))
            .append("\" data-label=\"").append(Html.escape(labels.get(g)))
            .append("\" data-value=\"").append(number(v)).append("\" x=\"")
            .append(fmt(groupLeft + s * barWidth)).append("\" y=\"").append(fmt(top))
            .append("\" width=\"").append(fmt(barWidth - 1)).append("\" height=\"")
            .append(fmt(HEIGHT - BOTTOM - top)).append("\" fill=\"")
            .append(PALETTE[s % PALETTE.length]).append("\"><title>")
            .append(Html.escape(labels.get(g))).append(values.size() > 1 ? " "
                + Html.escape(seriesNames.get(s)) : "").append(": ").append(number(v))
            .append("</title></rect>\n");
      }
      svg.append("<text x=\"").append(fmt(LEFT + (g + 0.5) * groupWidth)).append("\" y=\"")
          .append(HEIGHT - BOTTOM + 16).append("\" text-anchor=\"middle\" font-size=\"11\">")
          .append(Html.escape(labels.get(g))).append("</text>\n");
    }
    if (values.size() > 1) {
      legend(svg, seriesNames);
    }
    return close(svg, title);
  }

  private static String emptyChart(String id, String title, String empty) {
    StringBuilder svg = open(id, title, 0, 0);
    svg.append("<text x=\"").append(WIDTH / 2).append("\" y=\"").append(HEIGHT / 2)
        .append("\" text-anchor=\"middle\" fill=\"#666\">").append(Html.escape(empty))
        .append("</text>\n");
    return close(svg, title);
  }

  private static StringBuilder open(String id, String title, int series, int points) {
    StringBuilder svg = new StringBuilder(4096);
    svg.append("<figure class=\"chart\" id=\"").append(id).append("\">\n<svg xmlns=\""
        + "http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
        .append(HEIGHT).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(HEIGHT)
        .append("\" role=\"img\" aria-label=\"").append(Html.escape(title))
        .append("\" data-series=\"").append(series).append("\" data-points=\"").append(points)
        .append("\" font-family=\"sans-serif\">\n");
    return svg;
  }

  private static String close(StringBuilder svg, String title) {
    svg.append("</svg>\n<figcaption>").append(Html.escape(title)).append("</figcaption>\n"
        + "</figure>\n");
    return svg.toString();
  }

  /** Axes, grid lines and tick labels; {@code x} null for a bar chart's category axis. */
  private static void frame(StringBuilder svg, Axis x, Axis y, String xLabel, String yLabel) {
    svg.append("<rect x=\"").append(LEFT).append("\" y=\"").append(TOP).append("\" width=\"")
        .append(WIDTH - LEFT - RIGHT).append("\" height=\"").append(HEIGHT - TOP - BOTTOM)
        .append("\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n");
    for (double t = y.min; t <= y.max + y.step / 2; t += y.step) {
      double py = py(y, t);
      svg.append("<line x1=\"").append(LEFT).append("\" x2=\"").append(WIDTH - RIGHT)
          .append("\" y1=\"").append(fmt(py)).append("\" y2=\"").append(fmt(py))
          .append("\" stroke=\"#e4e4e4\"/>\n<text x=\"").append(LEFT - 6).append("\" y=\"")
          .append(fmt(py + 4)).append("\" text-anchor=\"end\" font-size=\"11\">")
          .append(number(t)).append("</text>\n");
    }
    if (x != null) {
      for (double t = x.min; t <= x.max + x.step / 2; t += x.step) {
        double px = px(x, t);
        svg.append("<line x1=\"").append(fmt(px)).append("\" x2=\"").append(fmt(px))
            .append("\" y1=\"").append(TOP).append("\" y2=\"").append(HEIGHT - BOTTOM)
            .append("\" stroke=\"#eee\"/>\n<text x=\"").append(fmt(px)).append("\" y=\"")
            .append(HEIGHT - BOTTOM + 16).append("\" text-anchor=\"middle\" font-size=\"11\">")
            .append(number(t)).append("</text>\n");
      }
    }
    svg.append("<text x=\"").append(LEFT + (WIDTH - LEFT - RIGHT) / 2).append("\" y=\"")
        .append(HEIGHT - 8).append("\" text-anchor=\"middle\" font-size=\"12\">")
        .append(Html.escape(xLabel)).append("</text>\n<text x=\"14\" y=\"")
        .append(TOP + (HEIGHT - TOP - BOTTOM) / 2).append("\" text-anchor=\"middle\""
            + " font-size=\"12\" transform=\"rotate(-90 14 ")
        .append(TOP + (HEIGHT - TOP - BOTTOM) / 2).append(")\">").append(Html.escape(yLabel))
        .append("</text>\n");
  }

  private static void legend(StringBuilder svg, List<String> names) {
    int x = LEFT + 8;
    for (int i = 0; i < names.size(); i++) {
      svg.append("<rect x=\"").append(x).append("\" y=\"").append(TOP + 6)
          .append("\" width=\"10\" height=\"10\" fill=\"").append(PALETTE[i % PALETTE.length])
          .append("\"/><text x=\"").append(x + 14).append("\" y=\"").append(TOP + 15)
          .append("\" font-size=\"11\">").append(Html.escape(names.get(i))).append("</text>\n");
      x += 24 + 7 * names.get(i).length();
    }
  }

  /** A linear axis from {@code min} to {@code max} with round ticks every {@code step}. */
  private record Axis(double min, double max, double step) {
    static Axis of(double lo, double hi) {
      double raw = (hi - lo) / 5;
      double mag = Math.pow(10, Math.floor(Math.log10(raw)));
      double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5
          ? 5 * mag : 10 * mag;
      return new Axis(Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step);
    }
  }

  private static double px(Axis x, double v) {
    return LEFT + (v - x.min) / (x.max - x.min) * (WIDTH - LEFT - RIGHT);
  }

  private static double py(Axis y, double v) {
    return HEIGHT - BOTTOM - (v - y.min) / (y.max - y.min) * (HEIGHT - TOP - BOTTOM);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  /** A number as a chart label: integers plainly, others with up to two decimals. */
  static String number(double v) {
    if (Math.abs(v - Math.rint(v)) < 1e-9) {
      return String.format(Locale.ROOT, "%,d", (long) Math.rint(v));
    }
    return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%,.0f" : "%.2f", v);
  }
}
