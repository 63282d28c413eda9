export const LEVEL_COLORS: Record<string, string> = {
  TRACE: '#8c8c8c',
  DEBUG: '#722ed1',
  INFO: '#1677ff',
  WARN: '#fa8c16',
  ERROR: '#f5222d',
  FATAL: '#820014',
  OTHER: '#bfbfbf',
};

export function LevelBadge({ level }: { level: string }) {
  const key = (level || '').toUpperCase();
  return (
    <span className="nl-level" style={{ color: LEVEL_COLORS[key] ?? 'inherit', borderColor: LEVEL_COLORS[key] ?? 'currentColor' }}>
      {key || '—'}
    </span>
  );
}
