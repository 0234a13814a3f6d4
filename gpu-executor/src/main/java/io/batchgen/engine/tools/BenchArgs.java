package io.batchgen.engine.tools;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Command-line options of the engine benchmarks: {@code --name value}, or {@code --flag}. */
final class BenchArgs {
  private BenchArgs() {
  }

  /**
   * {@code defaults} with the values of {@code args} put in; {@code flags} take no value (they
   * become {@code "true"}).
   *
   * @throws IllegalArgumentException naming an unknown option, a stray argument or a missing value
   */
  static Map<String, String> parse(String[] args, Map<String, String> defaults,
      Set<String> flags) {
    Map<String, String> opts = new LinkedHashMap<>(defaults);
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("Unexpected argument [" + a + "]; options are --"
            + String.join(", --", opts.keySet()));
      }
      String key = a.substring(2);
      if (!opts.containsKey(key)) {
        throw new IllegalArgumentException("Unknown option [--" + key + "]; options are --"
            + String.join(", --", opts.keySet()));
      }
      if (flags.contains(key)) {
        opts.put(key, "true");
      } else if (i + 1 < args.length) {
        opts.put(key, args[++i]);
      } else {
        throw new IllegalArgumentException("Option --" + key + " needs a value");
      }
    }
    return opts;
  }
}
