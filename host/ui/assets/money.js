// Prices typed as decimals ("4.50") and kept as integer minor units (450), without floating point.
export function parseMinor(text) {
  const t = String(text).trim().replace(',', '.');
  if (t === '') return null;
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(t);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

export function formatMinor(minor) {
  if (minor === null || minor === undefined) return '';
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}
