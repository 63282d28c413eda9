// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, render } from '@testing-library/react';
import i18n from '../i18n';
import { TimePicker } from './TimePicker';

afterEach(cleanup);

describe('TimePicker', () => {
  it('names quick ranges in the UI language, and absolute ones by their dates', async () => {
    await act(() => i18n.changeLanguage('en'));
    const { getByTestId, rerender } = render(<TimePicker value={{ from: 'now-4h', to: 'now' }} onChange={() => undefined} />);
    expect(getByTestId('time-picker-button').textContent).toBe('Last 4 hours');
    rerender(<TimePicker value={{ from: 'now-90m', to: 'now' }} onChange={() => undefined} />);
    expect(getByTestId('time-picker-button').textContent).toBe('Last 90m');
    await act(() => i18n.changeLanguage('zh-CN'));
    rerender(<TimePicker value={{ from: 'now-4h', to: 'now' }} onChange={() => undefined} />);
    expect(getByTestId('time-picker-button').textContent).toBe('最近 4 小时');
    rerender(<TimePicker value={{ from: '2026-12-05T03:00:00Z', to: 'now-1h' }} onChange={() => undefined} />);
    const text = getByTestId('time-picker-button').textContent ?? '';
    expect(text).toMatch(/12月5日/);
    expect(text).toMatch(/→ now-1h$/);
    await act(() => i18n.changeLanguage('en'));
  });
});
