package io.batchgen.io;

import java.util.Objects;

/**
 * One turn of a chat prompt, as in the {@code messages} column
 * ({@code array<struct<role:string,content:string>>}) and OpenAI's {@code body.messages}.
 *
 * @param role    who speaks: usually {@code system}, {@code user} or {@code assistant}; never blank
 * @param content what is said; may be empty, never null
 */
public record ChatMessage(String role, String content) {

  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
    if (role.isBlank()) {
      throw new IllegalArgumentException("Chat message role must not be blank");
    }
  }

  public static ChatMessage system(String content) {
    return new ChatMessage("system", content);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content);
  }

  public static ChatMessage assistant(String content) {
    return new ChatMessage("assistant", content);
  }

  @Override
  public String toString() {
    // Never print prompt text (it may be private data): lengths only.
    return "ChatMessage[role=" + role + ", contentChars=" + content.length() + "]";
  }
}
