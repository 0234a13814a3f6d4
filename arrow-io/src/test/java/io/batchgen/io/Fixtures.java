package io.batchgen.io;

import io.batchgen.core.runtime.FinishReason;
import java.util.List;

/** Prompt requests that exercise every edge the schemas must keep: built once, shared by tests. */
final class Fixtures {

  private Fixtures() {}

  /** 100,000 characters mixing ASCII, accents, CJK and a supplementary-plane emoji. */
  static final String LONG_PROMPT = longText(100_000);

  static String longText(int chars) {
    StringBuilder sb = new StringBuilder(chars);
    String unit = "The quick brown 狐 jumps über 🦊 the lazy dog. ";
    while (sb.length() < chars) {
      sb.append(unit);
    }
    sb.setLength(chars);
    if (Character.isHighSurrogate(sb.charAt(chars - 1))) {
      sb.setCharAt(chars - 1, 'x'); // never end on half an emoji
    }
    return sb.toString();
  }

  /** Ids 1..7, decimal, so the same list works with LONG and STRING id columns. */
  static List<PromptRequest> edgeCases() {
    return List.of(
        PromptRequest.ofText("1", "Hello, world"),
        PromptRequest.ofText("2", "  spaces around, and a final newline\n"),
        PromptRequest.ofText("3", "Grüße aus Köln — 你好，世界 — مرحبا — 🦊\n\ttabs and newlines"),
        PromptRequest.ofText("4", LONG_PROMPT),
        new PromptRequest("5", "with every override", null,
            new GenerationOverrides(17, 0.0, 0.95, 40, -123456789012345L,
                List.of("\n\n", "END", "停"))),
        new PromptRequest("6", null, List.of(ChatMessage.system(""),
            ChatMessage.user("Wie spät ist es? 🕰"), ChatMessage.assistant("Zehn."),
            ChatMessage.user("Danke")),
            new GenerationOverrides(null, 1.5, null, null, 7L, List.of())),
        new PromptRequest("7", "only some overrides", null,
            new GenerationOverrides(1, null, 1.0, 0, null, null)));
  }

  static final Provenance PROVENANCE =
      new Provenance("/models/qwen3-moe-tiny", "sha256:0f3a", "0.1.0-SNAPSHOT");

  /** Results with every edge: errors, null id, empty and long text, missing token ids. */
  static List<GenerationResult> results() {
    return List.of(
        GenerationResult.completed("1", "Hi there", new int[] {5, 6, 7}, 3, FinishReason.STOP,
            42L, PROVENANCE),
        GenerationResult.completed("2", "", new int[0], 0, FinishReason.LENGTH, null, PROVENANCE),
        GenerationResult.completed("3", "Grüße — 你好 — 🦊", null, 12, FinishReason.STOP, -1L,
            PROVENANCE),
        new GenerationResult("4", LONG_PROMPT, null, 100, 25_000, FinishReason.LENGTH, null,
            Long.MAX_VALUE, PROVENANCE),
        GenerationResult.failed("5", "Prompt has 9000 tokens but the model allows 8192;"
            + " shorten it or raise maxPositions", PROVENANCE),
        GenerationResult.failed(new RowError("part-0", 5, null, "id", "the id is null"),
            new Provenance("other-model", "sha256:beef", "0.1.0")),
        GenerationResult.completed("7", "last", new int[] {Integer.MAX_VALUE, 0, -1}, 1,
            FinishReason.STOP, 0L, PROVENANCE));
  }

  /** The results as they come back when token ids are not kept. */
  static List<GenerationResult> withoutTokenIds(List<GenerationResult> in) {
    return in.stream().map(r -> new GenerationResult(r.id(), r.completion(), null,
        r.promptTokens(), r.completionTokens(), r.finishReason(), r.error(), r.seed(),
        r.provenance())).toList();
  }
}
