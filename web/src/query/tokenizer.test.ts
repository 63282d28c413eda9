import { describe, expect, it } from 'vitest';
import { tokenize } from './tokenizer';

const types = (q: string) => tokenize(q).map((t) => [t.type, t.text]);

describe('tokenize', () => {
  it('splits words, fields, values and keywords', () => {
    expect(types('payment failed level:error')).toEqual([
      ['word', 'payment'],
      ['word', 'failed'],
      ['field', 'level:'],
      ['value', 'error'],
    ]);
    expect(types('a AND b OR NOT c')).toEqual([
      ['word', 'a'],
      ['keyword', 'AND'],
      ['word', 'b'],
      ['keyword', 'OR'],
      ['keyword', 'NOT'],
      ['word', 'c'],
    ]);
  });

  it('keeps lower-case and/or/not and keyword prefixes as words', () => {
    expect(types('a and ORDER NOTE')).toEqual([
      ['word', 'a'],
      ['word', 'and'],
      ['word', 'ORDER'],
      ['word', 'NOTE'],
    ]);
  });

  it('reads phrases, quoted values and escapes', () => {
    expect(types('"connection reset" user:"John Smith" user\\:id')).toEqual([
      ['phrase', '"connection reset"'],
      ['field', 'user:'],
      ['string', '"John Smith"'],
      ['word', 'user\\:id'],
    ]);
    expect(types('"say \\"hi\\"" x')).toEqual([
      ['phrase', '"say \\"hi\\""'],
      ['word', 'x'],
    ]);
  });

  it('marks an unclosed quote', () => {
    const [t] = tokenize('"unfinished phrase');
    expect(t.type).toBe('invalid');
    expect(t.unclosed).toBe(true);
    expect(tokenize('user:"ab')[1]).toMatchObject({ type: 'string', unclosed: true, field: 'user' });
  });

  it('reads wildcards, numbers and negation', () => {
    expect(types('time* path:/api/* user:* -host:web-1 http.status:503')).toEqual([
      ['wildcard', 'time*'],
      ['field', 'path:'],
      ['wildcard', '/api/*'],
      ['field', 'user:'],
      ['value', '*'],
      ['negation', '-'],
      ['field', 'host:'],
      ['value', 'web-1'],
      ['field', 'http.status:'],
      ['number', '503'],
    ]);
  });

  it('reads ranges and comparisons', () => {
    expect(types('code:[400 TO 499] ratio:{0 TO *} latency_ms:>=500 level:>warn')).toEqual([
      ['field', 'code:'],
      ['range', '['],
      ['number', '400'],
      ['range', 'TO'],
      ['number', '499'],
      ['range', ']'],
      ['field', 'ratio:'],
      ['range', '{'],
      ['number', '0'],
      ['range', 'TO'],
      ['value', '*'],
      ['range', '}'],
      ['field', 'latency_ms:'],
      ['operator', '>='],
      ['number', '500'],
      ['field', 'level:'],
      ['operator', '>'],
      ['value', 'warn'],
    ]);
  });

  it('treats URLs and times as words, not fields', () => {
    expect(types('http://x/y 12:30')).toEqual([
      ['word', 'http://x/y'],
      ['word', '12:30'],
    ]);
  });

  it('reads groups and stray parentheses', () => {
    expect(types('(a OR b) c)')).toEqual([
      ['paren', '('],
      ['word', 'a'],
      ['keyword', 'OR'],
      ['word', 'b'],
      ['paren', ')'],
      ['word', 'c'],
      ['paren', ')'],
    ]);
  });

  it('counts offsets in UTF-16 units and handles CJK', () => {
    const ts = tokenize('登录 service:支付 😀x');
    expect(ts.map((t) => [t.from, t.to])).toEqual([
      [0, 2],
      [3, 11],
      [11, 13],
      [14, 17],
    ]);
  });

  it('never stalls or throws on any input', () => {
    for (const q of ['', ' ', ':', '::', '-', '- a', 'a:', 'a:(', '[', 'x:[', 'x:[1 TO', '\\', 'a\\', '"', '>', 'a:>']) {
      expect(() => tokenize(q)).not.toThrow();
    }
  });
});
