package io.batchgen.core.runtime;

import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleKey;

/**
 * Every module key of one model, created once, and their order in a forward pass: per layer,
 * attention, then routed experts 0..E-1, then the shared expert; the LM head last. The order is
 * also the index of the key's wait queue. Avoids allocating keys on the hot path.
 */
final class ModuleKeys {
  private final int numLayers;
  private final int numExperts;
  private final int perLayer;
  private final ModuleKey[] keys;

  ModuleKeys(ModelShape shape) {
    numLayers = shape.numLayers();
    numExperts = shape.numExperts();
    perLayer = numExperts + 2;
    keys = new ModuleKey[numLayers * perLayer + 1];
    for (int l = 0; l < numLayers; l++) {
      keys[l * perLayer] = ModuleKey.attention(l);
      for (int e = 0; e < numExperts; e++) {
        keys[l * perLayer + 1 + e] = ModuleKey.expert(l, e);
      }
      keys[l * perLayer + 1 + numExperts] = ModuleKey.sharedExpert(l);
    }
    keys[numLayers * perLayer] = ModuleKey.lmHead();
  }

  int numExperts() {
    return numExperts;
  }

  int count() {
    return keys.length;
  }

  ModuleKey byOrder(int order) {
    return keys[order];
  }

  int attention(int layer) {
    return layer * perLayer;
  }

  int expert(int layer, int expert) {
    return layer * perLayer + 1 + expert;
  }

  int shared(int layer) {
    return layer * perLayer + 1 + numExperts;
  }

  int lmHead() {
    return numLayers * perLayer;
  }

  /** Queue index of {@code key}. */
  int order(ModuleKey key) {
    return switch (key.kind()) {
      case ATTENTION -> attention(key.layer());
      case EXPERT -> expert(key.layer(), key.expert());
      case SHARED_EXPERT -> shared(key.layer());
      case LM_HEAD -> lmHead();
    };
  }
}
