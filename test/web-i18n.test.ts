/**
 * The web apps' strings, checked without a browser:
 *
 * 1. Every locales/ folder under web/ has zh-CN.json and en.json with the same nested key set and
 *    no empty string (a key in one language only would show as the key itself in the other).
 * 2. Every literal key a .tsx file under web/ passes to t() exists in its namespace, in both
 *    languages. Best effort, static: the namespace is the one of the nearest useTranslation(...)
 *    above the call that bound that t (`const { t } = useTranslation('members')`, also
 *    `{ t: tc } = useTranslation('common')`, and the first of an array), or the key's own prefix
 *    (`t('common:save')`); useTranslation() with no argument is `common`. Keys built at run time
 *    (template literals with ${…}, variables) are not checked here: the browser tests catch them
 *    (window.__jifenMissingKeys). A key used with `count` may exist as its plural forms
 *    (key_one, key_other…). A t that no useTranslation in its file binds (a t passed in as an
 *    argument) is checked only when its key has a namespace prefix.
 *
 * 3. Every error code of docs/api.md's "## Errors" table has a headline in common:errors.<CODE>
 *    (web/shared/locales), in both languages: both apps' describeError show it. The zh-CN ones use
 *    full-width punctuation only (none of , . : ; ? ! ( ) in ASCII).
 * 4. Every field rule of the API (src/shared/errors.ts FIELD_RULES) has common:fieldRules.<rule> in
 *    both languages, with the same {{placeholders}} (the error's params), and no rule without one.
 *
 * Namespaces follow web/shared/i18n.ts's resourcesFrom: the folder that holds locales/ (an area),
 * `common` for web/shared; each app (console, member) sees shared + its own folders.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { FIELD_RULES } from '../src/shared/errors.ts';

const WEB = join(import.meta.dirname, '..', 'web');
const API_DOC = join(import.meta.dirname, '..', 'docs', 'api.md');
const LOCALES = ['zh-CN', 'en'] as const;
const PLURAL_SUFFIXES = ['_zero', '_one', '_two', '_few', '_many', '_other'];

function walk(dir: string, onFile: (path: string) => void): void {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, onFile);
    else onFile(path);
  }
}

/** Every locales/ folder under web/. */
function localeFolders(): string[] {
  const folders = new Set<string>();
  walk(WEB, (path) => {
    const parts = path.split(sep);
    if (parts.at(-2) === 'locales' && path.endsWith('.json')) folders.add(parts.slice(0, -1).join(sep));
  });
  return [...folders].sort();
}

/** Flattens nested strings to dotted keys; records non-strings and empty strings as problems. */
function flatten(value: unknown, prefix: string, out: Map<string, string>, problems: string[]): void {
  if (typeof value === 'string') {
    if (value.trim() === '') problems.push(`${prefix}: empty string`);
    out.set(prefix, value);
    return;
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) problems.push(`${prefix || '(root)'}: empty object`);
    for (const [key, child] of entries) flatten(child, prefix ? `${prefix}.${key}` : key, out, problems);
    return;
  }
  problems.push(`${prefix || '(root)'}: ${JSON.stringify(value)} is not a string`);
}

function readStrings(file: string): { keys: Map<string, string>; problems: string[] } {
  const keys = new Map<string, string>();
  const problems: string[] = [];
  flatten(JSON.parse(readFileSync(file, 'utf8')), '', keys, problems);
  return { keys, problems };
}

/** The namespace of a locales/ folder, as resourcesFrom names it. */
function namespaceOf(folder: string): string {
  const area = folder.split(sep).at(-2)!;
  return area === 'shared' ? 'common' : area;
}

/** Which app a path under web/ belongs to: 'console', 'member', or 'shared' (both). */
function appOf(path: string): string {
  return relative(WEB, path).split(sep)[0]!;
}

/** namespace → locale → keys, for one app (shared's namespaces included). */
function resourcesOf(app: string): Map<string, Map<string, Map<string, string>>> {
  const byNamespace = new Map<string, Map<string, Map<string, string>>>();
  for (const folder of localeFolders()) {
    const folderApp = appOf(folder);
    if (folderApp !== 'shared' && folderApp !== app) continue;
    const ns = namespaceOf(folder);
    const byLocale = byNamespace.get(ns) ?? new Map<string, Map<string, string>>();
    for (const locale of LOCALES) {
      const file = join(folder, `${locale}.json`);
      if (existsSync(file)) byLocale.set(locale, readStrings(file).keys);
    }
    byNamespace.set(ns, byLocale);
  }
  return byNamespace;
}

interface KeyUse {
  file: string;
  line: number;
  ns: string | undefined;
  key: string;
  withCount: boolean;
}

const STRING = String.raw`'([^'\\\n]*)'|"([^"\\\n]*)"|\x60([^\x60\\$]*)\x60`;

/** The literal keys a .tsx file passes to t-functions, with the namespace each t is bound to. */
export function keyUses(file: string, source: string): KeyUse[] {
  // Where each t-function name is bound, and to which namespace (in source order).
  const bindings: { name: string; at: number; ns: string }[] = [];
  const hook = /\{([^{}]*)\}\s*=\s*useTranslation\(\s*(\[\s*)?(?:'([^']*)'|"([^"]*)")?/g;
  for (const m of source.matchAll(hook)) {
    const ns = m[3] ?? m[4] ?? 'common';
    for (const part of m[1]!.split(',')) {
      const bound = /^\s*t\s*(?::\s*([A-Za-z_$][\w$]*))?\s*$/.exec(part);
      if (bound) bindings.push({ name: bound[1] ?? 't', at: m.index, ns });
    }
  }
  const names = new Set(['t', ...bindings.map((b) => b.name)]);
  const uses: KeyUse[] = [];
  const call = new RegExp(String.raw`(?<![\w$.])(${[...names].join('|')})\(\s*(?:${STRING})\s*(,\s*\{[^)]*?\bcount\b)?`, 'g');
  for (const m of source.matchAll(call)) {
    const literal = m[2] ?? m[3] ?? m[4];
    if (literal === undefined) continue;
    const name = m[1]!;
    const binding = bindings.filter((b) => b.name === name && b.at < m.index!).at(-1);
    const colon = literal.indexOf(':');
    const prefixed = colon > 0 && /^[\w-]+$/.test(literal.slice(0, colon));
    const ns = prefixed ? literal.slice(0, colon) : binding?.ns;
    const key = prefixed ? literal.slice(colon + 1) : literal;
    uses.push({ file, line: source.slice(0, m.index).split('\n').length, ns, key, withCount: m[5] !== undefined });
  }
  return uses;
}

/** The codes of the table rows (| `CODE` | status | meaning |) of a markdown's "## Errors" section. */
export function documentedErrorCodes(markdown: string): string[] {
  const section = /^## Errors\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown)?.[1] ?? '';
  return [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| \d{3} \|/gm)].map((m) => m[1]!);
}

/** What is wrong with the errors.<CODE> entries of common's strings (flattened) for these codes. */
export function errorEntryProblems(codes: string[], zh: Map<string, string>, en: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const code of codes) {
    for (const [locale, keys] of Object.entries({ 'zh-CN': zh, en })) {
      if (!keys.get(`errors.${code}`)?.trim()) problems.push(`${locale}: errors.${code} is missing or empty`);
    }
    const ascii = zh.get(`errors.${code}`)?.match(/[,.:;?!()]/g);
    if (ascii) problems.push(`zh-CN: errors.${code} has ASCII punctuation ${[...new Set(ascii)].join(' ')}`);
  }
  return problems;
}

describe('web i18n', () => {
  const folders = localeFolders();

  test('there are locale folders to check (shared, the console layout, the member centre)', () => {
    const names = folders.map((f) => relative(WEB, f));
    for (const expected of [join('shared', 'locales'), join('console', 'layout', 'locales'), join('member', 'locales')]) {
      assert.ok(names.includes(expected), `${expected} among ${names.join(', ')}`);
    }
  });

  for (const folder of folders) {
    test(`${relative(WEB, folder)}: zh-CN.json and en.json have the same keys and no empty string`, () => {
      const files = LOCALES.map((locale) => join(folder, `${locale}.json`));
      for (const file of files) assert.ok(existsSync(file), `${relative(WEB, file)} is missing`);
      const [zh, en] = files.map(readStrings) as [ReturnType<typeof readStrings>, ReturnType<typeof readStrings>];
      assert.deepEqual([...zh.problems.map((p) => `zh-CN ${p}`), ...en.problems.map((p) => `en ${p}`)], []);
      const onlyZh = [...zh.keys.keys()].filter((k) => !en.keys.has(k));
      const onlyEn = [...en.keys.keys()].filter((k) => !zh.keys.has(k));
      assert.deepEqual({ onlyInZhCN: onlyZh, onlyInEn: onlyEn }, { onlyInZhCN: [], onlyInEn: [] });
    });
  }

  test('every literal key passed to t() in web/**/*.tsx and .ts exists in its namespace, in both languages', () => {
    const resources = { console: resourcesOf('console'), member: resourcesOf('member') };
    const missing: string[] = [];
    let checked = 0;
    walk(WEB, (file) => {
      if (!file.endsWith('.tsx') && !file.endsWith('.ts')) return;
      const app = appOf(file);
      // shared components are used by both apps: their keys must be in a namespace both apps have
      const apps = app === 'shared' ? (['console', 'member'] as const) : app === 'console' || app === 'member' ? ([app] as const) : [];
      for (const use of keyUses(relative(WEB, file), readFileSync(file, 'utf8'))) {
        if (use.ns === undefined) continue;
        checked++;
        for (const appName of apps) {
          const byLocale = resources[appName].get(use.ns);
          for (const locale of LOCALES) {
            const keys = byLocale?.get(locale);
            const found = keys !== undefined && (keys.has(use.key) || (use.withCount && PLURAL_SUFFIXES.some((suffix) => keys.has(`${use.key}${suffix}`))));
            if (!found)
              missing.push(`${use.file}:${use.line} ${locale}:${use.ns}:${use.key}${byLocale ? '' : ` (no namespace ${use.ns} in the ${appName} app)`}`);
          }
        }
      }
    });
    assert.deepEqual(missing, []);
    assert.ok(checked > 0, 'some t() keys were found and checked');
  });

  test("every error code of docs/api.md has a headline in common:errors, in both languages (zh-CN's without ASCII punctuation)", () => {
    const codes = documentedErrorCodes(readFileSync(API_DOC, 'utf8'));
    assert.ok(codes.length > 50, `docs/api.md's Errors table lists ${codes.length} codes`);
    assert.ok(codes.includes('INSUFFICIENT_POINTS') && codes.includes('SERVICE_UNAVAILABLE'));
    const [zh, en] = LOCALES.map((locale) => readStrings(join(WEB, 'shared', 'locales', `${locale}.json`)).keys) as [Map<string, string>, Map<string, string>];
    assert.deepEqual(errorEntryProblems(codes, zh, en), []);
  });

  test('every field rule of the API (FIELD_RULES) says the same in common:fieldRules in both languages', () => {
    const [zh, en] = LOCALES.map((locale) => readStrings(join(WEB, 'shared', 'locales', `${locale}.json`)).keys) as [Map<string, string>, Map<string, string>];
    const rules = Object.keys(FIELD_RULES);
    assert.ok(rules.includes('required') && rules.includes('at_most_field'));
    const problems: string[] = [];
    const placeholders = (text: string | undefined) => [...(text ?? '').matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    for (const rule of rules) {
      const [z, e] = [zh.get(`fieldRules.${rule}`), en.get(`fieldRules.${rule}`)];
      if (!z?.trim() || !e?.trim()) problems.push(`fieldRules.${rule} is missing in ${!z?.trim() ? 'zh-CN' : 'en'}`);
      else if (placeholders(z).join() !== placeholders(e).join())
        problems.push(`fieldRules.${rule}: zh-CN uses {{${placeholders(z)}}}, en {{${placeholders(e)}}}`);
      // placeholders and event type names (order.paid) are code, not punctuation
      const ascii = z
        ?.replace(/\{\{\w+\}\}/g, '')
        .replace(/\b[a-z]+\.[a-z_]+\b/g, '')
        .match(/[,.:;?!()]/g);
      if (ascii) problems.push(`zh-CN: fieldRules.${rule} has ASCII punctuation ${[...new Set(ascii)].join(' ')}`);
    }
    const extra = [...en.keys()].filter((k) => k.startsWith('fieldRules.') && !rules.includes(k.slice('fieldRules.'.length)));
    assert.deepEqual({ problems, extra }, { problems: [], extra: [] });
  });

  test('the error-code check finds what it should (it can fail)', () => {
    const markdown = [
      '## Errors',
      '',
      '| code | status | meaning |',
      '|---|---|---|',
      '| `GOOD` | 400 | Fine |',
      '| `MISSING` | 404 | Not translated |',
      '| `ASCII` | 409 | Chinese with ASCII punctuation |',
      '',
      '## Health',
      '| `NOT_AN_ERROR` | 200 | Another section |',
    ].join('\n');
    const codes = documentedErrorCodes(markdown);
    assert.deepEqual(codes, ['GOOD', 'MISSING', 'ASCII']);
    const zh = new Map([
      ['errors.GOOD', '积分不足，请稍后再试（示例）'],
      ['errors.ASCII', '积分不足, 请稍后再试(示例).'],
    ]);
    const en = new Map([
      ['errors.GOOD', 'Not enough points'],
      ['errors.MISSING', ' '],
      ['errors.ASCII', 'Not enough points, try again (example)'],
    ]);
    assert.deepEqual(errorEntryProblems(codes, zh, en), [
      'zh-CN: errors.MISSING is missing or empty',
      'en: errors.MISSING is missing or empty',
      'zh-CN: errors.ASCII has ASCII punctuation , ( ) .',
    ]);
  });

  test('the static check finds what it should (it can fail)', () => {
    const source = [
      'export default function Page() {',
      "  const { t } = useTranslation('members');",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source text with a template literal, on purpose
      "t('title'); t(\"common:save\"); t(`list.empty`); t(`dyn.${x}`); t('n', { count: 2 });",
      "const { t: tc, i18n } = useTranslation(['rules', 'common']);",
      "tc('name'); format('x');",
    ].join('\n');
    assert.deepEqual(
      keyUses('x.tsx', source).map((u) => `${u.ns}:${u.key}${u.withCount ? '#count' : ''}`),
      ['members:title', 'common:save', 'members:list.empty', 'members:n#count', 'rules:name'],
    );
  });
});
