package io.batchgen.engine.format.gguf;

/** GGUF metadata value type ids (gguf.h). */
final class GgufValueType {
  static final int UINT8 = 0;
  static final int INT8 = 1;
  static final int UINT16 = 2;
  static final int INT16 = 3;
  static final int UINT32 = 4;
  static final int INT32 = 5;
  static final int FLOAT32 = 6;
  static final int BOOL = 7;
  static final int STRING = 8;
  static final int ARRAY = 9;
  static final int UINT64 = 10;
  static final int INT64 = 11;
  static final int FLOAT64 = 12;

  private GgufValueType() {
  }

  /** Smallest encoding of one value of {@code type}, or -1 when unknown. */
  static int minSize(int type) {
    return switch (type) {
      case UINT8, INT8, BOOL -> 1;
      case UINT16, INT16 -> 2;
      case UINT32, INT32, FLOAT32 -> 4;
      case UINT64, INT64, FLOAT64, STRING -> 8;
      case ARRAY -> 12;
      default -> -1;
    };
  }
}
