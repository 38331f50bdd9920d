import { createSignal } from 'solid-js'
import type { FieldIssue } from '../../shared/errors.ts'
import { isPlacetteError, isQuotaError } from '../../shared/errors.ts'
import { issueText, reasonText, t } from '../i18n/index.ts'

/**
 * Form state shared by every form: field errors from shared/ validators, a summary announced to
 * screen readers, and a busy flag while a command runs. Nothing typed is cleared on an error.
 */
export function useFormErrors() {
  const [issues, setIssues] = createSignal<FieldIssue[]>([])
  const [summary, setSummary] = createSignal<string>()
  const [busy, setBusy] = createSignal(false)
  const show = (list: FieldIssue[]) => {
    setIssues(list)
    setSummary(list.length ? t('error.fixBelow') : undefined)
  }
  return {
    summary,
    busy,
    show,
    error: (path: string) => {
      const issue = issues().find((i) => i.path === path || i.path.startsWith(`${path}.`))
      return issue ? issueText(issue.code) : undefined
    },
    /** Runs a command; turns a thrown error into words without losing the form's content. */
    async run(command: () => Promise<void>) {
      setBusy(true)
      show([])
      try {
        await command()
      } catch (e) {
        if (isPlacetteError(e) && e.issues.length) show([...e.issues])
        else if (isPlacetteError(e) && reasonText(e.reason)) setSummary(reasonText(e.reason))
        else if (isQuotaError(e)) setSummary(t('error.storage'))
        else setSummary(t('error.generic', { message: e instanceof Error ? e.message : String(e) }))
      } finally {
        setBusy(false)
      }
    },
  }
}
