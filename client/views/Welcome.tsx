import { A } from '@solidjs/router'
import { t } from '../i18n/index.ts'

export function Welcome() {
  return (
    <section class="page">
      <h1>{t('welcome.title')}</h1>
      <p class="lead">{t('welcome.intro')}</p>
      <p>
        <A class="button" href="/create">
          {t('welcome.create')}
        </A>
      </p>
      <p>{t('welcome.join')}</p>
      <p>
        <A href="/share">{t('welcome.file')}</A>
      </p>
      <p>
        <A href="/restore">{t('welcome.restore')}</A>
      </p>
    </section>
  )
}
