import { describe, expect, it } from 'vitest';
import type { RuleSpec } from './api';
import { draftPipeline, formToSpec, moveUpdates, parseRuleJson, sampleLines, shapeResults, specToForm, stepLabel, StepJsonError, whenText } from './pipeline';

const spec: RuleSpec = {
  name: 'nginx',
  enabled: true,
  on_error: 'keep' as const,
  when: { service: 'nginx', field: { name: 'message', matches: 'GET' } },
  steps: [{ parse: { with: 'grok', patterns: ['%{NGINXACCESS}'] } }, { rename: { from: 'response', to: 'http.status' } }],
};

describe('pipeline rule form', () => {
  it('round-trips a rule', () => {
    const f = specToForm(spec);
    expect(f.fieldTest).toBe('matches');
    expect(f.steps[1].type).toBe('rename');
    expect(formToSpec(f)).toEqual(spec);
  });
  it('names the step whose JSON is bad', () => {
    const f = specToForm(spec);
    f.steps[1].body = '{oops';
    expect(() => formToSpec(f)).toThrow(StepJsonError);
    try {
      formToSpec(f);
    } catch (e) {
      expect((e as StepJsonError).index).toBe(1);
    }
  });
  it('reads rule JSON', () => {
    expect(parseRuleJson('{"name":"x","steps":[],"id":"1","position":3}')).toEqual({ spec: { name: 'x', steps: [] } });
    expect('error' in parseRuleJson('[]')).toBe(true);
    expect('error' in parseRuleJson('{"name":"x"}')).toBe(true);
  });
  it('describes when', () => {
    expect(whenText(spec.when!)).toBe('service=nginx · message ~ /GET/');
    expect(whenText({})).toBeNull();
  });
});

describe('order and dry run', () => {
  const rules = [
    { id: 'a', position: 1, name: 'a', steps: [], updated_at: '' },
    { id: 'b', position: 2, name: 'b', steps: [], updated_at: '' },
  ];
  it('swaps positions to move a rule', () => {
    expect(moveUpdates(rules, 1, -1)).toEqual([{ id: 'b', position: 1 }, { id: 'a', position: 2 }]);
    expect(moveUpdates(rules, 0, -1)).toEqual([]);
    expect(moveUpdates([{ id: 'a', position: 5 }, { id: 'b', position: 5 }], 1, -1)).toEqual([{ id: 'b', position: 4 }]);
  });
  it('tries the draft in place of the edited rule, or last', () => {
    const d = { name: 'd', steps: [] };
    expect(draftPipeline(rules, 'a', d).map((r) => r.name)).toEqual(['d', 'b']);
    expect(draftPipeline(rules, null, d).map((r) => r.name)).toEqual(['a', 'b', 'd']);
  });
  it('shapes results with verdicts and failed steps', () => {
    const lines = sampleLines('one\n\n two \n');
    expect(lines).toEqual(['one', ' two ']);
    const shaped = shapeResults(lines, [
      {
        outcome: 'record',
        record: { message: 'one', level: 'info', host: null, service: null, source: 'http', timestamp: 't', timestamp_source: 'received', parse_status: 'partial', parse_errors: ['no match'], trace_id: null, span_id: null, fields: { n: 1 } },
        trace: [{ rule: 'g', matched: true, steps: [{ step: 'parse grok', ok: false, error: 'no match' }] }],
      },
      { outcome: 'dropped', rule: 'g', trace: [{ rule: 'g', matched: true, steps: [{ step: 'drop', ok: true }] }] },
    ]);
    expect(shaped[0].verdict).toBe('partial');
    expect(shaped[0].summary.map(([k]) => k)).toEqual(['timestamp', 'level', 'message', 'timestamp_source']);
    expect(shaped[0].trace[0].failed).toBe(true);
    expect(shaped[1]).toMatchObject({ verdict: 'dropped', rule: 'g', line: ' two ' });
  });
});

describe('presets and time zones in the rule form', () => {
  const withPreset: RuleSpec = { name: 'edge', enabled: true, on_error: 'keep', when: {}, timezone: 'Europe/Berlin', steps: [{ preset: 'nginx_error' }, { convert: { field: 'process.pid', to: 'int' } }] };
  it('round-trips a preset step and the time zone', () => {
    const f = specToForm(withPreset);
    expect(f.steps[0]).toEqual({ type: 'preset', body: '"nginx_error"' });
    expect(f.timezone).toBe('Europe/Berlin');
    expect(formToSpec(f)).toEqual(withPreset);
  });
  it('refuses a preset step that is not a name', () => {
    const f = specToForm(withPreset);
    f.steps[0].body = '{"name": "nginx_error"}';
    expect(() => formToSpec(f)).toThrow(StepJsonError);
  });
  it('leaves the time zone out when empty', () => {
    const f = specToForm({ ...withPreset, timezone: null });
    expect(formToSpec(f).timezone).toBeUndefined();
  });
});

describe('multiline steps and joined dry-run lines', () => {
  it('labels preset steps with their name and others by kind', () => {
    expect(stepLabel({ preset: 'nginx_error' })).toBe('preset nginx_error');
    expect(stepLabel({ multiline: { kind: 'java' } })).toBe('multiline');
  });
  it('shapes a joined line with the line it continues', () => {
    const shaped = shapeResults(['ERROR x', 'at a.B(B.java:1)'], [
      { outcome: 'record', record: undefined },
      { outcome: 'joined', into: 1 },
    ]);
    expect(shaped.map((r) => [r.verdict, r.into])).toEqual([['ok', undefined], ['joined', 1]]);
  });
});
