import { useEffect, useImperativeHandle, useRef, useState } from 'react';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { useTranslation } from 'react-i18next';
import type { Catalog } from '../query/completion';
import { clearErrors, queryExtensions, showServerError } from '../query/editor';
import { formatNumber } from '../i18n/format';

export interface QueryError {
  message: string;
  /** Character offset from the server's 400, if it named one. */
  position?: number;
}

export interface QueryEditorHandle {
  focus: () => void;
  /** The text as typed now (it may be ahead of the last run). */
  text: () => string;
}

interface Props {
  value: string;
  onChange?: (text: string) => void;
  onRun: (text: string) => void;
  catalog?: Catalog;
  error?: QueryError | null;
  placeholder?: string;
  ref?: React.Ref<QueryEditorHandle>;
}

const EMPTY: Catalog = { fields: [], values: {} };

export function QueryEditor({ value, onChange, onRun, catalog, error, placeholder, ref }: Props) {
  const { t, i18n } = useTranslation();
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // The editor is created once; what it calls back reads the latest props through refs.
  const latestValue = useRef(value);
  latestValue.current = value;
  const latest = useRef({ onChange, onRun, catalog: catalog ?? EMPTY, t, lang: i18n.language });
  latest.current = { onChange, onRun, catalog: catalog ?? EMPTY, t, lang: i18n.language };
  // What is typed survives the editor being rebuilt for another language.
  const draft = useRef(value);
  // The server's error is about the query that ran: once it is edited, the message goes.
  const [edited, setEdited] = useState(false);

  useEffect(() => {
    const state = EditorState.create({
      doc: draft.current,
      extensions: queryExtensions({
        getCatalog: () => latest.current.catalog,
        onRun: () => latest.current.onRun(view.current?.state.doc.toString() ?? ''),
        onChange: (text) => {
          draft.current = text;
          setEdited(text !== latestValue.current);
          latest.current.onChange?.(text);
        },
        placeholder: placeholder ?? t('explore.queryPlaceholder'),
        countLabel: (n) => formatNumber(n, latest.current.lang),
        fieldLabel: t('explore.field'),
        ariaLabel: t('explore.queryLabel'),
      }),
    });
    const v = new EditorView({ state, parent: host.current! });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [i18n.language]);

  // The URL (back, a link, a filter) changed the query: show it.
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const current = v.state.doc.toString();
    draft.current = value;
    setEdited(false);
    if (current !== value) v.dispatch({ changes: { from: 0, to: current.length, insert: value }, selection: { anchor: value.length } });
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    if (error) showServerError(v, error.position, error.message.replace(/^invalid query:\s*/, ''));
    else clearErrors(v);
  }, [error, value]);

  useImperativeHandle(ref, () => ({
    focus: () => {
      const v = view.current;
      if (!v) return;
      v.focus();
      v.dispatch({ selection: { anchor: v.state.doc.length } });
    },
    text: () => view.current?.state.doc.toString() ?? value,
  }));

  return (
    <div className="nl-query">
      <div ref={host} className={`nl-query-editor${error && !edited ? ' nl-query-invalid' : ''}`} data-testid="query-editor" />
      {error && !edited && (
        <div className="nl-query-error" role="alert">
          {t('explore.invalidQuery', { detail: error.message.replace(/^invalid query:\s*/, '') })}
        </div>
      )}
    </div>
  );
}
