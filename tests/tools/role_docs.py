# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write each role's variable table into its README from the role's meta/argument_specs.yml.

The argument spec is where a role's variables (and the inventory's swarm_* variables, in the
cluster role) are declared; the README shows them between the markers

    <!-- BEGIN role_docs: generated from meta/argument_specs.yml by tests/tools/role_docs.py -->
    <!-- END role_docs -->

and nothing else in the README is touched.

    python3 tests/tools/role_docs.py            rewrite the tables of every roles/*/README.md
    python3 tests/tools/role_docs.py --check    exit 1, naming the READMEs that differ, without writing
"""

from __future__ import annotations

import argparse
import difflib
import glob
import os
import re
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEGIN = '<!-- BEGIN role_docs: generated from meta/argument_specs.yml by tests/tools/role_docs.py -->'
END = '<!-- END role_docs -->'
INVENTORY_PREFIX = 'swarm_'

# Ansible's documentation markup: V(value), O(option), C(code), M(module), I(italic), RV(return value).
_MARKUP = re.compile(r'\b(?:V|O|C|M|RV)\(([^()]*(?:\([^()]*\)[^()]*)*)\)')
_ITALIC = re.compile(r'\bI\(([^()]*)\)')


class RoleDocsError(Exception):
    pass


def roles(repo=REPO):
    """The role directories that have an argument spec, sorted by name."""
    return sorted(os.path.dirname(os.path.dirname(path))
                  for path in glob.glob(os.path.join(repo, 'roles', '*', 'meta', 'argument_specs.yml')))


def load_options(role_dir):
    with open(os.path.join(role_dir, 'meta', 'argument_specs.yml')) as spec_file:
        spec = yaml.safe_load(spec_file)
    try:
        return spec['argument_specs']['main'].get('options') or {}
    except (KeyError, TypeError, AttributeError) as exc:
        raise RoleDocsError('%s: no argument_specs.main' % role_dir) from exc


def markup(text):
    """Ansible's markup to Markdown: V(x), O(x), C(x) ... become `x`, I(x) becomes *x*."""
    text = _MARKUP.sub(lambda match: '`%s`' % match.group(1), text)
    return _ITALIC.sub(lambda match: '*%s*' % match.group(1), text)


def cell(text):
    """Text safe inside one Markdown table cell: one line, pipes escaped."""
    return ' '.join(str(text).split()).replace('|', '\\|')


def describe(option):
    description = option.get('description') or ''
    if isinstance(description, list):
        description = ' '.join(description)
    return cell(markup(description))


def show_default(option):
    if 'default' not in option:
        return 'required' if option.get('required') else 'unset'
    value = option['default']
    if isinstance(value, str) and not value:
        return '`""`'
    if isinstance(value, str):
        return '`%s`' % cell(value)
    return '`%s`' % cell(yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10 ** 6).strip().replace('\n...', ''))


def show_type(option):
    kind = option.get('type', 'str')
    if kind == 'list' and option.get('elements'):
        kind = 'list of %s' % option['elements']
    if option.get('choices'):
        kind += ': ' + ', '.join('`%s`' % choice for choice in option['choices'])
    return cell(kind)


def table(options):
    lines = ['| variable | type | default | meaning |', '| --- | --- | --- | --- |']
    for name, option in options.items():
        lines.append('| `%s` | %s | %s | %s |' % (name, show_type(option), show_default(option), describe(option)))
    return lines


def render(options):
    """The generated block, markers included."""
    inventory = dict((name, option) for name, option in options.items() if name.startswith(INVENTORY_PREFIX))
    own = dict((name, option) for name, option in options.items() if not name.startswith(INVENTORY_PREFIX))
    lines = [BEGIN]
    if inventory:
        lines += ['', 'Inventory variables (the collection\'s `swarm_*` contract, declared here):', '']
        lines += table(inventory)
        lines += ['', 'Role variables:']
    lines += [''] + table(own) + ['', END]
    return '\n'.join(lines)


def updated_readme(text, options, path='README.md'):
    """The README's text with the block between the markers regenerated."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise RoleDocsError('%s: no %r ... %r markers' % (path, BEGIN, END))
    return text[:start] + render(options) + text[end + len(END):]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--check', action='store_true', help='fail on a README that differs; write nothing')
    parser.add_argument('--repo', default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    drifted = []
    for role_dir in roles(args.repo):
        path = os.path.join(role_dir, 'README.md')
        with open(path) as readme:
            current = readme.read()
        try:
            wanted = updated_readme(current, load_options(role_dir), path)
        except RoleDocsError as exc:
            print(exc, file=sys.stderr)
            return 2
        if wanted == current:
            continue
        drifted.append(path)
        if args.check:
            sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), wanted.splitlines(True),
                                                       path, path + ' (from argument_specs.yml)'))
        else:
            with open(path, 'w') as readme:
                readme.write(wanted)
            print('wrote %s' % os.path.relpath(path, args.repo))
    if args.check and drifted:
        print('%d README(s) differ from their argument specs: %s; run python3 tests/tools/role_docs.py'
              % (len(drifted), ', '.join(os.path.relpath(path, args.repo) for path in drifted)), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
