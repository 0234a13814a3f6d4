package io.batchgen.core.model;

/**
 * Names one module of the model: what a sequence awaits and what the scheduler keys its wait
 * queues by. {@code expert} is meaningful only for {@link ModuleKind#EXPERT}; {@code layer} is -1
 * for {@link ModuleKind#LM_HEAD}.
 */
public record ModuleKey(ModuleKind kind, int layer, int expert) {

  public static ModuleKey attention(int layer) {
    return new ModuleKey(ModuleKind.ATTENTION, layer, -1);
  }

  public static ModuleKey expert(int layer, int expert) {
    return new ModuleKey(ModuleKind.EXPERT, layer, expert);
  }

  public static ModuleKey sharedExpert(int layer) {
    return new ModuleKey(ModuleKind.SHARED_EXPERT, layer, -1);
  }

  public static ModuleKey lmHead() {
    return new ModuleKey(ModuleKind.LM_HEAD, -1, -1);
  }

  @Override
  public String toString() {
    return switch (kind) {
      case ATTENTION -> "attn[" + layer + "]";
      case EXPERT -> "expert[" + layer + "," + expert + "]";
      case SHARED_EXPERT -> "shared[" + layer + "]";
      case LM_HEAD -> "lm_head";
    };
  }
}
