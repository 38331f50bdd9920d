import { Show, createSignal } from 'solid-js'
import { A } from '@solidjs/router'
import { BACKUP_MIME } from '../../../shared/backup.ts'
import { t } from '../../i18n/index.ts'
import { useApp } from '../../stores/app.tsx'
import { FormAlert } from '../../components/FormAlert.tsx'
import { useFormErrors } from '../form-errors.ts'
import { download } from '../download.ts'

/**
 * "Sauvegarder mon profil": the file that makes this person themselves again on a new device. It
 * holds their secret key, so it is downloaded (never offered to the share sheet) and the page says
 * plainly that whoever has it can act as them.
 */
export function BackupSection() {
  const app = useApp()
  const form = useFormErrors()
  const [saved, setSaved] = createSignal<string>()
  const save = () =>
    form.run(async () => {
      const { bytes, name } = await app.backupProfile()
      download(new File([bytes as BlobPart], name, { type: BACKUP_MIME }))
      setSaved(name)
    })
  return (
    <section class="section" aria-labelledby="backup-title">
      <h2 id="backup-title">{t('settings.backupTitle')}</h2>
      <p>{t('settings.backupWhat')}</p>
      <p class="warning">
        <strong>{t('settings.backupWarning')}</strong>
      </p>
      <FormAlert text={form.summary()} />
      <button type="button" class="button" disabled={form.busy()} onClick={() => void save()}>
        {t('settings.backup')}
      </button>
      <Show when={saved()}>{(name) => <p role="status">{t('settings.backupSaved', { name: name() })}</p>}</Show>
      <p>
        <A href="/restore">{t('settings.restoreLink')}</A>
      </p>
    </section>
  )
}
