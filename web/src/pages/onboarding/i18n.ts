// The page's translations, loaded with the page rather than in the first bundle.
import i18n from '../../i18n';
import en from '../../i18n/locales/en/onboarding.json';
import zhCN from '../../i18n/locales/zh-CN/onboarding.json';

i18n.addResourceBundle('en', 'onboarding', en, true, true);
i18n.addResourceBundle('zh-CN', 'onboarding', zhCN, true, true);
