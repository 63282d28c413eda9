// The page's translations, loaded with the page rather than in the first bundle.
import i18n from '../../i18n';
import en from '../../i18n/locales/en/settings.json';
import zhCN from '../../i18n/locales/zh-CN/settings.json';

i18n.addResourceBundle('en', 'settings', en, true, true);
i18n.addResourceBundle('zh-CN', 'settings', zhCN, true, true);
