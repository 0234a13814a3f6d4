package io.batchgen.engine.tools;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code --name value} options of a command, checked against the names it accepts. */
public final class CommandArgs {
  /** Bad command line: the message says which option and what is expected. */
  public static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
      super(message);
    }
  }

  private final Map<String, String> values = new LinkedHashMap<>();
  private final boolean help;

  private CommandArgs(boolean help) {
    this.help = help;
  }

  /** Parses {@code args}; positional words in {@code allowedWords} are skipped. */
  public static CommandArgs parse(String[] args, Set<String> options, Set<String> allowedWords) {
    boolean help = false;
    CommandArgs a = null;
    Map<String, String> v = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String s = args[i];
      if (s.equals("--help") || s.equals("-h")) {
        help = true;
      } else if (s.startsWith("--")) {
        String name = s.substring(2);
        String value = null;
        int eq = name.indexOf('=');
        if (eq >= 0) {
          value = name.substring(eq + 1);
          name = name.substring(0, eq);
        }
        if (!options.contains(name)) {
          throw new UsageException("Unknown option --" + name + "; options: --"
              + String.join(", --", options));
        }
        if (value == null) {
          if (i + 1 >= args.length) {
            throw new UsageException("Option --" + name + " needs a value");
          }
          value = args[++i];
        }
        v.put(name, value);
      } else if (!allowedWords.contains(s)) {
        throw new UsageException("Unexpected argument [" + s + "]");
      }
    }
    a = new CommandArgs(help);
    a.values.putAll(v);
    return a;
  }

  public boolean help() {
    return help;
  }

  public String required(String name) {
    String v = values.get(name);
    if (v == null || v.isEmpty()) {
      throw new UsageException("Missing required option --" + name);
    }
    return v;
  }

  public String get(String name, String dflt) {
    return values.getOrDefault(name, dflt);
  }

  public long longValue(String name, long dflt) {
    String v = values.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new UsageException("Option --" + name + " must be an integer, got [" + v + "]");
    }
  }

  public String oneOf(String name, String dflt, Set<String> allowed) {
    String v = values.getOrDefault(name, dflt);
    if (v == null) {
      throw new UsageException("Missing required option --" + name + " (one of " + allowed + ")");
    }
    if (!allowed.contains(v)) {
      throw new UsageException("Option --" + name + " must be one of " + allowed + ", got [" + v
          + "]");
    }
    return v;
  }
}
