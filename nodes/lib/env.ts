/**
 * `${NAME}` references in credential fields. Node-RED substitutes environment
 * variables in plain properties whose whole value is `${NAME}`, but never
 * inside credentials; nodes call this once when they start so that an edge
 * deployment can keep keys out of flow files.
 */
import { envRefName } from './rules';

export interface EnvResolution {
  value: string | undefined;
  /** the variable name when the field was a `${NAME}` reference */
  variable?: string;
  /** true when the field named a variable that is not set */
  missing: boolean;
}

export function resolveEnvRef(value: string | undefined, env: NodeJS.ProcessEnv = process.env): EnvResolution {
  if (typeof value !== 'string') return { value: undefined, missing: false };
  const name = envRefName(value);
  if (name === undefined) return { value, missing: false };
  const resolved = env[name];
  return { value: resolved, variable: name, missing: resolved === undefined || resolved === '' };
}
