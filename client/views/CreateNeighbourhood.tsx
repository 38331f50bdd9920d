import { createSignal } from 'solid-js'
import { useNavigate } from '@solidjs/router'
import type { CommuneMatch } from '../../shared/communes.ts'
import { t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { useCommunes } from '../stores/communes.ts'
import { CommunePicker } from '../components/CommunePicker.tsx'
import { Field } from '../components/Field.tsx'
import { useFormErrors } from './form-errors.ts'
import { FormAlert } from '../components/FormAlert.tsx'

/** Create a neighbourhood and a profile, offline once the commune list has been fetched (stores/communes.ts). */
export function CreateNeighbourhood() {
  const app = useApp()
  const navigate = useNavigate()
  const communes = useCommunes()
  const [commune, setCommune] = createSignal<CommuneMatch>()
  const [name, setName] = createSignal('')
  const [displayName, setDisplayName] = createSignal('')
  const form = useFormErrors()

  const submit = async (e: Event) => {
    e.preventDefault()
    const c = commune()
    const missing = [
      ...(c ? [] : [{ path: 'commune', code: 'required' as const, message: 'commune required' }]),
      ...(name().trim() ? [] : [{ path: 'name', code: 'required' as const, message: 'name required' }]),
      ...(displayName().trim() ? [] : [{ path: 'displayName', code: 'required' as const, message: 'name required' }]),
    ]
    if (missing.length || !c) return form.show(missing)
    await form.run(async () => {
      await app.createNeighbourhood({ name: name(), displayName: displayName(), commune: { insee: c.insee, name: c.name, postcode: c.postcode } })
      navigate('/invite')
    })
  }

  return (
    <section class="page">
      <h1>{t('create.title')}</h1>
      <form onSubmit={submit} novalidate>
        <FormAlert text={form.summary()} />
        <CommunePicker value={commune()} onChange={setCommune} search={communes.search} loading={communes.loading()} unavailable={communes.unavailable()} error={form.error('commune')} />
        <Field id="name" label={t('create.name')} hint={t('create.nameHint')} error={form.error('name')}>
          {(aria) => <input {...aria} type="text" maxlength="80" value={name()} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field id="displayName" label={t('create.yourName')} hint={t('create.yourNameHint')} error={form.error('displayName')}>
          {(aria) => (
            <input {...aria} type="text" maxlength="60" autocomplete="name" value={displayName()} onInput={(e) => setDisplayName(e.currentTarget.value)} />
          )}
        </Field>
        <div class="actions">
          <button type="submit" class="button" disabled={form.busy()}>
            {t('create.submit')}
          </button>
        </div>
      </form>
    </section>
  )
}
