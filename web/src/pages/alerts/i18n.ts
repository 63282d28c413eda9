// The page's translations, loaded with the page rather than in the first bundle.
import i18n from '../../i18n';
import en from '../../i18n/locales/en/alerts.json';
import zhCN from '../../i18n/locales/zh-CN/alerts.json';

i18n.addResourceBundle('en', 'alerts', en, true, true);
i18n.addResourceBundle('zh-CN', 'alerts', zhCN, true, true);
