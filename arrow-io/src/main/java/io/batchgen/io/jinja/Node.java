package io.batchgen.io.jinja;

import java.util.List;

/** The parsed template: statements and expressions, immutable, each with its source line. */
sealed interface Node {
  int line();

  // ---- statements ----

  sealed interface Stmt extends Node {
  }

  record Text(String text, int line) implements Stmt {
  }

  record Output(Expr expr, int line) implements Stmt {
  }

  /** {@code if}/{@code elif} branches in order, then the {@code else} body (maybe empty). */
  record If(List<Expr> conditions, List<List<Stmt>> bodies, List<Stmt> orElse, int line)
      implements Stmt {
  }

  /**
   * A for loop; {@code targets} has one name, or several for unpacking ({@code for k, v in ...}).
   * {@code filter} (maybe null) drops items before the loop counts them.
   */
  record For(List<String> targets, boolean unpack, Expr iterable, Expr filter, List<Stmt> body,
      List<Stmt> orElse, int line) implements Stmt {
  }

  /** {@code set a = v}, {@code set a, b = v}, or with {@code namespaceAttr}: {@code set ns.x = v}. */
  record Set(List<String> names, boolean unpack, String namespaceAttr, Expr value, int line)
      implements Stmt {
  }

  /** {@code {% set x | filters %}body{% endset %}}; {@code filters} applies to the body text. */
  record SetBlock(String name, List<Stmt> body, Expr filters, int line) implements Stmt {
  }

  record Macro(String name, List<String> params, List<Expr> defaults, List<Stmt> body, int line)
      implements Stmt {
  }

  /** {@code {% call(params) macro(...) %}body{% endcall %}}: the body is the macro's caller(). */
  record CallBlock(Call call, List<String> params, List<Expr> defaults, List<Stmt> body, int line)
      implements Stmt {
  }

  record Break(int line) implements Stmt {
  }

  record Continue(int line) implements Stmt {
  }

  /** {@code {% filter f %}body{% endfilter %}}: {@code filters} applies to the body text. */
  record FilterBlock(Expr filters, List<Stmt> body, int line) implements Stmt {
  }

  /** {@code with} (a new scope with assignments) and {@code generation} (no assignments). */
  record Scoped(List<String> names, List<Expr> values, List<Stmt> body, int line) implements Stmt {
  }

  // ---- expressions ----

  sealed interface Expr extends Node {
  }

  record Const(Object value, int line) implements Expr {
  }

  record Name(String name, int line) implements Expr {
  }

  record Attr(Expr target, String name, int line) implements Expr {
  }

  record Item(Expr target, Expr key, int line) implements Expr {
  }

  /** {@code target[start:stop:step]}; absent parts are null. */
  record Slice(Expr target, Expr start, Expr stop, Expr step, int line) implements Expr {
  }

  record Call(Expr function, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int line)
      implements Expr {
  }

  /** {@code value | name(args)}; {@code value} is null inside filter/set blocks (the body). */
  record Filter(Expr value, String name, List<Expr> args, List<String> kwNames,
      List<Expr> kwValues, int line) implements Expr {
  }

  record Test(Expr value, String name, List<Expr> args, boolean negated, int line)
      implements Expr {
  }

  /** {@code -x}, {@code +x}, {@code not x}. */
  record Unary(String op, Expr operand, int line) implements Expr {
  }

  /** Arithmetic, {@code ~}, {@code and}, {@code or}. */
  record Binary(String op, Expr left, Expr right, int line) implements Expr {
  }

  /** {@code a < b <= c}: Python's chained comparison; ops include {@code in} and {@code notin}. */
  record Compare(Expr first, List<String> ops, List<Expr> operands, int line) implements Expr {
  }

  /** {@code yes if test else no}; {@code no} is null when absent (Undefined then). */
  record CondExpr(Expr test, Expr yes, Expr no, int line) implements Expr {
  }

  record ListLit(List<Expr> items, int line) implements Expr {
  }

  record TupleLit(List<Expr> items, int line) implements Expr {
  }

  record DictLit(List<Expr> keys, List<Expr> values, int line) implements Expr {
  }
}
