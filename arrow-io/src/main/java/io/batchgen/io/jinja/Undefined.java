package io.batchgen.io.jinja;

/**
 * Jinja2's default {@code Undefined}: a missing variable, attribute or item. It prints as the
 * empty string, is false, iterates as empty, has length 0 and equals only another Undefined;
 * any other use (attribute, item, arithmetic, call) is an error naming what was missing.
 */
final class Undefined {
  /** What was missing, for the error message, e.g. {@code 'foo' is undefined}. */
  final String hint;

  Undefined(String hint) {
    this.hint = hint;
  }

  static Undefined name(String name) {
    return new Undefined("'" + name + "' is undefined");
  }

  static Undefined attribute(Object owner, Object attribute) {
    return new Undefined("'" + Values.typeName(owner) + " object' has no attribute '" + attribute
        + "'");
  }

  TemplateException error(int line) {
    return new TemplateException(hint, line);
  }

  @Override
  public String toString() {
    return "";
  }
}
