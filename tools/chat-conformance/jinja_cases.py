"""Renders the interpreter's semantic test cases with Python Jinja2, configured as Hugging Face
transformers renders chat templates, and writes them as the Java test's expected results.

    python3 tools/chat-conformance/jinja_cases.py \
        > arrow-io/src/test/resources/jinja/python-jinja2-cases.json

Each case: template source, variables, and either the rendered text or the error class.
"""
import json
import os
import sys

import jinja2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from render_jinja2 import Raised, hf_environment  # noqa: E402

env = hf_environment()

MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "  Hi {{ there }}\n"},
    {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHello!"},
    {"role": "user", "content": "Bye ☃ 😀"},
]

CASES = [
    # whitespace control: trim_blocks, lstrip_blocks, -, +
    ("{% if true %}\nyes\n{% endif %}\n", {}),
    ("  {% if true %}\n  yes\n  {% endif %}\nafter", {}),
    ("a  {%- if true %} b {% endif -%}  c", {}),
    ("a\n  {%+ if true %}x{% endif %}\nb", {}),
    ("{% for i in range(3) %}\n  {{ i }}\n{% endfor %}", {}),
    ("line1\n{# comment #}\nline2\n   {# indented comment #}\nline3", {}),
    ("x {{- ' y ' -}} z", {}),
    ("{{ 'a' }}\n{{ 'b' }}\n", {}),
    ("{% raw %}{{ not evaluated }}{% endraw %}", {}),
    ("a\n  {% raw %}\n  {{ x }}\n  {% endraw %}\nb", {}),
    ("{% if true -%}\n\n   text  \n{%- endif %}", {}),
    ("trailing newline kept once\n\n", {}),
    ("crlf\r\nline{% if true %}\r\nx{% endif %}", {}),
    # literals and printing
    ("{{ 1 }} {{ 1.5 }} {{ 2.0 }} {{ 1e-5 }} {{ 1e20 }} {{ 0.1 + 0.2 }} {{ true }} {{ none }}", {}),
    ("{{ [1, 'a', none, true, 1.0] }} {{ {'k': 'v', 'n': [1]} }} {{ (1, 'b') }} {{ (1,) }}", {}),
    ("{{ 'it\\'s' }} {{ \"say \\\"hi\\\"\" }} {{ 'tab\\there\\n' }} {{ '\\u00e9\\x41' }}", {}),
    ("{{ ['it\\'s', \"q\\\"\", 'both \\' and \"'] }}", {}),
    ("{{ 'adjacent' 'strings' }}", {}),
    ("{{ messages }}", {"messages": MSGS[:2]}),
    # operators
    ("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 3 * 'ab' }}", {}),
    ("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'a' ~ 1 ~ none }} {{ [1] + [2] }} {{ -3 | abs }}", {}),
    ("{{ 1 < 2 < 3 }} {{ 1 < 2 > 3 }} {{ 'a' in 'cat' }} {{ 2 not in [1, 3] }} {{ 'k' in {'k': 1} }}", {}),
    ("{{ 0 or 'x' }} {{ 'y' and 0 }} {{ none or [] or 'z' }} {{ not 0 }} {{ 1 == 1.0 }} {{ true == 1 }}", {}),
    ("{{ 'yes' if x else 'no' }}|{{ 'yes' if x }}|{{ x if x is defined else 'undef' }}", {"x": 0}),
    ("{{ 'a' + x | trim + 'b' }}", {"x": "  mid  "}),
    ("{{ -x | abs }}", {"x": 3}),
    # undefined
    ("[{{ missing }}] [{{ missing is defined }}] [{{ missing | default('d') }}] [{{ missing | length }}]", {}),
    ("[{{ d.nokey }}] [{{ d['nokey'] is defined }}] [{{ none | default('n') }}] [{{ '' | default('e', true) }}]", {"d": {"k": 1}}),
    ("{% for x in missing %}{{ x }}{% else %}empty{% endfor %}", {}),
    ("{{ missing.attr }}", {}),
    ("{{ 'a' + missing }}", {}),
    ("{{ missing == missing }} {{ missing == none }} {{ missing ~ 'x' }}", {}),
    # loops
    ("{% for m in messages %}{{ loop.index }}/{{ loop.length }}:{{ loop.first }},{{ loop.last }},{{ loop.revindex0 }} {% endfor %}", {"messages": MSGS}),
    ("{% for m in messages if m.role != 'system' %}{{ loop.index0 }}={{ m.role }} {% endfor %}", {"messages": MSGS}),
    ("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("{% set x = 1 %}{% for i in range(3) %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}", {}),
    ("{% set ns = namespace(n=0, found=false) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.n }} {{ ns.found }}", {}),
    ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("{% for a, b in [(1, 2), [3, 4]] %}{{ a + b }} {% endfor %}", {}),
    ("{% for c in 'h😀é' %}[{{ c }}]{% endfor %} {{ 'h😀é' | length }}", {}),
    ("{% for m in messages[::-1] %}{{ m.role }} {% endfor %}|{{ messages[1:] | length }}|{{ messages[-1].role }}", {"messages": MSGS}),
    ("{% for i in range(5) %}{{ loop.cycle('a', 'b') }}{{ loop.previtem | default('-') }}{{ loop.nextitem | default('-') }} {% endfor %}", {}),
    ("{% for i in [] %}x{% else %}none{% endfor %}", {}),
    ("{% for i in range(3) %}{% for j in range(2) %}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}", {}),
    # slicing
    ("{{ 'abcdef'[1:4] }} {{ 'abcdef'[::-1] }} {{ 'abcdef'[-2:] }} {{ 'abcdef'[::2] }} {{ [1,2,3,4][1:-1] }} {{ 'abc'[5:] }} {{ 'a😀b'[1] }}", {}),
    ("{{ 'abcdef'[4:1:-1] }} {{ [1,2,3][:-5] }} {{ [1,2,3][-1:-3:-1] }}", {}),
    # string methods
    ("{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s.strip(' \\n') }}|{{ s.upper() }}|{{ s.lower() }}", {"s": "  Héllo World\n"}),
    ("{{ s.split() }} {{ s.split(',') }} {{ s.split(',', 1) }} {{ s.rsplit(',', 1) }} {{ s.splitlines() }}", {"s": " a, b,c \n d "}),
    ("{{ s.startswith('<tool') }} {{ s.endswith('>') }} {{ s.startswith(('x', '<')) }} {{ s.replace('tool', 'T') }} {{ s.find('r') }} {{ s.count('o') }}", {"s": "<tool_response>"}),
    ("{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}", {"c": "<think>\nreason\n</think>\n\nanswer"}),
    ("{{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ ', '.join(['a', 'b']) }} {{ 'x'.center(5, '*') }} {{ '7'.zfill(3) }} {{ 'ab'.ljust(4) }}|", {}),
    ("{{ 'a-b-c'.partition('-') }} {{ 'abc'.isalpha() }} {{ '12'.isdigit() }} {{ ' '.isspace() }} {{ '{} and {name}'.format(1, name='n') }}", {}),
    # filters
    ("{{ messages | selectattr('role', 'equalto', 'user') | list | length }} {{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join(',') }}", {"messages": MSGS}),
    ("{{ messages | selectattr('tool_calls', 'undefined') | list | length }} {{ messages | map(attribute='nope', default='z') | list }}", {"messages": MSGS}),
    ("{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A'] | sort(case_sensitive=true) }} {{ [3,1] | sort(reverse=true) }} {{ [1, 2, 2, 1] | unique | list }}", {}),
    ("{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ 'abc' | reverse }} {{ [1, 2] | reverse | list }} {{ [1, 2, 3] | sum }} {{ [4, 1, 9] | max }} {{ [4, 1, 9] | min }}", {}),
    ("{{ '  x  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'Hi' | upper }}|{{ 'a b' | replace(' ', '_') }}|{{ 'x' | string }}|{{ 3 | string }}|{{ '5' | int + 1 }}|{{ 'x' | int }}|{{ '2.5' | float }}", {}),
    ("{{ d | items | list }} {{ d | dictsort }} {{ d | length }} {{ [1, 2] | map('string') | join }} {{ ['a', 'B'] | map('upper') | list }}", {"d": {"b": 1, "a": 2}}),
    ("{{ 'line1\\nline2\\n\\nline4' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}", {}),
    ("{{ '<a href=\"x\">&</a>' | e }} {{ 'one two  three' | wordcount }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(0, 'ceil') }}", {}),
    ("{{ [0, 1, '', 'a', none] | select | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ [1, 2, 3] | select('gt', 1) | list }}", {}),
    ("{{ '%s has %d items' | format('list', 3) }} {{ '%s!' % 'hi' }} {{ '%.2f' % 1.2345 }}", {}),
    # tojson (transformers' own)
    ("{{ x | tojson }}", {"x": {"name": "get_weather", "d": "Grüße \"q\" </tag> \u2028 \t", "n": [1, 2.5, True, None], "e": {}, "l": []}}),
    ("{{ x | tojson(indent=2) }}", {"x": {"a": [1, {"b": "c"}], "e": [], "f": {}}}),
    ("{{ x | tojson(sort_keys=true) }} {{ x | tojson(ensure_ascii=true) }} {{ x | tojson(separators=(',', ':')) }}", {"x": {"z": "é😀", "a": 1}}),
    ("{{ 'text' | tojson }} {{ 1.0 | tojson }} {{ none | tojson }} {{ (1, 2) | tojson }}", {}),
    # tests
    ("{{ x is string }} {{ x is mapping }} {{ l is iterable }} {{ l is sequence }} {{ n is number }} {{ n is integer }} {{ f is float }} {{ none is none }} {{ b is boolean }}", {"x": "s", "l": [1], "n": 3, "f": 1.5, "b": False}),
    ("{{ missing is iterable }} {{ b is false }} {{ b is true }} {{ 0 is false }} {{ 4 is divisibleby 2 }} {{ 3 is odd }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ x is eq 's' }} {{ x is not none }}", {"x": "s", "b": False}),
    ("{{ 1 is in [1, 2] }} {{ none is sameas none }} {{ x is callable }} {{ range is callable }} {{ 'trim' is filter }} {{ 'odd' is test }}", {"x": 1}),
    # set / macro / call / filter / with
    ("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = (3, 4) %}{% set c, d = t %}{{ c + d }}", {}),
    ("{% set block %}\n  inner {{ 1 + 1 }}\n{% endset %}[{{ block }}]{% set up | upper %}shout{% endset %}{{ up }}", {}),
    ("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C') }}", {}),
    ("{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}body{% endcall %}", {}),
    ("{% filter upper %}loud {{ 'text' }}{% endfilter %} {% with a = 5 %}{{ a }}{% endwith %}{{ a is defined }}", {}),
    ("{% if x %}a{% elif y %}b{% else %}c{% endif %}{% if not x and not y %}!{% endif %}", {"x": 0, "y": 0}),
    ("{% set d = dict(a=1, b='x') %}{{ d }} {{ d.a }} {{ d['b'] }} {{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.keys() | list }} {{ d.values() | list }}", {}),
    # errors
    ("{{ raise_exception('roles must alternate') }}", {}),
    ("{% for m in messages %}{% if loop.index0 % 2 == 0 and m.role != 'user' %}{{ raise_exception('bad role ' + m.role) }}{% endif %}{% endfor %}", {"messages": MSGS}),
    ("{{ [1].append(2) }}", {}),
    ("{{ {'a': 1}.update({'b': 2}) }}", {}),
    ("{% set x.y = 1 %}", {"x": {"y": 0}}),
    ("{{ 'a' + 1 }}", {}),
    ("{{ 1 / 0 }}", {}),
    ("{% if %}", {}),
    ("{{ x | nosuchfilter }}", {"x": 1}),
    ("{% for %}", {}),
    ("{{ foo( }}", {}),
    ("{% include 'other.html' %}", {}),
    # injection: values are data
    ("{{ m }}", {"m": "{{ 7*7 }} {% for i in range(3) %}x{% endfor %} {{ messages }} {% raw %} {# c #}"}),
    ("{% for m in messages %}{{ m.content }}{% endfor %}", {"messages": [{"role": "user", "content": "{% endfor %}{{ 7*7 }}{%- raw -%}{% endraw %}"}]}),
]


def main():
    out = []
    for template, variables in CASES:
        case = {"template": template, "variables": variables}
        try:
            case["output"] = env.from_string(template).render(**variables)
        except Raised as e:
            case["raised"] = str(e)
        except jinja2.exceptions.TemplateSyntaxError as e:
            case["error"] = "syntax"
        except Exception as e:  # noqa: BLE001 - every other failure is an error case
            case["error"] = type(e).__name__
        out.append(case)
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
