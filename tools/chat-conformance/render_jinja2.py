"""Renders conversations with Python Jinja2 exactly as transformers renders chat templates
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loop controls, transformers' tojson
and raise_exception). generate.mjs calls it as the second reference for every golden.

    python3 render_jinja2.py TOKENIZER_CONFIG.json CONVERSATIONS.json

prints a JSON list of {"id", "text"} or {"id", "raised"}, one per conversation.
"""
import json
import sys

from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class Raised(Exception):
    pass


def raise_exception(message):
    raise Raised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def token_text(v):
    return v if isinstance(v, str) or v is None else v.get("content")


def hf_environment():
    """Jinja2 as transformers' render_jinja_template sets it up."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def main(config_file, conversations_file):
    env = hf_environment()
    cfg = json.load(open(config_file, encoding="utf-8"))
    source = cfg["chat_template"]
    if isinstance(source, list):
        source = next(t["template"] for t in source if t["name"] == "default")
    special = {k: token_text(cfg.get(k)) for k in ("bos_token", "eos_token", "unk_token",
               "sep_token", "pad_token", "cls_token", "mask_token") if cfg.get(k)}
    if isinstance(cfg.get("additional_special_tokens"), list):
        special["additional_special_tokens"] = [token_text(t)
                                                for t in cfg["additional_special_tokens"]]
    template = env.from_string(source)
    out = []
    for c in json.load(open(conversations_file, encoding="utf-8")):
        kwargs = {**special, **c.get("kwargs", {})}
        try:
            text = template.render(messages=c["messages"], tools=None, documents=None,
                                   add_generation_prompt=c["addGenerationPrompt"], **kwargs)
            out.append({"id": c["id"], "text": text})
        except Raised as e:
            out.append({"id": c["id"], "raised": str(e)})
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
