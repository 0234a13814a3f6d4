package io.batchgen.engine.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The chat format a generated model carries, chosen by its architecture so that it looks like
 * the family's own instruct models: the family's turn markers as special tokens of the generated
 * vocabulary (one token each, never split by BPE), its end-of-turn token as the end-of-sequence
 * id (the model stops at the end of its turn), and a Jinja chat template in the family's layout.
 * The templates are written for this project (the same layouts, not copies of any model's file):
 * they render what the family's templates render for system, user and assistant turns, and
 * refuse a conversation the family's layout cannot express.
 *
 * <p>Layouts: Mistral's {@code [INST] … [/INST]} (Mixtral), ChatML's
 * {@code <|im_start|>role … <|im_end|>} (Qwen), Tülu's {@code <|user|>}/{@code <|assistant|>}
 * (OLMoE) and Llama 3's header tokens (dense Llama).
 */
public enum GeneratedChatFormat {
  /** Mixtral-Instruct: BOS, then {@code [INST] user [/INST]assistant</s>}; system joins the first user turn. */
  MISTRAL("<s>", "</s>", List.of(), """
      {%- if messages[0]['role'] == 'system' -%}
        {%- set system = messages[0]['content'] -%}
        {%- set turns = messages[1:] -%}
      {%- else -%}
        {%- set system = none -%}
        {%- set turns = messages -%}
      {%- endif -%}
      {{- bos_token -}}
      {%- for message in turns -%}
        {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
          {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}
        {%- endif -%}
        {%- if message['role'] == 'user' -%}
          {%- if loop.first and system is not none -%}
            {{- '[INST] ' + system + '\\n\\n' + message['content'] + ' [/INST]' -}}
          {%- else -%}
            {{- '[INST] ' + message['content'] + ' [/INST]' -}}
          {%- endif -%}
        {%- else -%}
          {{- message['content'] + eos_token -}}
        {%- endif -%}
      {%- endfor -%}
      """),
  /** Qwen: ChatML turns; the generation prompt opens an assistant turn. */
  CHATML(null, "<|im_end|>", List.of("<|endoftext|>", "<|im_start|>"), """
      {%- for message in messages -%}
        {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' -}}
      {%- endfor -%}
      {%- if add_generation_prompt -%}
        {{- '<|im_start|>assistant\\n' -}}
      {%- endif -%}
      """),
  /** OLMoE-Instruct (Tülu layout): BOS, then {@code <|role|>} lines; assistant turns end with EOS. */
  TULU("<|endoftext|>", "<|endoftext|>", List.of(), """
      {{- bos_token -}}
      {%- for message in messages -%}
        {%- if message['role'] == 'system' -%}
          {{- '<|system|>\\n' + message['content'] + '\\n' -}}
        {%- elif message['role'] == 'user' -%}
          {{- '<|user|>\\n' + message['content'] + '\\n' -}}
        {%- elif message['role'] == 'assistant' -%}
          {{- '<|assistant|>\\n' + message['content'] + eos_token + ('' if loop.last else '\\n') -}}
        {%- else -%}
          {{- raise_exception('Unknown role ' + message['role'] + '; use system, user or assistant') -}}
        {%- endif -%}
      {%- endfor -%}
      {%- if add_generation_prompt -%}
        {{- '<|assistant|>\\n' -}}
      {%- endif -%}
      """),
  /** Llama 3: header tokens around each role, {@code <|eot_id|>} after each turn. */
  LLAMA3("<|begin_of_text|>", "<|eot_id|>",
      List.of("<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>"), """
      {{- bos_token -}}
      {%- for message in messages -%}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' -}}
      {%- endfor -%}
      {%- if add_generation_prompt -%}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
      {%- endif -%}
      """);

  private final String bos;
  private final String eos;
  private final List<String> otherSpecials;
  private final String template;

  GeneratedChatFormat(String bos, String eos, List<String> otherSpecials, String template) {
    this.bos = bos;
    this.eos = eos;
    this.otherSpecials = otherSpecials;
    this.template = template.strip();
  }

  /** The format of {@code arch}'s instruct models. */
  public static GeneratedChatFormat of(Architecture arch) {
    return switch (arch) {
      case MIXTRAL -> MISTRAL;
      case QWEN2, QWEN3, QWEN2_MOE, QWEN3_MOE -> CHATML;
      case OLMOE -> TULU;
      case LLAMA -> LLAMA3;
    };
  }

  /** The BOS token's text, or null when the family's template writes none. */
  public String bosToken() {
    return bos;
  }

  /** The end-of-turn token, which is the model's end-of-sequence token. */
  public String eosToken() {
    return eos;
  }

  /**
   * Every special token, the end-of-sequence token last (it takes the vocabulary's last id, as
   * generated vocabularies always had); no duplicates.
   */
  public List<String> specialTokens() {
    List<String> all = new ArrayList<>();
    if (bos != null && !bos.equals(eos)) {
      all.add(bos);
    }
    all.addAll(otherSpecials);
    all.add(eos);
    return List.copyOf(all);
  }

  /** The Jinja chat template. */
  public String template() {
    return template;
  }
}
