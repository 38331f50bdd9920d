import { Show, createSignal } from 'solid-js'
import { A } from '@solidjs/router'
import { BACKUP_EXTENSION, BACKUP_MIME } from '../../shared/backup.ts'
import { t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { FormAlert } from '../components/FormAlert.tsx'
import { useFormErrors } from './form-errors.ts'

/** Restores a profile from its backup: checked whole first, so a bad file changes nothing. */
export function Restore() {
  const app = useApp()
  const form = useFormErrors()
  const [restored, setRestored] = createSignal<{ name: string; neighbourhood: string }>()
  const restore = (input: HTMLInputElement) =>
    form.run(async () => {
      const file = input.files?.[0]
      if (!file) return
      setRestored(undefined)
      try {
        setRestored(await app.restoreProfile(new Uint8Array(await file.arrayBuffer())))
      } finally {
        input.value = ''
      }
    })
  return (
    <section class="page">
      <h1>{t('restore.title')}</h1>
      <p class="lead">{t('restore.intro')}</p>
      <FormAlert text={form.summary()} />
      <label for="backup-file">{t('restore.file')}</label>
      <input
        id="backup-file"
        class="file-input"
        type="file"
        accept={`${BACKUP_EXTENSION},${BACKUP_MIME},application/gzip`}
        disabled={form.busy()}
        onChange={(e) => void restore(e.currentTarget)}
      />
      <Show when={restored()}>
        {(r) => (
          <>
            <p role="status">{t('restore.done', { name: r().name, neighbourhood: r().neighbourhood })}</p>
            <p>
              <A class="button" href="/">
                {t('restore.toBoard')}
              </A>
            </p>
          </>
        )}
      </Show>
    </section>
  )
}
