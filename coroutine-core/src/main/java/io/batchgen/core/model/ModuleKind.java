package io.batchgen.core.model;

/** The kinds of module a sequence coroutine can await. */
public enum ModuleKind {
  /** Attention of one layer, including the router of that layer's MoE block. */
  ATTENTION,
  /** One routed expert FFN of one layer. */
  EXPERT,
  /** The always-on shared expert of one layer (Qwen2-MoE style), gate included. */
  SHARED_EXPERT,
  /** Final norm and LM head; sampling follows on the runtime side. */
  LM_HEAD
}
