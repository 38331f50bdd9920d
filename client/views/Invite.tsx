import { For, Show, createSignal } from 'solid-js'
import { renderSVG } from 'uqr'
import { docIdOf } from '../../shared/ids.ts'
import { t, formatDate } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'

const VALIDITY_DAYS = [1, 7, 30] as const
const USES = [1, 10, 50] as const

/**
 * A référent's invitation: signed, with an expiry and a number of uses, shown as a link and a QR code,
 * and printable as a sheet for the town hall's counter or the noticeboard. Other members are told
 * who can invite.
 */
export function Invite() {
  const app = useApp()
  const [days, setDays] = createSignal<number>(7)
  const [uses, setUses] = createSignal<number>(1)
  const [made, setMade] = createSignal<{ link: string; expires: number; uses: number }>()
  const [copied, setCopied] = createSignal(false)
  const [failed, setFailed] = createSignal(false)
  const referents = () => app.members().filter((m) => m.referent)

  const create = async (e: Event) => {
    e.preventDefault()
    setFailed(false)
    const p = app.profile()
    if (!p) return
    try {
      const { token, expires } = await app.makeInvitation({ validDays: days(), uses: uses() })
      setMade({ link: `${location.origin}/join/${docIdOf(p.neighbourhood)}#i=${token}`, expires, uses: uses() })
      setCopied(false)
    } catch {
      setFailed(true)
    }
  }
  const copy = async () => {
    await navigator.clipboard?.writeText(made()?.link ?? '')
    setCopied(true)
  }
  const share = () => navigator.share?.({ title: t('invite.title'), url: made()?.link ?? '' })

  return (
    <section class="page invite">
      <h1 class="no-print">{t('invite.title')}</h1>
      <Show when={app.profile()} fallback={<p>{t('error.noProfile')}</p>}>
        <Show
          when={app.isReferent()}
          fallback={
            <>
              <p class="lead">{t('invite.onlyReferents')}</p>
              <ul>
                <For each={referents()}>{(r) => <li>{r.displayName}</li>}</For>
              </ul>
            </>
          }
        >
          <form class="no-print" onSubmit={create}>
            <p class="lead">{t('invite.intro', { name: app.neighbourhood()?.name ?? '' })}</p>
            <fieldset>
              <legend>{t('invite.validity')}</legend>
              <For each={VALIDITY_DAYS}>
                {(d) => (
                  <label class="choice">
                    <input type="radio" name="days" checked={days() === d} onChange={() => setDays(d)} />{' '}
                    {d === 1 ? t('invite.oneDay') : t('invite.days', { count: d })}
                  </label>
                )}
              </For>
            </fieldset>
            <fieldset>
              <legend>{t('invite.uses')}</legend>
              <For each={USES}>
                {(u) => (
                  <label class="choice">
                    <input type="radio" name="uses" checked={uses() === u} onChange={() => setUses(u)} />{' '}
                    {u === 1 ? t('invite.onePerson') : t('invite.people', { count: u })}
                  </label>
                )}
              </For>
            </fieldset>
            <div class="actions">
              <button type="submit" class="button">
                {t('invite.create')}
              </button>
            </div>
            <Show when={failed()}>
              <p role="alert">{t('invite.failed')}</p>
            </Show>
          </form>
          <Show when={made()}>
            {(m) => (
              <div class="invite__sheet">
                <h2>{t('invite.sheetTitle', { name: app.neighbourhood()?.name ?? '' })}</h2>
                <p class="print-only">{t('invite.sheetHow')}</p>
                {/* uqr renders a plain SVG string from our own link: no user-controlled markup. */}
                <figure class="qr" role="img" aria-label={t('invite.qr')} innerHTML={renderSVG(m().link, { border: 2 })} />
                <p data-testid="invite-terms">{t('invite.terms', { date: formatDate(m().expires), count: m().uses })}</p>
                <p class="no-print">
                  <label for="invite-link">{t('invite.link')}</label>
                  <input id="invite-link" class="link" type="text" readonly value={m().link} onFocus={(e) => e.currentTarget.select()} />
                </p>
                <div class="actions no-print">
                  <button type="button" class="button" onClick={copy}>
                    {t('invite.copy')}
                  </button>
                  <Show when={typeof navigator.share === 'function'}>
                    <button type="button" class="button button--secondary" onClick={share}>
                      {t('invite.share')}
                    </button>
                  </Show>
                  <button type="button" class="button button--secondary" onClick={() => window.print()}>
                    {t('invite.print')}
                  </button>
                </div>
                <Show when={copied()}>
                  <p role="status">{t('invite.copied')}</p>
                </Show>
              </div>
            )}
          </Show>
        </Show>
      </Show>
    </section>
  )
}
