package io.batchgen.spark.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.apache.spark.network.util.JavaUtils;

/** Value parsers for {@link ConfigEntry}; each error says what a valid value looks like. */
final class Parsers {
  private Parsers() {
  }

  static Function<String, String> nonEmpty() {
    return s -> {
      if (s.isEmpty()) {
        throw new IllegalArgumentException("must not be empty");
      }
      return s;
    };
  }

  /** Any text, empty included (an empty value turns the setting off). */
  static Function<String, String> anyString() {
    return s -> s;
  }

  static Function<String, Integer> intAtLeast(int min) {
    return s -> {
      int v;
      try {
        v = Integer.parseInt(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("expected an integer", e);
      }
      if (v < min) {
        throw new IllegalArgumentException("must be >= " + min);
      }
      return v;
    };
  }

  static Function<String, Long> anyLong() {
    return s -> {
      try {
        return Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("expected an integer", e);
      }
    };
  }

  static Function<String, Double> doubleIn(double min, double max, boolean minInclusive) {
    return doubleIn(min, max, minInclusive, true);
  }

  static Function<String, Double> doubleIn(double min, double max, boolean minInclusive,
      boolean maxInclusive) {
    return s -> {
      double v;
      try {
        v = Double.parseDouble(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("expected a number", e);
      }
      boolean ok = (minInclusive ? v >= min : v > min) && (maxInclusive ? v <= max : v < max);
      if (!ok || Double.isNaN(v)) {
        throw new IllegalArgumentException("must be in " + (minInclusive ? "[" : "(") + min + ", "
            + max + (maxInclusive ? "]" : ")"));
      }
      return v;
    };
  }

  static Function<String, Boolean> bool() {
    return s -> switch (s.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException("expected true or false");
    };
  }

  /** Spark's size strings: {@code 512m}, {@code 4g}, or a plain byte count. */
  static Function<String, Long> bytes() {
    return s -> {
      long v;
      try {
        v = JavaUtils.byteStringAsBytes(s);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("expected a size such as 512m or 4g", e);
      }
      if (v <= 0) {
        throw new IllegalArgumentException("must be positive");
      }
      return v;
    };
  }

  /**
   * A weight budget: {@code auto} (a quarter of the heap), a fraction of the heap written with a
   * decimal point ({@code 0.5}), or a size as {@link #bytes()} ({@code 2g}).
   */
  static Function<String, io.batchgen.engine.backend.WeightSettings> weightBudget() {
    Function<String, Long> sized = bytes();
    return s -> {
      if (s.equalsIgnoreCase("auto")) {
        return io.batchgen.engine.backend.WeightSettings.defaults();
      }
      if (s.contains(".")) {
        double f;
        try {
          f = Double.parseDouble(s);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("expected a size such as 2g or a heap fraction such"
              + " as 0.5", e);
        }
        if (!(f > 0 && f <= 1)) {
          throw new IllegalArgumentException("a fraction of the heap must be in (0, 1]");
        }
        return io.batchgen.engine.backend.WeightSettings.ofHeapFraction(f);
      }
      return io.batchgen.engine.backend.WeightSettings.ofBytes(sized.apply(s));
    };
  }

  /** A size as {@link #bytes()}, or {@code 0} meaning "choose automatically". */
  static Function<String, Long> bytesOrAuto() {
    Function<String, Long> sized = bytes();
    return s -> s.equals("0") || s.equalsIgnoreCase("auto") ? 0L : sized.apply(s);
  }

  /** Spark's duration strings ({@code 500ms}, {@code 2s}, {@code 1m}) as milliseconds. */
  static Function<String, Long> durationMs() {
    return s -> {
      long v;
      try {
        v = JavaUtils.timeStringAsMs(s);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("expected a duration such as 500ms or 2s", e);
      }
      if (v <= 0) {
        throw new IllegalArgumentException("must be positive");
      }
      return v;
    };
  }

  /** The scheduling mode by its user-facing name: {@code coroutine} or {@code lockstep}. */
  static Function<String, io.batchgen.core.runtime.SchedulingMode> schedulingMode() {
    Function<String, String> names = oneOf("coroutine", "lockstep");
    return s -> names.apply(s).equals("lockstep") ? io.batchgen.core.runtime.SchedulingMode.LOCK_STEP
        : io.batchgen.core.runtime.SchedulingMode.COROUTINE;
  }

  static Function<String, io.batchgen.spark.sql.WritePartitioning> writePartitioning() {
    Function<String, String> names = oneOf("hash", "range");
    return s -> names.apply(s).equals("range") ? io.batchgen.spark.sql.WritePartitioning.RANGE
        : io.batchgen.spark.sql.WritePartitioning.HASH;
  }

  /** One of {@code choices}, case-insensitive; returns the canonical lower-case spelling. */
  static Function<String, String> oneOf(String... choices) {
    List<String> list = Arrays.asList(choices);
    return s -> {
      String v = s.toLowerCase(Locale.ROOT);
      if (!list.contains(v)) {
        throw new IllegalArgumentException("expected one of " + String.join(", ", list));
      }
      return v;
    };
  }

  /** A backend name: a built-in one or a provider's found on the classpath now. */
  static Function<String, String> backend() {
    return s -> {
      String v = s.toLowerCase(Locale.ROOT);
      List<String> names = io.batchgen.engine.backend.Backends.names();
      if (!names.contains(v)) {
        throw new IllegalArgumentException("expected one of " + String.join(", ", names));
      }
      return v;
    };
  }

  /**
   * A JSON object of extra chat-template variables; returns the JSON text (tasks parse it).
   * Refuses the variables the renderer sets itself.
   */
  static Function<String, String> chatTemplateVariables() {
    return s -> {
      if (s.isBlank()) {
        return "";
      }
      com.fasterxml.jackson.databind.JsonNode node;
      try {
        node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(s);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException("expected a JSON object such as"
            + " {\"enable_thinking\": false}: " + e.getOriginalMessage(), e);
      }
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException("expected a JSON object such as"
            + " {\"enable_thinking\": false}");
      }
      for (String reserved : io.batchgen.io.ChatTemplate.RESERVED_VARIABLES) {
        if (node.has(reserved)) {
          throw new IllegalArgumentException("'" + reserved + "' is set by BatchGen itself");
        }
      }
      return s;
    };
  }

  /** A comma-separated list; empty string gives an empty list. */
  static Function<String, List<String>> list() {
    return s -> s.isEmpty() ? List.of()
        : Arrays.stream(s.split(",")).map(String::trim).filter(t -> !t.isEmpty()).toList();
  }
}
