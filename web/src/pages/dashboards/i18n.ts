// The page's translations, loaded with the page rather than in the first bundle.
import i18n from '../../i18n';
import en from '../../i18n/locales/en/dashboards.json';
import zhCN from '../../i18n/locales/zh-CN/dashboards.json';

i18n.addResourceBundle('en', 'dashboards', en, true, true);
i18n.addResourceBundle('zh-CN', 'dashboards', zhCN, true, true);
