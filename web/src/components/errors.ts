import type { TFunction } from 'i18next';
import { ApiError } from '../api/client';

/** A readable title and detail for any failure, in the UI language. */
export function describeError(e: unknown, t: TFunction): { title: string; detail?: string } {
  if (e instanceof ApiError) {
    if (e.kind === 'network') return { title: t('errors.network'), detail: e.message };
    if (e.kind === 'session') return { title: t('errors.session') };
    switch (e.status) {
      case 400:
        return { title: t('errors.badRequest'), detail: e.message };
      case 401:
        return { title: t('errors.session'), detail: e.message };
      case 403:
        return { title: t('errors.forbidden'), detail: e.message };
      case 404:
        return { title: t('errors.notFound'), detail: e.message };
      case 409:
        return { title: t('errors.conflict'), detail: e.message };
      case 413:
        return { title: t('errors.tooLarge'), detail: e.message };
      case 429:
        return {
          title: e.retryAfter ? t('errors.tooManyRetry', { seconds: e.retryAfter }) : t('errors.tooMany'),
          detail: e.message,
        };
      case 503:
        return { title: t('errors.unavailable'), detail: e.message };
      default:
        return { title: t('errors.server', { status: e.status }), detail: e.message };
    }
  }
  if (e instanceof Error) return { title: t('errors.unknown'), detail: e.message };
  return { title: t('errors.unknown'), detail: String(e) };
}

/** One line: title and detail. */
export function errorText(e: unknown, t: TFunction): string {
  const { title, detail } = describeError(e, t);
  return detail && detail !== title ? `${title}: ${detail}` : title;
}
