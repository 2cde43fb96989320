import type { TFunction } from 'i18next';
import { KNOWN_OPERATIONS } from './operations.ts';

/** The operation in words for the common ones, else its operationId. */
export function operationLabel(operation: string, t: TFunction): string {
  return KNOWN_OPERATIONS.has(operation) ? t(`audit-log:ops.${operation}`) : operation;
}

/** The page of a resource in the console, when it has one. */
export function resourceHref(programId: string, type: string, id: string | null): string | undefined {
  if (!id) return undefined;
  if (type === 'member') return `/${programId}/members/${id}`;
  if (type === 'rule') return `/${programId}/rules/${id}`;
  return undefined;
}
