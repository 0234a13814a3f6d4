package io.batchgen.engine.format.gguf;

/** ggml tensor type ids (ggml.h) for the types this engine reads and writes. */
public final class GgmlType {
  public static final int F32 = 0;
  public static final int F16 = 1;
  public static final int Q8_0 = 8;
  public static final int BF16 = 30;

  private GgmlType() {
  }

  /** Name of a ggml type id for error messages. */
  static String name(int type) {
    String[] names = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2(removed)", "Q4_3(removed)", "Q5_0",
        "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS",
        "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32",
        "I64", "F64", "IQ1_M", "BF16"};
    return type >= 0 && type < names.length ? names[type] : "unknown";
  }

  static int of(io.batchgen.engine.format.DType dtype) {
    return switch (dtype) {
      case F32 -> F32;
      case F16 -> F16;
      case BF16 -> BF16;
      case Q8_0 -> Q8_0;
    };
  }
}
