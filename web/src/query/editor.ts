// The CodeMirror 6 pieces of the query editor: highlighting from the tokenizer (no Lezer
// grammar: the language is small and one line), completion from the project's catalog, the
// server's error as a diagnostic, and the keys (Enter runs; the editor stays one line).

import { type Completion, type CompletionContext, type CompletionResult, autocompletion, startCompletion } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { type Diagnostic, diagnosticCount, setDiagnostics } from '@codemirror/lint';
import { EditorState, type Extension, RangeSetBuilder } from '@codemirror/state';
import { Decoration, type DecorationSet, EditorView, keymap, placeholder as placeholderExt, ViewPlugin, type ViewUpdate } from '@codemirror/view';
import { type Catalog, suggest } from './completion';
import { errorRange } from './diagnostics';
import { tokenize, type TokenType } from './tokenizer';

const marks = new Map<TokenType, Decoration>();
function mark(type: TokenType): Decoration {
  let m = marks.get(type);
  if (!m) {
    m = Decoration.mark({ class: `nl-tok-${type}` });
    marks.set(type, m);
  }
  return m;
}

/** Decorations for every token of the document. */
export function tokenDecorations(text: string): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>();
  for (const t of tokenize(text)) if (t.to > t.from) builder.add(t.from, t.to, mark(t.type));
  return builder.finish();
}

const highlighter = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = tokenDecorations(view.state.doc.toString());
    }
    update(u: ViewUpdate) {
      if (u.docChanged) this.decorations = tokenDecorations(u.state.doc.toString());
    }
  },
  { decorations: (v) => v.decorations },
);

/** A CodeMirror completion source over `suggest`, reading the catalog at call time. */
export function completionSource(getCatalog: () => Catalog, labels: { field: string; count: (n: number) => string }) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const text = ctx.state.doc.toString();
    const r = suggest(text, ctx.pos, getCatalog(), ctx.explicit);
    if (!r) return null;
    const options: Completion[] = r.options.map((o, i) => ({
      label: o.label,
      apply: o.apply,
      type: o.type === 'field' ? 'property' : 'constant',
      detail: o.type === 'field' ? o.detail : o.count !== undefined ? labels.count(o.count) : undefined,
      boost: -i / 1000,
    }));
    return { from: r.from, to: r.to, options, filter: false };
  };
}

/** The diagnostic for a server error at character `position` of `query`. */
export function queryDiagnostic(query: string, position: number, message: string): Diagnostic {
  const { from, to } = errorRange(query, position);
  return { from, to, severity: 'error', message, source: 'NexusLog' };
}

export function showServerError(view: EditorView, position: number | undefined, message: string): void {
  const text = view.state.doc.toString();
  view.dispatch(setDiagnostics(view.state, position === undefined ? [] : [queryDiagnostic(text, position, message)]));
}

export function clearErrors(view: EditorView): void {
  view.dispatch(setDiagnostics(view.state, []));
}

export interface EditorOptions {
  getCatalog: () => Catalog;
  onRun: () => void;
  onChange: (text: string) => void;
  placeholder: string;
  countLabel: (n: number) => string;
  fieldLabel: string;
  ariaLabel: string;
}

/** Everything the query editor needs, on top of a plain EditorState. */
export function queryExtensions(o: EditorOptions): Extension[] {
  return [
    history(),
    highlighter,
    placeholderExt(o.placeholder),
    // One line: a newline typed or pasted becomes a space.
    EditorState.transactionFilter.of((tr) => {
      if (!tr.docChanged || tr.newDoc.lines === 1) return tr;
      const text = tr.newDoc.toString().replace(/\r?\n/g, ' ');
      return [tr, { changes: { from: 0, to: tr.newDoc.length, insert: text }, sequential: true }];
    }),
    autocompletion({
      override: [completionSource(o.getCatalog, { field: o.fieldLabel, count: o.countLabel })],
      activateOnTyping: true,
      icons: false,
      maxRenderedOptions: 50,
    }),
    // Diagnostics come from the server (setDiagnostics); editing clears a stale one.
    EditorState.transactionExtender.of((tr) => tr.docChanged && diagnosticCount(tr.startState) > 0 ? { effects: setDiagnostics(tr.startState, []).effects } : null),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) o.onChange(u.state.doc.toString());
    }),
    keymap.of([
      {
        key: 'Enter',
        run: () => {
          o.onRun();
          return true;
        },
      },
      {
        key: 'Mod-Enter',
        run: () => {
          o.onRun();
          return true;
        },
      },
      { key: 'Mod-Space', run: startCompletion },
      ...historyKeymap,
      ...defaultKeymap,
    ]),
    EditorView.contentAttributes.of({ 'aria-label': o.ariaLabel, spellcheck: 'false', autocapitalize: 'off', autocorrect: 'off' }),
    EditorView.lineWrapping,
  ];
}
