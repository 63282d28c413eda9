// The page's translations, loaded with the page (or Explore's save dialog), not in the first bundle.
import i18n from '../../i18n';
import en from '../../i18n/locales/en/searches.json';
import zhCN from '../../i18n/locales/zh-CN/searches.json';

i18n.addResourceBundle('en', 'searches', en, true, true);
i18n.addResourceBundle('zh-CN', 'searches', zhCN, true, true);
