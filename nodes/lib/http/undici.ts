/**
 * undici, loaded when the first endpoint builds its connections: a Node-RED
 * whose flows send nothing (or no flow at all) never pays its start time and
 * memory (it is the largest module the package loads).
 */
import type * as Undici from 'undici';

let undiciModule: typeof Undici | undefined;

export function undici(): typeof Undici {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  undiciModule ??= require('undici') as typeof Undici;
  return undiciModule;
}
