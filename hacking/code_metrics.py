# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The numbers issue 23's closing note compares: run `python hacking/code_metrics.py` from the repository root.

- Jinja logic in store files: lines of the role's store task files that hold a `{% %}` statement or belong to a
  template of more than one line (a one-line `{{ var }}` reference is not logic).
- The largest module_utils file, in lines.
- Function length (lines, `def` to last line) over plugins/: median and maximum.
"""
import ast
import pathlib
import statistics
import sys

import yaml


def template_lines(value):
    if isinstance(value, dict):
        return sum(template_lines(v) for v in value.values())
    if isinstance(value, list):
        return sum(template_lines(v) for v in value)
    if isinstance(value, str) and ('{%' in value or ('{{' in value and '\n' in value.strip())):
        return len(value.strip().splitlines())
    return 0


def store_jinja_lines(root):
    files = sorted((root / 'roles/scim_tokens/tasks/store').rglob('*.yml'))
    return sum(template_lines(yaml.safe_load(f.read_text())) for f in files)


def largest_module_util(root):
    sizes = {f.name: len(f.read_text().splitlines()) for f in (root / 'plugins/module_utils').rglob('*.py')}
    name = max(sizes, key=sizes.get)
    return name, sizes[name]


def function_lengths(root):
    lengths = []
    for path in (root / 'plugins').rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lengths.append(node.end_lineno - node.lineno + 1)
    return lengths


def main(root):
    root = pathlib.Path(root)
    lengths = function_lengths(root)
    name, size = largest_module_util(root)
    print('jinja logic lines in store files: %d' % store_jinja_lines(root))
    print('largest module_utils file: %s, %d lines' % (name, size))
    print('functions in plugins/: %d, median %s lines, max %d' % (len(lengths), statistics.median(lengths), max(lengths)))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.')
