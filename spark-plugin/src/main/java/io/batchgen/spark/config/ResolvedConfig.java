package io.batchgen.spark.config;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Settings resolved for one read or write, with the documented precedence: DataFrame option,
 * then session conf ({@code spark.batchgen.*}), then the entry's default. Resolution validates
 * everything up front, on the driver, so a typo or a bad value fails before any executor loads a
 * model: unknown options and unknown {@code spark.batchgen.*} keys are errors that suggest the
 * closest valid name.
 */
public final class ResolvedConfig {
  /** Options Spark itself passes to a data source. */
  private static final Set<String> SPARK_OPTIONS = Set.of("path", "paths");

  private final Map<String, String> options;
  private final Map<String, String> session;

  private ResolvedConfig(Map<String, String> options, Map<String, String> session) {
    this.options = options;
    this.session = session;
  }

  /**
   * @param options     DataFrame options (any case; Spark lower-cases them)
   * @param sessionConf the session's {@code spark.batchgen.*} entries (others are ignored)
   * @throws IllegalArgumentException naming the first unknown option/key or invalid value
   */
  public static ResolvedConfig resolve(Map<String, String> options,
      Map<String, String> sessionConf) {
    Map<String, ConfigEntry<?>> byOption = new HashMap<>();
    Map<String, ConfigEntry<?>> byKey = new HashMap<>();
    for (ConfigEntry<?> e : BatchGenConfig.all()) {
      if (e.option() != null) {
        byOption.put(e.option().toLowerCase(Locale.ROOT), e);
      }
      byKey.put(e.key(), e);
    }
    Map<String, String> opts = new HashMap<>();
    for (Map.Entry<String, String> o : options.entrySet()) {
      String lower = o.getKey().toLowerCase(Locale.ROOT);
      if (SPARK_OPTIONS.contains(lower)) {
        continue;
      }
      if (!byOption.containsKey(lower)) {
        throw new IllegalArgumentException("Unknown option '" + o.getKey() + "' for format "
            + "batchgen." + suggestion(o.getKey(), BatchGenConfig.all().stream()
                .filter(e -> e.option() != null).map(ConfigEntry::option).toList())
            + " Valid options: " + BatchGenConfig.all().stream().map(ConfigEntry::option)
                .filter(n -> n != null).sorted().collect(Collectors.joining(", ")) + ".");
      }
      opts.put(byOption.get(lower).key(), o.getValue());
    }
    Map<String, String> sess = new HashMap<>();
    for (Map.Entry<String, String> c : sessionConf.entrySet()) {
      if (!c.getKey().startsWith("spark.batchgen.")) {
        continue;
      }
      if (!byKey.containsKey(c.getKey())) {
        throw new IllegalArgumentException("Unknown Spark conf key '" + c.getKey() + "'."
            + suggestion(c.getKey(), List.copyOf(byKey.keySet()))
            + " See docs/configs.md for every spark.batchgen.* key.");
      }
      sess.put(c.getKey(), c.getValue());
    }
    ResolvedConfig resolved = new ResolvedConfig(opts, sess);
    for (ConfigEntry<?> e : BatchGenConfig.all()) {
      resolved.getOptional(e); // validates every present value now, on the driver
    }
    return resolved;
  }

  /**
   * The value of {@code entry}.
   *
   * @throws IllegalArgumentException when it is required and not set, or invalid
   */
  public <T> T get(ConfigEntry<T> entry) {
    T v = getOptional(entry);
    if (v == null) {
      throw new IllegalArgumentException("Missing required setting: "
          + (entry.option() != null ? "option '" + entry.option() + "' (.option(\""
              + entry.option() + "\", …)) or " : "") + "Spark conf " + entry.key() + ". "
          + entry.doc());
    }
    return v;
  }

  /** The value of {@code entry}, or null when it is not set and has no default. */
  public <T> T getOptional(ConfigEntry<T> entry) {
    String raw = options.get(entry.key());
    if (raw != null) {
      return entry.parse(raw, "option '" + entry.option() + "'");
    }
    raw = session.get(entry.key());
    if (raw != null) {
      return entry.parse(raw, "Spark conf " + entry.key());
    }
    return entry.defaultValue() == null ? null
        : entry.parse(entry.defaultValue(), "the default of " + entry.key());
  }

  /** Whether {@code entry} was set explicitly (option or session conf). */
  public boolean isSet(ConfigEntry<?> entry) {
    return options.containsKey(entry.key()) || session.containsKey(entry.key());
  }

  /** " Did you mean 'x'?" for the closest candidate within a small edit distance, else "". */
  static String suggestion(String name, List<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : new TreeSet<>(candidates)) {
      int d = editDistance(name.toLowerCase(Locale.ROOT), c.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    int tolerance = Math.max(2, name.length() / 3);
    return best != null && bestDistance <= tolerance ? " Did you mean '" + best + "'?" : "";
  }

  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
