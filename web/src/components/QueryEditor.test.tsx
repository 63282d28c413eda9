// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, render } from '@testing-library/react';
import '../i18n';
import { QueryEditor } from './QueryEditor';

afterEach(cleanup);

describe('QueryEditor', () => {
  it("shows the server's error under the editor and marks the bad token", async () => {
    const { container, rerender } = render(<QueryEditor value="a ) b" onRun={() => undefined} error={{ message: 'invalid query: unmatched `)`', position: 2 }} />);
    expect(container.querySelector('.nl-query-error')?.textContent).toBe('Invalid query: unmatched `)`');
    const marked = container.querySelector('.cm-lintRange-error');
    expect(marked?.textContent).toBe(')');
    rerender(<QueryEditor value="a b" onRun={() => undefined} error={null} />);
    expect(container.querySelector('.nl-query-error')).toBeNull();
    expect(container.querySelector('.cm-lintRange-error')).toBeNull();
  });

  it('highlights tokens and runs the query on Enter', async () => {
    const onRun = vi.fn();
    const { container } = render(<QueryEditor value="level:error OR timeout" onRun={onRun} />);
    expect(container.querySelector('.nl-tok-field')?.textContent).toBe('level:');
    expect(container.querySelector('.nl-tok-keyword')?.textContent).toBe('OR');
    const content = container.querySelector('.cm-content') as HTMLElement;
    await act(async () => {
      content.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    });
    expect(onRun).toHaveBeenCalledWith('level:error OR timeout');
  });
});
