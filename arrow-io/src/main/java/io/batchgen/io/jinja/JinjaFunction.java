package io.batchgen.io.jinja;

import java.util.List;
import java.util.Map;

/**
 * Something a template can call: a global ({@code range}, {@code raise_exception}), a macro, a
 * method bound to a value ({@code s.split}). Only these objects are callable; nothing of the
 * host (no Java object, no reflection) is reachable from a template.
 */
interface JinjaFunction {
  /**
   * @param args   positional arguments, already evaluated
   * @param kwargs keyword arguments in call order, already evaluated
   * @param line   template line of the call, for errors
   */
  Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs, int line);

  /** The name for error messages and printing. */
  String name();
}
