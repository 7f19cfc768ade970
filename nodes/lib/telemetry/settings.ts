/**
 * Where monitoring is configured: Node-RED's settings.js,
 *
 *   sayproIntegrationKit: {
 *     metrics:  { enabled: true, path: '/metrics', token: '', processMetrics: true, maxEventTypes: 20 },
 *     auditLog: { file: '', maxFileMB: 10, maxFiles: 5, nodeRedLog: false, events: true, attempts: true },
 *     apiVersionWatch: { enabled: true, warnEveryHours: 24 },
 *   }
 *
 * and environment variables, which win over settings.js when set (handy in a
 * container or a systemd unit):
 *
 *   SAYPRO_METRICS=off|on, SAYPRO_METRICS_PATH, SAYPRO_METRICS_TOKEN,
 *   SAYPRO_AUDIT_LOG=<file> (or "userdir": <userDir>/saypro-audit/audit.log; "off"),
 *   SAYPRO_AUDIT_LOG_MAX_MB, SAYPRO_AUDIT_LOG_FILES, SAYPRO_AUDIT_NODE_RED_LOG=true|false
 *
 * Read once per process (when the first node type loads). No Node-RED import.
 */
import * as path from 'path';

export interface MonitoringSettings {
  metrics: { enabled: boolean; path: string; token: string; processMetrics: boolean; maxEventTypes: number };
  auditLog: {
    file: string;
    maxFileMB: number;
    maxFiles: number;
    nodeRedLog: boolean;
    events: boolean;
    attempts: boolean;
  };
  apiVersionWatch: { enabled: boolean; warnEveryHours: number };
  /** settings that were not understood (warned about once) */
  problems: string[];
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function bool(v: unknown, fallback: boolean): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (['1', 'true', 'on', 'yes'].includes(t)) return true;
    if (['0', 'false', 'off', 'no'].includes(t)) return false;
  }
  return fallback;
}

function num(v: unknown, fallback: number, min: number, max: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}

function str(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v.trim() : fallback;
}

/** `settings` is RED.settings.sayproIntegrationKit; `userDir` resolves "userdir" and relative files. */
export function readMonitoringSettings(
  settings: unknown,
  env: NodeJS.ProcessEnv = process.env,
  userDir?: string,
): MonitoringSettings {
  const s = obj(settings);
  const m = obj(s.metrics);
  const a = obj(s.auditLog);
  const w = obj(s.apiVersionWatch);
  const problems: string[] = [];
  const e = (name: string) => (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);

  let metricsPath = str(e('SAYPRO_METRICS_PATH') ?? m.path, '/metrics') || '/metrics';
  if (!metricsPath.startsWith('/')) metricsPath = '/' + metricsPath;
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(metricsPath)) {
    problems.push(`metrics.path "${metricsPath}" is not a plain path; /metrics is used`);
    metricsPath = '/metrics';
  }
  const metrics = {
    enabled: bool(e('SAYPRO_METRICS') ?? m.enabled, true),
    path: metricsPath,
    token: str(e('SAYPRO_METRICS_TOKEN') ?? m.token, ''),
    processMetrics: bool(m.processMetrics, true),
    maxEventTypes: Math.floor(num(m.maxEventTypes, 20, 1, 1000)),
  };

  let file = str(e('SAYPRO_AUDIT_LOG') ?? (a.file === true ? 'userdir' : a.file), '');
  if (['off', 'false', 'no', '0'].includes(file.toLowerCase())) file = '';
  if (file.toLowerCase() === 'userdir' || file.toLowerCase() === 'on' || file.toLowerCase() === 'true') {
    file = userDir ? path.join(userDir, 'saypro-audit', 'audit.log') : '';
    if (!userDir) problems.push('auditLog.file "userdir" needs a user directory; the audit file is off');
  } else if (file !== '' && !path.isAbsolute(file)) {
    file = userDir ? path.join(userDir, file) : path.resolve(file);
  }
  const auditLog = {
    file,
    maxFileMB: num(e('SAYPRO_AUDIT_LOG_MAX_MB') ?? a.maxFileMB, 10, 0.01, 10240),
    maxFiles: Math.floor(num(e('SAYPRO_AUDIT_LOG_FILES') ?? a.maxFiles, 5, 0, 100)),
    nodeRedLog: bool(e('SAYPRO_AUDIT_NODE_RED_LOG') ?? a.nodeRedLog, false),
    events: bool(a.events, true),
    attempts: bool(a.attempts, true),
  };
  const apiVersionWatch = {
    enabled: bool(w.enabled, true),
    warnEveryHours: num(w.warnEveryHours, 24, 0, 24 * 365),
  };
  return { metrics, auditLog, apiVersionWatch, problems };
}
