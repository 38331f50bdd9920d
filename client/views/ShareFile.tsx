import { For, Show, createSignal } from 'solid-js'
import { A, useNavigate } from '@solidjs/router'
import { SYNC_FILE_EXTENSION, SYNC_FILE_MIME } from '../../shared/syncfile.ts'
import { docIdOf } from '../../shared/ids.ts'
import { t, timeAgo, type MessageKey } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { useFormErrors } from './form-errors.ts'
import { FormAlert } from '../components/FormAlert.tsx'
import { download } from './download.ts'

/**
 * Sync with no network at all: save the neighbourhood to a file (shared from the phone or downloaded),
 * and open a file received from a neighbour. A bad file is refused whole, with the reason.
 */
export function ShareFile() {
  const app = useApp()
  const navigate = useNavigate()
  const save = useFormErrors()
  const open = useFormErrors()
  const [saved, setSaved] = createSignal<string>()
  const [opened, setOpened] = createSignal<number>()

  const exportFile = () =>
    save.run(async () => {
      const { bytes, name } = await app.exportFile()
      const file = new File([bytes as BlobPart], name, { type: SYNC_FILE_MIME })
      // Phones: the share sheet (Bluetooth, messages, e-mail). Elsewhere: a download.
      if (navigator.canShare?.({ files: [file] })) {
        await navigator.share({ files: [file], title: name }).catch(() => undefined)
      } else {
        download(file)
      }
      setSaved(name)
    })

  const importFile = (input: HTMLInputElement) =>
    open.run(async () => {
      const file = input.files?.[0]
      if (!file) return
      setOpened(undefined)
      const result = await app.importFile(new Uint8Array(await file.arrayBuffer()))
      input.value = ''
      if (!app.profile()) navigate(`/join/${docIdOf(result.neighbourhood)}`)
      else setOpened(result.changed)
    })

  return (
    <section class="page">
      <h1>{t('share.title')}</h1>
      <p class="lead">{t('share.intro')}</p>
      <p>
        <A href="/direct">{t('share.direct')}</A>
      </p>
      <LastExchanges />
      <Show when={app.profile()}>
        <section class="section" aria-labelledby="share-save">
          <h2 id="share-save">{t('share.saveTitle')}</h2>
          <p>{t('share.saveHint')}</p>
          <FormAlert text={save.summary()} />
          <button type="button" class="button" disabled={save.busy()} onClick={() => void exportFile()}>
            {t('share.save')}
          </button>
          <Show when={saved()}>{(name) => <p role="status">{t('share.saved', { name: name() })}</p>}</Show>
        </section>
      </Show>
      <section class="section" aria-labelledby="share-open">
        <h2 id="share-open">{t('share.openTitle')}</h2>
        <FormAlert text={open.summary()} />
        <label for="sync-file">{t('share.open')}</label>
        <input id="sync-file" class="file-input" type="file" accept={`${SYNC_FILE_EXTENSION},${SYNC_FILE_MIME},application/gzip`} onChange={(e) => void importFile(e.currentTarget)} />
        <Show when={opened() !== undefined}>
          <p role="status">{opened() ? t('share.merged', { count: opened()! }) : t('share.nothingNew')}</p>
        </Show>
      </section>
    </section>
  )
}

/** When this device last exchanged news, by each path, in plain words. */
function LastExchanges() {
  const app = useApp()
  const paths = () => {
    const last = app.status.lastByPath()
    const all: [MessageKey, number | undefined][] = [
      ['share.lastRelay', last.relay],
      ['share.lastFileIn', last.fileIn],
      ['share.lastFileOut', last.fileOut],
      ['share.lastDirect', last.direct],
    ]
    return all.filter((p): p is [MessageKey, number] => p[1] !== undefined)
  }
  return (
    <Show when={paths().length}>
      <section class="section" aria-labelledby="share-last">
        <h2 id="share-last">{t('share.last')}</h2>
        <ul>
          <For each={paths()}>{([key, at]) => <li>{t(key, { when: timeAgo(at) })}</li>}</For>
        </ul>
      </section>
    </Show>
  )
}
