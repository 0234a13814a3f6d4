package io.batchgen.spark.config;

import java.util.Objects;
import java.util.function.Function;

/**
 * One declared setting: its session-conf key ({@code spark.batchgen.<area>.<name>}), the
 * DataFrame option that may override it (camelCase; null when it is session-only), its type,
 * default, documentation and parser. Parsers throw {@link IllegalArgumentException} with a
 * message that says what a good value looks like; the resolver adds which key or option it was.
 *
 * @param <T> the parsed value's type
 */
public final class ConfigEntry<T> {
  private final String key;
  private final String option;
  private final String type;
  private final String defaultValue;
  private final String doc;
  private final Function<String, T> parser;

  ConfigEntry(String key, String option, String type, String defaultValue, String doc,
      Function<String, T> parser) {
    this.key = Objects.requireNonNull(key);
    this.option = option;
    this.type = Objects.requireNonNull(type);
    this.defaultValue = defaultValue;
    this.doc = Objects.requireNonNull(doc);
    this.parser = Objects.requireNonNull(parser);
    if (!key.startsWith("spark.batchgen.")) {
      throw new IllegalArgumentException("Config key " + key + " must start with spark.batchgen.");
    }
  }

  /** The session-conf key, e.g. {@code spark.batchgen.generate.maxNewTokens}. */
  public String key() {
    return key;
  }

  /** The DataFrame option name, e.g. {@code maxNewTokens}; null for session-only settings. */
  public String option() {
    return option;
  }

  public String type() {
    return type;
  }

  /** The default as written in docs and conf; null means required (no default). */
  public String defaultValue() {
    return defaultValue;
  }

  public String doc() {
    return doc;
  }

  /** Parses {@code raw}; {@code source} names where it came from, for the error message. */
  T parse(String raw, String source) {
    try {
      return parser.apply(raw.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Invalid value '" + raw + "' for " + source + ": "
          + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return key;
  }
}
