import * as v from 'valibot'
import { PlacetteError, Reason, type FieldIssue, type IssueCode } from './errors.ts'

/** The outcome of checking something that came from outside. */
export type Checked<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] }

function issueCode(issue: v.BaseIssue<unknown>): IssueCode {
  if (issue.input === undefined || issue.input === '') return 'required'
  switch (issue.type) {
    case 'max_length':
    case 'max_bytes':
    case 'max_value':
      return 'too-long'
    case 'min_length':
    case 'non_empty':
    case 'min_value':
      return issue.received === '0' ? 'required' : 'too-short'
    case 'picklist':
    case 'literal':
    case 'regex':
      return 'not-allowed'
    default:
      return 'wrong-type'
  }
}

/** Runs a valibot schema and turns its issues into plain field issues. */
export function check<S extends v.GenericSchema>(schema: S, input: unknown): Checked<v.InferOutput<S>> {
  const result = v.safeParse(schema, input)
  if (result.success) return { ok: true, value: result.output }
  return {
    ok: false,
    issues: result.issues.map((issue) => ({
      path: v.getDotPath(issue) ?? '',
      message: issue.message,
      code: issueCode(issue),
    })),
  }
}

/** Like `check`, but throws a `PlacetteError` with the given reason. */
export function assertValid<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  reason: Reason = Reason.invalidInput,
): v.InferOutput<S> {
  const result = check(schema, input)
  if (result.ok) return result.value
  const first = result.issues[0]
  throw new PlacetteError(reason, `${first?.path || 'value'}: ${first?.message ?? 'invalid'}`, result.issues)
}

/**
 * Titles and bodies are stored as Automerge immutable strings (smaller and faster than collaborative
 * text; nobody co-edits a neighbour's post). They read back as objects holding `val`: unwrap them
 * here, without shared/ importing Automerge.
 */
export function unwrapString(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { val?: unknown }).val === 'string') {
    return (value as { val: string }).val
  }
  return value
}

/** A string, or an Automerge immutable string read back as one. */
export const plainString = () => v.pipe(v.unknown(), v.transform(unwrapString), v.string())

/** Trimmed text between 1 and `max` characters. */
export const requiredText = (max: number) => v.pipe(plainString(), v.trim(), v.minLength(1), v.maxLength(max))
