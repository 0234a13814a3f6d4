package io.batchgen.io;

import java.util.List;
import java.util.Objects;

/**
 * One prompt to complete: the unit that enters the runtime. Exactly one of {@code prompt} and
 * {@code messages} is set.
 *
 * @param id        the row's id, as text (a long id column gives its decimal form); never null
 * @param prompt    raw prompt text, used as is (no template); null when {@code messages} is set
 * @param messages  chat turns, rendered with the model's {@link ChatTemplate}; null when
 *                  {@code prompt} is set, otherwise non-empty
 * @param overrides per-row sampling settings; {@link GenerationOverrides#NONE} when none
 */
public record PromptRequest(
    String id, String prompt, List<ChatMessage> messages, GenerationOverrides overrides) {

  public PromptRequest {
    Objects.requireNonNull(id, "id");
    if ((prompt == null) == (messages == null)) {
      throw new IllegalArgumentException(
          "Prompt request [" + id + "] must have exactly one of prompt text and chat messages");
    }
    if (messages != null) {
      messages = List.copyOf(messages);
      if (messages.isEmpty()) {
        throw new IllegalArgumentException("Prompt request [" + id + "] has no chat messages");
      }
    }
    overrides = overrides == null ? GenerationOverrides.NONE : overrides;
  }

  /** A plain-text prompt without overrides. */
  public static PromptRequest ofText(String id, String prompt) {
    return new PromptRequest(id, prompt, null, GenerationOverrides.NONE);
  }

  /** A chat prompt without overrides. */
  public static PromptRequest ofChat(String id, List<ChatMessage> messages) {
    return new PromptRequest(id, null, messages, GenerationOverrides.NONE);
  }

  /** Whether this is a chat prompt (to be rendered with a chat template). */
  public boolean isChat() {
    return messages != null;
  }

  /**
   * A cheap cost estimate for partition planning: characters of prompt text (for chat, the sum
   * of the message contents; the template adds a few tokens per turn that this ignores).
   */
  public long promptChars() {
    if (prompt != null) {
      return prompt.length();
    }
    long n = 0;
    for (ChatMessage m : messages) {
      n += m.content().length();
    }
    return n;
  }

  @Override
  public String toString() {
    // Never print prompt text: ids and lengths only.
    return "PromptRequest[id=" + id + ", " + (isChat() ? "messages=" + messages.size() : "text")
        + ", promptChars=" + promptChars() + ", overrides=" + overrides + "]";
  }
}
