package io.batchgen.io.jinja;

import java.util.AbstractList;

/** Python's {@code range(start, stop, step)}: lazy, so its size costs nothing until iterated. */
final class PyRange extends AbstractList<Object> {
  private final long start;
  private final long step;
  private final int size;

  PyRange(long start, long stop, long step, int line) {
    if (step == 0) {
      throw new TemplateException("range() arg 3 must not be zero", line);
    }
    this.start = start;
    this.step = step;
    long n = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
    if (n > Integer.MAX_VALUE) {
      throw new TemplateException.LimitExceeded("range() of " + n + " items is too large", line);
    }
    this.size = (int) Math.max(0, n);
  }

  @Override
  public Object get(int index) {
    if (index < 0 || index >= size) {
      throw new IndexOutOfBoundsException(index);
    }
    return start + index * step;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public String toString() {
    return "range(" + start + ", " + (start + size * step) + (step != 1 ? ", " + step : "") + ")";
  }
}
