package io.batchgen.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchgen.io.jinja.JinjaTemplate;
import io.batchgen.io.jinja.TemplateException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A model's chat template: the Jinja program of its tokenizer files ({@code chat_template.jinja},
 * {@code chat_template} in {@code tokenizer_config.json}, named templates) or of a GGUF file
 * ({@code tokenizer.chat_template}), rendered by {@link JinjaTemplate} exactly as Hugging Face
 * {@code transformers} applies it: variables {@code messages}, {@code tools} and
 * {@code documents} (None unless given), {@code add_generation_prompt}, the tokenizer's special
 * tokens ({@code bos_token}, {@code eos_token}, ...) and extra variables such as
 * {@code enable_thinking} ({@link #withVariables}).
 *
 * <p>Message contents are data: they are never parsed as template source, so
 * {@code "{{ 7*7 }}"} in a prompt reaches the model as written.
 *
 * <p>Parsed once; immutable and thread-safe, so one instance serves every task of an executor.
 */
public final class ChatTemplate {

  /** The name of the template used unless another is chosen. */
  public static final String DEFAULT_NAME = "default";

  /** The special-token variables transformers passes (its special_tokens_map). */
  private static final List<String> SPECIAL_TOKEN_KEYS = List.of("bos_token", "eos_token",
      "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");
  /** Variables the renderer sets itself; extra variables may not replace them. */
  public static final Set<String> RESERVED_VARIABLES = Set.of("messages",
      "add_generation_prompt");

  private static final ObjectMapper JSON = new ObjectMapper();

  private final JinjaTemplate template;
  private final Map<String, Object> specialTokens;
  private final Map<String, Object> extraVariables;
  private final String origin;

  private ChatTemplate(JinjaTemplate template, Map<String, Object> specialTokens,
      Map<String, Object> extraVariables, String origin) {
    this.template = template;
    this.specialTokens = specialTokens;
    this.extraVariables = extraVariables;
    this.origin = origin;
  }

  /**
   * A template from its Jinja source and special tokens, e.g. a GGUF file's.
   *
   * @param specialTokens variable name ({@code bos_token}, ...) to token text, or to a list of
   *                      texts for {@code additional_special_tokens}; null values are left out
   * @throws IllegalArgumentException when the source does not parse
   */
  public static ChatTemplate withTokens(String jinjaSource, Map<String, ?> specialTokens,
      String origin) {
    Objects.requireNonNull(jinjaSource, "jinjaSource");
    JinjaTemplate parsed;
    try {
      parsed = JinjaTemplate.parse(jinjaSource);
    } catch (TemplateException e) {
      throw new IllegalArgumentException("Chat template from [" + origin + "] does not parse: "
          + e.getMessage() + ". Fix the template, or choose another with option"
          + " 'chatTemplateName'.", e);
    }
    Map<String, Object> tokens = new LinkedHashMap<>();
    specialTokens.forEach((k, v) -> {
      if (v != null) {
        tokens.put(k, v instanceof List<?> l ? List.copyOf(l) : v.toString());
      }
    });
    return new ChatTemplate(parsed, Map.copyOf(tokens), Map.of(), origin);
  }

  /** A template from its Jinja source and the model's special tokens (null means absent). */
  public static ChatTemplate of(String jinjaSource, String bosToken, String eosToken) {
    Map<String, String> tokens = new LinkedHashMap<>();
    tokens.put("bos_token", bosToken);
    tokens.put("eos_token", eosToken);
    return withTokens(jinjaSource, tokens, "inline template");
  }

  /**
   * Picks {@code name} among a model's templates (name to Jinja source; {@link #DEFAULT_NAME}
   * for the main one), as transformers does: without a name, the default one.
   *
   * @throws IllegalArgumentException naming the templates there are when {@code name} is not
   *     among them, or when there are none
   */
  public static ChatTemplate select(Map<String, String> templates, String name,
      Map<String, ?> specialTokens, String origin) {
    String wanted = name == null || name.isBlank() ? DEFAULT_NAME : name;
    String source = templates.get(wanted);
    if (source == null) {
      if (templates.isEmpty()) {
        throw new IllegalArgumentException("Model at [" + origin + "] has no chat template:"
            + " neither chat_template.jinja nor a 'chat_template' entry in"
            + " tokenizer_config.json (nor tokenizer.chat_template in a GGUF file). Give prompts"
            + " as text in a 'prompt' column, or use an instruction-tuned model.");
      }
      throw new IllegalArgumentException("Model at [" + origin + "] has no chat template named ["
          + wanted + "]; it has " + new TreeMap<>(templates).keySet() + ". Set option"
          + " 'chatTemplateName' to one of these.");
    }
    String where = wanted.equals(DEFAULT_NAME) ? origin : origin + " (template '" + wanted + "')";
    return withTokens(source, specialTokens, where);
  }

  /**
   * Loads the default template of a Hugging Face model (or tokenizer) directory: see
   * {@link #fromModelDirectory(Path, String)}.
   */
  public static ChatTemplate fromModelDirectory(Path modelDir) {
    return fromModelDirectory(modelDir, null);
  }

  /**
   * Loads template {@code name} (null: the default) of a Hugging Face model directory:
   * {@code chat_template.jinja} is the default, {@code additional_chat_templates/NAME.jinja} the
   * named ones; {@code chat_template} in {@code tokenizer_config.json} (a string, or a list of
   * {@code {name, template}}) when there are no such files. Special tokens come from
   * {@code tokenizer_config.json}.
   *
   * @throws IllegalArgumentException when the model has no such template or it does not parse
   */
  public static ChatTemplate fromModelDirectory(Path modelDir, String name) {
    Path config = modelDir.resolve("tokenizer_config.json");
    try {
      JsonNode root = Files.exists(config) ? JSON.readTree(config.toFile()) : JSON.nullNode();
      Map<String, String> templates = new LinkedHashMap<>();
      JsonNode inConfig = root.get("chat_template");
      if (inConfig != null && inConfig.isTextual()) {
        templates.put(DEFAULT_NAME, inConfig.asText());
      } else if (inConfig != null && inConfig.isArray()) {
        for (JsonNode named : inConfig) {
          templates.put(named.path("name").asText(), named.path("template").asText());
        }
      }
      Path jinja = modelDir.resolve("chat_template.jinja");
      if (Files.exists(jinja)) {
        templates.put(DEFAULT_NAME, Files.readString(jinja, StandardCharsets.UTF_8));
      }
      Path more = modelDir.resolve("additional_chat_templates");
      if (Files.isDirectory(more)) {
        try (var files = Files.list(more)) {
          for (Path p : files.filter(f -> f.toString().endsWith(".jinja")).toList()) {
            String file = p.getFileName().toString();
            templates.put(file.substring(0, file.length() - ".jinja".length()),
                Files.readString(p, StandardCharsets.UTF_8));
          }
        }
      }
      return select(templates, name, specialTokens(root), modelDir.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the chat template of model [" + modelDir + "]: "
          + e.getMessage(), e);
    }
  }

  /** transformers' special_tokens_map from a tokenizer_config.json tree. */
  private static Map<String, Object> specialTokens(JsonNode root) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String key : SPECIAL_TOKEN_KEYS) {
      String text = tokenText(root.get(key));
      if (text != null) {
        out.put(key, text);
      }
    }
    JsonNode more = root.get("additional_special_tokens");
    if (more != null && more.isArray()) {
      List<String> texts = new ArrayList<>();
      more.forEach(t -> texts.add(tokenText(t)));
      out.put("additional_special_tokens", texts);
    }
    return out;
  }

  /** A special token is either a string or an AddedToken object with a "content" field. */
  private static String tokenText(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    return node.isTextual() ? node.asText() : node.path("content").asText(null);
  }

  /**
   * This template with extra variables for every render, as transformers' apply_chat_template
   * keyword arguments (e.g. {@code enable_thinking}); {@code tools} and {@code documents} set
   * those variables. Values are plain data: strings, numbers, booleans, null, lists, maps.
   *
   * @throws IllegalArgumentException for {@code messages} or {@code add_generation_prompt}, or a
   *     value that is not plain data
   */
  public ChatTemplate withVariables(Map<String, ?> variables) {
    for (String k : variables.keySet()) {
      if (RESERVED_VARIABLES.contains(k)) {
        throw new IllegalArgumentException("Chat template variable [" + k + "] is set by"
            + " BatchGen itself and cannot be given in option 'chatTemplateKwargs'");
      }
    }
    Map<String, Object> merged = new LinkedHashMap<>(extraVariables);
    merged.putAll(variables);
    JinjaTemplate.checkVariables(merged);
    return new ChatTemplate(template, specialTokens, java.util.Collections.unmodifiableMap(merged),
        origin);
  }

  /**
   * Renders {@code messages}; with {@code addGenerationPrompt} the template appends the header
   * that starts the assistant's turn.
   *
   * @throws IllegalArgumentException when the template fails or refuses the conversation
   *     ({@code raise_exception}); the message names the template's origin, the roles and the
   *     template's own words, never prompt text
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    List<Map<String, Object>> turns = new ArrayList<>(messages.size());
    for (ChatMessage m : messages) {
      Map<String, Object> turn = new LinkedHashMap<>();
      turn.put("role", m.role());
      turn.put("content", m.content());
      turns.add(turn);
    }
    Map<String, Object> vars = new LinkedHashMap<>();
    vars.put("tools", null);
    vars.put("documents", null);
    vars.putAll(specialTokens);
    vars.putAll(extraVariables);
    vars.put("messages", turns);
    vars.put("add_generation_prompt", addGenerationPrompt);
    try {
      return template.render(vars);
    } catch (TemplateException.Raised e) {
      throw new IllegalArgumentException("Chat template from [" + origin + "] refused "
          + messages.size() + " messages (roles " + roles(messages) + "): " + e.reason()
          + ". Check the roles and order of the messages against the model's chat format.", e);
    } catch (TemplateException e) {
      throw new IllegalArgumentException("Chat template from [" + origin + "] failed on "
          + messages.size() + " messages (roles " + roles(messages) + "): " + e.getMessage()
          + ". Check the roles and order of the messages against the model's chat format.", e);
    }
  }

  private static String roles(List<ChatMessage> messages) {
    return messages.stream().map(ChatMessage::role).collect(Collectors.joining(","));
  }

  /** Where this template came from, for messages. */
  public String origin() {
    return origin;
  }
}
