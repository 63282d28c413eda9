import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './locales/en.json';
import zhCN from './locales/zh-CN.json';
// Page namespaces are registered by their lazily loaded pages (src/pages/*/i18n.ts); only their types are here.
import type alertsEn from './locales/en/alerts.json';
import type dashboardsEn from './locales/en/dashboards.json';
import type onboardingEn from './locales/en/onboarding.json';
import type pipelinesEn from './locales/en/pipelines.json';
import type searchesEn from './locales/en/searches.json';
import type settingsEn from './locales/en/settings.json';

export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];

export const LANGUAGE_KEY = 'nexuslog.language';

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: {
      translation: typeof en;
      alerts: typeof alertsEn;
      dashboards: typeof dashboardsEn;
      onboarding: typeof onboardingEn;
      pipelines: typeof pipelinesEn;
      searches: typeof searchesEn;
      settings: typeof settingsEn;
    };
  }
}

function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

/** The remembered language, else the browser's (any Chinese → 简体中文), else English. */
export function initialLanguage(): Language {
  try {
    const saved = localStorage.getItem(LANGUAGE_KEY);
    if (isLanguage(saved)) return saved;
  } catch {
    // storage unavailable
  }
  const nav = typeof navigator !== 'undefined' ? navigator.languages ?? [navigator.language] : [];
  return nav.some((l) => l?.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}

export function setLanguage(lang: Language): void {
  try {
    localStorage.setItem(LANGUAGE_KEY, lang);
  } catch {
    // not remembered
  }
  void i18n.changeLanguage(lang);
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  supportedLngs: LANGUAGES as unknown as string[],
  interpolation: { escapeValue: false },
  returnNull: false,
});

function syncHtmlLang(lang: string) {
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}
syncHtmlLang(i18n.language);
i18n.on('languageChanged', syncHtmlLang);

export default i18n;
