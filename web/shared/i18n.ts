// i18n for both apps: react-i18next, zh-CN by default, English switchable and remembered (in
// localStorage). Strings live in JSON files, one namespace per area (`common` here in shared/,
// `members`, `rules`, … beside each area's pages), in both languages; test/web-i18n.test.ts fails
// when a key is in one language and not the other. A key missing at run time is recorded in
// window.__jifenMissingKeys (the browser tests assert it stays empty) and shows as the key itself.
import i18next, { type Resource, type TFunction } from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { Locale } from './format.ts';

export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];
const STORAGE_KEY = 'jifen.locale';

declare global {
  interface Window {
    __jifenMissingKeys?: string[];
  }
}

/** The locale the viewer chose before, else zh-CN. */
export function storedLocale(): Locale {
  const stored = window.localStorage.getItem(STORAGE_KEY);
  return stored === 'en' || stored === 'zh-CN' ? stored : 'zh-CN';
}

/** Switches language, remembers it, and sets <html lang>. */
export async function setLocale(locale: Locale): Promise<void> {
  window.localStorage.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
  await i18next.changeLanguage(locale);
}

/**
 * Builds the resources from JSON files found by import.meta.glob, keyed by path: the namespace is
 * the area folder (…/<area>/locales/<locale>.json), or `common` for shared/locales.
 */
export function resourcesFrom(files: Record<string, { default: Record<string, unknown> } | Record<string, unknown>>): Resource {
  const resources: Resource = {};
  for (const [path, module] of Object.entries(files)) {
    const match = /(?:^|\/)(?:([\w-]+)\/)?locales\/([\w-]+)\.json$/.exec(path);
    if (!match) continue;
    const folder = match[1];
    const namespace = !folder || folder === 'shared' ? 'common' : folder;
    const locale = match[2]!;
    const strings = ('default' in module ? module.default : module) as Record<string, unknown>;
    (resources[locale] ??= {})[namespace] = strings;
  }
  return resources;
}

export async function setupI18n(resources: Resource): Promise<typeof i18next> {
  const lng = storedLocale();
  document.documentElement.lang = lng;
  window.__jifenMissingKeys = [];
  const namespaces = [...new Set(Object.values(resources).flatMap((byNamespace) => Object.keys(byNamespace)))];
  await i18next.use(initReactI18next).init({
    resources,
    lng,
    supportedLngs: [...LOCALES],
    fallbackLng: false,
    ns: namespaces,
    defaultNS: 'common',
    interpolation: { escapeValue: false },
    returnNull: false,
    saveMissing: true,
    missingKeyHandler: (languages, namespace, key) => {
      const entry = `${languages.join(',')}:${namespace}:${key}`;
      if (!window.__jifenMissingKeys!.includes(entry)) window.__jifenMissingKeys!.push(entry);
      console.warn(`i18n: missing ${entry}`);
    },
  });
  return i18next;
}

/**
 * What an API error code means, in the viewer's language: common:errors.<CODE> (every code of
 * docs/api.md has one, test/web-i18n.test.ts checks), or undefined for a code without one.
 */
export function errorHeadline(code: string, t: TFunction): string | undefined {
  const key = `common:errors.${code}`;
  return i18next.exists(key) ? t(key) : undefined;
}

/**
 * A field error of the API in the viewer's language: common:fieldRules.<rule> with the error's
 * params (every rule of src/shared/errors.ts FIELD_RULES has one in both languages; test/
 * web-i18n.test.ts checks), else the API's English message. The params that name fields or values
 * (field, value, fields, windows: API words, a list joined by ", ") are said in the viewer's words
 * where common:fieldWords has them.
 */
export function fieldMessage(e: { message: string; rule?: string; params?: Record<string, string | number> }, t: TFunction): string {
  const key = e.rule ? `common:fieldRules.${e.rule}` : undefined;
  if (!key || !i18next.exists(key)) return e.message;
  const params: Record<string, string | number> = { ...e.params };
  for (const name of WORD_PARAMS) {
    const v = params[name];
    if (typeof v === 'string')
      params[name] = v
        .split(', ')
        .map((w) => (i18next.exists(`common:fieldWords.${w}`) ? String(t(`common:fieldWords.${w}`)) : w))
        .join(String(t('common:fieldWords.separator')));
  }
  return String(t(key, params));
}

const WORD_PARAMS = ['field', 'value', 'fields', 'windows'] as const;
