// A tokenizer for the search language (crates/query/src/parser.rs), for highlighting and
// completion. It follows the parser's rules but never fails: an unfinished query (an unclosed
// quote, a field without a value) still yields tokens, so the editor can colour and complete
// while the user types. Offsets are UTF-16 code units, as the editor counts them.

export type TokenType =
  | 'field' // `name:` (the colon included)
  | 'keyword' // AND OR NOT
  | 'negation' // a leading `-`
  | 'paren' // ( )
  | 'phrase' // "quoted words" on the message
  | 'word' // a bare word on the message
  | 'wildcard' // a word or value with a trailing `*`
  | 'string' // a quoted field value
  | 'value' // a bare field value
  | 'number' // a numeric field value or range bound
  | 'operator' // > >= < <= before a value
  | 'range' // [ ] { } and TO inside a range
  | 'invalid'; // what the parser would refuse here (an unclosed quote, a stray `)`)

export interface Token {
  type: TokenType;
  from: number;
  to: number;
  text: string;
  /** For value tokens (`string`, `value`, `number`, `wildcard` after a field): the field name. */
  field?: string;
  /** A quoted token without its closing quote. */
  unclosed?: boolean;
}

const KEYWORDS = ['AND', 'OR', 'NOT'] as const;

export function isWhitespace(c: string | undefined): boolean {
  return c !== undefined && /\s/u.test(c);
}

/** A bare chunk ends at whitespace, a parenthesis or a quote. */
export function endsBare(c: string | undefined): boolean {
  return c === undefined || isWhitespace(c) || c === '(' || c === ')' || c === '"';
}

export function isNameStart(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z_@]$/.test(c);
}

export function isNameChar(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z0-9_.@-]$/.test(c);
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

class Scanner {
  pos = 0;
  readonly tokens: Token[] = [];
  constructor(readonly src: string) {}

  peek(offset = 0): string | undefined {
    return this.pos + offset < this.src.length ? this.src[this.pos + offset] : undefined;
  }

  push(type: TokenType, from: number, to: number, extra?: Partial<Token>): Token {
    const t: Token = { type, from, to, text: this.src.slice(from, to), ...extra };
    this.tokens.push(t);
    return t;
  }

  skipWs(): void {
    while (isWhitespace(this.peek())) this.pos++;
  }

  keywordAt(): string | undefined {
    for (const k of KEYWORDS) {
      if (this.src.startsWith(k, this.pos) && endsBare(this.src[this.pos + k.length])) return k;
    }
    return undefined;
  }

  /** A quoted string from the cursor; returns whether it was closed. */
  quoted(): boolean {
    this.pos++; // opening quote
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === '\\') {
        this.pos += 2;
        continue;
      }
      this.pos++;
      if (c === '"') return true;
    }
    this.pos = Math.min(this.pos, this.src.length);
    return false;
  }

  /** A bare chunk (with `\` escapes); inside a range it also ends at `]` or `}`. */
  bare(inRange: boolean): { from: number; to: number; wildcard: boolean } {
    const from = this.pos;
    let wildcard = false;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (endsBare(c) || (inRange && (c === ']' || c === '}'))) break;
      if (c === '\\') {
        this.pos = Math.min(this.pos + 2, this.src.length);
        wildcard = false;
        continue;
      }
      wildcard = c === '*';
      this.pos++;
    }
    return { from, to: this.pos, wildcard };
  }

  /** `name:` at the cursor (not a URL's `scheme://`); consumes it and returns the name. */
  fieldName(): string | undefined {
    if (!isNameStart(this.peek())) return undefined;
    let end = this.pos;
    while (isNameChar(this.src[end])) end++;
    if (this.src[end] !== ':' || this.src.startsWith('//', end + 1)) return undefined;
    const name = this.src.slice(this.pos, end);
    this.push('field', this.pos, end + 1);
    this.pos = end + 1;
    return name;
  }

  value(field: string): void {
    const c = this.peek();
    if (c === undefined || isWhitespace(c) || c === ')' || c === '(') return; // no value (yet)
    if (c === '"') {
      const from = this.pos;
      const closed = this.quoted();
      this.push('string', from, this.pos, { field, unclosed: !closed });
      return;
    }
    if (c === '[' || c === '{') {
      this.range(field);
      return;
    }
    if (c === '>' || c === '<') {
      const from = this.pos;
      this.pos += this.peek(1) === '=' ? 2 : 1;
      this.push('operator', from, this.pos);
      if (this.peek() === '"') {
        const f = this.pos;
        const closed = this.quoted();
        this.push('string', f, this.pos, { field, unclosed: !closed });
      } else if (!endsBare(this.peek())) {
        this.boundOrValue(field, false);
      }
      return;
    }
    this.boundOrValue(field, false);
  }

  boundOrValue(field: string, inRange: boolean): void {
    const chunk = this.bare(inRange);
    if (chunk.to === chunk.from) return;
    const text = this.src.slice(chunk.from, chunk.to);
    const type: TokenType = chunk.wildcard && text !== '*' ? 'wildcard' : NUMBER.test(text) ? 'number' : 'value';
    this.push(type, chunk.from, chunk.to, { field });
  }

  range(field: string): void {
    this.push('range', this.pos, this.pos + 1);
    this.pos++;
    for (;;) {
      this.skipWs();
      const c = this.peek();
      if (c === undefined) return;
      if (c === ']' || c === '}') {
        this.push('range', this.pos, this.pos + 1);
        this.pos++;
        return;
      }
      if (c === '(' || c === ')') return; // not part of a range: let the main loop see it
      if (c === '"') {
        const from = this.pos;
        const closed = this.quoted();
        this.push('string', from, this.pos, { field, unclosed: !closed });
        continue;
      }
      if (this.src.startsWith('TO', this.pos) && (isWhitespace(this.src[this.pos + 2]) || this.src[this.pos + 2] === undefined)) {
        this.push('range', this.pos, this.pos + 2);
        this.pos += 2;
        continue;
      }
      const before = this.pos;
      this.boundOrValue(field, true);
      if (this.pos === before) this.pos++; // never stall
    }
  }

  run(): Token[] {
    for (;;) {
      this.skipWs();
      const c = this.peek();
      if (c === undefined) break;
      const start = this.pos;
      if (c === '(' || c === ')') {
        this.push('paren', start, start + 1);
        this.pos++;
        continue;
      }
      if (c === '"') {
        const closed = this.quoted();
        this.push(closed ? 'phrase' : 'invalid', start, this.pos, { unclosed: !closed });
        continue;
      }
      const keyword = this.keywordAt();
      if (keyword) {
        this.push('keyword', start, start + keyword.length);
        this.pos += keyword.length;
        continue;
      }
      if (c === '-' && !endsBare(this.peek(1))) {
        this.push('negation', start, start + 1);
        this.pos++;
        continue;
      }
      const field = this.fieldName();
      if (field !== undefined) {
        this.value(field);
        continue;
      }
      const chunk = this.bare(false);
      if (chunk.to === chunk.from) {
        this.pos++; // a lone character the parser would refuse
        this.push('invalid', start, this.pos);
        continue;
      }
      this.push(chunk.wildcard ? 'wildcard' : 'word', chunk.from, chunk.to);
    }
    return this.tokens;
  }
}

/** The tokens of a query, in order, covering every non-space character. */
export function tokenize(query: string): Token[] {
  return new Scanner(query).run();
}

/** The token at (or ending at) `pos`, preferring the one that contains it. */
export function tokenAt(tokens: Token[], pos: number): Token | undefined {
  let found: Token | undefined;
  for (const t of tokens) {
    if (t.from <= pos && pos <= t.to) {
      if (t.from < pos && pos < t.to) return t;
      found = t; // touching at an edge: keep looking for one that contains pos
    }
  }
  return found;
}
