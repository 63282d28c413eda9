// The page's translations, loaded with the page rather than in the first bundle.
import i18n from '../../i18n';
import en from '../../i18n/locales/en/pipelines.json';
import zhCN from '../../i18n/locales/zh-CN/pipelines.json';

i18n.addResourceBundle('en', 'pipelines', en, true, true);
i18n.addResourceBundle('zh-CN', 'pipelines', zhCN, true, true);
